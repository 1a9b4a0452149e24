// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Instance: its side of the cluster (docs/design-notes.md "Cluster"). A broadcast made here is encoded once
// and handed to the node's ClusterLink; what other nodes publish arrives queued in this thread and fans
// out to the local members only.
#include "instance.h"

#include "cluster/clusterlink.h"
#include "logging.h"

#include <QJsonDocument>
#include <QPointer>

namespace wsserve {

namespace {
const QString kType = QStringLiteral("t");
const QString kTopic = QStringLiteral("topic");
const QString kEvent = QStringLiteral("event");
const QString kPayload = QStringLiteral("payload");
const QString kBinary = QStringLiteral("binary");
const QString kTopics = QStringLiteral("topics");
} // namespace

void Instance::attachCluster()
{
    std::shared_ptr<ClusterLink> link = m_shared->cluster();
    if (!m_config.boolOption(options::kCluster)) {
        return;
    }
    if (!link) {
        qCWarning(lcInstance).noquote() << logTag(m_config.id)
                                        << "has cluster=true but this node is not in a cluster (--cluster): it "
                                           "serves its own clients only";
        return;
    }
    m_cluster = std::move(link);
    QPointer<Instance> self(this);
    m_cluster->attach(m_config.id, ClusterLink::Member{this,
                                                       [self](const QString &node, const QByteArray &json) {
                                                           if (self) {
                                                               self->clusterDeliver(node, json);
                                                           }
                                                       },
                                                       [self] {
                                                           if (self) {
                                                               self->clusterResync();
                                                           }
                                                       },
                                                       [self](const QString &node) {
                                                           if (self && self->m_engine) {
                                                               self->m_engine->dropRemoteNode(node);
                                                           }
                                                       }});
    clusterResync(); // a restarted instance replaces what the others kept of its previous run
}

void Instance::detachCluster()
{
    if (m_cluster) {
        m_cluster->detach(m_config.id, this);
        m_cluster.reset();
    }
}

void Instance::publishToCluster(const QString &topic, const QString &event, const Payload &payload)
{
    if (!m_cluster) {
        return;
    }
    QJsonObject message{{kType, QStringLiteral("b")}, {kTopic, topic}, {kEvent, event}};
    if (payload.isBinary) {
        message.insert(kBinary, QString::fromLatin1(payload.bytes.toBase64()));
    } else {
        message.insert(kPayload, payload.json);
    }
    m_cluster->publish(m_config.id, m_cluster->origin() + QJsonDocument(message).toJson(QJsonDocument::Compact));
}

void Instance::clusterResync()
{
    if (!m_cluster || !m_engine || m_stopping) {
        return;
    }
    const QJsonObject message{{kType, QStringLiteral("s")}, {kTopics, m_engine->localPresenceState()}};
    m_cluster->publish(m_config.id, m_cluster->origin() + QJsonDocument(message).toJson(QJsonDocument::Compact));
}

void Instance::clusterDeliver(const QString &node, const QByteArray &json)
{
    if (!m_engine || m_stopping) {
        return;
    }
    const QJsonObject message = QJsonDocument::fromJson(json).object();
    const QString type = message.value(kType).toString();
    if (type == u"b") {
        const QString topic = message.value(kTopic).toString();
        const QString event = message.value(kEvent).toString();
        if (topic.isEmpty() || event.isEmpty()) {
            return;
        }
        const Payload payload =
            message.contains(kBinary)
                ? Payload::fromBinary(QByteArray::fromBase64(message.value(kBinary).toString().toLatin1()))
                : Payload::fromJson(message.value(kPayload));
        m_engine->receiveRemoteBroadcast(node, topic, event, payload);
    } else if (type == u"s") {
        m_engine->receiveRemoteState(node, message.value(kTopics).toObject());
    }
}

} // namespace wsserve
