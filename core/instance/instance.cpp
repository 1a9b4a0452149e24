// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instance.h"

#include "addressblocks.h"

#include "behaviourregistry.h"
#include "clock.h"
#include "guarded.h"
#include "http/httpresponse.h"
#include "http/originpolicy.h"
#include "logging.h"
#include "net/poller.h"
#include "net/wsconnection.h"

#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <limits>

namespace wsserve {

namespace {
constexpr int kSweepIntervalMs = 250;
constexpr int kStatsIntervalMs = 100;
constexpr int kStopGraceMs = 1500;
constexpr qsizetype kScratchBytes = 64 * 1024;

// Client ids are unique for the process lifetime, across instances and restarts: one id never names two
// people in the message history or the connection log.
std::atomic<quint64> g_nextClientId{1};
constexpr quint16 kAbnormalClose = 1006; // never sent: what the log says when the peer just went away

// Wall-clock time (clock.h) for what people see and the watchdog; Instance::nowMs() is the monotonic
// clock of timers, rate limits and timeouts.
qint64 wallMs()
{
    return wsserve::nowMs();
}

} // namespace

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
    detachCluster();
    // Clients are only left here when the thread was abandoned by the watchdog and its loop ended without
    // a stop(); deleting them closes their descriptors.
    for (const Client *client : m_clients.all()) {
        if (!client->longPoll) {
            m_shared->removeDescriptor(client->conn.fd());
        }
    }
}

quint64 Instance::nextClientId()
{
    return g_nextClientId.fetch_add(1, std::memory_order_relaxed);
}

void Instance::start()
{
    m_shared->touch(wallMs());
    const BehaviourType *type = m_registry->find(m_config.type);
    QString error;
    if (!type || !type->create) {
        emit started(false, type
                                ? QStringLiteral("instance type '%1' does not load: %2").arg(m_config.type, type->error)
                                : QStringLiteral("unknown instance type '%1'").arg(m_config.type));
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
    if (std::shared_ptr<Store> store = m_shared->store()) {
        m_engine->setStore(std::move(store));
    }
    m_userBroadcasts = m_engine->behaviour().acceptsUserBroadcasts();
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
    attachCluster();
    emit started(true, QString());
}

void Instance::adoptConnection(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request)
{
    if (request.kind == RequestKind::Api) {
        return serveApi(connection, request);
    }
    if (request.kind == RequestKind::LongPoll) {
        return serveLongPoll(connection, request);
    }
    const qintptr fd = connection->fd;
    if (m_stopping || !m_engine) {
        const QString why = QStringLiteral("instance '%1' is stopping").arg(m_config.id);
        logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 503, why);
        respondHttpAndClose(fd, 503, why);
        return;
    }
    if (refuseBlocked(request, [fd](const QString &why) { respondHttpAndClose(fd, 403, why); })) {
        return;
    }
    const qint64 maxClients = m_limits.maxClients;
    if (m_clients.size() >= maxClients) {
        qCWarning(lcInstance).noquote() << logTag(m_config.id) << "refused" << request.remoteAddress << "- max_clients"
                                        << maxClients << "reached";
        const QString why = QStringLiteral("instance '%1' is full (max_clients %2)").arg(m_config.id).arg(maxClients);
        logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 503, why);
        respondHttpAndClose(fd, 503, why);
        return;
    }
    // Before the behaviour sees it: a page from a foreign site (phoenix-protocol.md 7.3).
    if (QString why; !originAllowed(m_config.stringOption(options::kCheckOrigin), request.origin, request.host, &why)) {
        qCInfo(lcInstance).noquote() << logTag(m_config.id) << "refused" << request.remoteAddress << "-" << why;
        logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 403,
                      request.origin.isEmpty() ? why : QStringLiteral("%1 (Origin: %2)").arg(why, request.origin));
        respondHttpAndClose(fd, 403, why);
        return;
    }
    ConnectInfo info;
    info.clientId = nextClientId();
    info.params = request.params;
    info.authToken = request.authToken;
    info.remoteAddress = request.remoteAddress;
    info.format = request.format;
    if (m_engine->authRequired()) {
        // The JS client's authToken subprotocol first, then ?token= (issue #17's order).
        const QString token =
            request.authToken.isEmpty() ? request.params.value(QStringLiteral("token")).toString() : request.authToken;
        if (QString why; !m_engine->authenticate(info, token, &why)) {
            qCInfo(lcInstance).noquote() << logTag(m_config.id) << "refused" << request.remoteAddress
                                         << "- token:" << why;
            logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 403, why);
            respondHttpAndClose(fd, 403, why);
            return;
        }
    }
    bool crashed = false;
    const std::optional<QString> refusal = m_engine->connect(info, &crashed);
    if (crashed) {
        logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 500,
                      QStringLiteral("connect handler crashed"));
        respondHttpAndClose(fd, 500, QStringLiteral("connect handler crashed"));
        return;
    }
    if (refusal) {
        logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 403, *refusal);
        respondHttpAndClose(fd, 403, *refusal);
        return;
    }
    if (!m_poller->add(fd)) {
        const QString why = QStringLiteral("instance '%1' cannot watch more sockets").arg(m_config.id);
        logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 503, why);
        respondHttpAndClose(fd, 503, why);
        return;
    }
    auto *client = new Client(connection->release(), m_limits.maxFrameBytes, connection->buffered);
    client->id = info.clientId;
    client->info = std::move(info);
    client->connectedAtMs = wallMs();
    client->lastActivityMs = nowMs();
    for (const QString &candidate : {client->info.claims.value(QStringLiteral("name")).toString(), client->info.subject,
                                     client->info.params.value(QStringLiteral("name")).toString()}) {
        if (!candidate.trimmed().isEmpty()) {
            client->name = candidate.trimmed().left(64);
            break;
        }
    }
    logConnection(ConnectionEvent::Kind::Connected, client, client->info.remoteAddress, 0,
                  wireFormatName(client->info.format));
    m_shared->addDescriptor(fd);
    m_clients.add(client);
    m_engine->addClient(client);
    m_clientsDirty = true;
    ++m_stats.connectionsTotal;
    queueFrame(*client, switchingProtocolsResponse(request)); // the endpoint checked the key and version
    qCDebug(lcInstance).noquote() << logTag(m_config.id) << "client" << client->id << "connected from"
                                  << client->info.remoteAddress << wireFormatName(client->info.format);
    // Frames the client sent right behind its request head.
    client->conn.deliverBuffered(
        [this, client, now = nowMs()](ws::FrameParser::Event &event) { return onFrame(*client, event, now); });
}

void Instance::onSocketEvent(qintptr fd, quint32 events)
{
    if (m_httpWrites.contains(fd)) {
        continueHttpWrite(fd);
        return;
    }
    Client *client = m_clients.byDescriptor(fd);
    if (!client) {
        return; // removed earlier in this batch
    }
    if (events & net::Poller::Writable) {
        flushClient(*client);
        client = m_clients.byDescriptor(fd);
        if (!client) {
            return;
        }
    }
    if (events & net::Poller::Readable) {
        const auto status = client->conn.pump(
            m_scratch.data(), m_scratch.size(),
            [this, client, now = nowMs()](ws::FrameParser::Event &event) { return onFrame(*client, event, now); });
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

bool Instance::onFrame(Client &client, ws::FrameParser::Event &event, qint64 now)
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
    if (!admitFrame(client, now)) {
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
            client.closeCode = event.code;
            client.closeReason = QStringLiteral("closed by the client");
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
    DecodeResult decoded = binary ? codec::decodeBinary(client.info.format, data, m_userBroadcasts)
                                  : codec::decodeText(client.info.format, data);
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

void Instance::removeClient(quint64 clientId)
{
    Client *client = m_clients.find(clientId);
    if (!client) {
        return;
    }
    m_engine->removeClient(client);
    logConnection(ConnectionEvent::Kind::Disconnected, client, client->info.remoteAddress,
                  client->closeCode == 0 ? kAbnormalClose : client->closeCode,
                  client->closeCode == 0 ? QStringLiteral("connection lost") : client->closeReason);
    m_clients.take(clientId);
    m_clientsDirty = true;
    if (client->longPoll) {
        answerPoll(*client, 410); // its next poll learns it is gone (and the client reconnects)
        m_longPollSessions.remove(client->longPoll->sessionId);
    } else {
        m_poller->remove(client->conn.fd());
        m_shared->removeDescriptor(client->conn.fd());
    }
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
    client.closeCode = code;
    client.closeReason = reason;
    if (client.longPoll) {
        // No close frame to send: the session ends (a waiting poll gets 410 now, later requests too).
        qCDebug(lcInstance).noquote() << logTag(m_config.id) << "long-poll client" << client.id << "ends:" << code
                                      << reason;
        answerPoll(client, 410);
        m_gone.append(client.id);
        scheduleFlush(); // reaps it
        return;
    }
    queueFrame(client, ws::prepareClose(code, reason));
}

void Instance::pushFromOutside(quint64 clientId, const QString &topic, const QString &event, const QJsonObject &payload)
{
    if (m_engine && !m_stopping) {
        m_engine->pushTo(clientId, topic, event, Payload::fromJson(payload));
    }
}

void Instance::applyLiveOptions(const QVariantMap &changed)
{
    for (auto it = changed.cbegin(); it != changed.cend(); ++it) {
        m_config.options.insert(it.key(), it.value());
    }
    if (m_engine) {
        m_engine->updateOptions(changed); // type options marked live (chat's presence)
    }
    m_limits = {m_config.intOption(options::kMaxClients), m_config.intOption(options::kMaxFrameBytes),
                m_config.intOption(options::kIdleTimeoutMs), m_config.intOption(options::kMaxMessagesPerSecond),
                m_config.intOption(options::kMaxSendBufferBytes)};
    qCInfo(lcInstance).noquote() << logTag(m_config.id) << "options changed live:" << changed.keys().join(u", ");
}

bool Instance::refuseBlocked(const UpgradeRequest &request, const std::function<void(const QString &)> &answer)
{
    const std::optional<qint64> until =
        m_shared->blocks() ? m_shared->blocks()->blockedUntil(request.remoteAddress) : std::nullopt;
    if (!until) {
        return false;
    }
    const QString why = AddressBlocks::refusalReason(*until);
    logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 403, why);
    answer(why);
    return true;
}

void Instance::logConnection(ConnectionEvent::Kind kind, const Client *client, const QString &address, int code,
                             const QString &reason)
{
    ConnectionEvent event;
    event.timeMs = wallMs();
    event.kind = kind;
    event.instanceId = m_config.id;
    if (client) {
        event.clientId = client->id;
        event.name = client->name;
    }
    event.address = address;
    event.code = code;
    event.reason = reason;
    m_connectionLog.record(std::move(event));
}

void Instance::broadcastFromOutside(const QString &topic, const QString &event, const QJsonObject &payload)
{
    if (m_engine && !m_stopping) {
        m_engine->broadcast(topic, event, Payload::fromJson(payload));
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

void Instance::note(const QString &line)
{
    const qint64 second = m_clock.elapsed() / 1000;
    if (second != m_noteSecond) {
        if (m_notesDropped > 0) {
            emit noted(
                QStringLiteral("(%1 more console lines in the previous second; see the log)").arg(m_notesDropped));
        }
        m_noteSecond = second;
        m_notesThisSecond = 0;
        m_notesDropped = 0;
    }
    if (m_notesThisSecond++ < kMaxNotesPerSecond) {
        emit noted(line.left(kMaxNoteChars));
    } else {
        ++m_notesDropped;
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
    if (m_engine) {
        m_engine->stop(); // no callbacks, no timers from now on
    }
    qCInfo(lcInstance).noquote() << logTag(m_config.id) << "stopping:" << m_clients.size() << "clients, close code"
                                 << closeCode << "(" << reason << ")";
    m_stopTimer = new QTimer(this);
    m_stopTimer->setSingleShot(true);
    connect(m_stopTimer, &QTimer::timeout, this, [this] {
        // Clients that did not answer the close frame in time are dropped; the last one finishes the stop.
        const QList<quint64> ids = m_clients.ids();
        for (const quint64 id : ids) {
            removeClient(id);
        }
    });
    if (m_clients.isEmpty()) {
        finishStop();
        return;
    }
    for (Client *client : m_clients.all()) {
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
    detachCluster();
    if (m_stopTimer) {
        m_stopTimer->stop();
    }
    publishStats();
    qCInfo(lcInstance).noquote() << logTag(m_config.id) << "stopped";
    emit stopped();
}

void Instance::kick(quint64 clientId, quint16 closeCode, const QString &reason)
{
    if (Client *client = m_clients.find(clientId)) {
        qCInfo(lcInstance).noquote() << logTag(m_config.id) << "kicking client" << clientId << "(" << reason << ")";
        logConnection(ConnectionEvent::Kind::Kicked, client, client->info.remoteAddress, closeCode,
                      printableText(reason));
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

void Instance::countIn(Client &client, qsizetype bytes)
{
    ++client.messagesIn;
    client.bytesIn += static_cast<quint64>(bytes);
    ++m_stats.messagesIn;
    m_stats.bytesIn += static_cast<quint64>(bytes);
    m_clientsDirty = true;
}

bool Instance::admitFrame(Client &client, qint64 now)
{
    client.lastActivityMs = now;
    if (client.rateLimited) {
        return false;
    }
    // Protects the instance thread from one client's flood of joins, heartbeats, pings or pushes.
    const qint64 limit = m_limits.maxMessagesPerSecond;
    if (client.rate.take(now, limit)) {
        return true;
    }
    client.rateLimited = true;
    if (!client.closing) {
        qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "sends over" << limit
                                        << "frames/s; closing";
        closeClientImpl(client, ws::closecode::kPolicyViolation, QStringLiteral("message rate over %1/s").arg(limit));
    }
    stopReading(client);
    return false;
}

} // namespace wsserve
