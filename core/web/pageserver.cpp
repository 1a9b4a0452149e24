// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "pageserver.h"

#include "endpoint/httprequesthead.h"
#include "endpoint/incoming.h"
#include "gzip.h"
#include "http/httpresponse.h"
#include "logging.h"
#include "qrcode.h"
#include "sitedirectory.h"
#include "webroot.h"

#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTimer>
#include <QUrlQuery>

#include <atomic>

namespace wsserve::web {

namespace {
constexpr qsizetype kMinGzipBytes = 512; // smaller answers are not worth a gzip header
std::atomic<int> g_stallTimeoutMs{PageServer::kDefaultStallTimeoutMs};

QByteArray strongEtag(const QByteArray &content)
{
    return '"' + QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex().left(20) + '"';
}

// The gzip variant of a representation has its own tag (RFC 9110 8.8.3: a strong tag per representation).
QByteArray gzipEtag(const QByteArray &etag)
{
    return etag.isEmpty() ? etag : etag.chopped(1) + "-gz\"";
}

bool etagMatches(const QByteArray &ifNoneMatch, const QByteArray &etag)
{
    if (ifNoneMatch.isNull() || etag.isEmpty()) {
        return false;
    }
    for (QByteArray token : ifNoneMatch.split(',')) {
        token = token.trimmed();
        if (token.startsWith("W/")) {
            token = token.mid(2); // If-None-Match compares weakly (RFC 9110 13.1.2)
        }
        if (token == "*" || token == etag || token == gzipEtag(etag)) {
            return true;
        }
    }
    return false;
}

// /i/<id>/ and /play/<id>/...: the id, checked like instance ids.
const QRegularExpression &instancePathPattern()
{
    static const QRegularExpression pattern(QStringLiteral("^/(i|play)/([A-Za-z0-9_-]{1,64})(/.*)?$"));
    return pattern;
}

QString pageForType(const QString &type)
{
    if (type == u"chat" || type == u"relay") {
        return QStringLiteral("chat.html");
    }
    if (type == u"tictactoe") {
        return QStringLiteral("tictactoe.html");
    }
    return QStringLiteral("console.html"); // echo, chaos, realtime, script types: a channel console
}

} // namespace

PageServer::PageServer(std::shared_ptr<SiteDirectory> directory, RefusalLog log, QObject *parent)
    : QObject(parent)
    , m_directory(std::move(directory))
    , m_log(std::move(log))
{}

PageServer::~PageServer() = default;

const PageServer::Asset *PageServer::asset(const QString &name)
{
    if (const auto it = m_assets.constFind(name); it != m_assets.cend()) {
        return &*it;
    }
    QFile file(QStringLiteral(":/web/") + name);
    if (name.contains(QLatin1Char('/')) || !file.open(QIODevice::ReadOnly)) {
        return nullptr;
    }
    Asset entry;
    entry.body = file.readAll();
    entry.contentType = contentTypeForFile(name);
    entry.etag = strongEtag(entry.body);
    if (isCompressible(entry.contentType) && entry.body.size() >= kMinGzipBytes) {
        entry.gzipped = gzipCompress(entry.body);
    }
    return &*m_assets.insert(name, std::move(entry));
}

void PageServer::serve(Incoming *socket, const HttpRequestHead &head)
{
    if (head.method != "GET" && head.method != "HEAD") {
        respond(socket, head,
                Response{405,
                         "text/plain; charset=utf-8",
                         "method " + printableText(QString::fromLatin1(head.method)).toUtf8() +
                             " not allowed; pages answer GET and HEAD\n",
                         {},
                         {},
                         "no-store",
                         "Allow: GET, HEAD\r\n"});
        return;
    }
    const QByteArray &path = head.path;
    if (path == "/" || path == "/index.html") {
        respondAsset(socket, head, QStringLiteral("index.html"));
        return;
    }
    if (path == "/instances.json") {
        serveInstanceList(socket, head);
        return;
    }
    if (path == "/qr.svg") {
        serveQrCode(socket, head);
        return;
    }
    if (path.startsWith("/static/")) {
        const QString name = QString::fromUtf8(path.mid(8));
        if (!name.isEmpty() && asset(name) && !name.endsWith(u".html")) {
            respondAsset(socket, head, name);
            return;
        }
        notFound(socket, head);
        return;
    }
    const QRegularExpressionMatch match = instancePathPattern().match(QString::fromUtf8(path));
    if (match.hasMatch() && match.captured(1) == u"i") {
        serveInstancePage(socket, head, match.captured(2));
        return;
    }
    if (match.hasMatch()) {
        servePlay(socket, head);
        return;
    }
    notFound(socket, head);
}

void PageServer::respond(Incoming *socket, const HttpRequestHead &head, Response response)
{
    QByteArray headers;
    const bool compressible = isCompressible(response.contentType) && response.body.size() >= kMinGzipBytes;
    if (response.status == 200 && etagMatches(head.header("if-none-match"), response.etag)) {
        headers = "HTTP/1.1 304 Not Modified\r\nETag: " + response.etag +
                  "\r\nCache-Control: " + response.cacheControl + (compressible ? "\r\nVary: Accept-Encoding" : "") +
                  "\r\nConnection: close\r\n\r\n";
        socket->write(headers);
        socket->closeWhenWritten();
        return;
    }
    QByteArray body = std::move(response.body);
    QByteArray etag = response.etag;
    QByteArray encoding;
    if (compressible && acceptsGzip(head.header("accept-encoding"))) {
        QByteArray gzipped = response.gzipped.isEmpty() ? gzipCompress(body) : response.gzipped;
        if (!gzipped.isEmpty() && gzipped.size() < body.size()) {
            body = std::move(gzipped);
            etag = gzipEtag(etag);
            encoding = "Content-Encoding: gzip\r\n";
        }
    }
    headers = "HTTP/1.1 " + QByteArray::number(response.status) + ' ' + httpReasonPhrase(response.status) +
              "\r\nContent-Type: " + response.contentType + "\r\nContent-Length: " + QByteArray::number(body.size()) +
              "\r\nCache-Control: " + response.cacheControl + "\r\n" + encoding +
              (compressible ? "Vary: Accept-Encoding\r\n" : "") +
              (etag.isEmpty() ? QByteArray() : QByteArray("ETag: " + etag + "\r\n")) +
              "X-Content-Type-Options: nosniff\r\nConnection: close\r\n" + response.extraHeaders + "\r\n";
    socket->write(head.method == "HEAD" ? headers : headers + body);
    watchStall(socket, printableText(QString::fromLatin1(head.target)));
    socket->closeWhenWritten();
}

void PageServer::respondAsset(Incoming *socket, const HttpRequestHead &head, const QString &name)
{
    const Asset *entry = asset(name);
    if (!entry) {
        notFound(socket, head);
        return;
    }
    // no-cache: the browser keeps the file and asks each time; the ETag makes that a bodiless 304.
    respond(socket, head, Response{200, entry->contentType, entry->body, entry->gzipped, entry->etag, "no-cache", {}});
}

void PageServer::notFound(Incoming *socket, const HttpRequestHead &head)
{
    const Asset *page = asset(QStringLiteral("404.html"));
    respond(socket, head,
            Response{404,
                     "text/html; charset=utf-8",
                     page ? page->body : QByteArray("<h1>Not found</h1>\n"),
                     page ? page->gzipped : QByteArray(),
                     {},
                     "no-store",
                     {}});
}

void PageServer::serveInstanceList(Incoming *socket, const HttpRequestHead &head)
{
    QJsonArray list;
    for (const SiteInstance &instance : m_directory->instances()) {
        list.append(QJsonObject{
            {QStringLiteral("id"), instance.id},
            {QStringLiteral("type"), instance.type},
            {QStringLiteral("state"), instance.state},
            {QStringLiteral("clients"), instance.clients},
            {QStringLiteral("page"), QStringLiteral("/i/%1/").arg(instance.id)},
            {QStringLiteral("socket"), QStringLiteral("/socket/%1").arg(instance.id)},
            {QStringLiteral("play"),
             instance.webRoot.isEmpty() ? QJsonValue() : QJsonValue(QStringLiteral("/play/%1/").arg(instance.id))},
        });
    }
    const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("host"), m_directory->hostName()},
                                                      {QStringLiteral("instances"), list}})
                                .toJson(QJsonDocument::Compact);
    respond(socket, head, Response{200, "application/json", body, {}, strongEtag(body), "no-cache", {}});
}

void PageServer::serveInstancePage(Incoming *socket, const HttpRequestHead &head, const QString &id)
{
    const std::optional<SiteInstance> instance = m_directory->find(id);
    if (!instance) {
        notFound(socket, head);
        return;
    }
    respondAsset(socket, head, pageForType(instance->type));
}

void PageServer::serveQrCode(Incoming *socket, const HttpRequestHead &head)
{
    const QString text =
        QUrlQuery(QString::fromUtf8(head.query)).queryItemValue(QStringLiteral("text"), QUrl::FullyDecoded);
    const QByteArray svg = qrSvg(text.toUtf8());
    if (svg.isEmpty()) {
        respond(socket, head,
                Response{400,
                         "text/plain; charset=utf-8",
                         "give the text to encode as ?text= (1 to " + QByteArray::number(kMaxQrTextBytes) + " bytes)\n",
                         {},
                         {},
                         "no-store",
                         {}});
        return;
    }
    respond(socket, head, Response{200, "image/svg+xml", svg, {}, strongEtag(svg), "max-age=3600", {}});
}

void PageServer::servePlay(Incoming *socket, const HttpRequestHead &head)
{
    // Resolved from the target as sent (percent-encoded), so "%2e%2e" is seen for what it is.
    const qsizetype question = head.target.indexOf('?');
    const QByteArray rawPath = question < 0 ? head.target : head.target.left(question);
    static const QRegularExpression prefix(QStringLiteral("^/play/([A-Za-z0-9_-]{1,64})(/?)"));
    const QRegularExpressionMatch match = prefix.match(QString::fromLatin1(rawPath));
    const std::optional<SiteInstance> instance = match.hasMatch() ? m_directory->find(match.captured(1)) : std::nullopt;
    if (!instance || instance->webRoot.isEmpty()) {
        notFound(socket, head);
        return;
    }
    if (match.captured(2).isEmpty()) { // /play/<id>: relative URLs in the game need the slash
        respond(socket, head,
                Response{301,
                         "text/plain; charset=utf-8",
                         "moved\n",
                         {},
                         {},
                         "no-store",
                         "Location: /play/" + instance->id.toUtf8() + "/\r\n"});
        return;
    }
    const WebRootFile file = resolveWebRootFile(instance->webRoot, rawPath.mid(match.capturedLength(0)));
    if (file.result != WebRootFile::Result::Found) {
        const QString reason = QStringLiteral("/play/%1/: %2").arg(instance->id, printableText(file.reason));
        if (file.result == WebRootFile::Result::Refused) {
            qCWarning(lcEndpoint).noquote() << "refused" << printableText(QString::fromLatin1(rawPath)) << "from"
                                            << socket->peerAddress().toString() << "-" << reason;
            if (m_log) {
                m_log(instance->id, socket->peerAddress().toString(), 404, reason);
            }
        }
        notFound(socket, head);
        return;
    }
    const QFileInfo info(file.filePath);
    const QByteArray etag = '"' + QByteArray::number(info.size(), 16) + '-' +
                            QByteArray::number(info.lastModified().toMSecsSinceEpoch(), 16) + '"';
    if (info.size() > kWholeFileBytes) {
        streamFile(socket, head, file.filePath, etag, instance->id);
        return;
    }
    QFile whole(file.filePath);
    if (!whole.open(QIODevice::ReadOnly)) {
        notFound(socket, head);
        return;
    }
    respond(socket, head, Response{200, contentTypeForFile(file.filePath), whole.readAll(), {}, etag, "no-cache", {}});
}

void PageServer::setStallTimeoutMs(int milliseconds)
{
    g_stallTimeoutMs.store(milliseconds, std::memory_order_relaxed);
}

int PageServer::stallTimeoutMs()
{
    return g_stallTimeoutMs.load(std::memory_order_relaxed);
}

void PageServer::watchStall(Incoming *socket, const QString &what, const QString &instanceId)
{
    auto *timer = new QTimer(socket); // goes with the connection
    timer->setSingleShot(true);
    timer->setInterval(stallTimeoutMs());
    connect(socket, &Incoming::bytesWritten, timer, qOverload<>(&QTimer::start)); // progress: the clock restarts
    connect(timer, &QTimer::timeout, socket, [this, socket, what, instanceId] {
        const QString address = socket->peerAddress().toString();
        const QString reason =
            QStringLiteral("%1: the reader took nothing for %2 s; closed").arg(what).arg(stallTimeoutMs() / 1000.0);
        qCInfo(lcEndpoint).noquote() << "page answer to" << address << "stalled -" << reason;
        if (m_log && !instanceId.isEmpty()) {
            m_log(instanceId, address, 408, reason);
        }
        socket->abort(); // frees the connection and, with it, an open file
    });
    timer->start();
}

void PageServer::streamFile(Incoming *socket, const HttpRequestHead &head, const QString &path, const QByteArray &etag,
                            const QString &instanceId)
{
    auto *file = new QFile(path, socket); // goes with the socket
    if (!file->open(QIODevice::ReadOnly)) {
        delete file;
        notFound(socket, head);
        return;
    }
    if (etagMatches(head.header("if-none-match"), etag)) {
        respond(socket, head, Response{200, contentTypeForFile(path), {}, {}, etag, "no-cache", {}});
        return;
    }
    socket->write("HTTP/1.1 200 OK\r\nContent-Type: " + contentTypeForFile(path) + "\r\nContent-Length: " +
                  QByteArray::number(file->size()) + "\r\nCache-Control: no-cache\r\nETag: " + etag +
                  "\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n");
    if (head.method == "HEAD") {
        socket->closeWhenWritten();
        return;
    }
    // At most two chunks queued in the socket at a time: memory stays flat whatever the file's size.
    const auto pump = [socket, file] {
        while (file->isOpen() && socket->bytesToWrite() < 2 * kStreamChunkBytes) {
            const QByteArray chunk = file->read(kStreamChunkBytes);
            if (!chunk.isEmpty()) {
                socket->write(chunk);
            }
            if (chunk.isEmpty() || file->atEnd()) {
                file->close();
                QObject::disconnect(socket, &Incoming::bytesWritten, file, nullptr);
                socket->closeWhenWritten();
            }
        }
    };
    connect(socket, &Incoming::bytesWritten, file, pump); // the sink drained some: the next chunks
    watchStall(socket, QStringLiteral("/play/%1/%2").arg(instanceId, QFileInfo(path).fileName()), instanceId);
    pump();
}

} // namespace wsserve::web
