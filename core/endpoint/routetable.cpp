// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "routetable.h"

#include <mutex>

namespace wsserve {

void RouteTable::declare(const QString &id)
{
    const std::unique_lock lock(m_lock);
    if (!m_routes.contains(id)) {
        m_routes.insert(id, ConnectionTarget());
    }
}

void RouteTable::open(const QString &id, ConnectionTarget target)
{
    const std::unique_lock lock(m_lock);
    m_routes.insert(id, std::move(target));
}

void RouteTable::close(const QString &id)
{
    const std::unique_lock lock(m_lock);
    if (m_routes.contains(id)) {
        m_routes.insert(id, ConnectionTarget());
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
    const ConnectionTarget &target = it.value();
    if (!target) {
        return Lookup::NotRunning;
    }
    // The hand-off (architecture.md, as refined in docs/design-notes.md): the endpoint validated the
    // upgrade and took the descriptor out of its QTcpSocket; the instance thread answers the handshake.
    // The route lock keeps the target alive until the connection is queued. Moved, not copied: only the
    // target's thread touches the connection from here on.
    target(std::move(connection), request);
    return Lookup::HandedOver;
}

} // namespace wsserve
