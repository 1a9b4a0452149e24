// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "behaviourharness.h"

#include <QJsonArray>

namespace wsserve {

BehaviourHarness::BehaviourHarness(const BehaviourType &type, const QVariantMap &options, const QString &instanceId,
                                   std::shared_ptr<Store> store)
{
    BehaviourRegistry registry;
    InstanceConfig config;
    if (!registry.add(type)) {
        m_error = QStringLiteral("type name '%1' is not valid").arg(type.name);
    } else if (!registry.makeConfig(instanceId, type.name, options, &config, &m_error)) {
        // m_error says which option is wrong
    }
    std::unique_ptr<IBehaviour> behaviour;
    if (m_error.isEmpty()) {
        try {
            behaviour = type.create(config);
        } catch (const std::exception &error) {
            m_error = QStringLiteral("create threw: %1").arg(QString::fromLocal8Bit(error.what()));
        }
        if (!behaviour && m_error.isEmpty()) {
            m_error = QStringLiteral("create returned no behaviour");
        }
    }
    if (!behaviour) {
        // A stand-in so that calls on a failed harness do nothing instead of crashing.
        struct Refusing final : IBehaviour {
            JoinResult join(ChannelContext &, const QJsonValue &) override
            {
                return JoinResult::refuse(QStringLiteral("harness not valid"));
            }
            void handleIn(ChannelContext &, const QString &, const Payload &) override {}
        };
        behaviour = std::make_unique<Refusing>();
    }
    m_engine = std::make_unique<ChannelEngine>(
        config, std::move(behaviour),
        ChannelEngine::Limits{
            config.intOption(options::kMaxChannels) > 0 ? config.intOption(options::kMaxChannels) : 100,
            config.intOption(options::kMaxTopicBytes) > 0 ? config.intOption(options::kMaxTopicBytes) : 255},
        static_cast<EngineHost &>(*this));
    if (store) {
        m_engine->setStore(std::move(store));
    }
    if (QString what; m_error.isEmpty() && !m_engine->start(&what)) {
        m_error = QStringLiteral("instanceStarted threw: %1").arg(what);
    }
}

BehaviourHarness::~BehaviourHarness()
{
    m_engine->stop();
    qDeleteAll(m_clients);
}

BehaviourHarness::Client *BehaviourHarness::find(quint64 clientId) const
{
    return m_clients.value(clientId);
}

quint64 BehaviourHarness::connect(const QJsonObject &params, const QString &authToken)
{
    auto client = std::make_unique<Client>();
    client->id = m_nextClientId++;
    client->info.clientId = client->id;
    client->info.params = params;
    client->info.params.insert(QStringLiteral("vsn"), QStringLiteral("2.0.0"));
    client->info.authToken = authToken;
    client->info.remoteAddress = QStringLiteral("127.0.0.1");
    client->info.format = WireFormat::V2Json;
    if (m_engine->authRequired()) { // as the instance does: the authToken subprotocol, then ?token=
        const QString token = authToken.isEmpty() ? params.value(QStringLiteral("token")).toString() : authToken;
        if (QString why; !m_engine->authenticate(client->info, token, &why)) {
            m_refusal = why;
            return 0;
        }
    }
    bool crashed = false;
    const std::optional<QString> refusal = m_engine->connect(client->info, &crashed);
    if (crashed || refusal) {
        m_refusal = crashed ? QStringLiteral("connect handler crashed") : *refusal;
        return 0;
    }
    m_refusal.clear();
    m_engine->addClient(client.get());
    const quint64 id = client->id;
    m_clients.insert(id, client.release());
    return id;
}

BehaviourHarness::Reply BehaviourHarness::send(Client &client, const QString &topic, const QString &event,
                                               const Payload &payload)
{
    Message message;
    const QString ref = QString::number(m_nextRef++);
    message.ref = ref;
    message.topic = topic;
    message.event = event;
    message.payload = payload;
    if (event == events::kJoin) {
        message.joinRef = ref;
    } else if (Channel *channel = client.channels.find(topic)) {
        message.joinRef = channel->joinRef;
    }
    m_replies.insert(ref, std::nullopt);
    if (!client.closed) {
        m_engine->handleMessage(client, message);
    }
    const std::optional<Reply> reply = m_replies.take(ref);
    reapClosed();
    return reply.value_or(Reply{});
}

void BehaviourHarness::reapClosed()
{
    for (const quint64 id : std::exchange(m_closing, {})) {
        if (Client *client = find(id)) {
            m_engine->removeClient(client);
        }
    }
}

BehaviourHarness::Reply BehaviourHarness::join(quint64 clientId, const QString &topic, const QJsonObject &params)
{
    Client *client = find(clientId);
    return client ? send(*client, topic, events::kJoin, Payload::fromJson(params)) : Reply{};
}

BehaviourHarness::Reply BehaviourHarness::push(quint64 clientId, const QString &topic, const QString &event,
                                               const QJsonValue &payload)
{
    Client *client = find(clientId);
    return client ? send(*client, topic, event, Payload::fromJson(payload)) : Reply{};
}

BehaviourHarness::Reply BehaviourHarness::pushBinary(quint64 clientId, const QString &topic, const QString &event,
                                                     const QByteArray &bytes)
{
    Client *client = find(clientId);
    return client ? send(*client, topic, event, Payload::fromBinary(bytes)) : Reply{};
}

BehaviourHarness::Reply BehaviourHarness::pushPayload(quint64 clientId, const QString &topic, const QString &event,
                                                      const Payload &payload)
{
    Client *client = find(clientId);
    return client ? send(*client, topic, event, payload) : Reply{};
}

HttpAnswer BehaviourHarness::http(const HttpCall &call)
{
    bool crashed = false;
    const HttpAnswer answer = m_engine->handleHttp(call, &crashed);
    reapClosed();
    return answer;
}

BehaviourHarness::Reply BehaviourHarness::leave(quint64 clientId, const QString &topic)
{
    Client *client = find(clientId);
    return client ? send(*client, topic, events::kLeave, Payload::fromJson(QJsonObject{})) : Reply{};
}

void BehaviourHarness::disconnect(quint64 clientId)
{
    Client *client = m_clients.take(clientId);
    if (client) {
        m_engine->removeClient(client);
        delete client;
    }
}

void BehaviourHarness::advance(int milliseconds)
{
    const qint64 target = m_nowMs + std::max(milliseconds, 0);
    for (;;) {
        const std::optional<qint64> due = m_engine->nextTimerDueMs();
        if (!due || *due > target) {
            break;
        }
        m_nowMs = std::max(m_nowMs, *due);
        m_engine->fireDueTimers();
        reapClosed();
    }
    m_nowMs = target;
}

QList<BehaviourHarness::Frame> BehaviourHarness::received(quint64 clientId) const
{
    const Client *client = find(clientId);
    return client ? client->frames : QList<Frame>{};
}

QList<BehaviourHarness::Frame> BehaviourHarness::takeReceived(quint64 clientId)
{
    Client *client = find(clientId);
    if (!client) {
        return {};
    }
    const QList<Frame> fresh = client->frames.mid(client->taken);
    client->taken = client->frames.size();
    return fresh;
}

std::optional<BehaviourHarness::Frame> BehaviourHarness::lastReceived(quint64 clientId, const QString &topic,
                                                                      const QString &event) const
{
    const Client *client = find(clientId);
    if (!client) {
        return std::nullopt;
    }
    for (auto it = client->frames.crbegin(); it != client->frames.crend(); ++it) {
        if (it->topic == topic && it->event == event) {
            return *it;
        }
    }
    return std::nullopt;
}

bool BehaviourHarness::isClosed(quint64 clientId) const
{
    const Client *client = find(clientId);
    return client && client->closed;
}

QString BehaviourHarness::closeReason(quint64 clientId) const
{
    const Client *client = find(clientId);
    return client ? client->closeReason : QString();
}

void BehaviourHarness::sendReply(EngineClient &engineClient, const Ref &joinRef, const Ref &ref, const QString &topic,
                                 const QString &status, const Payload &response)
{
    auto &client = static_cast<Client &>(engineClient);
    if (client.closed) {
        return;
    }
    client.frames.append(Frame{Frame::Kind::Reply, topic, events::kReply, status, response, joinRef.toJson()});
    const QJsonValue refValue = ref.toJson();
    const QString key = refValue.isString() ? refValue.toString() : QString::number(refValue.toInteger());
    if (const auto pending = m_replies.find(key); pending != m_replies.end() && !pending->has_value()) {
        *pending = Reply{true, status, response};
    }
}

void BehaviourHarness::sendPush(EngineClient &engineClient, const Ref &joinRef, const QString &topic,
                                const QString &event, const Payload &payload)
{
    auto &client = static_cast<Client &>(engineClient);
    if (!client.closed) {
        client.frames.append(Frame{Frame::Kind::Push, topic, event, {}, payload, joinRef.toJson()});
    }
}

void BehaviourHarness::sendControl(EngineClient &engineClient, const Ref &joinRef, const QString &topic,
                                   const QString &event, const QJsonObject &payload)
{
    auto &client = static_cast<Client &>(engineClient);
    if (!client.closed) {
        client.frames.append(
            Frame{Frame::Kind::Control, topic, event, {}, Payload::fromJson(payload), joinRef.toJson()});
    }
}

void BehaviourHarness::sendBroadcast(const QList<EngineClient *> &members, const QString &topic, const QString &event,
                                     const Payload &payload, quint64 excludeClientId)
{
    for (EngineClient *member : members) {
        auto *client = static_cast<Client *>(member);
        if (client->id != excludeClientId && !client->closed) {
            client->frames.append(Frame{Frame::Kind::Broadcast, topic, event, {}, payload});
        }
    }
}

void BehaviourHarness::closeClient(EngineClient &engineClient, quint16, const QString &reason)
{
    auto &client = static_cast<Client &>(engineClient);
    if (!client.closed) {
        client.closed = true;
        client.closeReason = reason;
        m_closing.append(client.id);
    }
}

void BehaviourHarness::callbackCrashed(const QString &what)
{
    ++m_crashes;
    m_warnings.append(QStringLiteral("crash: ") + what);
}

} // namespace wsserve
