// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "routetable.h"

#include "instance/instance.h"

#include <mutex>

namespace wsserve {

void RouteTable::declare(const QString &id)
{
    const std::unique_lock lock(m_lock);
    if (!m_routes.contains(id)) {
        m_routes.insert(id, nullptr);
    }
}

void RouteTable::open(const QString &id, Instance *instance)
{
    const std::unique_lock lock(m_lock);
    m_routes.insert(id, instance);
}

void RouteTable::close(const QString &id)
{
    const std::unique_lock lock(m_lock);
    if (m_routes.contains(id)) {
        m_routes.insert(id, nullptr);
    }
}

void RouteTable::remove(const QString &id)
{
    const std::unique_lock lock(m_lock);
    m_routes.remove(id);
}

bool RouteTable::contains(const QString &id) const
{
    const std::shared_lock lock(m_lock);
    return m_routes.contains(id);
}

RouteTable::Lookup RouteTable::handOver(std::shared_ptr<net::TakenConnection> &connection,
                                        const UpgradeRequest &request)
{
    const std::shared_lock lock(m_lock);
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
    // the instance goes away before running it, the queued call's copy closes the descriptor. Moved, not
    // copied: only the instance thread touches the connection from here on.
    QMetaObject::invokeMethod(
        instance, [instance, taken = std::move(connection), request] { instance->adoptConnection(taken, request); },
        Qt::QueuedConnection);
    return Lookup::HandedOver;
}

} // namespace wsserve
