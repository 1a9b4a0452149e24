// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QWidget>

class QCheckBox;
class QLabel;
class QPushButton;
class QTreeWidget;

namespace wsserve {

namespace web {
class HostBrowser;
struct DiscoveredHost;
} // namespace web

// "Hosts on this network": other wsserve hosts seen through DNS-SD (the controller's HostBrowser). Off
// by default: nothing is looked up until "Look for other hosts" is ticked (browsing makes the Avahi
// daemon send multicast queries). One row per host: name, address:port, its announced instances
// (id and type), the URL of its index page (Copy / Open). Thread: GUI thread.
class HostsPanel final : public QWidget
{
    Q_OBJECT

public:
    explicit HostsPanel(web::HostBrowser &browser, QWidget *parent = nullptr);

    QCheckBox *lookBox() const { return m_look; }
    QTreeWidget *list() const { return m_list; }
    QLabel *statusLabel() const { return m_status; }
    // The URL of the selected host's index page (empty when none is selected).
    QString selectedUrl() const;

    enum Column { Name = 0, Address, Instances, Url };
    // Fills the list with `hosts` (what refresh() does with the browser's hosts); keeps the selection.
    void showHosts(const QList<web::DiscoveredHost> &hosts);

private:
    void refresh();

    web::HostBrowser &m_browser;
    QCheckBox *m_look = nullptr;
    QTreeWidget *m_list = nullptr;
    QLabel *m_status = nullptr;
    QPushButton *m_copy = nullptr;
    QPushButton *m_open = nullptr;
};

} // namespace wsserve
