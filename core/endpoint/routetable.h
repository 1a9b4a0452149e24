// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "endpoint/upgraderequest.h"

#include <QHash>
#include <QReadWriteLock>
#include <QString>

#include <memory>

namespace wsserve {

class Instance;
namespace net {
struct TakenConnection;
}

// Which instance ids exist and which of them accept connections, shared by the supervisor (writer,
// main thread) and the endpoint (reader, endpoint thread).
// Thread: any; guarded by a read-write lock. An instance is removed from the table before it is stopped
// or deleted, so a socket handed over under the read lock always reaches a live instance.
class RouteTable
{
public:
    enum class Lookup { Invalid = 0, Unknown, NotRunning, HandedOver };

    void declare(const QString &id);                  // the id exists, not accepting yet
    void open(const QString &id, Instance *instance); // accepting: connections go to this instance
    void close(const QString &id);                    // exists, not accepting
    void remove(const QString &id);
    bool contains(const QString &id) const;

    // Endpoint thread: if the instance accepts, queues the connection to it (its thread does the rest).
    Lookup handOver(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request);

private:
    mutable QReadWriteLock m_lock;
    QHash<QString, Instance *> m_routes; // nullptr: known but not accepting
};

} // namespace wsserve
