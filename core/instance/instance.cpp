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

#include <algorithm>
#include <exception>
#include <limits>

namespace wsserve {

namespace {
constexpr int kSweepIntervalMs = 250;
constexpr int kStatsIntervalMs = 100;
constexpr int kStopGraceMs = 1500;
constexpr qint64 kCloseHandshakeMs = 5000;
constexpr qsizetype kScratchBytes = 64 * 1024;

// Wall-clock time (clock.h) for what people see and the watchdog; Instance::nowMs() is the monotonic
// clock of timers, rate limits and timeouts.
qint64 wallMs()
{
    return wsserve::nowMs();
}

// The WebSocket frame that carries an encoded Phoenix message.
QByteArray prepare(const Frame &frame)
{
    return ws::prepareFrame(frame.binary ? ws::Opcode::Binary : ws::Opcode::Text, frame.data);
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

} // namespace

struct Instance::Client : EngineClient {
    Client(qintptr fd, qint64 maxMessageBytes, QByteArray buffered)
        : conn(fd, maxMessageBytes, std::move(buffered))
    {}

    net::WsConnection conn;
    qint64 connectedAtMs = 0;
    qint64 lastActivityMs = 0;
    bool closing = false;     // our close frame is queued (or the peer's was answered)
    bool wantWrite = false;   // the kernel buffer was full: waiting to be writable
    bool shutDown = false;    // the close frame went out, and our side of the TCP connection with it
    bool dirty = false;       // in m_dirty
    bool rateLimited = false; // went over the rate: closed, and its further input is discarded
    bool readStopped = false; // closed for abuse: not read any more (its kernel buffers fill up)
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    double rateTokens = 0; // token bucket for max_messages_per_second
    qint64 rateRefillMs = 0;
    qint64 closingSinceMs = 0;
};

Instance::Instance(InstanceConfig config, std::shared_ptr<const BehaviourRegistry> registry,
                   std::shared_ptr<InstanceShared> shared)
    : m_config(std::move(config))
    , m_registry(std::move(registry))
    , m_shared(std::move(shared))
    , m_limits{m_config.intOption(options::kMaxClients), m_config.intOption(options::kMaxFrameBytes),
               m_config.intOption(options::kIdleTimeoutMs), m_config.intOption(options::kMaxMessagesPerSecond),
               m_config.intOption(options::kMaxSendBufferBytes)}
{
    m_clock.start();
}

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
    m_shared->touch(wallMs());
    const BehaviourType *type = m_registry->find(m_config.type);
    QString error;
    if (!type) {
        emit started(false, QStringLiteral("unknown instance type '%1'").arg(m_config.type));
        return;
    }
    std::unique_ptr<IBehaviour> behaviour;
    if (!guarded([&] { behaviour = type->create(m_config); }, &error) || !behaviour) {
        emit started(false, QStringLiteral("could not create the '%1' behaviour: %2").arg(m_config.type, error));
        return;
    }
    m_engine = std::make_unique<ChannelEngine>(
        m_config, std::move(behaviour),
        ChannelEngine::Limits{m_config.intOption(options::kMaxChannels), m_config.intOption(options::kMaxTopicBytes)},
        static_cast<EngineHost &>(*this));
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

    m_timerWake = new QTimer(this);
    m_timerWake->setSingleShot(true);
    connect(m_timerWake, &QTimer::timeout, this, [this] {
        m_engine->fireDueTimers();
        flushAll(); // what the timers sent
        reap();
    });
    if (QString what; !m_engine->start(&what)) {
        emit started(false, QStringLiteral("the '%1' type failed to start: %2").arg(m_config.type, what));
        return;
    }
    qCInfo(lcInstance).noquote() << logTag(m_config.id) << "started, type" << m_config.type << "- sockets polled with"
                                 << m_poller->backend();
    emit started(true, QString());
}

void Instance::adoptConnection(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request)
{
    const qintptr fd = connection->fd;
    if (m_stopping || !m_engine) {
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
    bool crashed = false;
    const std::optional<QString> refusal = m_engine->connect(info, &crashed);
    if (crashed) {
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
    client->connectedAtMs = wallMs();
    client->lastActivityMs = nowMs();
    m_shared->addDescriptor(fd);
    m_byDescriptor.insert(fd, client);
    m_clients.insert(client->id, client);
    m_clientOrder.emplace(client->id, client);
    m_engine->addClient(client);
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
    if (!client.closing && !m_stopping) {
        m_engine->handleMessage(client, decoded.message);
    }
}

void Instance::protocolError(Client &client, quint16 code, const QString &error)
{
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "sent a malformed frame ("
                                    << error << "); closing with" << code;
    closeClientImpl(client, code, error);
}

void Instance::encodingFailed(Client &client, const QString &what, const QString &error)
{
    if (client.closing) {
        return;
    }
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "-" << what
                                    << "cannot be encoded in its wire format (" << error << "); closing with 1011";
    closeClientImpl(client, ws::closecode::kInternalError, QStringLiteral("cannot encode a %1: %2").arg(what, error));
}

void Instance::removeClient(quint64 clientId)
{
    Client *client = m_clients.value(clientId);
    if (!client) {
        return;
    }
    m_engine->removeClient(client);
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

void Instance::closeClientImpl(Client &client, quint16 code, const QString &reason)
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
            m_poller->setInterest(client.conn.fd(), !client.readStopped, true);
        }
        return;
    case net::WsConnection::FlushStatus::Drained:
        break;
    }
    if (client.wantWrite) {
        client.wantWrite = false;
        m_poller->setInterest(client.conn.fd(), !client.readStopped, false);
    }
    if (client.closing && !client.shutDown) {
        // The close frame is out: end our direction too. The peer answers (or just closes) and the
        // read side sees the end; the sweep drops peers that never do.
        client.shutDown = true;
        net::shutdownWrite(client.conn.fd());
    }
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

void Instance::sendReply(EngineClient &engineClient, const QJsonValue &joinRef, const QJsonValue &ref,
                         const QString &topic, const QString &status, const Payload &response)
{
    auto &client = static_cast<Client &>(engineClient);
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

void Instance::sendPush(EngineClient &engineClient, const QJsonValue &joinRef, const QString &topic,
                        const QString &event, const Payload &payload)
{
    auto &client = static_cast<Client &>(engineClient);
    if (client.closing) {
        return;
    }
    QString error;
    const Frame frame = codec::encodePush(client.info.format, joinRef, topic, event, payload, &error);
    if (frame.isNull()) {
        encodingFailed(client, QStringLiteral("push '%1'").arg(event), error);
        return;
    }
    send(client, frame, topic, event);
}

void Instance::sendControl(EngineClient &engineClient, const QJsonValue &joinRef, const QString &topic,
                           const QString &event, const QJsonObject &payload)
{
    auto &client = static_cast<Client &>(engineClient);
    send(client, codec::encodeChannelControl(client.info.format, joinRef, topic, event, payload), topic, event);
}

void Instance::broadcastFromOutside(const QString &topic, const QString &event, const QJsonObject &payload)
{
    if (m_engine && !m_stopping) {
        m_engine->broadcastFromOutside(topic, event, Payload::fromJson(payload));
    }
}

void Instance::sendBroadcast(const QList<EngineClient *> &members, const QString &topic, const QString &event,
                             const Payload &payload, quint64 excludeClientId)
{
    ++m_stats.broadcasts;
    // Encoded and framed once per wire format; every member's queue holds the same buffer (protocol 7.7).
    Frame frames[2];
    QByteArray prepared[2];
    bool encoded[2] = {false, false};
    int recipients = 0;
    const Frame *tapped = nullptr;
    for (EngineClient *member : members) { // sends never change memberships
        auto *client = static_cast<Client *>(member);
        if (client->closing || client->id == excludeClientId) {
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

void Instance::closeClient(EngineClient &client, quint16 code, const QString &reason)
{
    qCInfo(lcInstance).noquote() << logTag(m_config.id) << "the type closes client" << client.id << "(" << reason
                                 << ")";
    closeClientImpl(static_cast<Client &>(client), code, reason);
}

void Instance::timersChanged()
{
    const std::optional<qint64> due = m_engine ? m_engine->nextTimerDueMs() : std::nullopt;
    if (!due) {
        m_timerWake->stop();
        return;
    }
    m_timerWake->start(static_cast<int>(std::clamp<qint64>(*due - nowMs(), 0, std::numeric_limits<int>::max())));
}

qint64 Instance::nowMs() const
{
    return m_clock.elapsed();
}

void Instance::warn(const QString &message)
{
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << m_config.type + u':' << message;
}

void Instance::tap(bool outgoing, quint64 clientId, int recipients, const Frame &frame, const QString &topic,
                   const QString &event)
{
    if (m_flow.events.size() >= MessageBatch::kMaxEventsPerBatch) {
        ++m_flow.dropped; // sampling: the view says how much it is not showing
        return;
    }
    MessageEvent item;
    item.timeMs = wallMs();
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

void Instance::stop(quint16 closeCode, const QString &reason)
{
    if (m_stopping) {
        return;
    }
    m_stopping = true;
    if (m_sweepTimer) {
        m_sweepTimer->stop();
    }
    if (m_engine) {
        m_engine->stop(); // no callbacks, no timers from now on
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
        closeClientImpl(*client, closeCode, reason);
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
        closeClientImpl(*client, closeCode, printableText(reason));
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

void Instance::callbackCrashed(const QString &what)
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
    m_shared->touch(wallMs());
    const qint64 now = nowMs();
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
        closeClientImpl(*client, ws::closecode::kGoingAway, QStringLiteral("idle timeout"));
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
            closeClientImpl(client, ws::closecode::kPolicyViolation,
                            QStringLiteral("message rate over %1/s").arg(limit));
        }
        stopReading(client);
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
    closeClientImpl(client, ws::closecode::kPolicyViolation,
                    QStringLiteral("send buffer over %1 bytes (not reading)").arg(limit));
    stopReading(client);
}

void Instance::stopReading(Client &client)
{
    // Whatever it sends from now on costs this thread nothing: its frames are not read, the kernel
    // buffers fill and its writes block. It is dropped when its close handshake times out (or it hangs up).
    if (!client.readStopped) {
        client.readStopped = true;
        m_poller->setInterest(client.conn.fd(), false, client.wantWrite);
    }
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
    if (m_engine) {
        m_clientsDirty = m_engine->takeChannelsChanged() || m_clientsDirty;
        m_stats.channels = static_cast<int>(m_engine->channelCount());
        m_stats.joinsTotal = m_engine->joinsTotal();
    }
    advanceClientSnapshot();
    m_stats.clients = static_cast<int>(m_clients.size());
    if (m_stats == m_publishedStats) {
        return;
    }
    m_publishedStats = m_stats;
    emit statsChanged(m_stats);
}

} // namespace wsserve
