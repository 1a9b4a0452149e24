// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The admin API's cluster parts: GET /api/cluster and the /healthz detail (metrics: adminmetrics.cpp).
#include "adminserver.h"

#include "adminreply.h"

#include "instance/instanceconfig.h"
#include "servercontroller.h"

#include <QJsonArray>

using namespace Qt::StringLiterals;

namespace wsserve {

QJsonObject AdminServer::clusterJson() const
{
    const ClusterStatus status = m_controller.clusterStatus();
    if (!status.enabled) {
        return QJsonObject{{u"enabled"_s, false}};
    }
    QJsonArray nodes;
    for (const ClusterNode &node : status.nodes) {
        QJsonObject clients;
        for (auto it = node.clients.cbegin(); it != node.clients.cend(); ++it) {
            clients.insert(it.key(), it.value());
        }
        nodes.append(QJsonObject{{u"name"_s, node.name},
                                 {u"self"_s, node.self},
                                 {u"last_seen_ms"_s, node.lastSeenMs},
                                 {u"instances"_s, QJsonArray::fromStringList(node.instances)},
                                 {u"clients"_s, clients}});
    }
    // This node's shared instances, with the clients connected here.
    QJsonArray instances;
    for (const QString &id : m_controller.instanceIds()) {
        const InstanceInfo info = m_controller.instance(id);
        if (info.config.boolOption(options::kCluster)) {
            QStringList on;
            int elsewhere = 0;
            for (const ClusterNode &node : status.nodes) {
                if (node.instances.contains(id)) {
                    on.append(node.name);
                    elsewhere += node.self ? 0 : node.clients.value(id);
                }
            }
            instances.append(QJsonObject{{u"id"_s, id},
                                         {u"type"_s, info.config.type},
                                         {u"clients_here"_s, info.stats.clients},
                                         {u"clients_cluster"_s, info.stats.clients + elsewhere},
                                         {u"nodes"_s, QJsonArray::fromStringList(on)}});
        }
    }
    QJsonObject object{{u"enabled"_s, true},
                       {u"connected"_s, status.connected},
                       {u"state"_s, status.connected ? u"connected"_s : u"disconnected"_s},
                       {u"url"_s, status.url},
                       {u"node"_s, status.node},
                       {u"nodes"_s, nodes},
                       {u"instances"_s, instances},
                       {u"messages_out"_s, static_cast<qint64>(status.messagesOut)},
                       {u"messages_in"_s, static_cast<qint64>(status.messagesIn)},
                       {u"dropped"_s, static_cast<qint64>(status.dropped)},
                       {u"reconnects"_s, static_cast<qint64>(status.reconnects)},
                       {u"round_trip_ms"_s, status.roundTripMs}};
    if (!status.connected) {
        object.insert(u"error"_s, status.lastError);
        object.insert(u"disconnected_since_ms"_s, status.disconnectedSinceMs);
    }
    return object;
}

} // namespace wsserve
