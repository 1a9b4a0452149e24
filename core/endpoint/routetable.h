// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "http/upgraderequest.h"

#include <QHash>
#include <QString>

#include <functional>
#include <memory>
#include <shared_mutex>

namespace wsserve {

namespace net {
struct TakenConnection;
}

// Where an accepting route sends a validated upgrade: the one thing the route table knows of an instance.
// Called on the endpoint thread under the table's read lock; it must only queue the connection to the
// target's own thread (the supervisor's target posts it to Instance::adoptConnection), never block.
using ConnectionTarget =
    std::function<void(std::shared_ptr<net::TakenConnection> connection, const UpgradeRequest &request)>;

// Which instance ids exist and which of them accept connections, shared by the supervisor (writer,
// main thread) and the endpoint (reader, endpoint thread).
// Thread: any; guarded by a read-write lock. An instance is removed from the table before it is stopped
// or deleted, so a socket handed over under the read lock always reaches a live instance.
class RouteTable
{
public:
    enum class Lookup { Invalid = 0, Unknown, NotRunning, HandedOver };

    void declare(const QString &id);                       // the id exists, not accepting yet
    void open(const QString &id, ConnectionTarget target); // accepting: connections go to `target`
    void close(const QString &id);                         // exists, not accepting
    void remove(const QString &id);
    bool contains(const QString &id) const;

    // Endpoint thread: if the instance accepts, moves the connection into a call queued to it (its thread
    // does the rest; `connection` is then empty). Otherwise `connection` stays with the caller.
    Lookup handOver(std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request);

private:
    // std::shared_mutex rather than QReadWriteLock: the same semantics, and ThreadSanitizer sees it (Debian's
    // Qt is not instrumented, so a QReadWriteLock handing data between threads looked like a race to it).
    mutable std::shared_mutex m_lock;
    QHash<QString, ConnectionTarget> m_routes; // empty target: known but not accepting
};

} // namespace wsserve
