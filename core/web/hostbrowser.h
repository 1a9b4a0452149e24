// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>

namespace wsserve::web {

// Another wsserve host seen on the network: one resolved `_wsserve._tcp` service (see Announcer for
// its TXT records).
struct DiscoveredHost {
    QString name;     // the service name, e.g. "wsserve on box"
    QString hostName; // e.g. "box.local"
    QHostAddress address;
    quint16 port = 0;
    QString version;
    QString path = QStringLiteral("/");          // the index page
    QString socket = QStringLiteral("/socket/"); // the socket prefix
    QStringList ids;                             // announced instance ids
    QStringList types;                           // their types, in the same order
    bool own = false;                            // announced by this machine
    int interfaceIndex = -1;                     // where it was seen (part of its identity)
    int protocol = -1;

    // http://ADDRESS:PORT/PATH (the host's index page); brackets around IPv6 addresses.
    QString url() const;
    // One line for `wsserve --list-hosts`: name, address:port, ids, types, URL (tab-separated).
    QString line() const;
    // Reads the TXT records ("key=value"); unknown keys and malformed entries are ignored, lists are
    // cut at 100 entries.
    void readTxt(const QList<QByteArray> &txt);
    bool sameService(const DiscoveredHost &other) const
    {
        return name == other.name && interfaceIndex == other.interfaceIndex && protocol == other.protocol;
    }
};

// DNS-SD browsing for `_wsserve._tcp` through the Avahi daemon (its client library: a service browser
// and one resolver per service, on Avahi's threaded poll; results are marshalled to the owner's thread
// with queued calls). Nothing is looked up until start(): a browse makes the daemon send multicast
// queries, so it is opt-in like the announcement. stop() forgets every host. Builds without Avahi
// browse nothing (isAvailable() is false, start() says so in status()).
// Thread: the owner's thread; Avahi's own thread does the I/O.
class HostBrowser final : public QObject
{
    Q_OBJECT

public:
    explicit HostBrowser(QObject *parent = nullptr);
    ~HostBrowser() override;

    static bool isAvailable();

    void start();
    void stop();
    bool isBrowsing() const { return m_browsing; }
    // True once the daemon answered and the browser runs (false while waiting for the daemon).
    bool isConnected() const { return m_connected; }
    // The hosts seen so far, sorted by name then address.
    QList<DiscoveredHost> hosts() const { return m_hosts; }
    // Empty while all is well; otherwise why nothing can be seen (no daemon, no Avahi in this build).
    QString status() const { return m_status; }

signals:
    void hostsChanged();
    void statusChanged(const QString &status);
    void browsingChanged(bool browsing);

private:
    struct Private;
    friend struct Private;
    // Called on the owner's thread (queued from Avahi's thread); `generation` drops news of an older browse.
    void found(quint64 generation, const DiscoveredHost &host);
    void removed(quint64 generation, const QString &name, int interfaceIndex, int protocol);
    void setConnected(quint64 generation, bool connected, const QString &status);
    void setStatus(const QString &status);

    std::unique_ptr<Private> d;
    QList<DiscoveredHost> m_hosts;
    QString m_status;
    bool m_browsing = false;
    bool m_connected = false;
    quint64 m_generation = 0;
};

} // namespace wsserve::web
