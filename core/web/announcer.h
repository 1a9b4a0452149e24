// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <memory>

namespace wsserve::web {

// DNS-SD announcement of this host as `_wsserve._tcp` with TXT records, through the Avahi daemon (its
// client library and threaded poll; the daemon does the multicast). Off until publish(); withdraw()
// takes it back. When the daemon is not running it waits for it (and says so in the log). Builds
// without Avahi publish nothing (isAvailable() is false).
// Thread: the owner's thread; Avahi's own thread does the I/O.
class Announcer
{
public:
    Announcer();
    ~Announcer();
    Announcer(const Announcer &) = delete;
    Announcer &operator=(const Announcer &) = delete;

    static constexpr const char *kServiceType = "_wsserve._tcp";
    static bool isAvailable();

    // Publishes (or updates) the service `name` on `port` with `txt` ("key=value" strings, each at most
    // 255 bytes).
    void publish(const QString &name, quint16 port, const QList<QByteArray> &txt);
    void withdraw();
    bool isPublished() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace wsserve::web
