// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "endpoint.h"

#include "clock.h"
#include "http/httpresponse.h"
#include "httprequesthead.h"
#include "incoming.h"
#include "logging.h"
#include "net/acceptguard.h"
#include "net/socketio.h"
#include "net/tls.h"
#include "net/wsframe.h"
#include "protocol/queryparams.h"
#include "routetable.h"
#include "web/pageserver.h"

#include <QRegularExpression>
#include <QRegularExpressionMatch>
#include <QTcpServer>
#include <QTimer>

namespace wsserve {

namespace {
constexpr int kSweepIntervalMs = 500;
constexpr int kLogIntervalMs = 250;
constexpr qsizetype kMaxWarnedPeers = 1024;
const QByteArray kAuthTokenPrefix = "base64url.bearer.phx.";

// The JS client sends btoa(token) without padding, under a base64url label; accept both alphabets.
QString decodeAuthToken(const QByteArray &encoded)
{
    QByteArray normalized = encoded;
    normalized.replace('-', '+').replace('_', '/');
    while (normalized.size() % 4 != 0) {
        normalized.append('=');
    }
    const auto decoded = QByteArray::fromBase64Encoding(normalized, QByteArray::AbortOnBase64DecodingErrors);
    return decoded ? QString::fromUtf8(*decoded) : QString();
}

// vsn negotiation (phoenix-protocol.md 1.3): missing -> V1, 1.0.x -> V1, 2.0.x -> V2, else refused.
WireFormat negotiateVsn(const QJsonObject &params, bool *ok)
{
    *ok = true;
    if (!params.contains(QStringLiteral("vsn"))) {
        return WireFormat::V1Json;
    }
    // anchoredPattern and [0-9]: "$" would accept a trailing newline, \\d other scripts' digits.
    static const QRegularExpression v1(QRegularExpression::anchoredPattern(QStringLiteral("1\\.0\\.[0-9]{1,9}")));
    static const QRegularExpression v2(QRegularExpression::anchoredPattern(QStringLiteral("2\\.0\\.[0-9]{1,9}")));
    const QString vsn = params.value(QStringLiteral("vsn")).toString();
    if (v2.match(vsn).hasMatch()) {
        return WireFormat::V2Json;
    }
    if (v1.match(vsn).hasMatch()) {
        return WireFormat::V1Json;
    }
    *ok = false;
    return WireFormat::Invalid;
}
// What makes a head unfit for a WebSocket upgrade beyond the route (empty: nothing).
QString upgradeHeadProblem(const HttpRequestHead &head)
{
    if (head.version != "HTTP/1.1") {
        return QStringLiteral("WebSocket upgrades need HTTP/1.1 (got %1)")
            .arg(printableText(QString::fromLatin1(head.version)));
    }
    int hosts = 0;
    bool transferEncoding = false;
    bool contentLength = false;
    for (const auto &[name, value] : head.headers) {
        hosts += name == "host" ? 1 : 0;
        transferEncoding = transferEncoding || name == "transfer-encoding";
        contentLength = contentLength || (name == "content-length" && value != "0");
    }
    if (hosts != 1) {
        return hosts == 0 ? QStringLiteral("missing Host header") : QStringLiteral("more than one Host header");
    }
    if (head.header("host").isEmpty()) {
        return QStringLiteral("empty Host header");
    }
    if (transferEncoding || contentLength) {
        return QStringLiteral("an upgrade request has no body (Transfer-Encoding or Content-Length sent)");
    }
    return {};
}
// /socket/<id>, /socket/<id>/websocket, /socket/<id>/longpoll (capture 2), /socket/<id>/api/<path> (capture 3).
const QRegularExpression &routePattern()
{
    static const QRegularExpression pattern(QRegularExpression::anchoredPattern(
        QStringLiteral("/socket/([^/]+)(?:/websocket|(/longpoll)|/api(/[^?]+?))?/?")));
    return pattern;
}

// A long-poll or API request, which may carry a body (an upgrade never does).
bool isPlainHttpRoute(const HttpRequestHead &head)
{
    const QRegularExpressionMatch match = routePattern().match(QString::fromUtf8(head.path));
    return match.hasMatch() && (match.hasCaptured(2) || match.hasCaptured(3));
}

// The body length of a POST (Content-Length); -1 with *status and *problem when it cannot be read.
qsizetype bodyLength(const HttpRequestHead &head, int *status, QString *problem)
{
    if (!head.header("transfer-encoding").isNull()) {
        *status = 411;
        *problem = QStringLiteral("send the body with Content-Length (Transfer-Encoding is not accepted)");
        return -1;
    }
    const QByteArray value = head.header("content-length");
    if (value.isNull()) {
        return 0;
    }
    bool ok = false;
    const qlonglong length = value.toLongLong(&ok);
    if (!ok || length < 0 || value.startsWith('+')) {
        *status = 400;
        *problem = QStringLiteral("malformed Content-Length");
        return -1;
    }
    if (length > kMaxHttpBodyBytes) {
        *status = 413;
        *problem = QStringLiteral("request body of %1 bytes; the limit is %2").arg(length).arg(kMaxHttpBodyBytes);
        return -1;
    }
    return static_cast<qsizetype>(length);
}

// The media type of a Content-Type header, lower case, without parameters.
QByteArray mediaType(const QByteArray &contentType)
{
    const qsizetype semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.left(semicolon)).trimmed().toLower();
}

// Long-poll and API answers carry Phoenix's CORS header: the origin check is what protects them.
const QByteArray kCorsHeaders = "Access-Control-Allow-Origin: *\r\n";
} // namespace

Endpoint::Endpoint(std::shared_ptr<RouteTable> routes, std::shared_ptr<net::ListenerHealth> health, QObject *parent)
    : QObject(parent)
    , m_routes(std::move(routes))
    , m_health(std::move(health))
{
    m_clock.start();
}

Endpoint::~Endpoint() = default;

void Endpoint::setSite(std::shared_ptr<web::SiteDirectory> site)
{
    delete m_pages;
    m_pages = new web::PageServer(
        std::move(site),
        [this](const QString &instanceId, const QString &address, int status, const QString &reason) {
            logRefusal(instanceId, address, status, reason);
        },
        this);
}

void Endpoint::listen(const QHostAddress &address, quint16 port)
{
    if (!m_server) {
        m_server = new QTcpServer(this);
        m_server->setListenBacklogSize(1024);
        m_acceptor = new net::AcceptGuard(m_server, QStringLiteral("the game port"), m_health,
                                          [this](qintptr fd) { onAccepted(fd); });
        m_logTimer = new QTimer(this);
        m_logTimer->setInterval(kLogIntervalMs);
        m_logTimer->setSingleShot(true);
        connect(m_logTimer, &QTimer::timeout, this, &Endpoint::publishLog);
        m_sweepTimer = new QTimer(this);
        m_sweepTimer->setInterval(kSweepIntervalMs);
        connect(m_sweepTimer, &QTimer::timeout, this, &Endpoint::sweep);
    }
    if (!m_server->listen(address, port)) {
        const QString reason = m_server->serverError() == QAbstractSocket::AddressInUseError
                                   ? QStringLiteral("address already in use (another program is on port %1)").arg(port)
                                   : m_server->errorString();
        emit listenFailed(QStringLiteral("cannot listen on %1:%2: %3").arg(address.toString()).arg(port).arg(reason));
        return;
    }
    m_acceptor->start();
    m_sweepTimer->start();
    qCInfo(lcEndpoint).noquote() << "listening on" << address.toString() << m_server->serverPort();
    emit listening(m_server->serverAddress(), m_server->serverPort());
}

void Endpoint::close()
{
    if (m_server) {
        m_acceptor->stop();
        m_server->close();
    }
    const auto pending = m_pending.keys();
    m_pending.clear();
    for (Incoming *socket : pending) {
        socket->disconnect(this);
        socket->abort();
    }
}

void Endpoint::setTlsContext(std::shared_ptr<const net::TlsContext> context)
{
    m_tls = std::move(context);
}

void Endpoint::onAccepted(qintptr fd)
{
    QString error;
    Incoming *socket = m_tls ? static_cast<Incoming *>(TlsIncoming::create(fd, *m_tls, this, &error))
                             : static_cast<Incoming *>(PlainIncoming::create(fd, this, &error));
    if (!socket) {
        qCWarning(lcEndpoint).noquote() << "cannot use an accepted connection:" << error;
        return;
    }
    m_pending.insert(socket, PendingHead{m_clock.elapsed(), false});
    connect(socket, &Incoming::readyRead, this, [this, socket] { onReadyRead(socket); });
    connect(socket, &Incoming::disconnected, this, [this, socket] {
        if (m_pending.remove(socket)) {
            socket->abort();
        }
    });
    connect(socket, &Incoming::failed, this, [this, socket](const QString &reason) { onTlsFailed(socket, reason); });
}

void Endpoint::onTlsFailed(Incoming *socket, const QString &reason)
{
    // The socket closes itself; a peer is named in the log once (a scanner or a misconfigured client
    // would otherwise fill it), and every attempt goes to the connection log.
    m_pending.remove(socket);
    socket->disconnect(this);
    const QString address = socket->peerAddress().toString();
    if (!m_tlsWarned.contains(address)) {
        if (m_tlsWarned.size() >= kMaxWarnedPeers) {
            m_tlsWarned.clear();
        }
        m_tlsWarned.insert(address);
        qCWarning(lcEndpoint).noquote() << reason << "from" << address << "(logged once per address)";
    }
    logRefusal({}, address, 400, reason);
}

void Endpoint::onReadyRead(Incoming *socket)
{
    const auto pending = m_pending.find(socket);
    if (pending == m_pending.end() || pending->routing) {
        return;
    }
    // peek, never read: the head stays buffered until the connection is handed over.
    const QByteArray data = socket->peek(kMaxRequestHeadBytes + 1);
    const HttpParseResult parsed = parseHttpRequestHead(data);
    switch (parsed.status) {
    case HttpParseResult::Status::Incomplete:
        return;
    case HttpParseResult::Status::TooLarge:
        reject(socket, 400, parsed.error);
        return;
    case HttpParseResult::Status::Malformed:
        reject(socket, 400, parsed.error);
        return;
    case HttpParseResult::Status::Complete:
        if (parsed.head.method == "POST" && isPlainHttpRoute(parsed.head)) {
            // Long-poll batches and API calls carry a body: routed once all of it is here.
            QString problem;
            int status = 400;
            const qsizetype length = bodyLength(parsed.head, &status, &problem);
            if (length < 0) {
                reject(socket, status, problem);
                return;
            }
            if (socket->bytesAvailable() < parsed.headSize + length) {
                return; // the sweep answers 408 if the rest never comes
            }
        }
        // Routed from a queued call, never from inside the socket's own readyRead emission: the hand-off
        // reads the socket empty and aborts it, which QIODevice must not be doing while it emits.
        pending->routing = true;
        QMetaObject::invokeMethod(
            this,
            [this, socket, head = parsed.head, headSize = parsed.headSize] {
                if (m_pending.contains(socket)) {
                    route(socket, head, headSize);
                }
            },
            Qt::QueuedConnection);
        return;
    case HttpParseResult::Status::Invalid:
        break;
    }
    reject(socket, 400, QStringLiteral("unreadable request"));
}

void Endpoint::route(Incoming *socket, const HttpRequestHead &head, qsizetype headSize)
{
    if (m_pages && !head.path.startsWith("/socket/")) { // a page: one prefix test on the socket path
        m_pending.remove(socket);
        socket->disconnect(this);
        m_pages->serve(socket, head); // plain or TLS alike: through the connection's byte sink
        return;
    }
    // Paths: /socket/<id>/websocket (what the JS client opens) and /socket/<id>. Routed on the path as
    // sent: an encoded '/' (%2F) must not make a different route.
    const qsizetype question = head.target.indexOf('?');
    const QByteArray rawPath = question < 0 ? head.target : head.target.left(question);
    if (rawPath.contains("%2F") || rawPath.contains("%2f") || rawPath.contains("%5C") || rawPath.contains("%5c")) {
        reject(socket, 400, QStringLiteral("encoded '/' or '\\' in the path; instance ids never contain them"));
        return;
    }
    const QRegularExpressionMatch match = routePattern().match(QString::fromUtf8(head.path));
    if (!match.hasMatch()) {
        reject(socket, 404,
               QStringLiteral("no route for %1; connect to /socket/<instance-id>/websocket")
                   .arg(printableText(QString::fromUtf8(head.path))));
        return;
    }
    if (!m_routes->contains(match.captured(1))) {
        reject(socket, 404, QStringLiteral("no instance '%1'").arg(printableText(match.captured(1))), {},
               match.captured(1));
        return;
    }
    if (match.hasCaptured(2) || match.hasCaptured(3)) {
        routeHttp(socket, head, headSize, match);
        return;
    }
    if (head.method != "GET") {
        reject(socket, 405,
               QStringLiteral("method %1 not allowed; use GET").arg(printableText(QString::fromLatin1(head.method))),
               "Allow: GET\r\n", match.captured(1));
        return;
    }
    UpgradeRequest request;
    request.instanceId = match.captured(1);
    request.params = parseQueryParams(head.query);
    request.remoteAddress = socket->peerAddress().toString();
    request.remotePort = socket->peerPort();
    bool vsnOk = false;
    request.format = negotiateVsn(request.params, &vsnOk);
    if (!head.isWebSocketUpgrade()) {
        reject(socket, 426, QStringLiteral("this endpoint only serves WebSocket upgrades"),
               "Upgrade: websocket\r\nConnection: Upgrade\r\n", match.captured(1));
        return;
    }
    // RFC 6455 4.1 / RFC 9112: an upgrade is HTTP/1.1 with exactly one Host and no body framing.
    if (const QString why = upgradeHeadProblem(head); !why.isEmpty()) {
        reject(socket, 400, why, {}, match.captured(1));
        return;
    }
    if (!vsnOk) {
        reject(socket, 403,
               QStringLiteral("unsupported vsn '%1'; use 2.0.0 or 1.0.0")
                   .arg(printableText(request.params.value(QStringLiteral("vsn")).toString())),
               {}, match.captured(1));
        return;
    }
    if (head.header("sec-websocket-version") != "13") {
        reject(socket, 426, QStringLiteral("unsupported Sec-WebSocket-Version; this server speaks version 13"),
               "Sec-WebSocket-Version: 13\r\n", match.captured(1));
        return;
    }
    const QByteArray key = head.header("sec-websocket-key");
    if (!ws::isValidClientKey(key)) {
        reject(socket, 400, QStringLiteral("missing or malformed Sec-WebSocket-Key"), {}, match.captured(1));
        return;
    }
    request.acceptKey = ws::acceptKey(key);
    request.origin = QString::fromUtf8(head.header("origin"));
    request.host = QString::fromUtf8(head.header("host"));
    for (const QByteArray &protocol : head.headerTokens("sec-websocket-protocol")) {
        if (protocol.startsWith(kAuthTokenPrefix)) {
            request.authToken = decodeAuthToken(protocol.mid(kAuthTokenPrefix.size()));
        } else if (protocol == "phoenix") {
            request.phoenixSubprotocol = true;
        }
    }
    handOver(socket, request, headSize, 0);
}

void Endpoint::routeHttp(Incoming *socket, const HttpRequestHead &head, qsizetype headSize,
                         const QRegularExpressionMatch &match)
{
    const bool longPoll = match.hasCaptured(2);
    const QByteArray allowed = longPoll ? "GET, POST, OPTIONS" : "POST, OPTIONS";
    if (head.method == "OPTIONS") {
        // A browser's CORS pre-flight, answered as Phoenix's long-poll transport does.
        const QByteArray headers = head.header("access-control-request-headers");
        reject(socket, 200, QString(),
               kCorsHeaders + "Access-Control-Allow-Headers: " + headers +
                   "\r\nAccess-Control-Allow-Methods: " + allowed + "\r\nAccess-Control-Max-Age: 3600\r\n");
        return;
    }
    if (head.method != "POST" && !(longPoll && head.method == "GET")) {
        reject(socket, 405,
               QStringLiteral("method %1 not allowed here; use %2")
                   .arg(printableText(QString::fromLatin1(head.method)), QString::fromLatin1(allowed)),
               "Allow: " + allowed + "\r\n" + kCorsHeaders);
        return;
    }
    UpgradeRequest request;
    request.kind = longPoll ? RequestKind::LongPoll : RequestKind::Api;
    request.instanceId = match.captured(1);
    request.apiPath = match.captured(3);
    request.method = head.method;
    request.params = parseQueryParams(head.query);
    request.remoteAddress = socket->peerAddress().toString();
    request.remotePort = socket->peerPort();
    request.origin = QString::fromUtf8(head.header("origin"));
    request.host = QString::fromUtf8(head.header("host"));
    request.contentType = mediaType(head.header("content-type"));
    if (const QByteArray authorization = head.header("authorization"); authorization.toLower().startsWith("bearer ")) {
        request.bearerToken = QString::fromUtf8(authorization.mid(7).trimmed());
    }
    request.authToken = QString::fromUtf8(head.header("x-phoenix-authtoken"));
    const QByteArray sessionHeader = head.header("x-phoenix-longpoll-token");
    request.longPollSession = sessionHeader.isNull() ? request.params.value(QStringLiteral("token")).toString()
                                                     : QString::fromUtf8(sessionHeader);
    bool vsnOk = false;
    request.format = negotiateVsn(request.params, &vsnOk);
    if (longPoll && !vsnOk) {
        reject(socket, 403,
               QStringLiteral("unsupported vsn '%1'; use 2.0.0 or 1.0.0")
                   .arg(printableText(request.params.value(QStringLiteral("vsn")).toString())),
               kCorsHeaders);
        return;
    }
    int status = 400;
    QString problem;
    handOver(socket, request, headSize, head.method == "POST" ? bodyLength(head, &status, &problem) : 0);
}

void Endpoint::handOver(Incoming *socket, UpgradeRequest &request, qsizetype headSize, qsizetype bodyBytes)
{
    // The descriptor leaves its QTcpSocket here: the instance thread does its own I/O on it.
    m_pending.remove(socket);
    socket->disconnect(this);
    auto connection = std::make_shared<net::TakenConnection>();
    QByteArray received;
    connection->fd = socket->take(&received);
    if (request.kind != RequestKind::WebSocket) {
        request.body = received.mid(headSize, bodyBytes); // onReadyRead waited for all of it
    } else if (received.size() > headSize) { // frames sent right behind the head; a right-sized copy, since
        // readAll()'s buffer has the capacity of the socket's whole read buffer
        connection->buffered = QByteArray(received.constData() + headSize, received.size() - headSize);
    }
    if (connection->fd == net::kInvalidDescriptor) {
        qCWarning(lcEndpoint).noquote() << "could not take the descriptor of" << request.remoteAddress;
        return;
    }
    const RouteTable::Lookup lookup = m_routes->handOver(connection, request);
    switch (lookup) {
    case RouteTable::Lookup::HandedOver:
        return;
    case RouteTable::Lookup::Unknown:
        logRefusal(request.instanceId, request.remoteAddress, 404,
                   QStringLiteral("no instance '%1'").arg(request.instanceId));
        respondHttpAndClose(connection->fd, 404, QStringLiteral("no instance '%1'").arg(request.instanceId));
        return;
    case RouteTable::Lookup::NotRunning:
        logRefusal(request.instanceId, request.remoteAddress, 503,
                   QStringLiteral("instance '%1' is not running").arg(request.instanceId));
        respondHttpAndClose(connection->fd, 503,
                            QStringLiteral("instance '%1' is not running").arg(request.instanceId));
        return;
    case RouteTable::Lookup::Invalid:
        break;
    }
    respondHttpAndClose(connection->fd, 500, QStringLiteral("routing failed"));
}

void Endpoint::reject(Incoming *socket, int status, const QString &body, const QByteArray &extraHeaders,
                      const QString &instanceId)
{
    m_pending.remove(socket);
    socket->disconnect(this);
    const QString address = socket->peerAddress().toString();
    qCDebug(lcEndpoint).noquote() << "HTTP" << status << "to" << address << "-" << body;
    logRefusal(instanceId, address, status, body);
    socket->respondAndClose(status, body, extraHeaders);
}

void Endpoint::logRefusal(const QString &instanceId, const QString &address, int status, const QString &reason)
{
    ConnectionEvent event;
    event.timeMs = nowMs();
    event.kind = ConnectionEvent::Kind::Refused;
    event.instanceId = instanceId;
    event.address = address;
    event.code = status;
    event.reason = reason;
    m_log.record(std::move(event)); // bounded: past kMaxEvents a flood only counts
    if (!m_logTimer->isActive()) {
        m_logTimer->start();
    }
}

void Endpoint::publishLog()
{
    if (!m_log.isEmpty()) {
        emit connectionEvents(std::exchange(m_log, ConnectionEventBatch{}));
    }
}

void Endpoint::sweep()
{
    const qint64 now = m_clock.elapsed();
    QList<Incoming *> expired;
    for (auto it = m_pending.cbegin(); it != m_pending.cend(); ++it) {
        if (!it->routing && now - it->acceptedMs > kHeadTimeoutMs) {
            expired.append(it.key());
        }
    }
    for (Incoming *socket : std::as_const(expired)) {
        if (!socket->canRespond()) { // a TLS handshake that did not finish in the same budget
            m_pending.remove(socket);
            socket->disconnect(this);
            logRefusal({}, socket->peerAddress().toString(), 408,
                       QStringLiteral("TLS handshake not complete within %1 ms").arg(kHeadTimeoutMs));
            socket->abort();
            continue;
        }
        reject(socket, 408, QStringLiteral("request head not complete within %1 ms").arg(kHeadTimeoutMs));
    }
}

} // namespace wsserve
