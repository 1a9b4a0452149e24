// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The instance's plain-HTTP clients: the type's API (/socket/<id>/api/..., Supabase's REST broadcast) and
// Phoenix's long-poll transport (/socket/<id>/longpoll, as Phoenix.Transports.LongPoll answers it: GET opens
// a session or polls it, POST sends a batch; the JSON body's status is what the JS client reads).
#include "instance.h"

#include "clock.h"
#include "http/httpresponse.h"
#include "http/originpolicy.h"
#include "logging.h"
#include "net/poller.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMessageAuthenticationCode>
#include <QRandomGenerator>

namespace wsserve {

namespace {
const QByteArray kCors = "Access-Control-Allow-Origin: *\r\n";
constexpr int kLongPollBatchMax = 100; // messages per POST, as Phoenix reads them
constexpr qint64 kHttpWriteTimeoutMs = 10000;

// Signs session tokens: a key per process, so a token from another run or a forged one is unknown (410).
const QByteArray &tokenKey()
{
    static const QByteArray key = [] {
        QByteArray bytes(32, Qt::Uninitialized);
        QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(bytes.data()), bytes.size() / 4);
        return bytes;
    }();
    return key;
}

QByteArray tokenSignature(const QString &instanceId, const QString &sessionId)
{
    return QMessageAuthenticationCode::hash((instanceId + u'.' + sessionId).toUtf8(), tokenKey(),
                                            QCryptographicHash::Sha256)
        .toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

// The session id of a token signed for this instance by this process; empty otherwise.
QString verifiedSession(const QString &instanceId, const QString &token)
{
    const qsizetype dot = token.indexOf(u'.');
    if (dot <= 0 || token.size() > 200) {
        return {};
    }
    const QString session = token.left(dot);
    const QByteArray given = token.mid(dot + 1).toLatin1();
    const QByteArray expected = tokenSignature(instanceId, session);
    if (given.size() != expected.size()) {
        return {};
    }
    char difference = 0; // compared in constant time
    for (qsizetype i = 0; i < given.size(); ++i) {
        difference = static_cast<char>(difference | (given.at(i) ^ expected.at(i)));
    }
    return difference == 0 ? session : QString();
}

QByteArray statusJson(int status, const QString &token = {}, const QList<QByteArray> &messages = {},
                      bool withMessages = false)
{
    QJsonObject object{{QStringLiteral("status"), status}};
    if (!token.isEmpty()) {
        object.insert(QStringLiteral("token"), token);
    }
    if (withMessages) {
        QJsonArray list;
        for (const QByteArray &message : messages) {
            list.append(QString::fromUtf8(message));
        }
        object.insert(QStringLiteral("messages"), list);
    }
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}
} // namespace

void Instance::writeHttp(const std::shared_ptr<net::TakenConnection> &connection, int status,
                         const QByteArray &contentType, const QByteArray &body)
{
    const qintptr fd = connection->fd;
    if (fd == net::kInvalidDescriptor) {
        return;
    }
    // A 204 has no body: the long-poll "no messages" answer travels as 200 with {"status": 204}.
    HttpWrite write{connection, httpResponse(status == 204 ? 200 : status, contentType, body, kCors), 0, nowMs()};
    net::IoStatus io = net::IoStatus::Ok;
    write.offset = net::sendChunks(fd, &write.data, 1, 0, &io);
    if (io == net::IoStatus::Closed || write.offset >= write.data.size() || !m_poller->add(fd)) {
        net::shutdownWrite(fd); // done (or the peer is gone): the connection closes when the last owner drops
        return;
    }
    m_poller->setInterest(fd, false, true); // the rest when the kernel takes it
    m_httpWrites.insert(fd, std::move(write));
}

void Instance::continueHttpWrite(qintptr fd)
{
    const auto it = m_httpWrites.find(fd);
    if (it == m_httpWrites.end()) {
        return;
    }
    net::IoStatus io = net::IoStatus::Ok;
    it->offset += net::sendChunks(fd, &it->data, 1, it->offset, &io);
    if (io == net::IoStatus::Closed || it->offset >= it->data.size()) {
        m_poller->remove(fd);
        net::shutdownWrite(fd);
        m_httpWrites.erase(it);
    }
}

void Instance::serveApi(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request)
{
    const auto plain = [&](int status, const QString &text) {
        writeHttp(connection, status, "text/plain; charset=utf-8", text.toUtf8() + '\n');
    };
    if (m_stopping || !m_engine) {
        return plain(503, QStringLiteral("instance '%1' is stopping").arg(m_config.id));
    }
    if (QString why; !originAllowed(m_config.stringOption(options::kCheckOrigin), request.origin, request.host, &why)) {
        return plain(403, why);
    }
    if (request.body.size() > m_limits.maxFrameBytes) {
        return plain(413, QStringLiteral("body over max_frame_bytes (%1)").arg(m_limits.maxFrameBytes));
    }
    HttpCall call;
    call.method = QString::fromLatin1(request.method);
    call.path = request.apiPath;
    call.params = request.params;
    call.contentType = request.contentType;
    call.body = request.body;
    call.info.params = request.params;
    call.info.remoteAddress = request.remoteAddress;
    call.info.format = request.format;
    if (m_engine->authRequired()) {
        const QString token = request.bearerToken.isEmpty() ? request.params.value(QStringLiteral("token")).toString()
                                                            : request.bearerToken;
        if (QString why; !m_engine->authenticate(call.info, token, &why)) {
            return plain(401, why);
        }
    }
    bool crashed = false;
    const HttpAnswer answer = m_engine->handleHttp(call, &crashed);
    writeHttp(connection, answer.status, answer.contentType, answer.body);
    scheduleFlush(); // what the handler broadcast
}

void Instance::serveLongPoll(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request)
{
    const auto json = [&](int status, const QByteArray &body) {
        writeHttp(connection, status, "application/json; charset=utf-8", body);
    };
    if (m_stopping || !m_engine) {
        // Not JSON: the JS client then retries with its backoff (as after a failed WebSocket).
        writeHttp(connection, 503, "text/plain; charset=utf-8", "instance is stopping\n");
        return;
    }
    if (QString why; !originAllowed(m_config.stringOption(options::kCheckOrigin), request.origin, request.host, &why)) {
        qCInfo(lcInstance).noquote() << logTag(m_config.id) << "refused long-poll" << request.remoteAddress << "-"
                                     << why;
        return json(403, statusJson(403)); // the client stops (1008 "forbidden")
    }
    const QString session = verifiedSession(m_config.id, request.longPollSession);
    Client *client = session.isEmpty() ? nullptr : m_clients.find(m_longPollSessions.value(session));
    if (client && client->closing) {
        client = nullptr;
    }
    if (request.method == "POST") {
        if (!client) {
            return json(410, statusJson(410)); // unknown, forged or ended session: the client reconnects
        }
        return longPollPost(*client, connection, request);
    }
    if (client) {
        client->lastActivityMs = nowMs();
        if (client->longPoll->pendingPoll) {
            answerPoll(*client, 204); // a newer poll replaces it
        }
        client->longPoll->pendingPoll = connection;
        client->longPoll->pollSinceMs = nowMs();
        if (!client->longPoll->outbox.isEmpty()) {
            answerPoll(*client, 200);
        }
        return;
    }
    openLongPollSession(connection, request);
}

void Instance::openLongPollSession(const std::shared_ptr<net::TakenConnection> &connection,
                                   const UpgradeRequest &request)
{
    if (refuseBlocked(request, [&](const QString &why) {
            writeHttp(connection, 403, "text/plain; charset=utf-8", (why + u'\n').toUtf8());
        })) {
        return;
    }
    if (m_clients.size() >= m_limits.maxClients) {
        logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 503,
                      QStringLiteral("instance '%1' is full (max_clients %2), long-poll")
                          .arg(m_config.id)
                          .arg(m_limits.maxClients));
        writeHttp(connection, 503, "text/plain; charset=utf-8",
                  QStringLiteral("instance '%1' is full (max_clients %2)\n")
                      .arg(m_config.id)
                      .arg(m_limits.maxClients)
                      .toUtf8());
        return;
    }
    ConnectInfo info;
    info.clientId = nextClientId();
    info.params = request.params;
    info.authToken = request.authToken; // X-Phoenix-AuthToken: the JS client's authToken option
    info.remoteAddress = request.remoteAddress;
    info.format = request.format;
    const auto refuse = [&](const QString &why) {
        qCInfo(lcInstance).noquote() << logTag(m_config.id) << "refused long-poll" << request.remoteAddress << "-"
                                     << why;
        logConnection(ConnectionEvent::Kind::Refused, nullptr, request.remoteAddress, 403, why);
        writeHttp(connection, 403, "application/json; charset=utf-8", statusJson(403));
    };
    if (m_engine->authRequired()) {
        const QString token =
            request.authToken.isEmpty() ? request.params.value(QStringLiteral("token")).toString() : request.authToken;
        if (QString why; !m_engine->authenticate(info, token, &why)) {
            return refuse(QStringLiteral("token: ") + why);
        }
    }
    bool crashed = false;
    if (const std::optional<QString> refusal = m_engine->connect(info, &crashed); refusal || crashed) {
        return refuse(crashed ? QStringLiteral("connect handler crashed") : *refusal);
    }
    auto *client = new Client(net::kInvalidDescriptor, m_limits.maxFrameBytes, {});
    client->id = info.clientId;
    client->info = std::move(info);
    client->connectedAtMs = wsserve::nowMs();
    client->lastActivityMs = nowMs();
    client->longPoll = std::make_unique<LongPollState>();
    LongPollState &state = *client->longPoll;
    const QByteArray random = QByteArray::number(QRandomGenerator::system()->generate64(), 36) +
                              QByteArray::number(QRandomGenerator::system()->generate64(), 36);
    state.sessionId = QString::fromLatin1(random);
    state.token = state.sessionId + u'.' + QString::fromLatin1(tokenSignature(m_config.id, state.sessionId));
    m_longPollSessions.insert(state.sessionId, client->id);
    m_clients.add(client);
    m_engine->addClient(client);
    logConnection(ConnectionEvent::Kind::Connected, client, client->info.remoteAddress, 0,
                  wireFormatName(client->info.format) + QStringLiteral(", long-poll"));
    m_clientsDirty = true;
    ++m_stats.connectionsTotal;
    qCDebug(lcInstance).noquote() << logTag(m_config.id) << "long-poll client" << client->id << "from"
                                  << client->info.remoteAddress << wireFormatName(client->info.format);
    // Phoenix's answer to a new session: 410 with the token ("gone": poll again with this one).
    writeHttp(connection, 410, "application/json; charset=utf-8", statusJson(410, state.token, {}, true));
}

void Instance::longPollPost(Client &client, const std::shared_ptr<net::TakenConnection> &connection,
                            const UpgradeRequest &request)
{
    client.lastActivityMs = nowMs();
    QList<QByteArray> parts;
    if (request.contentType == "application/x-ndjson") {
        for (const QByteArray &line : request.body.split('\n')) {
            if (parts.size() == kLongPollBatchMax) {
                break;
            }
            parts.append(line.endsWith('\r') ? line.chopped(1) : line);
        }
    } else {
        parts.append(request.body);
    }
    const quint64 id = client.id;
    const qint64 now = nowMs();
    for (const QByteArray &part : std::as_const(parts)) {
        Client *current = m_clients.find(id);
        if (!current || current->closing) {
            break; // closed by what it sent (a kick, a rate limit)
        }
        if (part.size() > m_limits.maxFrameBytes) {
            closeClientImpl(*current, ws::closecode::kTooBig,
                            QStringLiteral("message over max_frame_bytes (%1)").arg(m_limits.maxFrameBytes));
            return writeHttp(connection, 413, "application/json; charset=utf-8", statusJson(413));
        }
        if (!admitFrame(*current, now)) {
            return writeHttp(connection, 429, "application/json; charset=utf-8", statusJson(429));
        }
        const bool binary = !part.startsWith('[') && !part.startsWith('{');
        QByteArray data = part;
        if (binary) { // Phoenix's JS client sends binary pushes base64-encoded
            const auto decoded = QByteArray::fromBase64Encoding(part, QByteArray::AbortOnBase64DecodingErrors);
            if (!decoded) {
                closeClientImpl(*current, ws::closecode::kInvalidData, QStringLiteral("malformed batch line"));
                return writeHttp(connection, 400, "application/json; charset=utf-8", statusJson(400));
            }
            data = *decoded;
        }
        onMessage(*current, data, binary);
        if (Client *after = m_clients.find(id); after && after->closing) {
            // A malformed message ends the session, as the WebSocket close (1007/1003) would.
            return writeHttp(connection, 400, "application/json; charset=utf-8", statusJson(400));
        }
    }
    writeHttp(connection, 200, "application/json; charset=utf-8", statusJson(200));
}

void Instance::answerPoll(Client &client, int status)
{
    LongPollState &state = *client.longPoll;
    if (!state.pendingPoll) {
        return;
    }
    const std::shared_ptr<net::TakenConnection> poll = std::exchange(state.pendingPoll, nullptr);
    if (status != 200) {
        writeHttp(poll, status, "application/json; charset=utf-8",
                  statusJson(status, status == 410 ? QString() : state.token, {}, status != 410));
        return;
    }
    const QList<QByteArray> messages = std::exchange(state.outbox, {});
    state.outboxBytes = 0;
    writeHttp(poll, 200, "application/json; charset=utf-8", statusJson(200, state.token, messages, true));
}

void Instance::queueLongPoll(Client &client, const QByteArray &message)
{
    client.longPoll->outbox.append(message);
    client.longPoll->outboxBytes += message.size();
    markDirty(client); // flushClient answers the waiting poll
}

void Instance::sweepLongPoll(qint64 now)
{
    for (Client *client : m_clients.all()) {
        if (client->longPoll && client->longPoll->pendingPoll && now - client->longPoll->pollSinceMs >= kPollWindowMs) {
            client->lastActivityMs = now; // a client waiting in a poll is not idle
            answerPoll(*client, 204);
        }
    }
    QList<qintptr> stale;
    for (auto it = m_httpWrites.cbegin(); it != m_httpWrites.cend(); ++it) {
        if (now - it->sinceMs > kHttpWriteTimeoutMs) {
            stale.append(it.key());
        }
    }
    for (const qintptr fd : std::as_const(stale)) {
        m_poller->remove(fd);
        m_httpWrites.remove(fd);
    }
}

} // namespace wsserve
