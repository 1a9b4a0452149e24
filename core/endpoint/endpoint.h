// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "telemetry/connectionevent.h"

#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QObject>
#include <QSet>

#include <memory>

class QRegularExpressionMatch;
class QTcpServer;
class QTimer;

namespace wsserve {

class Incoming;
class RouteTable;
struct HttpRequestHead;
struct UpgradeRequest;
namespace web {
class PageServer;
class SiteDirectory;
} // namespace web
namespace net {
class AcceptGuard;
class ListenerHealth;
class TlsContext;
} // namespace net

// The one TCP listener. Reads each request head without consuming it, answers what is not an upgrade to
// a running instance with a plain HTTP status, and hands the rest to the instance's thread. With a TLS
// context the handshake and the head are read through TLS here (Incoming), and the descriptor goes to the
// instance with its session attached.
// Thread: lives in the endpoint thread; call listen()/close() queued.
class Endpoint final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Endpoint)

public:
    Endpoint(std::shared_ptr<RouteTable> routes, std::shared_ptr<net::ListenerHealth> health,
             QObject *parent = nullptr);
    ~Endpoint() override;

    static constexpr int kHeadTimeoutMs = 10000;

    void listen(const QHostAddress &address, quint16 port);
    void close();
    // Serves the pages (core/web) for requests whose path is not under /socket/; without it they get 404.
    // Call before the endpoint moves to its thread.
    void setSite(std::shared_ptr<web::SiteDirectory> site);
    // TLS for connections accepted from now on (null: plain). Connections already in progress keep theirs.
    void setTlsContext(std::shared_ptr<const net::TlsContext> context);

Q_SIGNALS:
    void listening(const QHostAddress &address, quint16 port);
    void listenFailed(const QString &error);
    // Refused attempts (the HTTP status and the reason sent), at most every 250 ms, bounded per batch.
    void connectionEvents(const wsserve::ConnectionEventBatch &batch);

private:
    void onAccepted(qintptr fd);
    void onReadyRead(Incoming *socket);
    void onTlsFailed(Incoming *socket, const QString &reason);
    void route(Incoming *socket, const HttpRequestHead &head, qsizetype headSize);
    // /socket/<id>/longpoll and /socket/<id>/api/...: plain HTTP requests for the instance.
    void routeHttp(Incoming *socket, const HttpRequestHead &head, qsizetype headSize,
                   const QRegularExpressionMatch &match);
    // Takes the descriptor (and the body) out of the socket and queues the request to its instance.
    void handOver(Incoming *socket, UpgradeRequest &request, qsizetype headSize, qsizetype bodyBytes);
    void reject(Incoming *socket, int status, const QString &body, const QByteArray &extraHeaders = {},
                const QString &instanceId = {});
    void logRefusal(const QString &instanceId, const QString &address, int status, const QString &reason);
    void publishLog();
    void sweep();

    std::shared_ptr<RouteTable> m_routes;
    std::shared_ptr<net::ListenerHealth> m_health;
    QTcpServer *m_server = nullptr; // binds and listens; accepting is m_acceptor's
    net::AcceptGuard *m_acceptor = nullptr;
    web::PageServer *m_pages = nullptr; // child; nullptr: no pages
    QTimer *m_sweepTimer = nullptr;
    QTimer *m_logTimer = nullptr; // publishes m_log; runs only while something is waiting
    ConnectionEventBatch m_log;
    struct PendingHead {
        qint64 acceptedMs = 0;
        bool routing = false; // head complete; routing is queued
    };
    QHash<Incoming *, PendingHead> m_pending; // until the socket is handed over or answered
    QElapsedTimer m_clock;
    std::shared_ptr<const net::TlsContext> m_tls;
    QSet<QString> m_tlsWarned; // peers whose TLS failures were logged (once each; bounded)
};

} // namespace wsserve
