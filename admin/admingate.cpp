// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "admingate.h"

#include "admintls.h"
#include "net/socketio.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QNetworkInterface>
#include <QPointer>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTimer>

#include <optional>

using namespace Qt::StringLiterals;

Q_LOGGING_CATEGORY(lcAdmin, "wsserve.admin", QtInfoMsg)

// How the gate works, and why it is sound against Qt HTTP Server 6.4.2 (src/httpserver/
// qabstracthttpserver.cpp, qhttpserverrequest.cpp at tag v6.4.2):
//
// - QAbstractHttpServer::bind() connects QTcpServer::pendingConnectionAvailable, which
//   QTcpServer::addPendingConnection() emits (6.4), to handleNewConnections(); that takes the socket
//   with nextPendingConnection() and connects its readyRead handler (context: the http server). The
//   connection is direct, so it happens inside addPendingConnection(). Our incomingConnection()
//   connects the gate's first readyRead handler before addPendingConnection() and a second one after
//   it; slots run in connection order, so for every readyRead the gate sees the bytes first, Qt's
//   parser reads them, then the gate learns how far Qt's parser read.
// - Qt's handler reads everything available into its parser (inside a QIODevice transaction, which
//   keeps the bytes in the socket buffer until the request is complete) but stops after one complete
//   request; when bytes remain it re-emits readyRead (queued). So at the start of a readyRead the bytes
//   available are: bytes the gate has already examined but Qt has not read (a pipelined request),
//   then new bytes. The gate peek()s, examines only the new ones, and frames the stream itself:
//   head (<= 8 KiB), Content-Length body, next head.
// - To refuse a request, the gate waits until Qt's parser has read every byte before it (earlier
//   pipelined requests get their answers), then disconnects Qt's readyRead handler from the socket
//   (QObject::disconnect(socket, &readyRead, http, nullptr) matches functor connections by their
//   context object, and a connection removed during an emission is not called later in that
//   emission), so Qt never sees the refused head or its body. Qt's disconnected/destroyed handlers
//   (context: the socket) stay, and still delete the socket and its request object.
// - The gate writes the error itself with "Connection: close", then discards input for a short while
//   before closing: closing with unread input makes the kernel send RST, which can destroy the answer
//   before a client that is still uploading reads it.
// - The socket's read buffer is capped (head + body + slack), so memory per connection is bounded
//   even while Qt's transaction holds a whole request.

namespace wsserve {

namespace {

constexpr qint64 kLingerBytes = 4 * 1024 * 1024;
constexpr std::chrono::milliseconds kMaxLinger{2000};

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 421:
        return "Misdirected Request";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

QByteArray errorResponse(int status, const QString &message)
{
    const QByteArray body = QJsonDocument(QJsonObject{{u"error"_s, message}}).toJson(QJsonDocument::Compact) + '\n';
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase(status) +
           "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
}

bool isWildcard(const QHostAddress &address)
{
    return address == QHostAddress(QHostAddress::Any) || address == QHostAddress(QHostAddress::AnyIPv4) ||
           address == QHostAddress(QHostAddress::AnyIPv6);
}

bool sameAddress(const QHostAddress &a, const QHostAddress &b)
{
    return a.isEqual(b, QHostAddress::ConvertV4MappedToIPv4);
}

// Splits "host", "host:port", "[v6]" or "[v6]:port". The port, when present, must be 1-5 digits.
bool splitHostPort(QByteArrayView text, QByteArray *host, bool *bracketed, int *port)
{
    *port = -1;
    *bracketed = text.startsWith('[');
    QByteArrayView rest;
    if (*bracketed) {
        const qsizetype close = text.indexOf(']');
        if (close < 0) {
            return false;
        }
        *host = text.sliced(1, close - 1).toByteArray();
        rest = text.sliced(close + 1);
    } else {
        const qsizetype colon = text.indexOf(':');
        *host = (colon < 0 ? text : text.first(colon)).toByteArray();
        rest = colon < 0 ? QByteArrayView() : text.sliced(colon);
    }
    if (!rest.isEmpty()) {
        if (!rest.startsWith(':') || rest.size() < 2 || rest.size() > 6) {
            return false;
        }
        bool ok = false;
        *port = rest.sliced(1).toInt(&ok);
        if (!ok || *port < 0 || *port > 65535 ||
            !std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            return false;
        }
    }
    return !host->isEmpty();
}

bool hostPartAllowed(const QByteArray &host, bool bracketed, const AdminHostPolicy &policy, const QHostAddress &local)
{
    QHostAddress literal;
    if (literal.setAddress(QString::fromLatin1(host))) {
        if (bracketed != (literal.protocol() == QAbstractSocket::IPv6Protocol)) {
            return false;
        }
        if (sameAddress(literal, policy.bound)) {
            return true;
        }
        for (const QString &extra : policy.extraHosts) {
            if (sameAddress(literal, QHostAddress(extra))) {
                return true;
            }
        }
        if (!isWildcard(policy.bound)) {
            return false;
        }
        if (sameAddress(literal, local)) {
            return true;
        }
        const QList<QHostAddress> all = QNetworkInterface::allAddresses();
        return std::any_of(all.cbegin(), all.cend(), [&](const QHostAddress &a) { return sameAddress(a, literal); });
    }
    if (bracketed) {
        return false;
    }
    QString name = QString::fromLatin1(host).toLower();
    if (name.endsWith(u'.')) {
        name.chop(1);
    }
    return name == u"localhost" || policy.extraHosts.contains(name);
}

} // namespace

bool adminHostAllowed(QByteArrayView hostHeader, const AdminHostPolicy &policy, const QHostAddress &local)
{
    QByteArray host;
    bool bracketed = false;
    int port = -1;
    return splitHostPort(hostHeader.trimmed(), &host, &bracketed, &port) &&
           hostPartAllowed(host, bracketed, policy, local);
}

bool adminOriginAllowed(QByteArrayView origin, const AdminHostPolicy &policy, const QHostAddress &local)
{
    const QByteArrayView text = origin.trimmed();
    const QByteArrayView scheme = policy.tls ? QByteArrayView("https://") : QByteArrayView("http://");
    if (text.size() <= scheme.size() || text.first(scheme.size()).toByteArray().toLower() != scheme) {
        return false;
    }
    const QByteArrayView authority = text.sliced(scheme.size());
    if (std::any_of(authority.begin(), authority.end(), [](char c) { return c == '/' || c == '@' || c == '?'; })) {
        return false;
    }
    QByteArray host;
    bool bracketed = false;
    int port = -1;
    const int defaultPort = policy.tls ? 443 : 80;
    return splitHostPort(authority, &host, &bracketed, &port) && (port < 0 ? defaultPort : port) == policy.port &&
           hostPartAllowed(host, bracketed, policy, local);
}

QString escapeClientValue(QByteArrayView value)
{
    QString out;
    const QByteArrayView shown = value.first(std::min<qsizetype>(value.size(), 200));
    for (const char c : shown) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f || c == '\\') {
            out += u"\\x%1"_s.arg(byte, 2, 16, QChar(u'0'));
        } else {
            out += QLatin1Char(c);
        }
    }
    if (value.size() > shown.size()) {
        out += u"..."_s;
    }
    return out;
}

namespace {

struct Refusal {
    int status = 0;
    QString message;
};

// One admin connection's gate. A child of its socket; see the comment at the top of the file.
class ConnectionGate final : public QObject
{
public:
    ConnectionGate(QTcpSocket *socket, QObject *http, const AdminHostPolicy &policy, qint64 maxBody,
                   std::chrono::milliseconds headTimeout, std::chrono::milliseconds idleTimeout)
        : QObject(socket)
        , m_socket(socket)
        , m_http(http)
        , m_policy(policy)
        , m_maxBody(maxBody)
        , m_headTimeout(headTimeout)
        , m_idleTimeout(idleTimeout)
    {
        m_timer.setSingleShot(true);
        connect(&m_timer, &QTimer::timeout, this, &ConnectionGate::onTimeout);
        m_timer.start(m_headTimeout);
    }

    // Runs before Qt's readyRead handler.
    void beforeHttp()
    {
        if (m_refused) {
            discardInput();
            return;
        }
        const qint64 available = m_socket->bytesAvailable();
        const qint64 examined = m_seen - m_consumed; // examined earlier, not yet read by Qt's parser
        if (available > examined) {
            const QByteArray bytes = m_socket->peek(available);
            const qint64 fresh = bytes.size() - examined;
            if (fresh > 0) {
                examine(QByteArrayView(bytes).sliced(examined));
            }
        }
        refuseIfDue();
    }

    // Runs after Qt's readyRead handler.
    void afterHttp()
    {
        if (m_refused) {
            return;
        }
        m_consumed = m_seen - m_socket->bytesAvailable();
        refuseIfDue();
    }

private:
    void examine(QByteArrayView bytes)
    {
        qsizetype i = 0;
        while (i < bytes.size() && !m_pending) {
            if (m_bodyLeft > 0) {
                const qsizetype take = static_cast<qsizetype>(std::min<qint64>(m_bodyLeft, bytes.size() - i));
                i += take;
                m_seen += take;
                m_bodyLeft -= take;
                if (m_bodyLeft == 0) {
                    requestDone();
                }
                continue;
            }
            const char c = bytes.at(i++);
            ++m_seen;
            ++m_headBytes;
            // Qt's parser skips whitespace before a request line; so does the gate, within the head limit.
            const bool blank = c == '\r' || c == '\n' || c == ' ' || c == '\t' || c == '\v';
            if (!m_head.isEmpty() || !blank) {
                if (m_head.isEmpty()) {
                    m_timer.start(m_headTimeout); // the request has begun
                }
                m_head.append(c);
            }
            if (m_headBytes > AdminListener::kMaxHeadBytes) {
                refuseAt(m_requestStart, {431, u"request head over %1 bytes"_s.arg(AdminListener::kMaxHeadBytes)});
            } else if (c == '\n' && !m_head.isEmpty() && ++m_headLines >= 2 &&
                       (m_head.endsWith("\n\n") || m_head.endsWith("\n\r\n"))) {
                // The request line ends at the first LF; the head at the first empty line after it (CRLF
                // or LF line ends, as Qt's parser accepts).
                const std::optional<Refusal> refusal = checkHead();
                if (refusal) {
                    refuseAt(m_requestStart, *refusal);
                } else if (m_bodyLeft == 0) {
                    requestDone();
                }
            }
        }
        m_seen += bytes.size() - i; // bytes after a refused head: never parsed, but Qt's reads count them
    }

    void requestDone()
    {
        m_head.clear();
        m_headBytes = 0;
        m_headLines = 0;
        m_requestStart = m_seen; // the next request (and any blank lines before it) starts here
        m_timer.start(m_idleTimeout);
    }

    std::optional<Refusal> checkHead()
    {
        QList<QByteArray> lines = m_head.split('\n');
        for (QByteArray &line : lines) {
            if (line.endsWith('\r')) {
                line.chop(1);
            }
        }
        const QByteArray &requestLine = lines.first();
        const qsizetype firstSpace = requestLine.indexOf(' ');
        const qsizetype lastSpace = requestLine.lastIndexOf(' ');
        if (firstSpace <= 0 || lastSpace <= firstSpace + 1) {
            return Refusal{400, u"malformed request line"_s};
        }
        const QByteArray version = requestLine.mid(lastSpace + 1);
        if (version != "HTTP/1.1" && version != "HTTP/1.0") {
            return version.startsWith("HTTP/") ? Refusal{505, u"only HTTP/1.0 and HTTP/1.1 are served"_s}
                                               : Refusal{400, u"malformed request line"_s};
        }
        QMultiHash<QByteArray, QByteArray> fields;
        int count = 0;
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QByteArray &line = lines.at(i);
            if (line.isEmpty()) {
                continue;
            }
            const qsizetype colon = line.indexOf(':');
            const QByteArray name = colon > 0 ? line.left(colon) : QByteArray();
            if (name.isEmpty() || name.contains(' ') || name.contains('\t') || line.startsWith(' ') ||
                line.startsWith('\t')) {
                return Refusal{400, u"malformed header line"_s};
            }
            if (++count > AdminListener::kMaxHeaderFields) {
                return Refusal{431, u"more than %1 header fields"_s.arg(AdminListener::kMaxHeaderFields)};
            }
            fields.insert(name.toLower(), line.mid(colon + 1).trimmed());
        }
        if (fields.contains("transfer-encoding")) {
            return Refusal{411, u"Transfer-Encoding is not supported by the admin API; send the body with "
                                "Content-Length"_s};
        }
        const QList<QByteArray> lengths = fields.values("content-length");
        qint64 length = 0;
        if (lengths.size() > 1) {
            return Refusal{400, u"more than one Content-Length header"_s};
        }
        if (lengths.size() == 1) {
            const QByteArray &text = lengths.first();
            bool ok = !text.isEmpty() && text.size() <= 18 &&
                      std::all_of(text.begin(), text.end(), [](char d) { return d >= '0' && d <= '9'; });
            length = ok ? text.toLongLong(&ok) : -1;
            if (!ok) {
                return Refusal{400, u"Content-Length '%1' is not a number"_s.arg(escapeClientValue(text))};
            }
            if (length > m_maxBody) {
                return Refusal{413, u"request body over %1 bytes"_s.arg(m_maxBody)};
            }
        }
        const QList<QByteArray> hosts = fields.values("host");
        if (hosts.size() > 1) {
            return Refusal{400, u"more than one Host header"_s};
        }
        if (hosts.isEmpty() && version == "HTTP/1.1") {
            return Refusal{400, u"an HTTP/1.1 request needs a Host header"_s};
        }
        if (!hosts.isEmpty() && !adminHostAllowed(hosts.first(), m_policy, m_socket->localAddress())) {
            const QString host = escapeClientValue(hosts.first());
            qCInfo(lcAdmin).noquote() << "refused a request for host" << host << "from"
                                      << m_socket->peerAddress().toString();
            return Refusal{421, u"the admin API does not serve host '%1'; use its address or localhost, or allow "
                                "the name with --admin-host (\"admin_hosts\" in the config file)"_s.arg(host)};
        }
        const QList<QByteArray> origins = fields.values("origin");
        if (origins.size() > 1 ||
            (origins.size() == 1 && !adminOriginAllowed(origins.first(), m_policy, m_socket->localAddress()))) {
            const QString origin = escapeClientValue(origins.join(", "));
            qCInfo(lcAdmin).noquote() << "refused a cross-origin request from origin" << origin;
            return Refusal{403, u"cross-origin request from '%1' refused: the admin API serves scripts and tools, "
                                "not web pages"_s.arg(origin)};
        }
        if (length > 0) {
            const QByteArray type = fields.value("content-type").split(';').first().trimmed().toLower();
            if (type != "application/json") {
                return Refusal{415, u"a request body must be Content-Type: application/json (got '%1')"_s.arg(
                                        escapeClientValue(fields.value("content-type")))};
            }
        }
        m_bodyLeft = length;
        return std::nullopt;
    }

    void refuseAt(qint64 offset, const Refusal &refusal)
    {
        m_pending = refusal;
        m_refuseAt = offset;
    }

    void refuseIfDue()
    {
        // Earlier pipelined requests are answered first: refuse once Qt's parser has read up to the
        // refused request (never into it: it stops after each complete request).
        if (m_pending && m_consumed >= m_refuseAt) {
            refuseNow(*m_pending);
        }
    }

    void refuseNow(const Refusal &refusal)
    {
        m_refused = true;
        QObject::disconnect(m_socket, &QTcpSocket::readyRead, m_http, nullptr);
        if (m_socket->isTransactionStarted()) {
            m_socket->rollbackTransaction();
        }
        qCDebug(lcAdmin).noquote() << "refused" << refusal.status << refusal.message;
        m_socket->write(errorResponse(refusal.status, refusal.message));
        discardInput();
        m_timer.start(std::min(m_headTimeout, kMaxLinger));
    }

    void discardInput()
    {
        m_discarded += m_socket->skip(m_socket->bytesAvailable());
        if (m_discarded > kLingerBytes) {
            m_socket->abort();
        }
    }

    void onTimeout()
    {
        if (m_refused) {
            m_socket->disconnectFromHost(); // end of the linger
        } else if (!m_head.isEmpty() || m_bodyLeft > 0) {
            m_pending.reset();
            refuseNow({408, u"the request was not complete within %1 ms"_s.arg(m_headTimeout.count())});
        } else {
            m_socket->disconnectFromHost(); // idle keep-alive, or a connection that never sent a request
        }
    }

    QTcpSocket *m_socket;
    QObject *m_http;
    const AdminHostPolicy m_policy;
    const qint64 m_maxBody;
    const std::chrono::milliseconds m_headTimeout;
    const std::chrono::milliseconds m_idleTimeout;
    QTimer m_timer;
    QByteArray m_head;         // the current request head, from its first non-blank byte
    qsizetype m_headBytes = 0; // bytes toward the head limit, leading blanks included
    qint64 m_bodyLeft = 0;     // declared body bytes still to come
    qint64 m_seen = 0;         // stream bytes examined
    qint64 m_consumed = 0;     // stream bytes Qt's parser has read
    int m_headLines = 0;       // LFs in m_head
    qint64 m_requestStart = 0; // stream offset where the current request (with blank lines before it) starts
    qint64 m_refuseAt = -1;
    std::optional<Refusal> m_pending;
    bool m_refused = false;
    qint64 m_discarded = 0;
};

} // namespace

AdminListener::AdminListener(QObject *http, AdminHostPolicy policy, qint64 maxBodyBytes, QObject *parent)
    : QTcpServer(parent)
    , m_http(http)
    , m_policy(std::move(policy))
    , m_maxBodyBytes(maxBodyBytes)
{}

void AdminListener::setTimeouts(std::chrono::milliseconds head, std::chrono::milliseconds idle)
{
    m_headTimeout = head;
    m_idleTimeout = idle;
}

void AdminListener::incomingConnection(qintptr descriptor)
{
    if (m_connections >= kMaxConnections) {
        refuseOverCap(descriptor);
        return;
    }
    QTcpSocket *socket = m_tls ? new QSslSocket(this) : new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        net::closeDescriptor(descriptor);
        return;
    }
    // Qt's parser keeps a whole request in the socket buffer; nothing legitimate needs more (with TLS
    // this also bounds what a client can pile up during the handshake).
    socket->setReadBufferSize(kMaxHeadBytes + m_maxBodyBytes + 64 * 1024);
    ++m_connections;
    connect(socket, &QObject::destroyed, this, [this] {
        --m_connections;
        if (m_capBurst && m_connections < kMaxConnections) {
            qCWarning(lcAdmin) << "admin connection limit: refused" << m_capRefused << "connections while at"
                               << kMaxConnections;
            m_capBurst = false;
            m_capRefused = 0;
        }
    });
    if (!m_tls) {
        handOver(socket);
        return;
    }
    // TLS: the gate and Qt's parser see the connection once its session is up (decrypted bytes only).
    QPointer<AdminListener> self(this);
    beginAdminHandshake(static_cast<QSslSocket *>(socket), *m_tls, m_headTimeout,
                        {[self](QSslSocket *encrypted) {
                             if (self) {
                                 self->handOver(encrypted);
                             }
                         },
                         [self](const QHostAddress &peer) {
                             if (self) {
                                 self->logPlainHttp(peer);
                             }
                         }});
}

void AdminListener::handOver(QTcpSocket *socket)
{
    auto *gate = new ConnectionGate(socket, m_http, m_policy, m_maxBodyBytes, m_headTimeout, m_idleTimeout);
    connect(socket, &QTcpSocket::readyRead, gate, &ConnectionGate::beforeHttp);
    addPendingConnection(socket); // QAbstractHttpServer takes the socket and connects its handler here
    connect(socket, &QTcpSocket::readyRead, gate, &ConnectionGate::afterHttp);
    if (hasPendingConnections()) {
        // Not taken synchronously (not Qt 6.4's behaviour): the gate's order would not hold.
        qCCritical(lcAdmin) << "admin listener: the HTTP server did not take the connection; closing it";
        QTcpSocket *untaken = nextPendingConnection();
        untaken->abort();
        untaken->deleteLater();
        return;
    }
    if (socket->bytesAvailable() > 0) {
        // A request decrypted together with the end of the handshake: read as if it arrived now.
        QMetaObject::invokeMethod(
            socket, [socket] { emit socket->readyRead(); }, Qt::QueuedConnection);
    }
}

void AdminListener::logPlainHttp(const QHostAddress &peer)
{
    constexpr qsizetype kMaxRemembered = 1024;
    const QString address = peer.toString();
    if (m_plainHttpPeers.contains(address)) {
        return;
    }
    if (m_plainHttpPeers.size() >= kMaxRemembered) {
        m_plainHttpPeers.clear();
    }
    m_plainHttpPeers.insert(address);
    qCWarning(lcAdmin).noquote() << "plain HTTP sent to the admin API's TLS port from" << address
                                 << "- answered 400 (use https://); logged once per address";
}

void AdminListener::refuseOverCap(qintptr descriptor)
{
    if (m_tls) {
        // A plain 503 would be garbage to a TLS client, and a handshake per refusal is what the cap saves.
        net::closeDescriptor(descriptor);
        if (!m_capBurst) {
            m_capBurst = true;
            qCWarning(lcAdmin) << "admin connection limit of" << kMaxConnections << "reached; closing new connections";
        }
        ++m_capRefused;
        return;
    }
    auto *socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        net::closeDescriptor(descriptor);
        return;
    }
    if (!m_capBurst) {
        m_capBurst = true;
        qCWarning(lcAdmin) << "admin connection limit of" << kMaxConnections
                           << "reached; refusing new connections with 503";
    }
    ++m_capRefused;
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    socket->write(errorResponse(503, u"too many admin connections (limit %1); try again later"_s.arg(kMaxConnections)));
    socket->disconnectFromHost();
}

} // namespace wsserve
