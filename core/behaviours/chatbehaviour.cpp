// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "chatbehaviour.h"

#include <QDateTime>

namespace wsserve {

namespace {
const QString kNameKey = QStringLiteral("name");
const QString kPresenceUpdate = QStringLiteral("presence_update");
} // namespace

ChatBehaviour::ChatBehaviour(Mode mode)
    : m_mode(mode)
{}

bool ChatBehaviour::presenceOn(ChannelContext &channel)
{
    return channel.instance().config().boolOption(QStringLiteral("presence"));
}

JoinResult ChatBehaviour::join(ChannelContext &channel, const QJsonValue &params)
{
    QString name = params.toObject().value(kNameKey).toString().trimmed();
    if (name.size() > 64) {
        return JoinResult::refuse(QStringLiteral("name is longer than 64 characters"));
    }
    // With auth=jwt, a `name` claim is the presence key: a different name in the join is refused.
    if (const QString claimed = channel.connectInfo().claims.value(kNameKey).toString(); !claimed.isEmpty()) {
        if (!name.isEmpty() && name != claimed) {
            return JoinResult::refuse(QStringLiteral("name does not match the token"));
        }
        name = claimed.left(64);
    }
    if (name.isEmpty()) { // the socket's own `name` parameter, as the window shows it
        name = channel.connectInfo().params.value(kNameKey).toString().trimmed().left(64);
    }
    if (name.isEmpty()) {
        name = QStringLiteral("client-%1").arg(channel.clientId());
    }
    channel.assigns().insert(kNameKey, name);
    return JoinResult::accept(
        QJsonObject{{kNameKey, name}, {QStringLiteral("client_id"), QString::number(channel.clientId())}});
}

void ChatBehaviour::afterJoin(ChannelContext &channel)
{
    if (!presenceOn(channel)) {
        return;
    }
    const QString name = channel.assigns().value(kNameKey).toString();
    channel.trackPresence(
        name, QJsonObject{{QStringLiteral("online_at"), QString::number(QDateTime::currentSecsSinceEpoch())},
                          {QStringLiteral("client_id"), QString::number(channel.clientId())}});
    channel.push(QStringLiteral("presence_state"), Payload::fromJson(channel.instance().presenceList(channel.topic())));
}

void ChatBehaviour::handleIn(ChannelContext &channel, const QString &event, const Payload &payload)
{
    if (event == kPresenceUpdate && presenceOn(channel) && !payload.isBinary) {
        QJsonObject meta = payload.json.toObject();
        meta.insert(QStringLiteral("client_id"), QString::number(channel.clientId()));
        channel.updatePresence(meta);
        channel.replyOk();
        return;
    }
    if (m_mode == Mode::Relay) {
        channel.broadcastFrom(event, payload);
    } else {
        channel.broadcast(event, payload);
    }
    channel.replyOk();
}

} // namespace wsserve
