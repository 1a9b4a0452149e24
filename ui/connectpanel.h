// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QHostAddress>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QVBoxLayout;

namespace wsserve {

// "Connect": the URLs a friend on the LAN would use (one per non-loopback interface address), each
// with a copy button, and a ready-to-paste snippet for the official JS client. Thread: GUI thread.
class ConnectPanel final : public QWidget
{
    Q_OBJECT

public:
    explicit ConnectPanel(QWidget *parent = nullptr);

    void setEndpoint(const QHostAddress &address, quint16 port);
    void setInstance(const QString &id);
    QStringList urls() const { return m_urls; }
    QString snippet() const;

    // Non-loopback addresses to offer for a listener on `bound` (all interfaces when it is "any").
    static QList<QHostAddress> lanAddresses(const QHostAddress &bound);

private:
    void rebuild();

    QHostAddress m_address;
    quint16 m_port = 0;
    QString m_instanceId;
    QStringList m_urls;
    QLabel *m_header = nullptr;
    QVBoxLayout *m_urlRows = nullptr;
    QPlainTextEdit *m_snippet = nullptr;
};

} // namespace wsserve
