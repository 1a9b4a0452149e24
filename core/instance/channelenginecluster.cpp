// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// ChannelEngine: what the other nodes of a cluster=true instance bring (docs/design-notes.md "Cluster").
// Their broadcasts and presence fan out to this node's members only and are never published again.
#include "channelengine.h"

namespace wsserve {

namespace {
const QString kPresenceDiff = QStringLiteral("presence_diff");
} // namespace

QJsonObject ChannelEngine::presenceList(const QString &topic) const
{
    QJsonObject list = m_presence.list(topic);
    m_remotePresence.mergeInto(topic, &list);
    return list;
}

void ChannelEngine::receiveRemoteBroadcast(const QString &node, const QString &topic, const QString &event,
                                           const Payload &payload)
{
    if (m_stopping) {
        return;
    }
    if (event == kPresenceDiff) {
        m_remotePresence.applyDiff(node, topic, payload.json.toObject());
    }
    broadcastImpl(topic, event, payload, 0, true);
}

void ChannelEngine::receiveRemoteState(const QString &node, const QJsonObject &topics)
{
    fanOutRemoteDiffs(m_remotePresence.replace(node, topics));
}

void ChannelEngine::dropRemoteNode(const QString &node)
{
    fanOutRemoteDiffs(m_remotePresence.dropNode(node));
}

void ChannelEngine::fanOutRemoteDiffs(const QHash<QString, QJsonObject> &diffs)
{
    if (m_stopping) {
        return;
    }
    for (auto diff = diffs.cbegin(); diff != diffs.cend(); ++diff) {
        if (const auto members = m_members.constFind(diff.key()); members != m_members.cend()) {
            m_host.sendBroadcast(*members, diff.key(), kPresenceDiff, Payload::fromJson(diff.value()), 0);
        }
    }
}

QJsonObject ChannelEngine::localPresenceState() const
{
    QJsonObject state;
    for (const QString &topic : m_presence.topics()) {
        state.insert(topic, m_presence.list(topic));
    }
    return state;
}

} // namespace wsserve
