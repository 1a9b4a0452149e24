// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instance.h"

#include "behaviourregistry.h"
#include "clock.h"
#include "http/httpresponse.h"
#include "http/originpolicy.h"
#include "logging.h"
#include "net/poller.h"
#include "net/wsconnection.h"

#include <QDateTime>
#include <QJsonArray>
#include <QThread>
#include <QTimer>

#include <exception>
#include <limits>

namespace wsserve {

namespace {
constexpr int kSweepIntervalMs = 250;
constexpr int kStatsIntervalMs = 100;
constexpr int kStopGraceMs = 1500;
constexpr qint64 kCloseHandshakeMs = 5000;
constexpr qsizetype kScratchBytes = 64 * 1024;

bool isNullRef(const QJsonValue &value)
{
    return value.isNull() || value.isUndefined();
}

// The WebSocket frame that carries an encoded Phoenix message.
QByteArray prepare(const Frame &frame)
{
    return ws::prepareFrame(frame.binary ? ws::Opcode::Binary : ws::Opcode::Text, frame.data);
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
    QString presenceRef;           // phx_ref of this channel's presence entry; empty when untracked
    qsizetype subscriberSlot = -1; // index in m_subscribers[topic]
};

// A client's channels. A client joins a handful (at most max_channels, 100 by default): a short list
// searched linearly costs ~100 bytes where a QHash cost ~5 KB per client.
class Instance::ChannelTable
{
public:
    Channel *find(const QString &topic)
    {
        for (auto &[name, channel] : m_entries) {
            if (name == topic) {
                return &channel;
            }
        }
        return nullptr;
    }
    bool contains(const QString &topic) { return find(topic) != nullptr; }
    qsizetype size() const { return m_entries.size(); }
    void insert(const QString &topic, const Channel &channel)
    {
        if (Channel *existing = find(topic)) {
            *existing = channel;
        } else {
            m_entries.append({topic, channel});
        }
    }
    void remove(const QString &topic)
    {
        m_entries.removeIf([&](const auto &entry) { return entry.first == topic; });
        if (m_entries.isEmpty()) {
            m_entries = {}; // no capacity kept for a client that left everything
        }
    }
    QStringList topics() const
    {
        QStringList list;
        list.reserve(m_entries.size());
        for (const auto &entry : m_entries) {
            list.append(entry.first);
        }
        return list;
    }

private:
    QList<std::pair<QString, Channel>> m_entries;
};

struct Instance::Client {
    Client(qintptr fd, qint64 maxMessageBytes, QByteArray buffered)
        : conn(fd, maxMessageBytes, std::move(buffered))
    {}

    quint64 id = 0;
    net::WsConnection conn;
    ConnectInfo info;
    ChannelTable channels;
    qint64 connectedAtMs = 0;
    qint64 lastActivityMs = 0;
    bool closing = false;   // our close frame is queued (or the peer's was answered)
    bool wantWrite = false; // the kernel buffer was full: waiting to be writable
    bool shutDown = false;  // the close frame went out, and our side of the TCP connection with it
    bool dirty = false;     // in m_dirty
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    double rateTokens = 0; // token bucket for max_messages_per_second
    qint64 rateRefillMs = 0;
    bool rateLimited = false; // went over the rate: closed, and its further input is discarded
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
        if (m_client.closing) {
            return;
        }
        QString error;
        const Frame frame = codec::encodePush(m_client.info.format, m_channel.joinRef, m_topic, event, payload, &error);
        if (frame.isNull()) {
            m_instance.encodingFailed(m_client, QStringLiteral("push '%1'").arg(event), error);
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
    , m_limits{m_config.intOption(options::kMaxClients),           m_config.intOption(options::kMaxFrameBytes),
               m_config.intOption(options::kMaxChannels),          m_config.intOption(options::kIdleTimeoutMs),
               m_config.intOption(options::kMaxMessagesPerSecond), m_config.intOption(options::kMaxSendBufferBytes),
               m_config.intOption(options::kMaxTopicBytes)}
{}

Instance::~Instance()
{
    // Clients are only left here when the thread was abandoned by the watchdog and its loop ended without
    // a stop(); deleting them closes their descriptors.
    for (Client *client : std::as_const(m_clients)) {
        m_shared->removeDescriptor(client->conn.fd());
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
    m_scratch = QByteArray(kScratchBytes, Qt::Uninitialized);
    m_poller = new net::Poller(
        [this](qintptr fd, quint32 events) {
            m_inBatch = true;
            onSocketEvent(fd, events);
        },
        [this] {
            m_inBatch = false;
            flushAll();
            reap();
        },
        this);

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
    qCInfo(lcInstance).noquote() << logTag(m_config.id) << "started, type" << m_config.type << "- sockets polled with"
                                 << m_poller->backend();
    emit started(true, QString());
}

void Instance::adoptConnection(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request)
{
    const qintptr fd = connection->fd;
    if (m_stopping || !m_behaviour) {
        respondHttpAndClose(fd, 503, QStringLiteral("instance '%1' is stopping").arg(m_config.id));
        return;
    }
    const qint64 maxClients = m_limits.maxClients;
    if (m_clients.size() >= maxClients) {
        qCWarning(lcInstance).noquote() << logTag(m_config.id) << "refused" << request.remoteAddress << "- max_clients"
                                        << maxClients << "reached";
        respondHttpAndClose(fd, 503,
                            QStringLiteral("instance '%1' is full (max_clients %2)").arg(m_config.id).arg(maxClients));
        return;
    }
    // Before the behaviour sees it: a page from a foreign site (phoenix-protocol.md 7.3).
    if (QString why; !originAllowed(m_config.stringOption(options::kCheckOrigin), request.origin, request.host, &why)) {
        qCInfo(lcInstance).noquote() << logTag(m_config.id) << "refused" << request.remoteAddress << "-" << why;
        respondHttpAndClose(fd, 403, why);
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
        respondHttpAndClose(fd, 500, QStringLiteral("connect handler crashed"));
        return;
    }
    if (refusal) {
        respondHttpAndClose(fd, 403, *refusal);
        return;
    }
    if (!m_poller->add(fd)) {
        respondHttpAndClose(fd, 503, QStringLiteral("instance '%1' cannot watch more sockets").arg(m_config.id));
        return;
    }
    auto *client = new Client(connection->release(), m_limits.maxFrameBytes, connection->buffered);
    client->id = info.clientId;
    client->info = std::move(info);
    client->connectedAtMs = nowMs();
    client->lastActivityMs = client->connectedAtMs;
    m_shared->addDescriptor(fd);
    m_byDescriptor.insert(fd, client);
    m_clients.insert(client->id, client);
    m_clientOrder.emplace(client->id, client);
    m_clientsDirty = true;
    ++m_stats.connectionsTotal;
    // The handshake answer; the endpoint checked the key and the version. The JS client's auth-token
    // subprotocol offer is answered with "phoenix" (phoenix-protocol.md 1.4).
    QByteArray answer = QByteArrayLiteral("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                          "Connection: Upgrade\r\nSec-WebSocket-Accept: ") +
                        request.acceptKey + "\r\n";
    if (request.phoenixSubprotocol) {
        answer += "Sec-WebSocket-Protocol: phoenix\r\n";
    }
    answer += "\r\n";
    queueFrame(*client, answer);
    qCDebug(lcInstance).noquote() << logTag(m_config.id) << "client" << client->id << "connected from"
                                  << client->info.remoteAddress << wireFormatName(client->info.format);
    // Frames the client sent right behind its request head.
    client->conn.deliverBuffered([this, client](ws::FrameParser::Event &event) { return onFrame(*client, event); });
}

void Instance::onSocketEvent(qintptr fd, quint32 events)
{
    Client *client = m_byDescriptor.value(fd);
    if (!client) {
        return; // removed earlier in this batch
    }
    if (events & net::Poller::Writable) {
        flushClient(*client);
        client = m_byDescriptor.value(fd);
        if (!client) {
            return;
        }
    }
    if (events & net::Poller::Readable) {
        const auto status =
            client->conn.pump(m_scratch.data(), m_scratch.size(),
                              [this, client](ws::FrameParser::Event &event) { return onFrame(*client, event); });
        if (status == net::WsConnection::ReadStatus::PeerGone) {
            removeClient(client->id);
            return;
        }
        // Its replies go out now, ahead of the fan-out the rest of the batch queued: a publisher waiting
        // for its acks sends the next messages while the others are written (bigger batches, fewer sends).
        if (client->dirty) {
            flushClient(*client);
        }
    }
}

bool Instance::onFrame(Client &client, ws::FrameParser::Event &event)
{
    using Kind = ws::FrameParser::Event::Kind;
    if (event.kind == Kind::NeedMore) {
        return true;
    }
    if (event.kind == Kind::Error) {
        protocolError(client, event.code, event.error);
        return false;
    }
    // Every frame counts toward the rate limit: pings, pongs, fragments and close frames cost the thread
    // as much as messages do. Past the limit the client is closed and the rest of its input discarded.
    if (!admitFrame(client)) {
        return false;
    }
    switch (event.kind) {
    case Kind::Text:
    case Kind::Binary:
        if (!client.closing) {
            onMessage(client, event.payload, event.kind == Kind::Binary);
        }
        return true;
    case Kind::Ping:
        if (!client.closing) {
            // A pong is output like any other: it counts toward the send buffer, so a client that pings
            // and never reads is closed as a slow reader.
            queueFrame(client, ws::prepareFrame(ws::Opcode::Pong, event.payload));
            checkSendBuffer(client);
        }
        return true;
    case Kind::Close:
        // The peer's close: answered with its code (RFC 6455 5.5.1); its side is done sending.
        if (!client.closing) {
            client.closing = true;
            client.closingSinceMs = nowMs();
            const quint16 code = event.code == ws::closecode::kNoStatus ? ws::closecode::kNormal : event.code;
            queueFrame(client, ws::prepareClose(code, QString()));
        }
        return false;
    case Kind::Pong:
    case Kind::Fragment:
    case Kind::NeedMore:
    case Kind::Error:
        break;
    }
    return true;
}

void Instance::onMessage(Client &client, const QByteArray &data, bool binary)
{
    countIn(client, data.size());
    DecodeResult decoded =
        binary ? codec::decodeBinary(client.info.format, data) : codec::decodeText(client.info.format, data);
    if (m_shared->messageFlowEnabled()) {
        tap(false, client.id, 1, Frame{data, binary}, decoded.message.topic,
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

void Instance::encodingFailed(Client &client, const QString &what, const QString &error)
{
    if (client.closing) {
        return;
    }
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "-" << what
                                    << "cannot be encoded in its wire format (" << error << "); closing with 1011";
    closeClient(client, ws::closecode::kInternalError, QStringLiteral("cannot encode a %1: %2").arg(what, error));
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
    if (const qint64 limit = m_limits.maxTopicBytes;
        message.topic.size() > limit / 3 || message.event.size() > limit / 3) { // a QChar is 1-3 UTF-8 bytes
        const bool longTopic = message.topic.toUtf8().size() > limit;
        if (longTopic || message.event.toUtf8().size() > limit) {
            // Refused, nothing kept (the reply echoes the topic once: clients match replies by topic and ref).
            sendReply(client, message.joinRef, message.ref, message.topic, QStringLiteral("error"),
                      Payload::fromJson(
                          reasonObject(QStringLiteral("%1 over %2 bytes (max_topic_bytes)")
                                           .arg(longTopic ? QStringLiteral("topic") : QStringLiteral("event name"))
                                           .arg(limit))));
            return;
        }
    }
    if (message.event == events::kJoin) {
        handleJoin(client, message);
        return;
    }
    if (message.event == events::kLeave) {
        handleLeave(client, message);
        return;
    }
    Channel *channel = client.channels.find(message.topic);
    if (!channel) {
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
    const qint64 maxChannels = m_limits.maxChannels;
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
        oldJoinRef = client.channels.find(topic)->joinRef;
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
    QList<Client *> &subscribers = m_subscribers[topic];
    channel.subscriberSlot = subscribers.size();
    subscribers.append(&client);
    client.channels.insert(topic, channel);
    ++m_stats.channels;
    m_clientsDirty = true;
    ++m_stats.joinsTotal;
    sendReply(client, message.joinRef, message.ref, topic, QStringLiteral("ok"), Payload::fromJson(result.response));
    context.flushDeferred();
    sendOldClose();

    Channel &joined = *client.channels.find(topic);
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
    const Channel *channel = client.channels.find(message.topic);
    if (!channel) {
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
    const Channel *channel = client.channels.find(topic);
    if (!channel) {
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
    Channel *it = client.channels.find(topic);
    if (!it) {
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
    const qsizetype slot = it->subscriberSlot;
    client.channels.remove(topic);
    --m_stats.channels;
    m_clientsDirty = true;
    auto subscribers = m_subscribers.find(topic);
    if (subscribers != m_subscribers.end() && slot >= 0 && slot < subscribers->size()) {
        // Swap-remove: the last subscriber takes the slot (its channel records where it now is).
        Client *last = subscribers->last();
        (*subscribers)[slot] = last;
        if (last != &client) {
            last->channels.find(topic)->subscriberSlot = slot;
        }
        subscribers->removeLast();
        if (subscribers->isEmpty()) {
            m_subscribers.erase(subscribers);
            if (!m_stopping) {
                QString what;
                if (!guarded([&] { m_behaviour->topicEmpty(*this, topic); }, &what)) {
                    qCWarning(lcInstance).noquote()
                        << logTag(m_config.id) << "topicEmpty handler of" << topic << "threw:" << what;
                }
            }
        }
    }
}

void Instance::removeClient(quint64 clientId)
{
    Client *client = m_clients.value(clientId);
    if (!client) {
        return;
    }
    const QStringList topics = client->channels.topics();
    for (const QString &topic : topics) {
        removeChannel(*client, topic, m_stopping ? LeaveReason::Shutdown : LeaveReason::Disconnected);
    }
    m_clients.remove(clientId);
    m_clientOrder.erase(clientId);
    m_byDescriptor.remove(client->conn.fd());
    m_clientsDirty = true;
    m_poller->remove(client->conn.fd());
    m_shared->removeDescriptor(client->conn.fd());
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
    queueFrame(client, ws::prepareClose(code, reason));
}

void Instance::queueFrame(Client &client, const QByteArray &prepared)
{
    client.conn.queue(prepared);
    markDirty(client);
}

void Instance::markDirty(Client &client)
{
    if (!client.dirty) {
        client.dirty = true;
        m_dirty.append(client.id);
    }
    scheduleFlush();
}

void Instance::scheduleFlush()
{
    if (m_inBatch || m_flushQueued) {
        return; // the end of the batch flushes
    }
    m_flushQueued = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_flushQueued = false;
            flushAll();
            reap();
        },
        Qt::QueuedConnection);
}

void Instance::flushAll()
{
    // Index loop: a client dropped here may make the behaviour send to others, which appends.
    for (qsizetype i = 0; i < m_dirty.size(); ++i) {
        if (Client *client = m_clients.value(m_dirty.at(i))) {
            client->dirty = false;
            flushClient(*client);
        }
    }
    m_dirty.clear();
}

void Instance::reap()
{
    const QList<quint64> gone = std::exchange(m_gone, {});
    for (const quint64 id : gone) {
        removeClient(id);
    }
}

void Instance::flushClient(Client &client)
{
    switch (client.conn.flush()) {
    case net::WsConnection::FlushStatus::Failed:
        // Not removed here: a behaviour callback (stallThread, failInstance) may be flushing while its
        // own client is on the stack.
        m_gone.append(client.id);
        return;
    case net::WsConnection::FlushStatus::Pending:
        if (!client.wantWrite) {
            client.wantWrite = true;
            m_poller->setWantWrite(client.conn.fd(), true);
        }
        return;
    case net::WsConnection::FlushStatus::Drained:
        break;
    }
    if (client.wantWrite) {
        client.wantWrite = false;
        m_poller->setWantWrite(client.conn.fd(), false);
    }
    if (client.closing && !client.shutDown) {
        // The close frame is out: end our direction too. The peer answers (or just closes) and the
        // read side sees the end; the sweep drops peers that never do.
        client.shutDown = true;
        net::shutdownWrite(client.conn.fd());
    }
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
    queueFrame(client, prepare(frame));
    countOut(client, frame.data.size());
    checkSendBuffer(client);
}

void Instance::sendReply(Client &client, const QJsonValue &joinRef, const QJsonValue &ref, const QString &topic,
                         const QString &status, const Payload &response)
{
    if (client.closing) {
        return;
    }
    QString error;
    const Frame frame = codec::encodeReply(client.info.format, joinRef, ref, topic, status, response, &error);
    if (frame.isNull()) {
        encodingFailed(client, QStringLiteral("reply"), error);
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
    // Encoded and framed once per wire format; every subscriber's queue holds the same buffer (protocol 7.7).
    Frame frames[2];
    QByteArray prepared[2];
    bool encoded[2] = {false, false};
    const QList<Client *> targets = *subscribers; // shared, not copied: sends never change subscriptions
    int recipients = 0;
    const Frame *tapped = nullptr;
    for (Client *client : targets) {
        if (client->closing || client->id == excludeClient) {
            continue;
        }
        const int slot = client->info.format == WireFormat::V1Json ? 0 : 1;
        if (!encoded[slot]) {
            encoded[slot] = true;
            frames[slot] = codec::encodeBroadcast(client->info.format, topic, event, payload);
            if (!frames[slot].isNull()) {
                prepared[slot] = prepare(frames[slot]);
            }
        }
        const Frame &frame = frames[slot];
        if (frame.isNull()) {
            continue; // binary payload and a V1 client: not expressible
        }
        queueFrame(*client, prepared[slot]);
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
            removeClient(id);
        }
    });
    if (m_clients.isEmpty()) {
        finishStop();
        return;
    }
    for (Client *client : std::as_const(m_clients)) {
        closeClient(*client, closeCode, reason);
    }
    m_stopTimer->start(kStopGraceMs);
    flushAll();
    reap();
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
    flushAll(); // let the reply that asked for the stall reach the client first
    QThread::msleep(static_cast<unsigned long>(milliseconds));
}

void Instance::failInstance(const QString &reason)
{
    if (m_faultReported) {
        return;
    }
    m_faultReported = true;
    flushAll();
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
    const qint64 idleMs = m_limits.idleTimeoutMs;
    QList<Client *> idle;
    QList<quint64> unanswered;
    for (Client *client : std::as_const(m_clients)) {
        if (!client->closing && now - client->lastActivityMs > idleMs) {
            idle.append(client);
        } else if (client->closing && now - client->closingSinceMs > kCloseHandshakeMs) {
            unanswered.append(client->id); // the peer never answered the close frame (or never read it)
        }
    }
    for (const quint64 id : std::as_const(unanswered)) {
        removeClient(id);
    }
    for (Client *client : std::as_const(idle)) {
        qCInfo(lcInstance).noquote() << logTag(m_config.id) << "client" << client->id << "idle for" << idleMs
                                     << "ms; closing";
        closeClient(*client, ws::closecode::kGoingAway, QStringLiteral("idle timeout"));
    }
}

void Instance::countIn(Client &client, qsizetype bytes)
{
    ++client.messagesIn;
    client.bytesIn += static_cast<quint64>(bytes);
    ++m_stats.messagesIn;
    m_stats.bytesIn += static_cast<quint64>(bytes);
    m_clientsDirty = true;
}

bool Instance::admitFrame(Client &client)
{
    const qint64 now = nowMs();
    client.lastActivityMs = now;
    if (client.rateLimited) {
        return false;
    }
    // Token bucket: `limit` frames a second, bursts up to twice that (protects the instance thread from
    // one client's flood of joins, heartbeats, pings or pushes).
    const qint64 limit = m_limits.maxMessagesPerSecond;
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
        client.rateLimited = true;
        if (!client.closing) {
            qCWarning(lcInstance).noquote()
                << logTag(m_config.id) << "client" << client.id << "sends over" << limit << "frames/s; closing";
            closeClient(client, ws::closecode::kPolicyViolation, QStringLiteral("message rate over %1/s").arg(limit));
        }
        return false;
    }
    client.rateTokens -= 1.0;
    return true;
}

void Instance::checkSendBuffer(Client &client)
{
    const qint64 queued = client.conn.queuedBytes();
    const qint64 limit = m_limits.maxSendBufferBytes;
    if (queued <= limit || client.closing) {
        return;
    }
    // A client that does not read would make the instance buffer without bound. The close frame may never
    // be read either: the sweep aborts the socket if the close handshake does not finish.
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "has" << queued
                                    << "bytes unsent (slow reader); closing";
    closeClient(client, ws::closecode::kPolicyViolation,
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

void Instance::advanceClientSnapshot()
{
    // The list is built in chunks, one per stats tick, in client-id order: with 20 000 clients a single
    // pass took ~14 ms of the instance thread every 500 ms, and that stall was the heartbeat p99.
    constexpr int kClientListEveryTicks = 5;
    constexpr int kClientsPerTick = 2000;
    if (!m_snapshotting) {
        if (!m_clientsDirty || (++m_statsTicks % kClientListEveryTicks != 0 && !m_stopping)) {
            return;
        }
        m_clientsDirty = false;
        m_snapshotting = true;
        m_snapshotCursor = 0;
        m_snapshot = ClientList();
        m_snapshot.reserve(m_clients.size());
    }
    int budget = m_stopping ? std::numeric_limits<int>::max() : kClientsPerTick;
    auto it = m_clientOrder.lower_bound(m_snapshotCursor);
    for (; it != m_clientOrder.end() && budget > 0; ++it, --budget) {
        const Client *client = it->second;
        ClientInfo info;
        info.id = client->id;
        info.remoteAddress = client->info.remoteAddress;
        info.connectedAtMs = client->connectedAtMs;
        info.format = client->info.format;
        info.topics = client->channels.topics();
        info.topics.sort();
        info.messagesIn = client->messagesIn;
        info.messagesOut = client->messagesOut;
        info.bytesIn = client->bytesIn;
        info.bytesOut = client->bytesOut;
        m_snapshot.append(std::move(info));
        m_snapshotCursor = client->id + 1;
    }
    if (it == m_clientOrder.end()) {
        m_snapshotting = false;
        emit clientsChanged(std::exchange(m_snapshot, ClientList()));
    }
}

void Instance::publishStats()
{
    if (!m_flow.events.isEmpty() || m_flow.dropped > 0) {
        emit messageFlow(m_flow);
        m_flow = MessageBatch{};
    }
    advanceClientSnapshot();
    m_stats.clients = static_cast<int>(m_clients.size()); // channels is kept as they come and go
    if (m_stats == m_publishedStats) {
        return;
    }
    m_publishedStats = m_stats;
    emit statsChanged(m_stats);
}

} // namespace wsserve
