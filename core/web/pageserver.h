// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

class QTcpSocket;

namespace wsserve {
struct HttpRequestHead;
}

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

    // Answers the request on `socket`, which it then owns: written, closed and deleted.
    void serve(QTcpSocket *socket, const HttpRequestHead &head);

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
    void respond(QTcpSocket *socket, const HttpRequestHead &head, Response response);
    void respondAsset(QTcpSocket *socket, const HttpRequestHead &head, const QString &name);
    void notFound(QTcpSocket *socket, const HttpRequestHead &head);
    void serveInstanceList(QTcpSocket *socket, const HttpRequestHead &head);
    void serveInstancePage(QTcpSocket *socket, const HttpRequestHead &head, const QString &id);
    void serveQrCode(QTcpSocket *socket, const HttpRequestHead &head);
    void servePlay(QTcpSocket *socket, const HttpRequestHead &head);
    void streamFile(QTcpSocket *socket, const HttpRequestHead &head, const QString &path, const QByteArray &etag);

    std::shared_ptr<SiteDirectory> m_directory;
    RefusalLog m_log;
    QHash<QString, Asset> m_assets;
};

} // namespace wsserve::web
