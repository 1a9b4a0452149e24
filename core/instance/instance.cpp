// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instance.h"

#include "behaviourregistry.h"
#include "endpoint/httpresponse.h"
#include "logging.h"

#include <QDateTime>
#include <QJsonArray>
#include <QTcpSocket>
#include <QThread>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <exception>

namespace wsserve {

namespace {
constexpr int kSweepIntervalMs = 250;
constexpr int kStatsIntervalMs = 100;
constexpr int kStopGraceMs = 1500;
constexpr qint64 kStaleHandshakeMs = 30000;
constexpr qint64 kCloseHandshakeMs = 5000;
constexpr qsizetype kMaxCloseReasonBytes = 120;

qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

bool isNullRef(const QJsonValue &value)
{
    return value.isNull() || value.isUndefined();
}

QString peerKey(const QString &address, quint16 port)
{
    return address + u'|' + QString::number(port);
}

QJsonObject reasonObject(const QString &reason)
{
    return QJsonObject{{QStringLiteral("reason"), reason}};
}

// Runs a behaviour callback; returns false (and the exception text) when it threw.
template <typename F> bool guarded(F &&callback, QString *what)
{
    try {
        callback();
        return true;
    } catch (const std::exception &error) {
        *what = QString::fromLocal8Bit(error.what());
    } catch (...) {
        *what = QStringLiteral("unknown exception");
    }
    return false;
}

const QString kPresenceDiff = QStringLiteral("presence_diff");
const QString kPhxRef = QStringLiteral("phx_ref");
const QString kPhxRefPrev = QStringLiteral("phx_ref_prev");
const QString kMetas = QStringLiteral("metas");
} // namespace

struct Instance::Channel {
    QJsonValue joinRef;
    QVariantMap assigns;
    QString presenceKey;
    QString presenceRef; // phx_ref of this channel's presence entry; empty when untracked
};

struct Instance::Client {
    quint64 id = 0;
    QWebSocket *socket = nullptr;
    ConnectInfo info;
    QHash<QString, Channel> channels;
    qint64 connectedAtMs = 0;
    qint64 lastActivityMs = 0;
    qintptr descriptor = -1;
    bool closing = false;
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    double rateTokens = 0; // token bucket for max_messages_per_second
    qint64 rateRefillMs = 0;
    qint64 closingSinceMs = 0;
};

struct Instance::PresenceEntry {
    quint64 clientId = 0;
    QJsonObject meta;
};

// The ChannelContext handed to behaviour callbacks: one per callback invocation.
class ChannelContextImpl final : public ChannelContext
{
public:
    enum class Mode { Invalid = 0, Join, Event, Other };

    ChannelContextImpl(Instance &instance, Instance::Client &client, const QString &topic, Instance::Channel &channel,
                       Mode mode, const QJsonValue &ref = QJsonValue::Null)
        : m_instance(instance)
        , m_client(client)
        , m_topic(topic)
        , m_channel(channel)
        , m_mode(mode)
        , m_ref(ref)
    {}

    QString topic() const override { return m_topic; }
    quint64 clientId() const override { return m_client.id; }
    const ConnectInfo &connectInfo() const override { return m_client.info; }
    QVariantMap &assigns() override { return m_channel.assigns; }

    void reply(const QString &status, const Payload &response) override
    {
        if (m_mode != Mode::Event || m_replied) {
            return;
        }
        m_replied = true;
        m_instance.sendReply(m_client, m_channel.joinRef, m_ref, m_topic, status, response);
    }
    void push(const QString &event, const Payload &payload) override
    {
        QString error;
        const Frame frame = codec::encodePush(m_client.info.format, m_channel.joinRef, m_topic, event, payload, &error);
        if (frame.isNull()) {
            qCWarning(lcInstance).noquote() << logTag(m_instance.instanceId()) << "push dropped:" << error;
            return;
        }
        if (m_mode == Mode::Join) {
            m_deferred.append({frame, event}); // sent right after the join reply
        } else {
            m_instance.send(m_client, frame, m_topic, event);
        }
    }
    void broadcast(const QString &event, const Payload &payload) override
    {
        m_instance.broadcastImpl(m_topic, event, payload, 0);
    }
    void broadcastFrom(const QString &event, const Payload &payload) override
    {
        m_instance.broadcastImpl(m_topic, event, payload, m_client.id);
    }
    void stop() override { m_stopRequested = true; }
    void trackPresence(const QString &key, const QJsonObject &meta) override
    {
        m_instance.presenceTrack(m_client, m_channel, m_topic, key, meta);
    }
    void updatePresence(const QJsonObject &meta) override
    {
        m_instance.presenceUpdate(m_client, m_channel, m_topic, meta);
    }
    void untrackPresence() override { m_instance.presenceUntrack(m_client, m_channel, m_topic); }
    InstanceContext &instance() override { return m_instance; }

    bool stopRequested() const { return m_stopRequested; }
    void flushDeferred()
    {
        for (const auto &[frame, event] : std::as_const(m_deferred)) {
            m_instance.send(m_client, frame, m_topic, event);
        }
        m_deferred.clear();
    }

private:
    Instance &m_instance;
    Instance::Client &m_client;
    QString m_topic;
    Instance::Channel &m_channel;
    Mode m_mode = Mode::Invalid;
    QJsonValue m_ref;
    QList<std::pair<Frame, QString>> m_deferred;
    bool m_replied = false;
    bool m_stopRequested = false;
};

Instance::Instance(InstanceConfig config, std::shared_ptr<const BehaviourRegistry> registry,
                   std::shared_ptr<InstanceShared> shared)
    : m_config(std::move(config))
    , m_registry(std::move(registry))
    , m_shared(std::move(shared))
{}

Instance::~Instance()
{
    // Clients are only left here when the thread was abandoned by the watchdog and its loop ended without
    // a stop(): the sockets are parentless, so delete them now (no event loop runs any more for deleteLater).
    for (Client *client : std::as_const(m_clients)) {
        m_shared->removeDescriptor(client->descriptor);
        client->socket->disconnect(this);
        client->socket->abort();
        delete client->socket;
    }
    qDeleteAll(m_clients);
    m_clients.clear();
}

void Instance::start()
{
    m_shared->touch(nowMs());
    const BehaviourType *type = m_registry->find(m_config.type);
    QString error;
    if (!type) {
        emit started(false, QStringLiteral("unknown instance type '%1'").arg(m_config.type));
        return;
    }
    if (!guarded([&] { m_behaviour = type->create(m_config); }, &error) || !m_behaviour) {
        emit started(false, QStringLiteral("could not create the '%1' behaviour: %2").arg(m_config.type, error));
        return;
    }
    m_handshakes =
        new QWebSocketServer(QStringLiteral("wsserve/%1").arg(m_config.id), QWebSocketServer::NonSecureMode, this);
    // The JS client's auth-token subprotocol offer is answered with "phoenix" (phoenix-protocol.md 1.4).
    m_handshakes->setSupportedSubprotocols({QStringLiteral("phoenix")});
    connect(m_handshakes, &QWebSocketServer::newConnection, this, &Instance::onNewConnection);

    m_sweepTimer = new QTimer(this);
    m_sweepTimer->setInterval(kSweepIntervalMs);
    connect(m_sweepTimer, &QTimer::timeout, this, &Instance::sweep);
    m_sweepTimer->start();

    m_statsTimer = new QTimer(this);
    m_statsTimer->setInterval(kStatsIntervalMs);
    connect(m_statsTimer, &QTimer::timeout, this, &Instance::publishStats);
    m_statsTimer->start();

    if (const int tickMs = m_behaviour->tickIntervalMs(); tickMs > 0) {
        m_tickTimer = new QTimer(this);
        m_tickTimer->setInterval(tickMs);
        connect(m_tickTimer, &QTimer::timeout, this, [this] {
            QString what;
            if (!guarded([&] { m_behaviour->tick(*this); }, &what)) {
                noteCrash(QStringLiteral("tick: ") + what);
            }
        });
        m_tickTimer->start();
    }
    qCInfo(lcInstance).noquote() << logTag(m_config.id) << "started, type" << m_config.type;
    emit started(true, QString());
}

void Instance::adoptConnection(QTcpSocket *socket, const UpgradeRequest &request)
{
    socket->setParent(this);
    if (m_stopping || !m_behaviour) {
        respondHttpAndClose(socket, 503, QStringLiteral("instance '%1' is stopping").arg(m_config.id));
        return;
    }
    const qint64 maxClients = m_config.intOption(options::kMaxClients);
    if (m_clients.size() + m_pendingUpgrades.size() >= maxClients) {
        qCWarning(lcInstance).noquote() << logTag(m_config.id) << "refused" << request.remoteAddress << "- max_clients"
                                        << maxClients << "reached";
        respondHttpAndClose(socket, 503,
                            QStringLiteral("instance '%1' is full (max_clients %2)").arg(m_config.id).arg(maxClients));
        return;
    }
    ConnectInfo info;
    info.clientId = m_nextClientId++;
    info.params = request.params;
    info.authToken = request.authToken;
    info.remoteAddress = request.remoteAddress;
    info.format = request.format;
    std::optional<QString> refusal;
    QString what;
    if (!guarded([&] { refusal = m_behaviour->connect(info); }, &what)) {
        noteCrash(QStringLiteral("connect: ") + what);
        respondHttpAndClose(socket, 500, QStringLiteral("connect handler crashed"));
        return;
    }
    if (refusal) {
        respondHttpAndClose(socket, 403, *refusal);
        return;
    }
    const qintptr fd = socket->socketDescriptor();
    const QString key = peerKey(socket->peerAddress().toString(), socket->peerPort());
    m_shared->addDescriptor(fd);
    connect(socket, &QObject::destroyed, this, [this, fd, key] {
        m_shared->removeDescriptor(fd);
        m_pendingUpgrades.remove(key); // handshake failed or timed out
    });
    m_pendingUpgrades.insert(key, PendingUpgrade{request, info, fd, socket, nowMs()});
    socket->setParent(nullptr); // the handshake server takes it over
    m_handshakes->handleConnection(socket);
}

void Instance::onNewConnection()
{
    while (m_handshakes->hasPendingConnections()) {
        QWebSocket *socket = m_handshakes->nextPendingConnection();
        const QString key = peerKey(socket->peerAddress().toString(), socket->peerPort());
        const auto pending = m_pendingUpgrades.constFind(key);
        if (pending == m_pendingUpgrades.cend()) {
            qCWarning(lcInstance).noquote() << logTag(m_config.id) << "handshake from an unknown peer" << key;
            socket->abort();
            socket->deleteLater();
            continue;
        }
        auto *client = new Client;
        client->id = pending->info.clientId;
        client->info = pending->info;
        client->descriptor = pending->descriptor;
        client->socket = socket;
        client->connectedAtMs = nowMs();
        client->lastActivityMs = client->connectedAtMs;
        m_pendingUpgrades.erase(pending);
        socket->setParent(this);
        const auto maxFrame = static_cast<quint64>(m_config.intOption(options::kMaxFrameBytes));
        socket->setMaxAllowedIncomingFrameSize(maxFrame);
        socket->setMaxAllowedIncomingMessageSize(maxFrame);
        m_clients.insert(client->id, client);
        m_clientsDirty = true;
        ++m_stats.connectionsTotal;
        const quint64 id = client->id;
        connect(socket, &QWebSocket::textMessageReceived, this, [this, id](const QString &text) {
            if (Client *c = m_clients.value(id)) {
                onTextMessage(*c, text);
            }
        });
        connect(socket, &QWebSocket::binaryMessageReceived, this, [this, id](const QByteArray &data) {
            if (Client *c = m_clients.value(id)) {
                onBinaryMessage(*c, data);
            }
        });
        connect(socket, &QWebSocket::pong, this, [this, id] {
            if (Client *c = m_clients.value(id)) {
                c->lastActivityMs = nowMs();
            }
        });
        // Queued: a close can emit disconnected() synchronously while a handler still uses the client.
        connect(
            socket, &QWebSocket::disconnected, this, [this, id] { removeClient(id); }, Qt::QueuedConnection);
        qCDebug(lcInstance).noquote() << logTag(m_config.id) << "client" << id << "connected from"
                                      << client->info.remoteAddress << wireFormatName(client->info.format);
    }
}

void Instance::onTextMessage(Client &client, const QString &text)
{
    const QByteArray data = text.toUtf8();
    if (!countIn(client, data.size())) {
        return;
    }
    DecodeResult decoded = codec::decodeText(client.info.format, data);
    if (m_shared->messageFlowEnabled()) {
        tap(false, client.id, 1, Frame{data, false}, decoded.message.topic,
            decoded.ok ? decoded.message.event : QStringLiteral("(malformed)"));
    }
    if (!decoded.ok) {
        protocolError(client, decoded.closeCode, decoded.error);
        return;
    }
    handleMessage(client, decoded.message);
}

void Instance::onBinaryMessage(Client &client, const QByteArray &data)
{
    if (!countIn(client, data.size())) {
        return;
    }
    DecodeResult decoded = codec::decodeBinary(client.info.format, data);
    if (m_shared->messageFlowEnabled()) {
        tap(false, client.id, 1, Frame{data, true}, decoded.message.topic,
            decoded.ok ? decoded.message.event : QStringLiteral("(malformed)"));
    }
    if (!decoded.ok) {
        protocolError(client, decoded.closeCode, decoded.error);
        return;
    }
    handleMessage(client, decoded.message);
}

void Instance::protocolError(Client &client, quint16 code, const QString &error)
{
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "sent a malformed frame ("
                                    << error << "); closing with" << code;
    closeClient(client, code, error);
}

void Instance::handleMessage(Client &client, Message &message)
{
    if (client.closing || m_stopping) {
        return;
    }
    if (message.topic == events::kPhoenixTopic && message.event == events::kHeartbeat) {
        sendReply(client, QJsonValue::Null, message.ref, message.topic, QStringLiteral("ok"),
                  Payload::fromJson(QJsonObject{}));
        return;
    }
    if (message.event == events::kJoin) {
        handleJoin(client, message);
        return;
    }
    if (message.event == events::kLeave) {
        handleLeave(client, message);
        return;
    }
    const auto channel = client.channels.find(message.topic);
    if (channel == client.channels.end()) {
        sendReply(client, QJsonValue::Null, message.ref, message.topic, QStringLiteral("error"),
                  Payload::fromJson(reasonObject(QStringLiteral("unmatched topic"))));
        return;
    }
    if (!isNullRef(message.joinRef) && message.joinRef != channel->joinRef) {
        return; // stale join_ref: the client raced a rejoin; dropped silently (protocol 4.4)
    }
    handleEvent(client, *channel, message);
}

void Instance::handleJoin(Client &client, const Message &message)
{
    const QString &topic = message.topic;
    const bool duplicate = client.channels.contains(topic);
    const qint64 maxChannels = m_config.intOption(options::kMaxChannels);
    if (!duplicate && client.channels.size() >= maxChannels) {
        sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"),
                  Payload::fromJson(reasonObject(QStringLiteral("too many channels joined"))));
        return;
    }
    if (!m_behaviour->matchesTopic(topic)) {
        sendReply(client, QJsonValue::Null, message.ref, topic, QStringLiteral("error"),
                  Payload::fromJson(reasonObject(QStringLiteral("unmatched topic"))));
        return;
    }
    QJsonValue oldJoinRef;
    if (duplicate) {
        // Phoenix kills the old channel, answers the new join, then closes the old join_ref (protocol 4.7).
        oldJoinRef = client.channels.value(topic).joinRef;
        removeChannel(client, topic, LeaveReason::DuplicateJoin);
    }
    const auto sendOldClose = [&] {
        if (duplicate) {
            sendControl(client, oldJoinRef, topic, events::kClose, {});
        }
    };
    Channel channel;
    // A join without join_ref uses its ref as the channel's join reference, but the reply echoes null.
    channel.joinRef = isNullRef(message.joinRef) ? message.ref : message.joinRef;
    ChannelContextImpl context(*this, client, topic, channel, ChannelContextImpl::Mode::Join);
    JoinResult result;
    QString what;
    if (!guarded([&] { result = m_behaviour->join(context, message.payload.json); }, &what)) {
        qCWarning(lcInstance).noquote() << logTag(m_config.id) << "join of" << topic << "crashed:" << what;
        sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"),
                  Payload::fromJson(reasonObject(QStringLiteral("join crashed"))));
        sendOldClose();
        noteCrash(QStringLiteral("join %1: %2").arg(topic, what));
        return;
    }
    if (!result.ok) {
        sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("error"),
                  Payload::fromJson(result.response));
        sendOldClose();
        return;
    }
    client.channels.insert(topic, channel);
    ++m_stats.channels;
    m_clientsDirty = true;
    m_subscribers[topic].insert(client.id);
    ++m_stats.joinsTotal;
    sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("ok"), Payload::fromJson(result.response));
    context.flushDeferred();
    sendOldClose();

    Channel &joined = client.channels[topic];
    ChannelContextImpl after(*this, client, topic, joined, ChannelContextImpl::Mode::Other);
    if (!guarded([&] { m_behaviour->afterJoin(after); }, &what)) {
        crashChannel(client, topic, what);
        return;
    }
    if (after.stopRequested()) {
        const QJsonValue joinRef = joined.joinRef;
        removeChannel(client, topic, LeaveReason::Stopped);
        sendControl(client, joinRef, topic, events::kClose, {});
    }
}

void Instance::handleLeave(Client &client, const Message &message)
{
    const auto channel = client.channels.constFind(message.topic);
    if (channel == client.channels.cend()) {
        // Leaving something unknown is not an error (protocol 4.5).
        sendReply(client, message.joinRef, message.ref, message.topic, QStringLiteral("ok"),
                  Payload::fromJson(QJsonObject{}));
        return;
    }
    if (!isNullRef(message.joinRef) && message.joinRef != channel->joinRef) {
        return; // stale: the client raced a server close
    }
    const QJsonValue joinRef = channel->joinRef;
    sendReply(client, joinRef, message.ref, message.topic, QStringLiteral("ok"), Payload::fromJson(QJsonObject{}));
    removeChannel(client, message.topic, LeaveReason::Left);
    sendControl(client, joinRef, message.topic, events::kClose, {});
}

void Instance::handleEvent(Client &client, Channel &channel, const Message &message)
{
    ChannelContextImpl context(*this, client, message.topic, channel, ChannelContextImpl::Mode::Event, message.ref);
    QString what;
    if (!guarded([&] { m_behaviour->handleIn(context, message.event, message.payload); }, &what)) {
        crashChannel(client, message.topic, what);
        return;
    }
    if (context.stopRequested()) {
        const QJsonValue joinRef = channel.joinRef;
        removeChannel(client, message.topic, LeaveReason::Stopped);
        sendControl(client, joinRef, message.topic, events::kClose, {});
    }
}

void Instance::crashChannel(Client &client, const QString &topic, const QString &what)
{
    const auto channel = client.channels.constFind(topic);
    if (channel == client.channels.cend()) {
        return;
    }
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "channel" << topic << "of client" << client.id
                                    << "crashed:" << what;
    const QJsonValue joinRef = channel->joinRef;
    sendControl(client, joinRef, topic, events::kError, reasonObject(QStringLiteral("channel_crash")));
    removeChannel(client, topic, LeaveReason::Crashed);
    noteCrash(QStringLiteral("channel %1: %2").arg(topic, what));
}

void Instance::removeChannel(Client &client, const QString &topic, LeaveReason reason)
{
    auto it = client.channels.find(topic);
    if (it == client.channels.end()) {
        return;
    }
    if (!m_stopping) {
        ChannelContextImpl context(*this, client, topic, *it, ChannelContextImpl::Mode::Other);
        QString what;
        if (!guarded([&] { m_behaviour->leave(context, reason); }, &what)) {
            qCWarning(lcInstance).noquote() << logTag(m_config.id) << "leave handler of" << topic << "threw:" << what;
        }
        presenceUntrack(client, *it, topic);
    }
    client.channels.erase(it);
    --m_stats.channels;
    m_clientsDirty = true;
    auto subscribers = m_subscribers.find(topic);
    if (subscribers != m_subscribers.end()) {
        subscribers->remove(client.id);
        if (subscribers->isEmpty()) {
            m_subscribers.erase(subscribers);
        }
    }
}

void Instance::removeClient(quint64 clientId)
{
    Client *client = m_clients.value(clientId);
    if (!client) {
        return;
    }
    const QStringList topics = client->channels.keys();
    for (const QString &topic : topics) {
        removeChannel(*client, topic, m_stopping ? LeaveReason::Shutdown : LeaveReason::Disconnected);
    }
    m_clients.remove(clientId);
    m_clientsDirty = true;
    m_shared->removeDescriptor(client->descriptor);
    client->socket->deleteLater();
    qCDebug(lcInstance).noquote() << logTag(m_config.id) << "client" << clientId << "disconnected";
    delete client;
    if (m_stopping && m_clients.isEmpty()) {
        finishStop();
    }
}

void Instance::closeClient(Client &client, quint16 code, const QString &reason)
{
    if (client.closing) {
        return;
    }
    client.closing = true;
    client.closingSinceMs = nowMs();
    QString text = reason;
    while (text.toUtf8().size() > kMaxCloseReasonBytes) {
        text.chop(1);
    }
    client.socket->close(static_cast<QWebSocketProtocol::CloseCode>(code), text);
}

void Instance::sendControl(Client &client, const QJsonValue &joinRef, const QString &topic, const QString &event,
                           const QJsonObject &payload)
{
    send(client, codec::encodeChannelControl(client.info.format, joinRef, topic, event, payload), topic, event);
}

void Instance::send(Client &client, const Frame &frame, const QString &topic, const QString &event)
{
    if (frame.isNull() || client.closing) {
        return;
    }
    if (m_shared->messageFlowEnabled()) {
        tap(true, client.id, 1, frame, topic, event);
    }
    if (frame.binary) {
        client.socket->sendBinaryMessage(frame.data);
    } else {
        client.socket->sendTextMessage(QString::fromUtf8(frame.data));
    }
    countOut(client, frame.data.size());
    checkSendBuffer(client);
}

void Instance::sendReply(Client &client, const QJsonValue &joinRef, const QJsonValue &ref, const QString &topic,
                         const QString &status, const Payload &response)
{
    QString error;
    const Frame frame = codec::encodeReply(client.info.format, joinRef, ref, topic, status, response, &error);
    if (frame.isNull()) {
        qCWarning(lcInstance).noquote() << logTag(m_config.id) << "reply dropped:" << error;
        return;
    }
    send(client, frame, topic, events::kReply);
}

void Instance::broadcast(const QString &topic, const QString &event, const Payload &payload)
{
    broadcastImpl(topic, event, payload, 0);
}

void Instance::broadcastFromOutside(const QString &topic, const QString &event, const QJsonObject &payload)
{
    broadcastImpl(topic, event, Payload::fromJson(payload), 0);
}

void Instance::broadcastImpl(const QString &topic, const QString &event, const Payload &payload, quint64 excludeClient)
{
    const auto subscribers = m_subscribers.constFind(topic);
    if (subscribers == m_subscribers.cend()) {
        return;
    }
    ++m_stats.broadcasts;
    // Encoded once per wire format; every subscriber gets the same bytes (protocol 7.7).
    Frame frames[2];
    QString texts[2];
    bool encoded[2] = {false, false};
    const QSet<quint64> targets = *subscribers; // a send can never re-enter, but stay safe against edits
    int recipients = 0;
    const Frame *tapped = nullptr;
    for (const quint64 id : targets) {
        if (id == excludeClient) {
            continue;
        }
        Client *client = m_clients.value(id);
        if (!client || client->closing) {
            continue;
        }
        const int slot = client->info.format == WireFormat::V1Json ? 0 : 1;
        if (!encoded[slot]) {
            encoded[slot] = true;
            frames[slot] = codec::encodeBroadcast(client->info.format, topic, event, payload);
            if (!frames[slot].binary) {
                texts[slot] = QString::fromUtf8(frames[slot].data);
            }
        }
        const Frame &frame = frames[slot];
        if (frame.isNull()) {
            continue; // binary payload and a V1 client: not expressible
        }
        if (frame.binary) {
            client->socket->sendBinaryMessage(frame.data);
        } else {
            client->socket->sendTextMessage(texts[slot]);
        }
        countOut(*client, frame.data.size());
        checkSendBuffer(*client);
        ++recipients;
        tapped = &frame;
    }
    if (tapped && m_shared->messageFlowEnabled()) {
        tap(true, 0, recipients, *tapped, topic, event);
    }
}

void Instance::tap(bool outgoing, quint64 clientId, int recipients, const Frame &frame, const QString &topic,
                   const QString &event)
{
    if (m_flow.events.size() >= MessageBatch::kMaxEventsPerBatch) {
        ++m_flow.dropped; // sampling: the view says how much it is not showing
        return;
    }
    MessageEvent item;
    item.timeMs = nowMs();
    item.outgoing = outgoing;
    item.binary = frame.binary;
    item.clientId = clientId;
    item.recipients = recipients;
    item.topic = topic;
    item.event = event;
    item.size = frame.data.size();
    item.truncated = frame.data.size() > MessageEvent::kMaxFrameBytes;
    item.frame = item.truncated ? frame.data.left(MessageEvent::kMaxFrameBytes) : frame.data;
    m_flow.events.append(std::move(item));
}

QJsonObject Instance::presenceList(const QString &topic) const
{
    QJsonObject result;
    const auto topicPresence = m_presence.constFind(topic);
    if (topicPresence == m_presence.cend()) {
        return result;
    }
    for (auto it = topicPresence->cbegin(); it != topicPresence->cend(); ++it) {
        QJsonArray metas;
        for (const PresenceEntry &entry : it.value()) {
            metas.append(entry.meta);
        }
        result.insert(it.key(), QJsonObject{{kMetas, metas}});
    }
    return result;
}

QString Instance::nextPresenceRef()
{
    // Opaque and unique per track/update; clients only compare equality (protocol 6.1).
    QByteArray raw;
    const quint64 counter = ++m_presenceCounter;
    const quint64 stamp = static_cast<quint64>(QDateTime::currentMSecsSinceEpoch());
    for (int i = 0; i < 6; ++i) {
        raw.append(static_cast<char>((stamp >> (8 * i)) & 0xff));
    }
    for (int i = 0; i < 6; ++i) {
        raw.append(static_cast<char>((counter >> (8 * i)) & 0xff));
    }
    return QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

void Instance::presenceTrack(Client &client, Channel &channel, const QString &topic, const QString &key,
                             QJsonObject meta)
{
    if (!channel.presenceRef.isEmpty()) {
        presenceUntrack(client, channel, topic);
    }
    meta.insert(kPhxRef, nextPresenceRef());
    m_presence[topic][key].append(PresenceEntry{client.id, meta});
    channel.presenceKey = key;
    channel.presenceRef = meta.value(kPhxRef).toString();
    const QJsonObject joins{{key, QJsonObject{{kMetas, QJsonArray{meta}}}}};
    broadcastImpl(
        topic, kPresenceDiff,
        Payload::fromJson(QJsonObject{{QStringLiteral("joins"), joins}, {QStringLiteral("leaves"), QJsonObject{}}}), 0);
}

void Instance::presenceUpdate(Client &client, Channel &channel, const QString &topic, QJsonObject meta)
{
    if (channel.presenceRef.isEmpty()) {
        return;
    }
    QList<PresenceEntry> &entries = m_presence[topic][channel.presenceKey];
    for (PresenceEntry &entry : entries) {
        if (entry.meta.value(kPhxRef).toString() != channel.presenceRef) {
            continue;
        }
        const QJsonObject old = entry.meta;
        meta.insert(kPhxRef, nextPresenceRef());
        meta.insert(kPhxRefPrev, channel.presenceRef);
        entry.meta = meta;
        channel.presenceRef = meta.value(kPhxRef).toString();
        const QString &key = channel.presenceKey;
        broadcastImpl(topic, kPresenceDiff,
                      Payload::fromJson(QJsonObject{
                          {QStringLiteral("joins"), QJsonObject{{key, QJsonObject{{kMetas, QJsonArray{meta}}}}}},
                          {QStringLiteral("leaves"), QJsonObject{{key, QJsonObject{{kMetas, QJsonArray{old}}}}}}}),
                      0);
        Q_UNUSED(client)
        return;
    }
}

void Instance::presenceUntrack(Client &client, Channel &channel, const QString &topic)
{
    Q_UNUSED(client)
    if (channel.presenceRef.isEmpty()) {
        return;
    }
    auto topicPresence = m_presence.find(topic);
    if (topicPresence == m_presence.end()) {
        channel.presenceRef.clear();
        return;
    }
    auto keyEntries = topicPresence->find(channel.presenceKey);
    QJsonObject removed;
    if (keyEntries != topicPresence->end()) {
        for (qsizetype i = 0; i < keyEntries->size(); ++i) {
            if (keyEntries->at(i).meta.value(kPhxRef).toString() == channel.presenceRef) {
                removed = keyEntries->at(i).meta;
                keyEntries->removeAt(i);
                break;
            }
        }
        if (keyEntries->isEmpty()) {
            topicPresence->erase(keyEntries);
        }
    }
    if (topicPresence->isEmpty()) {
        m_presence.erase(topicPresence);
    }
    const QString key = channel.presenceKey;
    channel.presenceRef.clear();
    channel.presenceKey.clear();
    if (!removed.isEmpty()) {
        broadcastImpl(topic, kPresenceDiff,
                      Payload::fromJson(QJsonObject{
                          {QStringLiteral("joins"), QJsonObject{}},
                          {QStringLiteral("leaves"), QJsonObject{{key, QJsonObject{{kMetas, QJsonArray{removed}}}}}}}),
                      0);
    }
}

void Instance::stop(quint16 closeCode, const QString &reason)
{
    if (m_stopping) {
        return;
    }
    m_stopping = true;
    if (m_sweepTimer) {
        m_sweepTimer->stop();
    }
    if (m_tickTimer) {
        m_tickTimer->stop();
    }
    qCInfo(lcInstance).noquote() << logTag(m_config.id) << "stopping:" << m_clients.size() << "clients, close code"
                                 << closeCode << "(" << reason << ")";
    m_stopTimer = new QTimer(this);
    m_stopTimer->setSingleShot(true);
    connect(m_stopTimer, &QTimer::timeout, this, [this] {
        // Clients that did not answer the close frame in time are dropped; the last one finishes the stop.
        const QList<quint64> ids = m_clients.keys();
        for (const quint64 id : ids) {
            if (Client *client = m_clients.value(id)) {
                client->socket->abort();
            }
            removeClient(id);
        }
    });
    // Handshakes still in flight are dropped; their sockets are not ours to close gracefully yet.
    const auto pending = m_pendingUpgrades;
    for (const PendingUpgrade &upgrade : pending) {
        if (upgrade.socket) {
            upgrade.socket->abort();
            upgrade.socket->deleteLater();
        }
    }
    if (m_clients.isEmpty()) {
        finishStop();
        return;
    }
    for (Client *client : std::as_const(m_clients)) {
        closeClient(*client, closeCode, reason);
        client->socket->flush();
    }
    m_stopTimer->start(kStopGraceMs);
}

void Instance::finishStop()
{
    if (m_stopFinished) {
        return;
    }
    m_stopFinished = true;
    if (m_stopTimer) {
        m_stopTimer->stop();
    }
    publishStats();
    qCInfo(lcInstance).noquote() << logTag(m_config.id) << "stopped";
    emit stopped();
}

void Instance::kick(quint64 clientId, quint16 closeCode, const QString &reason)
{
    if (Client *client = m_clients.value(clientId)) {
        qCInfo(lcInstance).noquote() << logTag(m_config.id) << "kicking client" << clientId << "(" << reason << ")";
        closeClient(*client, closeCode, reason);
    }
}

void Instance::stallThread(int milliseconds)
{
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "chaos: stalling the instance thread for" << milliseconds
                                    << "ms";
    for (const auto &client : std::as_const(m_clients)) {
        client->socket->flush(); // let the reply that asked for the stall reach the client first
    }
    QThread::msleep(static_cast<unsigned long>(milliseconds));
}

void Instance::failInstance(const QString &reason)
{
    if (m_faultReported) {
        return;
    }
    m_faultReported = true;
    for (const auto &client : std::as_const(m_clients)) {
        client->socket->flush();
    }
    emit faulted(reason);
}

void Instance::noteCrash(const QString &what)
{
    ++m_stats.channelCrashes;
    const qint64 now = nowMs();
    const qint64 window = m_config.intOption(options::kChannelCrashWindowMs);
    m_crashTimesMs.append(now);
    while (!m_crashTimesMs.isEmpty() && now - m_crashTimesMs.first() > window) {
        m_crashTimesMs.removeFirst();
    }
    const qint64 limit = m_config.intOption(options::kMaxChannelCrashes);
    if (m_crashTimesMs.size() >= limit) {
        failInstance(QStringLiteral("%1 channel crashes within %2 ms (last: %3)")
                         .arg(m_crashTimesMs.size())
                         .arg(window)
                         .arg(what));
    }
}

void Instance::sweep()
{
    const qint64 now = nowMs();
    m_shared->touch(now);
    // Handshakes the handshake server neither completed nor failed in time (it has its own 10 s limit)
    // must not hold max_clients slots forever.
    for (auto it = m_pendingUpgrades.begin(); it != m_pendingUpgrades.end();) {
        if (now - it->sinceMs > kStaleHandshakeMs) {
            if (it->socket) {
                it->socket->abort();
                it->socket->deleteLater();
            }
            m_shared->removeDescriptor(it->descriptor);
            it = m_pendingUpgrades.erase(it);
        } else {
            ++it;
        }
    }
    const qint64 idleMs = m_config.intOption(options::kIdleTimeoutMs);
    QList<Client *> idle;
    for (Client *client : std::as_const(m_clients)) {
        if (!client->closing && now - client->lastActivityMs > idleMs) {
            idle.append(client);
        } else if (client->closing && now - client->closingSinceMs > kCloseHandshakeMs) {
            client->socket->abort(); // the peer never answered the close frame (or never read it)
        }
    }
    for (Client *client : std::as_const(idle)) {
        qCInfo(lcInstance).noquote() << logTag(m_config.id) << "client" << client->id << "idle for" << idleMs
                                     << "ms; closing";
        closeClient(*client, QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("idle timeout"));
    }
}

bool Instance::countIn(Client &client, qsizetype bytes)
{
    const qint64 now = nowMs();
    client.lastActivityMs = now;
    ++client.messagesIn;
    client.bytesIn += static_cast<quint64>(bytes);
    ++m_stats.messagesIn;
    m_stats.bytesIn += static_cast<quint64>(bytes);
    m_clientsDirty = true;
    if (client.closing) {
        return false;
    }
    // Token bucket: `limit` frames a second, bursts up to twice that (protects the instance thread from
    // one client's flood of joins, heartbeats or pushes).
    const qint64 limit = m_config.intOption(options::kMaxMessagesPerSecond);
    if (limit <= 0) {
        return true;
    }
    const double capacity = 2.0 * static_cast<double>(limit);
    if (client.rateRefillMs == 0) {
        client.rateTokens = capacity;
    } else {
        client.rateTokens = std::min(capacity, client.rateTokens + static_cast<double>(now - client.rateRefillMs) *
                                                                       static_cast<double>(limit) / 1000.0);
    }
    client.rateRefillMs = now;
    if (client.rateTokens < 1.0) {
        qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "sends over" << limit
                                        << "frames/s; closing";
        closeClient(client, QWebSocketProtocol::CloseCodePolicyViolated,
                    QStringLiteral("message rate over %1/s").arg(limit));
        return false;
    }
    client.rateTokens -= 1.0;
    return true;
}

void Instance::checkSendBuffer(Client &client)
{
    const qint64 queued = client.socket->bytesToWrite();
    const qint64 limit = m_config.intOption(options::kMaxSendBufferBytes);
    if (queued <= limit || client.closing) {
        return;
    }
    // A client that does not read would make the instance buffer without bound. The close frame may never
    // be read either: the sweep aborts the socket if the close handshake does not finish.
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "has" << queued
                                    << "bytes unsent (slow reader); closing";
    closeClient(client, QWebSocketProtocol::CloseCodePolicyViolated,
                QStringLiteral("send buffer over %1 bytes (not reading)").arg(limit));
}

void Instance::countOut(Client &client, qsizetype bytes)
{
    ++client.messagesOut;
    client.bytesOut += static_cast<quint64>(bytes);
    ++m_stats.messagesOut;
    m_stats.bytesOut += static_cast<quint64>(bytes);
    m_clientsDirty = true;
}

ClientList Instance::clientSnapshot() const
{
    ClientList list;
    list.reserve(m_clients.size());
    for (const Client *client : std::as_const(m_clients)) {
        ClientInfo info;
        info.id = client->id;
        info.remoteAddress = client->info.remoteAddress;
        info.connectedAtMs = client->connectedAtMs;
        info.format = client->info.format;
        info.topics = client->channels.keys();
        info.topics.sort();
        info.messagesIn = client->messagesIn;
        info.messagesOut = client->messagesOut;
        info.bytesIn = client->bytesIn;
        info.bytesOut = client->bytesOut;
        list.append(info);
    }
    std::sort(list.begin(), list.end(), [](const ClientInfo &a, const ClientInfo &b) { return a.id < b.id; });
    return list;
}

void Instance::publishStats()
{
    if (!m_flow.events.isEmpty() || m_flow.dropped > 0) {
        emit messageFlow(m_flow);
        m_flow = MessageBatch{};
    }
    constexpr int kClientListEveryTicks = 5;
    if (m_clientsDirty && (++m_statsTicks % kClientListEveryTicks == 0 || m_stopping)) {
        m_clientsDirty = false;
        emit clientsChanged(clientSnapshot());
    }
    m_stats.clients = static_cast<int>(m_clients.size()); // channels is kept as they come and go
    if (m_stats == m_publishedStats) {
        return;
    }
    m_publishedStats = m_stats;
    emit statsChanged(m_stats);
}

} // namespace wsserve
