// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "channelengine.h"

#include "channelcontextimpl.h"
#include "clock.h"
#include "guarded.h"

#include "http/httpresponse.h"
#include "net/wsframe.h"

namespace wsserve {

namespace {

Payload reasonPayload(const QString &reason)
{
    return Payload::fromJson(QJsonObject{{QStringLiteral("reason"), reason}});
}

Payload emptyPayload()
{
    return Payload::fromJson(QJsonObject{});
}

const QString kPresenceDiff = QStringLiteral("presence_diff");
} // namespace

// ---- ChannelTable

Channel *ChannelTable::find(const QString &topic)
{
    for (auto &[name, channel] : m_entries) {
        if (name == topic) {
            return &channel;
        }
    }
    return nullptr;
}

void ChannelTable::insert(const QString &topic, const Channel &channel)
{
    if (Channel *existing = find(topic)) {
        *existing = channel;
    } else {
        m_entries.append({topic, channel});
    }
}

void ChannelTable::remove(const QString &topic)
{
    m_entries.removeIf([&](const auto &entry) { return entry.first == topic; });
    if (m_entries.isEmpty()) {
        m_entries = {}; // no capacity kept for a client that left everything
    }
}

QStringList ChannelTable::topics() const
{
    QStringList list;
    list.reserve(m_entries.size());
    for (const auto &entry : m_entries) {
        list.append(entry.first);
    }
    return list;
}

// ---- ChannelEngine

ChannelEngine::ChannelEngine(InstanceConfig config, std::unique_ptr<IBehaviour> behaviour, Limits limits,
                             EngineHost &host)
    : m_config(std::move(config))
    , m_behaviour(std::move(behaviour))
    , m_limits(limits)
    , m_host(host)
{
    m_historyKeep = static_cast<int>(m_config.intOption(options::kHistory));
    m_historyTtlMs = m_config.intOption(options::kHistoryTtlS) * 1000;
    m_authRequired = m_config.stringOption(options::kAuth) == u"jwt";
    if (m_authRequired) {
        QString error;
        if (const std::optional<auth::JwtConfig> jwt = jwtConfig(m_config, &error)) {
            m_verifier = auth::JwtVerifier::create(*jwt, &error);
        }
        if (!m_verifier) {
            m_host.warn(
                QStringLiteral("auth=jwt but the key is unusable (%1): every connection is refused").arg(error));
        }
    }
}

ChannelEngine::~ChannelEngine() = default;

bool ChannelEngine::start(QString *what)
{
    return guarded([&] { m_behaviour->instanceStarted(*this); }, what);
}

std::optional<QString> ChannelEngine::connect(const ConnectInfo &info, bool *crashed)
{
    std::optional<QString> refusal;
    QString what;
    *crashed = !guarded([&] { refusal = m_behaviour->connect(info); }, &what);
    if (*crashed) {
        m_host.callbackCrashed(QStringLiteral("connect: ") + what);
    }
    return refusal;
}

HttpAnswer ChannelEngine::handleHttp(const HttpCall &call, bool *crashed)
{
    HttpAnswer answer;
    QString what;
    *crashed = !guarded([&] { answer = m_behaviour->handleHttp(*this, call); }, &what);
    if (*crashed) {
        m_host.warn(QStringLiteral("the HTTP handler threw: %1").arg(what));
        m_host.callbackCrashed(QStringLiteral("handleHttp: ") + what);
        return {500, "the instance's HTTP handler crashed", "text/plain; charset=utf-8"};
    }
    return answer;
}

void ChannelEngine::addClient(EngineClient *client)
{
    m_clients.insert(client->id, client);
}

void ChannelEngine::removeClient(EngineClient *client)
{
    const QStringList topics = client->channels.topics();
    for (const QString &topic : topics) {
        removeChannel(*client, topic, m_stopping ? LeaveReason::Shutdown : LeaveReason::Disconnected);
    }
    m_clients.remove(client->id);
}

void ChannelEngine::stop()
{
    m_stopping = true;
    m_timers.clear();
    m_host.timersChanged();
}

void ChannelEngine::handleMessage(EngineClient &client, const Message &message)
{
    if (m_stopping) {
        return;
    }
    if (message.topic == events::kPhoenixTopic && message.event == events::kHeartbeat) {
        m_host.sendReply(client, Ref(), message.ref, message.topic, QStringLiteral("ok"), emptyPayload());
        return;
    }
    if (const qint64 limit = m_limits.maxTopicBytes;
        message.topic.size() > limit / 3 || message.event.size() > limit / 3) { // a QChar is 1-3 UTF-8 bytes
        const bool longTopic = message.topic.toUtf8().size() > limit;
        if (longTopic || message.event.toUtf8().size() > limit) {
            // Refused, nothing kept (the reply echoes the topic once: clients match replies by topic and ref).
            m_host.sendReply(client, message.joinRef, message.ref, message.topic, QStringLiteral("error"),
                             reasonPayload(QStringLiteral("%1 over %2 bytes (max_topic_bytes)")
                                               .arg(longTopic ? QStringLiteral("topic") : QStringLiteral("event name"))
                                               .arg(limit)));
            return;
        }
    }
    if (message.event == events::kJoin) {
        handleJoin(client, message);
        return;
    }
    if (m_authRequired && message.event == u"access_token") {
        // A refreshed token (Supabase clients send one before the old one expires).
        QString reason;
        bool close = false;
        const bool ok = refreshToken(
            client, message.payload.json.toObject().value(QStringLiteral("access_token")).toString(), &reason, &close);
        m_host.sendReply(client, message.joinRef, message.ref, message.topic,
                         ok ? QStringLiteral("ok") : QStringLiteral("error"),
                         ok ? emptyPayload() : reasonPayload(reason));
        if (close) {
            m_host.closeClient(client, ws::closecode::kPolicyViolation, reason);
        }
        return;
    }
    if (message.event == events::kLeave) {
        handleLeave(client, message);
        return;
    }
    Channel *channel = client.channels.find(message.topic);
    if (!channel) {
        m_host.sendReply(client, Ref(), message.ref, message.topic, QStringLiteral("error"),
                         reasonPayload(QStringLiteral("unmatched topic")));
        return;
    }
    if (!message.joinRef.isNull() && message.joinRef != channel->joinRef) {
        return; // stale join_ref: the client raced a rejoin; dropped silently (protocol 4.4)
    }
    handleEvent(client, *channel, message);
}

void ChannelEngine::handleJoin(EngineClient &client, const Message &message)
{
    const QString &topic = message.topic;
    const bool duplicate = client.channels.contains(topic);
    if (!duplicate && client.channels.size() >= m_limits.maxChannels) {
        m_host.sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"),
                         reasonPayload(QStringLiteral("too many channels joined")));
        return;
    }
    bool matches = false;
    if (QString what; !guarded([&] { matches = m_behaviour->matchesTopic(topic); }, &what)) {
        m_host.warn(QStringLiteral("matchesTopic(%1) threw: %2").arg(topic, what));
        m_host.sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"),
                         reasonPayload(QStringLiteral("join crashed")));
        m_host.callbackCrashed(QStringLiteral("matchesTopic %1: %2").arg(topic, what));
        return;
    }
    if (!matches) {
        m_host.sendReply(client, Ref(), message.ref, topic, QStringLiteral("error"),
                         reasonPayload(QStringLiteral("unmatched topic")));
        return;
    }
    if (m_authRequired) {
        QString reason;
        bool close = false;
        const QJsonValue fresh = message.payload.json.toObject().value(QStringLiteral("access_token"));
        if (fresh.isString() && !refreshToken(client, fresh.toString(), &reason, &close)) {
            m_host.sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"),
                             reasonPayload(reason));
            if (close) {
                m_host.closeClient(client, ws::closecode::kPolicyViolation, reason);
            }
            return;
        }
        if (!topicAllowed(client, topic)) {
            m_host.sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"),
                             reasonPayload(QStringLiteral("unauthorized")));
            return;
        }
    }
    Ref oldJoinRef;
    if (duplicate) {
        // Phoenix kills the old channel, answers the new join, then closes the old join_ref (protocol 4.7).
        oldJoinRef = client.channels.find(topic)->joinRef;
        // The topic does not end in between, even if this was its only member: its state and timers
        // stay for the channel that replaces the old one.
        removeChannel(client, topic, LeaveReason::DuplicateJoin, false);
    }
    const auto endIfEmpty = [&] {
        if (const auto members = m_members.constFind(topic); members != m_members.cend() && members->isEmpty()) {
            endTopic(topic);
        }
    };
    const auto sendOldClose = [&] {
        if (duplicate) {
            m_host.sendControl(client, oldJoinRef, topic, events::kClose, {});
        }
    };
    HistoryRequest history;
    if (QString problem; !parseHistoryRequest(message.payload.json, &history, &problem)) {
        m_host.sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"), reasonPayload(problem));
        sendOldClose();
        endIfEmpty();
        return;
    }
    Channel channel;
    // A join without join_ref uses its ref as the channel's join reference, but the reply echoes null.
    channel.joinRef = message.joinRef.isNull() ? message.ref : message.joinRef;
    ChannelContextImpl context(*this, client, topic, channel, ChannelContextImpl::Phase::Join);
    JoinResult result;
    QString what;
    if (!guarded([&] { result = m_behaviour->join(context, message.payload.json); }, &what)) {
        m_host.warn(QStringLiteral("join of %1 crashed: %2").arg(topic, what));
        m_host.sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"),
                         reasonPayload(QStringLiteral("join crashed")));
        sendOldClose();
        endIfEmpty();
        m_host.callbackCrashed(QStringLiteral("join %1: %2").arg(topic, what));
        return;
    }
    // Taken before the channel becomes a member: what was broadcast until now is replayed, what comes
    // after reaches it live; both on this thread, so nothing is missed or sent twice.
    std::optional<QList<StoredMessage>> replay;
    if (result.ok && history.wanted) {
        replay = m_historyKeep > 0 ? m_store->history(m_config.id, topic, history.sinceMs, history.limit,
                                                      wsserve::nowMs(), m_historyTtlMs)
                                   : QList<StoredMessage>();
    }
    if (!result.ok) {
        m_host.sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"),
                         Payload::fromJson(result.response));
        sendOldClose();
        endIfEmpty();
        return;
    }
    if (replay) {
        result.response.insert(QStringLiteral("history"),
                               QJsonObject{{QStringLiteral("count"), static_cast<qint64>(replay->size())}});
    }
    if (!client.namedByPresence && message.payload.json.isObject()) {
        if (const QString name = message.payload.json.toObject().value(QStringLiteral("name")).toString().trimmed();
            !name.isEmpty()) {
            client.name = name.left(64);
        }
    }
    const bool firstMember = !m_members.contains(topic); // a duplicate join's held topic is not new
    QList<EngineClient *> &members = m_members[topic];
    channel.subscriberSlot = members.size();
    members.append(&client);
    client.channels.insert(topic, channel);
    ++m_channelCount;
    ++m_joinsTotal;
    m_channelsChanged = true;
    if (firstMember && !guarded([&] { m_behaviour->topicStarted(*this, topic); }, &what)) {
        m_host.warn(QStringLiteral("topicStarted of %1 threw: %2").arg(topic, what));
        m_host.callbackCrashed(QStringLiteral("topicStarted %1: %2").arg(topic, what));
    }
    m_host.sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("ok"),
                     Payload::fromJson(result.response));
    if (replay) {
        for (const StoredMessage &stored : std::as_const(*replay)) {
            m_host.sendPush(client, channel.joinRef, topic, stored.event, stored.payload);
        }
    }
    context.flushDeferred();
    sendOldClose();

    Channel *joined = client.channels.find(topic);
    if (!joined) {
        return; // topicStarted kicked it
    }
    ChannelContextImpl after(*this, client, topic, *joined, ChannelContextImpl::Phase::AfterJoin);
    if (!guarded([&] { m_behaviour->afterJoin(after); }, &what)) {
        crashChannel(client, topic, what);
        return;
    }
    if (after.stopRequested()) {
        const Ref joinRef = joined->joinRef;
        removeChannel(client, topic, LeaveReason::Stopped);
        m_host.sendControl(client, joinRef, topic, events::kClose, {});
    }
}

void ChannelEngine::handleLeave(EngineClient &client, const Message &message)
{
    const Channel *channel = client.channels.find(message.topic);
    if (!channel) {
        // Leaving something unknown is not an error (protocol 4.5).
        m_host.sendReply(client, message.joinRef, message.ref, message.topic, QStringLiteral("ok"), emptyPayload());
        return;
    }
    if (!message.joinRef.isNull() && message.joinRef != channel->joinRef) {
        return; // stale: the client raced a server close
    }
    const Ref joinRef = channel->joinRef;
    m_host.sendReply(client, joinRef, message.ref, message.topic, QStringLiteral("ok"), emptyPayload());
    removeChannel(client, message.topic, LeaveReason::Left);
    m_host.sendControl(client, joinRef, message.topic, events::kClose, {});
}

void ChannelEngine::handleEvent(EngineClient &client, Channel &channel, const Message &message)
{
    ChannelContextImpl context(*this, client, message.topic, channel, ChannelContextImpl::Phase::Event, message.ref);
    QString what;
    if (!guarded([&] { m_behaviour->handleIn(context, message.event, message.payload); }, &what)) {
        crashChannel(client, message.topic, what);
        return;
    }
    if (context.stopRequested()) {
        if (Channel *current = client.channels.find(message.topic)) {
            const Ref joinRef = current->joinRef;
            removeChannel(client, message.topic, LeaveReason::Stopped);
            m_host.sendControl(client, joinRef, message.topic, events::kClose, {});
        }
    }
}

void ChannelEngine::crashChannel(EngineClient &client, const QString &topic, const QString &what)
{
    const Channel *channel = client.channels.find(topic);
    if (!channel) {
        return;
    }
    m_host.warn(QStringLiteral("channel %1 of client %2 crashed: %3").arg(topic).arg(client.id).arg(what));
    const Ref joinRef = channel->joinRef;
    m_host.sendControl(client, joinRef, topic, events::kError,
                       QJsonObject{{QStringLiteral("reason"), QStringLiteral("channel_crash")}});
    removeChannel(client, topic, LeaveReason::Crashed);
    m_host.callbackCrashed(QStringLiteral("channel %1: %2").arg(topic, what));
}

void ChannelEngine::removeChannel(EngineClient &client, const QString &topic, LeaveReason reason, bool mayEndTopic)
{
    Channel *channel = client.channels.find(topic);
    if (!channel) {
        return;
    }
    if (!m_stopping) {
        ChannelContextImpl context(*this, client, topic, *channel, ChannelContextImpl::Phase::Leave);
        QString what;
        if (!guarded([&] { m_behaviour->leave(context, reason); }, &what)) {
            m_host.warn(QStringLiteral("leave handler of %1 threw: %2").arg(topic, what));
            m_host.callbackCrashed(QStringLiteral("leave %1: %2").arg(topic, what));
        }
        presenceUntrack(*channel, topic);
    }
    const qsizetype slot = channel->subscriberSlot;
    client.channels.remove(topic);
    --m_channelCount;
    m_channelsChanged = true;
    auto members = m_members.find(topic);
    if (members == m_members.end() || slot < 0 || slot >= members->size()) {
        return;
    }
    // Swap-remove: the last member takes the slot (its channel records where it now is).
    EngineClient *last = members->last();
    (*members)[slot] = last;
    if (last != &client) {
        last->channels.find(topic)->subscriberSlot = slot;
    }
    members->removeLast();
    if (members->isEmpty() && mayEndTopic) {
        endTopic(topic);
    }
}

void ChannelEngine::endTopic(const QString &topic)
{
    m_members.remove(topic);
    if (m_timers.cancelTopic(topic) > 0) {
        m_host.timersChanged();
    }
    if (!m_stopping) {
        QString what;
        if (!guarded([&] { m_behaviour->topicEmpty(*this, topic); }, &what)) {
            m_host.warn(QStringLiteral("topicEmpty of %1 threw: %2").arg(topic, what));
            m_host.callbackCrashed(QStringLiteral("topicEmpty %1: %2").arg(topic, what));
        }
    }
}

void ChannelEngine::broadcast(const QString &topic, const QString &event, const Payload &payload)
{
    broadcastImpl(topic, event, payload, 0);
}

void ChannelEngine::broadcastImpl(const QString &topic, const QString &event, const Payload &payload,
                                  quint64 excludeClientId, bool fromCluster)
{
    if (m_historyKeep > 0 && event != kPresenceDiff) {
        m_store->appendHistory(m_config.id, topic, event, payload, wsserve::nowMs(), m_historyKeep, m_historyTtlMs);
    }
    if (const auto members = m_members.constFind(topic); members != m_members.cend()) {
        m_host.sendBroadcast(*members, topic, event, payload, excludeClientId);
    }
    if (!fromCluster) {
        m_host.publishToCluster(topic, event, payload); // other nodes may have members even when this has none
    }
}

bool ChannelEngine::pushTo(quint64 clientId, const QString &topic, const QString &event, const Payload &payload)
{
    EngineClient *client = m_clients.value(clientId);
    Channel *channel = client ? client->channels.find(topic) : nullptr;
    if (!channel || m_stopping) {
        return false;
    }
    m_host.sendPush(*client, channel->joinRef, topic, event, payload);
    return true;
}

void ChannelEngine::kick(quint64 clientId, const QString &reason)
{
    if (EngineClient *client = m_clients.value(clientId)) {
        m_host.closeClient(*client, ws::closecode::kPolicyViolation, reason);
    }
}

QList<Member> ChannelEngine::members(const QString &topic) const
{
    QList<Member> list;
    const auto members = m_members.constFind(topic);
    if (members == m_members.cend()) {
        return list;
    }
    list.reserve(members->size());
    for (EngineClient *client : *members) {
        list.append(Member{client->id, client->channels.find(topic)->assigns});
    }
    std::sort(list.begin(), list.end(), [](const Member &a, const Member &b) { return a.clientId < b.clientId; });
    return list;
}

TimerId ChannelEngine::addTimer(int ms, bool repeat, TimerCallback callback, const QString &topic, const char *call)
{
    if (m_stopping || !callback || ms < 0) {
        m_host.warn(QStringLiteral("%1(%2 ms) refused: %3")
                        .arg(QLatin1String(call))
                        .arg(ms)
                        .arg(m_stopping ? QStringLiteral("the instance is stopping")
                                        : QStringLiteral("a callback and a delay >= 0 are needed")));
        return 0;
    }
    if (!topic.isEmpty() && !m_members.contains(topic)) {
        m_host.warn(QStringLiteral("%1() for topic %2 refused: it has no members").arg(QLatin1String(call), topic));
        return 0;
    }
    const TimerId id = m_timers.add(m_host.nowMs(), ms, repeat, topic, std::move(callback));
    m_host.timersChanged();
    return id;
}

TimerId ChannelEngine::after(int ms, TimerCallback callback, const QString &topic)
{
    return addTimer(ms, false, std::move(callback), topic, "after");
}

TimerId ChannelEngine::every(int ms, TimerCallback callback, const QString &topic)
{
    return addTimer(ms, true, std::move(callback), topic, "every"); // the table runs it at least 1 ms apart
}

bool ChannelEngine::cancelTimer(TimerId id)
{
    const bool cancelled = m_timers.cancel(id);
    if (cancelled) {
        m_host.timersChanged();
    }
    return cancelled;
}

void ChannelEngine::fireDueTimers()
{
    const qint64 now = m_host.nowMs();
    // Bounded: a timer re-armed for "now" by its own callback waits for the next wake-up.
    for (qsizetype budget = m_timers.size(); budget > 0 && !m_stopping; --budget) {
        std::optional<TimerTable::Due> due = m_timers.takeNextDue(now);
        if (!due) {
            break;
        }
        QString what;
        if (!guarded([&] { due->callback(*this); }, &what)) {
            m_host.warn(QStringLiteral("timer %1 threw: %2").arg(due->id).arg(what));
            m_host.callbackCrashed(QStringLiteral("timer: ") + what);
        }
    }
    m_host.timersChanged();
}

void ChannelEngine::presenceTrack(EngineClient &client, Channel &channel, const QString &topic, const QString &key,
                                  const QJsonObject &meta)
{
    if (!channel.presenceRef.isEmpty()) {
        presenceUntrack(channel, topic);
    }
    QJsonObject diff;
    channel.presenceRef = m_presence.track(topic, key, client.id, meta, &diff);
    channel.presenceKey = key;
    client.name = key.left(64);
    client.namedByPresence = true;
    broadcastImpl(topic, kPresenceDiff, Payload::fromJson(diff), 0);
}

void ChannelEngine::presenceUpdate(Channel &channel, const QString &topic, const QJsonObject &meta)
{
    if (channel.presenceRef.isEmpty()) {
        return;
    }
    QJsonObject diff;
    const QString ref = m_presence.update(topic, channel.presenceKey, channel.presenceRef, meta, &diff);
    if (!ref.isEmpty()) {
        channel.presenceRef = ref;
        broadcastImpl(topic, kPresenceDiff, Payload::fromJson(diff), 0);
    }
}

void ChannelEngine::presenceUntrack(Channel &channel, const QString &topic)
{
    if (channel.presenceRef.isEmpty()) {
        return;
    }
    QJsonObject diff;
    const bool removed = m_presence.untrack(topic, channel.presenceKey, channel.presenceRef, &diff);
    channel.presenceRef.clear();
    channel.presenceKey.clear();
    if (removed) {
        broadcastImpl(topic, kPresenceDiff, Payload::fromJson(diff), 0);
    }
}

// ---- ChannelEngine::Storage: the instance's slice of the store

QJsonValue ChannelEngine::Storage::value(const QString &key) const
{
    return m_engine.m_store->value(m_engine.m_config.id, key);
}

bool ChannelEngine::Storage::setValue(const QString &key, const QJsonValue &value)
{
    QString error;
    if (!m_engine.m_store->setValue(m_engine.m_config.id, key, value, &error)) {
        m_engine.m_host.warn(QStringLiteral("storage().setValue refused: %1").arg(error));
        return false;
    }
    return true;
}

bool ChannelEngine::Storage::remove(const QString &key)
{
    return m_engine.m_store->remove(m_engine.m_config.id, key);
}

QStringList ChannelEngine::Storage::keys() const
{
    return m_engine.m_store->keys(m_engine.m_config.id);
}

} // namespace wsserve
