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

RouteTable::Lookup RouteTable::handOver(QTcpSocket *socket, const UpgradeRequest &request)
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
    // The verified hand-off (architecture.md): the raw socket, head still unread, moves to the instance
    // thread; the instance's QWebSocketServer performs the handshake there.
    socket->disconnect();
    socket->setParent(nullptr);
    socket->moveToThread(instance->thread());
    // cross-thread: queued to the instance; the route lock keeps the instance alive until it is posted.
    QMetaObject::invokeMethod(
        instance, [instance, socket, request] { instance->adoptConnection(socket, request); }, Qt::QueuedConnection);
    return Lookup::HandedOver;
}

} // namespace wsserve
