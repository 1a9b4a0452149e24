// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

namespace wsserve {
class Incoming;
struct HttpRequestHead;
} // namespace wsserve

namespace wsserve::web {

class SiteDirectory;

// The game port's pages: every request whose path is not under /socket/ (the endpoint hands it over
// once its head is read). Serves the index (/), the instance list (/instances.json), a page per
// instance (/i/<id>/, by type), the built-in assets (/static/...), a QR code (/qr.svg) and each
// instance's web_root (/play/<id>/...). GET and HEAD; ETag/If-None-Match, gzip when accepted; every
// answer closes the connection. Thread: the endpoint thread (the sockets' thread).
class PageServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PageServer)

public:
    // A request refused on purpose (a path leading out of web_root): instance id, address, status, reason.
    using RefusalLog = std::function<void(const QString &, const QString &, int, const QString &)>;

    PageServer(std::shared_ptr<SiteDirectory> directory, RefusalLog log, QObject *parent = nullptr);
    ~PageServer() override;

    // Files up to this size are read whole (and gzipped when worth it); larger ones are streamed.
    static constexpr qint64 kWholeFileBytes = 256 * 1024;
    static constexpr qint64 kStreamChunkBytes = 64 * 1024;
    // An answer whose reader takes nothing for this long is aborted (the file closed, the connection
    // freed): a stalled reader never keeps a download open. Tests shorten it (process-wide).
    static constexpr int kDefaultStallTimeoutMs = 30000;
    static void setStallTimeoutMs(int milliseconds);
    static int stallTimeoutMs();

    // Answers the request on `socket` (its head read; plain or TLS), writing through the connection's byte
    // sink; the connection closes and deletes itself once the answer is out or the peer goes away.
    void serve(Incoming *socket, const HttpRequestHead &head);

private:
    struct Response {
        int status = 200;
        QByteArray contentType;
        QByteArray body;
        QByteArray gzipped; // precomputed gzip of body (assets), else made on demand
        QByteArray etag;    // quoted; empty: none
        QByteArray cacheControl = "no-cache";
        QByteArray extraHeaders;
    };
    struct Asset {
        QByteArray body;
        QByteArray gzipped;
        QByteArray etag;
        QByteArray contentType;
    };
    const Asset *asset(const QString &name); // a file of :/web, cached; nullptr when absent
    void respond(Incoming *socket, const HttpRequestHead &head, Response response);
    void respondAsset(Incoming *socket, const HttpRequestHead &head, const QString &name);
    void notFound(Incoming *socket, const HttpRequestHead &head);
    void serveInstanceList(Incoming *socket, const HttpRequestHead &head);
    void serveInstancePage(Incoming *socket, const HttpRequestHead &head, const QString &id);
    void serveQrCode(Incoming *socket, const HttpRequestHead &head);
    void servePlay(Incoming *socket, const HttpRequestHead &head);
    void streamFile(Incoming *socket, const HttpRequestHead &head, const QString &path, const QByteArray &etag,
                    const QString &instanceId);
    // Aborts `socket` when its answer makes no progress for stallTimeoutMs(); `what` names it in the log.
    void watchStall(Incoming *socket, const QString &what, const QString &instanceId = {});

    std::shared_ptr<SiteDirectory> m_directory;
    RefusalLog m_log;
    QHash<QString, Asset> m_assets;
};

} // namespace wsserve::web
