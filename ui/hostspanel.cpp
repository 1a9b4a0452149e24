// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "hostspanel.h"

#include "feedback.h"
#include "web/hostbrowser.h"

#include <QCheckBox>
#include <QDesktopServices>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTreeWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace wsserve {

HostsPanel::HostsPanel(web::HostBrowser &browser, QWidget *parent)
    : QWidget(parent)
    , m_browser(browser)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *title = new QLabel(tr("<b>Hosts on this network</b>"), this);
    layout->addWidget(title);
    m_look = new QCheckBox(tr("Look for other hosts"), this);
    m_look->setToolTip(tr("List other wsserve hosts that announce themselves here (DNS-SD _wsserve._tcp through "
                          "Avahi). Off by default: looking sends multicast queries on this network."));
    layout->addWidget(m_look);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);
    m_list = new QTreeWidget(this);
    m_list->setColumnCount(4);
    m_list->setHeaderLabels({tr("Name"), tr("Address"), tr("Instances"), tr("Page")});
    m_list->setRootIsDecorated(false);
    m_list->setAccessibleName(tr("Hosts on this network"));
    m_list->header()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_list->setMinimumHeight(80);
    title->setBuddy(m_list);
    layout->addWidget(m_list, 1);
    auto *buttons = new QHBoxLayout;
    m_copy = new QPushButton(tr("Copy page address"), this);
    m_open = new QPushButton(tr("Open page"), this);
    buttons->addWidget(m_copy);
    buttons->addWidget(m_open);
    buttons->addStretch(1);
    layout->addLayout(buttons);
    connect(m_copy, &QPushButton::clicked, this,
            [this] { copyWithFeedback(m_copy, selectedUrl(), tr("Copied the host's page address")); });
    connect(m_open, &QPushButton::clicked, this, [this] { QDesktopServices::openUrl(QUrl(selectedUrl())); });
    connect(m_list, &QTreeWidget::itemSelectionChanged, this, [this] {
        m_copy->setEnabled(!selectedUrl().isEmpty());
        m_open->setEnabled(!selectedUrl().isEmpty());
    });
    connect(m_list, &QTreeWidget::itemActivated, this, [this] { QDesktopServices::openUrl(QUrl(selectedUrl())); });
    if (!web::HostBrowser::isAvailable()) {
        m_look->setEnabled(false);
        m_look->setToolTip(tr("This build has no DNS-SD (built without Avahi)"));
    }
    connect(m_look, &QCheckBox::toggled, this, [this](bool on) {
        if (on) {
            m_browser.start();
            if (!m_browser.isBrowsing()) { // could not start: the box stays off, the status says why
                const QSignalBlocker quiet(m_look);
                m_look->setChecked(false);
            }
        } else {
            m_browser.stop();
        }
        refresh();
    });
    connect(&m_browser, &web::HostBrowser::hostsChanged, this, &HostsPanel::refresh);
    connect(&m_browser, &web::HostBrowser::statusChanged, this, &HostsPanel::refresh);
    connect(&m_browser, &web::HostBrowser::browsingChanged, this, [this](bool on) {
        const QSignalBlocker quiet(m_look);
        m_look->setChecked(on);
        refresh();
    });
    m_look->setChecked(m_browser.isBrowsing());
    refresh();
}

QString HostsPanel::selectedUrl() const
{
    const QList<QTreeWidgetItem *> selected = m_list->selectedItems();
    return selected.isEmpty() ? QString() : selected.first()->text(Url);
}

void HostsPanel::showHosts(const QList<web::DiscoveredHost> &hosts)
{
    const QString previous = selectedUrl();
    m_list->clear();
    for (const web::DiscoveredHost &host : hosts) {
        QStringList instances;
        for (qsizetype i = 0; i < host.ids.size(); ++i) {
            instances.append(i < host.types.size() ? QStringLiteral("%1 (%2)").arg(host.ids[i], host.types[i])
                                                   : host.ids[i]);
        }
        const QString where = host.address.protocol() == QAbstractSocket::IPv6Protocol
                                  ? QStringLiteral("[%1]:%2").arg(host.address.toString()).arg(host.port)
                                  : QStringLiteral("%1:%2").arg(host.address.toString()).arg(host.port);
        auto *item = new QTreeWidgetItem(m_list, {host.own ? tr("%1 (this machine)").arg(host.name) : host.name, where,
                                                  instances.join(QStringLiteral(", ")), host.url()});
        item->setToolTip(Name, host.hostName);
        item->setToolTip(Instances, host.version.isEmpty() ? QString() : tr("wsserve %1").arg(host.version));
        if (host.url() == previous) {
            item->setSelected(true);
        }
    }
    m_copy->setEnabled(!selectedUrl().isEmpty());
    m_open->setEnabled(!selectedUrl().isEmpty());
}

void HostsPanel::refresh()
{
    const QList<web::DiscoveredHost> hosts = m_browser.hosts();
    showHosts(hosts);
    QString status;
    if (!web::HostBrowser::isAvailable()) {
        status = tr("This build has no DNS-SD (built without Avahi): other hosts cannot be listed.");
    } else if (!m_browser.status().isEmpty()) {
        status = m_browser.status();
    } else if (!m_browser.isBrowsing()) {
        status = tr("Not looking (off by default).");
    } else if (hosts.isEmpty()) {
        status = tr("Looking… no other hosts seen yet (they appear when they announce themselves).");
    } else {
        status = tr("%n host(s) seen.", nullptr, int(hosts.size()));
    }
    m_status->setText(status);
}

} // namespace wsserve
