// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "realtimebehaviour.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUuid>

namespace wsserve {

namespace {
const QString kSelf = QStringLiteral("rt_self");
const QString kAck = QStringLiteral("rt_ack");
const QString kPresenceKey = QStringLiteral("rt_presence_key");
const QString kPresenceEnabled = QStringLiteral("rt_presence_enabled");
const QString kStateSent = QStringLiteral("rt_state_sent"); // presence_state went out for this join
const QString kMeta = QStringLiteral("rt_meta");            // the tracked payload
const QString kBroadcast = QStringLiteral("broadcast");
const QString kType = QStringLiteral("type");
const QString kEvent = QStringLiteral("event");
const QString kPayload = QStringLiteral("payload");

// realtime-js merges the user's config shallowly and may send "true"/"false" strings; missing is false.
bool flag(const QJsonObject &object, const QString &key)
{
    const QJsonValue value = object.value(key);
    return value.isBool() ? value.toBool() : value.toString() == u"true";
}

QByteArray errorJson(const QString &message)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), message}}).toJson(QJsonDocument::Compact);
}

HttpAnswer badRequest(const QString &message)
{
    return {400, errorJson(message), "application/json"};
}
} // namespace

JoinResult RealtimeBehaviour::join(ChannelContext &channel, const QJsonValue &params)
{
    const QJsonObject config = params.toObject().value(QStringLiteral("config")).toObject();
    if (const QJsonArray changes = config.value(QStringLiteral("postgres_changes")).toArray(); !changes.isEmpty()) {
        // The client compares the reply with its bindings and would report a mismatch anyway.
        return JoinResult::refuse(QStringLiteral("postgres_changes are not supported by wsserve (broadcast and "
                                                 "presence only)"));
    }
    const QJsonObject broadcast = config.value(kBroadcast).toObject();
    const QJsonObject presence = config.value(QStringLiteral("presence")).toObject();
    QVariantMap &assigns = channel.assigns();
    assigns.insert(kSelf, flag(broadcast, QStringLiteral("self")));
    assigns.insert(kAck, flag(broadcast, QStringLiteral("ack")));
    assigns.insert(kPresenceEnabled, flag(presence, QStringLiteral("enabled")));
    QString key = presence.value(QStringLiteral("key")).toString();
    if (key.isEmpty()) {
        key = QUuid::createUuid().toString(QUuid::WithoutBraces); // what the Supabase server does
    }
    assigns.insert(kPresenceKey, key.left(255));
    return JoinResult::accept(QJsonObject{{QStringLiteral("postgres_changes"), QJsonArray{}}});
}

void RealtimeBehaviour::afterJoin(ChannelContext &channel)
{
    // realtime-js applies no presence_diff before it has the state of the current join.
    if (channel.assigns().value(kPresenceEnabled).toBool()) {
        pushPresenceState(channel);
    }
}

void RealtimeBehaviour::pushPresenceState(ChannelContext &channel)
{
    channel.assigns().insert(kStateSent, true);
    channel.push(QStringLiteral("presence_state"), Payload::fromJson(channel.instance().presenceList(channel.topic())));
}

void RealtimeBehaviour::handleIn(ChannelContext &channel, const QString &event, const Payload &payload)
{
    if (event == kBroadcast) {
        broadcastIn(channel, payload);
        return;
    }
    if (payload.isBinary) {
        // A Phoenix kind 0 push: answered in JSON, the only form realtime-js reads besides kind 4.
        channel.replyError(QStringLiteral("binary pushes are not supported on realtime topics; send a broadcast"));
        return;
    }
    if (event == u"presence") {
        presenceIn(channel, payload.json.toObject());
        return;
    }
    if (event == u"access_token") {
        channel.replyOk(); // auth=none: nothing to check (with auth=jwt the engine verifies it first)
        return;
    }
    channel.replyError(QStringLiteral("unknown event '%1' (realtime topics take broadcast and presence)").arg(event));
}

void RealtimeBehaviour::broadcastIn(ChannelContext &channel, const Payload &payload)
{
    if (!payload.userBroadcast) {
        // The JSON form: {"type": "broadcast", "event": E, "payload": P}, relayed as it came.
        const QJsonObject message = payload.json.toObject();
        if (payload.isBinary || !message.value(kEvent).isString()) {
            channel.replyError(QStringLiteral("a broadcast needs {\"type\": \"broadcast\", \"event\", \"payload\"}"));
            return;
        }
    }
    if (channel.assigns().value(kSelf).toBool()) {
        channel.broadcast(kBroadcast, payload);
    } else {
        channel.broadcastFrom(kBroadcast, payload);
    }
    if (channel.assigns().value(kAck).toBool()) {
        channel.replyOk(); // with the join_ref and ref of the kind 3 header
    }
}

void RealtimeBehaviour::presenceIn(ChannelContext &channel, const QJsonObject &message)
{
    const QString what = message.value(kEvent).toString();
    QVariantMap &assigns = channel.assigns();
    if (what == u"track") {
        const QJsonObject meta = message.value(kPayload).toObject();
        if (!assigns.value(kStateSent).toBool()) {
            pushPresenceState(channel); // tracking without presence.enabled: the client still needs a state
        }
        if (!assigns.contains(kMeta)) {
            channel.trackPresence(assigns.value(kPresenceKey).toString(), meta);
        } else if (assigns.value(kMeta).toJsonObject() != meta) {
            // An update goes out as a leave of the old meta, then a join of the new one (two diffs), not as
            // Phoenix's single diff: realtime-js 2.x strips phx_ref from the metas it shares with its state
            // while reporting a join, so the old meta of a one-diff update is never removed (a ghost entry).
            channel.untrackPresence();
            channel.trackPresence(assigns.value(kPresenceKey).toString(), meta);
        } // the same payload again changes nothing
        assigns.insert(kMeta, meta);
        channel.replyOk();
        return;
    }
    if (what == u"untrack") {
        channel.untrackPresence();
        assigns.remove(kMeta);
        channel.replyOk();
        return;
    }
    channel.replyError(QStringLiteral("unknown presence event '%1' (track or untrack)").arg(what));
}

HttpAnswer RealtimeBehaviour::handleHttp(InstanceContext &instance, const HttpCall &call)
{
    if (call.method != u"POST") {
        return {405, "use POST", "text/plain; charset=utf-8"};
    }
    if (call.path == u"/broadcast") {
        // send() before the channel is joined: {"messages": [{topic, event, payload, private}]}.
        const QJsonDocument document = QJsonDocument::fromJson(call.body);
        const QJsonValue messages = document.object().value(QStringLiteral("messages"));
        if (!messages.isArray()) {
            return badRequest(QStringLiteral("the body must be {\"messages\": [{\"topic\", \"event\", \"payload\"}]}"));
        }
        const QJsonArray list = messages.toArray();
        for (const QJsonValue &entry : list) { // checked first: all or nothing
            const QJsonObject message = entry.toObject();
            if (!message.value(QStringLiteral("topic")).isString() || !message.value(kEvent).isString()) {
                return badRequest(QStringLiteral("every message needs a string topic and event"));
            }
        }
        for (const QJsonValue &entry : list) {
            const QJsonObject message = entry.toObject();
            instance.broadcast(kTopicPrefix + message.value(QStringLiteral("topic")).toString(), kBroadcast,
                               Payload::fromJson(QJsonObject{{kType, kBroadcast},
                                                             {kEvent, message.value(kEvent)},
                                                             {kPayload, message.value(kPayload)}}));
        }
        return {202, {}, "text/plain; charset=utf-8"};
    }
    // httpSend(event, payload): /broadcast/<topic>/events/<event>, the body is the payload (JSON or raw).
    const QStringList parts = call.path.split(u'/');
    if (parts.size() == 5 && parts.at(1) == kBroadcast && parts.at(3) == u"events" && !parts.at(2).isEmpty() &&
        !parts.at(4).isEmpty()) {
        UserBroadcast broadcast;
        broadcast.event = parts.at(4);
        broadcast.payload = call.body;
        broadcast.json = call.contentType != "application/octet-stream";
        QJsonObject jsonForm{{kType, kBroadcast}, {kEvent, broadcast.event}, {kPayload, QJsonValue::Null}};
        if (broadcast.json) {
            QJsonParseError error{};
            const QJsonDocument body = QJsonDocument::fromJson('[' + call.body + ']', &error);
            if (error.error != QJsonParseError::NoError || body.array().size() != 1) {
                return badRequest(
                    QStringLiteral("the body is not valid JSON; send application/octet-stream for bytes"));
            }
            jsonForm.insert(kPayload, body.array().at(0));
        }
        const QString topic = kTopicPrefix + parts.at(2);
        if (topic.toUtf8().size() > 255 || broadcast.event.toUtf8().size() > 255) {
            return badRequest(QStringLiteral("topic and event are at most 255 bytes"));
        }
        instance.broadcast(topic, kBroadcast, Payload::fromUserBroadcast(std::move(broadcast), jsonForm));
        return {202, {}, "text/plain; charset=utf-8"};
    }
    return {404, "no such API; POST /api/broadcast or /api/broadcast/<topic>/events/<event>",
            "text/plain; charset=utf-8"};
}

} // namespace wsserve
