// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// The instance-type SDK: what a type (the server logic of an instance) implements and what it may call.
// A type is an IBehaviour; the instance calls it from its own thread, one callback at a time, with a
// context that is valid for that callback only (never keep a reference to a context).
//
// Lifecycle, in order:
//   instanceStarted(instance)             once, before any client: start instance timers here
//   connect(info)                         per connection, before the WebSocket upgrade: refuse -> HTTP 403
//   matchesTopic(topic)                   per phx_join, first: false -> "unmatched topic"; a throw is a
//                                         crash and the join is answered "join crashed"
//   join(channel, params)                 per phx_join: accept (reply ok) or refuse (reply error)
//   topicStarted(instance, topic)         the first channel of a topic was accepted (before its reply)
//   afterJoin(channel)                    right after the join reply: presence, pushes
//   handleIn(channel, event, payload)     per pushed event: reply, push, broadcast, stop...
//   leave(channel, reason)                the channel ended: phx_leave, duplicate join, stop, crash,
//                                         disconnect or kick (not during the instance's own shutdown)
//   topicEmpty(instance, topic)           the topic's last channel ended: free what is kept for it;
//                                         its topic timers are already cancelled. A duplicate join of
//                                         the only member does not end the topic.
//   Every callback that throws counts toward max_channel_crashes; in join/afterJoin/handleIn it also
//   ends that channel (phx_error, or "join crashed").
//   timer callbacks                       see InstanceContext::after/every
//   (destructor)                          the instance stops; its timers are cancelled, nothing is sent
//
// Which call is valid where. Anything else is ignored and logged as a warning naming the call and the
// callback ("reply() is not valid in leave (topic t); ignored"), never undefined behaviour.
//
//   ChannelContext call          join   afterJoin  handleIn  leave
//   topic/clientId/connectInfo    yes     yes        yes      yes
//   assigns                       yes     yes        yes      yes (last look; dropped afterwards)
//   replyOk/replyError/reply      -       -          yes      -      (one reply per message)
//   push                          yes*    yes        yes      -      (* sent right after the join reply)
//   broadcast/broadcastFrom       yes**   yes        yes      yes*** (** the joining channel is not yet
//                                                                        a member, so it gets none;
//                                                                        *** the leaving one still is:
//                                                                        broadcastFrom skips it)
//   stop                          -       yes        yes      -      (in join: JoinResult::refuse)
//   trackPresence/update/untrack  -       yes        yes      -      (leave untracks by itself)
//   instance()                    yes     yes        yes      yes
//
//   InstanceContext calls (instance(), or the argument of instanceStarted/topic*/timers): valid in every
//   callback: broadcast, pushTo, kick, members, presenceList, after/every/cancelTimer, options.
//   Timers started while the instance stops, or for a topic without members, are refused (id 0).

#include "instanceconfig.h"
#include "protocol/message.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QVariantMap>

#include <functional>
#include <optional>

namespace wsserve {

// What a behaviour learns about a connecting client (before the WebSocket upgrade).
struct ConnectInfo {
    quint64 clientId = 0;
    QJsonObject params; // decoded query parameters, `vsn` included
    QString authToken;  // from the `base64url.bearer.phx.` subprotocol, decoded; empty when absent
    QString remoteAddress;
    WireFormat format = WireFormat::Invalid;
    // With auth=jwt: the verified token's claims and `sub` (refreshed by access_token); empty otherwise.
    QJsonObject claims;
    QString subject;
    qint64 tokenExpiresAt = 0; // `exp`, seconds since the epoch; 0 when none
};

// The answer to a join: ok with a response object, or an error whose response carries the reason.
struct JoinResult {
    bool ok = true;
    QJsonObject response;
    static JoinResult accept(const QJsonObject &response = {}) { return {true, response}; }
    static JoinResult refuse(const QString &reason) { return {false, QJsonObject{{QStringLiteral("reason"), reason}}}; }
};

enum class LeaveReason { Invalid = 0, Left, DuplicateJoin, Stopped, Crashed, Disconnected, Shutdown };

// One channel joined to a topic, as InstanceContext::members() lists it.
struct Member {
    quint64 clientId = 0;
    QVariantMap assigns; // a copy of the channel's assigns
};

// An HTTP request to an instance's own API, /socket/<instance-id>/api/<path> (Supabase's REST broadcast),
// after the instance checked the origin and, with auth=jwt, the bearer token. Answered by handleHttp.
struct HttpCall {
    QString method;         // "POST"
    QString path;           // after /api, percent-decoded: "/broadcast", "/broadcast/room/events/move"
    QJsonObject params;     // decoded query parameters
    QByteArray contentType; // media type in lower case, without parameters ("application/json")
    QByteArray body;
    ConnectInfo info; // client id 0; the remote address, and the token's claims with auth=jwt
};
struct HttpAnswer {
    int status = 404;
    QByteArray body;
    QByteArray contentType = "text/plain; charset=utf-8";
};

using TimerId = quint64; // 0: no timer
class InstanceContext;
using TimerCallback = std::function<void(InstanceContext &)>;

// Instance-wide services. Thread: the instance thread only.
class InstanceContext
{
public:
    virtual ~InstanceContext() = default;
    virtual QString instanceId() const = 0;
    virtual const InstanceConfig &config() const = 0;
    // Sends `event` to every channel joined to `topic`, encoded once per wire format.
    virtual void broadcast(const QString &topic, const QString &event, const Payload &payload) = 0;
    // Sends `event` to one client's channel on `topic`; false when that client has not joined it.
    virtual bool pushTo(quint64 clientId, const QString &topic, const QString &event, const Payload &payload) = 0;
    // Closes a client's connection (close code 1008 with this reason); its channels leave as on a disconnect.
    virtual void kick(quint64 clientId, const QString &reason) = 0;
    // The channels joined to `topic`, by client id.
    virtual QList<Member> members(const QString &topic) const = 0;
    // Presence snapshot of a topic in the Phoenix shape {key: {metas: [...]}}.
    virtual QJsonObject presenceList(const QString &topic) const = 0;

    // Timers (Phoenix's send_after, Colyseus's clock): `callback` runs in the instance thread after
    // `ms`, once (after) or every `ms` (every). With a topic, the timer is cancelled when the topic's
    // last channel ends; without, when the instance stops. A callback that throws counts as a crash.
    virtual TimerId after(int ms, TimerCallback callback, const QString &topic = {}) = 0;
    virtual TimerId every(int ms, TimerCallback callback, const QString &topic = {}) = 0;
    // False when the timer already ran (one-shot) or was cancelled.
    virtual bool cancelTimer(TimerId id) = 0;
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
    // Per-channel state; dropped when the channel ends.
    virtual QVariantMap &assigns() = 0;

    // Answers the message being handled. A second reply to the same message is ignored.
    virtual void reply(const QString &status, const Payload &response) = 0;
    void replyOk(const Payload &response = Payload::fromJson(QJsonObject{})) { reply(QStringLiteral("ok"), response); }
    void replyOk(const QJsonObject &response) { replyOk(Payload::fromJson(response)); }
    // {"status": "error", "response": {"reason": reason}}: what the official clients' receive("error") sees.
    void replyError(const QString &reason)
    {
        reply(QStringLiteral("error"), Payload::fromJson(QJsonObject{{QStringLiteral("reason"), reason}}));
    }
    // Server push to this channel only: [join_ref, null, topic, event, payload].
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
// called in the instance thread. A callback that throws crashes only the channel it was called for
// (phx_error; the client rejoins); too many crashes restart the instance.
class IBehaviour
{
public:
    virtual ~IBehaviour() = default;

    virtual void instanceStarted(InstanceContext &) {}
    // Before the upgrade: return a reason to refuse the connection (HTTP 403).
    virtual std::optional<QString> connect(const ConnectInfo &) { return std::nullopt; }
    // Topics this type serves; others get "unmatched topic".
    virtual bool matchesTopic(const QString &) const { return true; }
    // True for types that serve Supabase realtime-js clients: binary kind 3 frames (user broadcasts) are
    // then decoded to event "broadcast" with Payload::userBroadcast set; otherwise they close with 1003.
    virtual bool acceptsUserBroadcasts() const { return false; }
    virtual JoinResult join(ChannelContext &channel, const QJsonValue &params) = 0;
    virtual void topicStarted(InstanceContext &, const QString & /*topic*/) {}
    virtual void afterJoin(ChannelContext &) {}
    virtual void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) = 0;
    virtual void leave(ChannelContext &, LeaveReason) {}
    virtual void topicEmpty(InstanceContext &, const QString & /*topic*/) {}
    // An HTTP request to the instance's API (see HttpCall); may broadcast through `instance`.
    virtual HttpAnswer handleHttp(InstanceContext &, const HttpCall &)
    {
        return {404, "this instance type has no HTTP API", "text/plain; charset=utf-8"};
    }
};

} // namespace wsserve
