// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "routetable.h"

#include "instance/instance.h"

#include <QTcpSocket>

namespace wsserve {

void RouteTable::declare(const QString &id)
{
    const QWriteLocker lock(&m_lock);
    if (!m_routes.contains(id)) {
        m_routes.insert(id, nullptr);
    }
}

void RouteTable::open(const QString &id, Instance *instance)
{
    const QWriteLocker lock(&m_lock);
    m_routes.insert(id, instance);
}

void RouteTable::close(const QString &id)
{
    const QWriteLocker lock(&m_lock);
    if (m_routes.contains(id)) {
        m_routes.insert(id, nullptr);
    }
}

void RouteTable::remove(const QString &id)
{
    const QWriteLocker lock(&m_lock);
    m_routes.remove(id);
}

bool RouteTable::contains(const QString &id) const
{
    const QReadLocker lock(&m_lock);
    return m_routes.contains(id);
}

RouteTable::Lookup RouteTable::handOver(const std::shared_ptr<net::TakenConnection> &connection,
                                        const UpgradeRequest &request)
{
    const QReadLocker lock(&m_lock);
    const auto it = m_routes.constFind(request.instanceId);
    if (it == m_routes.cend()) {
        return Lookup::Unknown;
    }
    Instance *instance = it.value();
    if (!instance) {
        return Lookup::NotRunning;
    }
    // The hand-off (architecture.md, as refined in docs/design-notes.md): the endpoint validated the
    // upgrade and took the descriptor out of its QTcpSocket; the instance thread answers the handshake.
    // cross-thread: queued to the instance; the route lock keeps the instance alive until it is posted. If
    // the instance goes away before running it, the connection's last owner closes the descriptor.
    QMetaObject::invokeMethod(
        instance, [instance, connection, request] { instance->adoptConnection(connection, request); },
        Qt::QueuedConnection);
    return Lookup::HandedOver;
}

} // namespace wsserve
