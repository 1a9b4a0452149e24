// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instanceconfig.h"
#include "protocol/message.h"

#include <QJsonObject>
#include <QString>
#include <QVariantMap>

#include <optional>

namespace wsserve {

// What a behaviour learns about a connecting client (before the WebSocket upgrade).
struct ConnectInfo {
    quint64 clientId = 0;
    QJsonObject params; // decoded query parameters, `vsn` included
    QString authToken;  // from the `base64url.bearer.phx.` subprotocol, decoded; empty when absent
    QString remoteAddress;
    WireFormat format = WireFormat::Invalid;
};

// The answer to a join: ok with a response object, or an error whose response carries the reason.
struct JoinResult {
    bool ok = true;
    QJsonObject response;
    static JoinResult accept(const QJsonObject &response = {}) { return {true, response}; }
    static JoinResult refuse(const QString &reason) { return {false, QJsonObject{{QStringLiteral("reason"), reason}}}; }
};

enum class LeaveReason { Invalid = 0, Left, DuplicateJoin, Stopped, Crashed, Disconnected, Shutdown };

// Instance-wide services available to behaviours. Thread: the instance thread only.
class InstanceContext
{
public:
    virtual ~InstanceContext() = default;
    virtual QString instanceId() const = 0;
    virtual const InstanceConfig &config() const = 0;
    // Sends `event` to every channel joined to `topic`, encoded once per wire format.
    virtual void broadcast(const QString &topic, const QString &event, const Payload &payload) = 0;
    // Presence snapshot of a topic in the Phoenix shape {key: {metas: [...]}}.
    virtual QJsonObject presenceList(const QString &topic) const = 0;
    // Fault injection for the `chaos` type: block the instance thread, or report the instance failed.
    virtual void stallThread(int milliseconds) = 0;
    virtual void failInstance(const QString &reason) = 0;
};

// One joined channel (topic on one connection), handed to every channel callback.
// Thread: the instance thread only; valid during the callback.
class ChannelContext
{
public:
    virtual ~ChannelContext() = default;
    virtual QString topic() const = 0;
    virtual quint64 clientId() const = 0;
    virtual const ConnectInfo &connectInfo() const = 0;
    // Per-channel state; dropped when the channel ends (leave, crash, disconnect).
    virtual QVariantMap &assigns() = 0;

    // Answers the message being handled (no-op outside handleIn). A second reply is ignored.
    virtual void reply(const QString &status, const Payload &response = Payload::fromJson(QJsonObject{})) = 0;
    // Server push to this client only: [join_ref, null, topic, event, payload].
    virtual void push(const QString &event, const Payload &payload) = 0;
    virtual void broadcast(const QString &event, const Payload &payload) = 0;
    // Like broadcast, but not to this channel.
    virtual void broadcastFrom(const QString &event, const Payload &payload) = 0;
    // Ends the channel gracefully after the callback: phx_close, and the client does not rejoin.
    virtual void stop() = 0;

    // Presence for this channel (one entry per channel); diffs are broadcast as `presence_diff`.
    virtual void trackPresence(const QString &key, const QJsonObject &meta) = 0;
    virtual void updatePresence(const QJsonObject &meta) = 0;
    virtual void untrackPresence() = 0;

    virtual InstanceContext &instance() = 0;
};

// Server logic of one instance type: the plug-in point. One object per running instance, created and
// called in the instance thread. A callback that throws crashes only the channel it was called for.
class IBehaviour
{
public:
    virtual ~IBehaviour() = default;

    // Before the upgrade: return a reason to refuse the connection (HTTP 403).
    virtual std::optional<QString> connect(const ConnectInfo &) { return std::nullopt; }
    // Topics this type serves; others get "unmatched topic".
    virtual bool matchesTopic(const QString &) const { return true; }
    virtual JoinResult join(ChannelContext &channel, const QJsonValue &params) = 0;
    // After the join reply was sent: the place for pushes such as presence_state.
    virtual void afterJoin(ChannelContext &) {}
    virtual void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) = 0;
    virtual void leave(ChannelContext &, LeaveReason) {}
    // The last channel joined to `topic` ended (after its leave()): free what is kept for the topic. Not
    // called while the instance stops; the behaviour object is destroyed then.
    virtual void topicEmpty(InstanceContext &, const QString & /*topic*/) {}
    // Periodic tick: called every tickIntervalMs() when that is above zero.
    virtual int tickIntervalMs() const { return 0; }
    virtual void tick(InstanceContext &) {}
};

} // namespace wsserve
