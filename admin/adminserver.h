// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QAbstractHttpServer>
#include <QHostAddress>
#include <QJsonObject>
#include <QStringList>

#include <chrono>
#include <memory>

class QFileSystemWatcher;

namespace wsserve {

class AdminListener;
struct AdminTls;
class ServerController;

// The admin HTTP API: JSON endpoints over the same facade the GUI and CLI use, plus Prometheus
// /metrics and /healthz (README "Admin HTTP API" lists every route). Served by Qt HTTP Server.
// Off loopback it needs a bearer token, compared in constant time. Every connection passes a gate
// (admingate.h) that refuses cross-origin requests, foreign Host names, non-JSON bodies, oversized heads
// and bodies (before reading them), slow or idle connections, and connections over a cap.
// Thread: main thread (it calls the facade directly).
class AdminServer final : public QAbstractHttpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminServer)

public:
    static constexpr qsizetype kMaxBodyBytes = 1024 * 1024;

    AdminServer(ServerController &controller, QString token, QObject *parent = nullptr);
    ~AdminServer() override;

    // Extra names (or IP literals) accepted in Host and Origin headers, from --admin-host; lower case.
    // Call before listen().
    void setAllowedHosts(const QStringList &hosts) { m_allowedHosts = hosts; }
    // Time allowed for a request head plus its body, and for an idle keep-alive connection (tests shorten them).
    void setTimeouts(std::chrono::milliseconds head, std::chrono::milliseconds idle);

    // https:// with this PEM pair (admintls.h): checked as the game port's certificate is (errors name the
    // file and the problem), reloaded when the files change. Call before listen().
    bool enableTls(const QString &certFile, const QString &keyFile, QString *error);
    bool isTls() const;
    QString tlsFingerprint() const; // SHA-256 of the certificate in use, "AB:CD:..."
    QString tlsCertFile() const;

    // Binds the listener. A non-loopback address without a token is refused; `error` says why.
    bool listen(const QHostAddress &address, quint16 port, QString *error);
    quint16 port() const;

    // True for 127.0.0.0/8, ::1 and the "localhost" forms.
    static bool isLoopback(const QHostAddress &address);

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    struct Reply;
    Reply dispatch(const QHttpServerRequest &request);
    Reply instancesRoute(const QHttpServerRequest &request, const QStringList &segments);
    Reply createInstance(const QHttpServerRequest &request);
    // PATCH /api/instances/ID {"options": {...}}: ServerController::updateInstanceOptions().
    Reply updateInstance(const QString &id, const QHttpServerRequest &request);
    Reply broadcast(const QString &id, const QHttpServerRequest &request);
    // GET: the topics with counts, or with ?topic=T[&since=MS][&limit=N] the stored messages; DELETE: clears.
    Reply history(const QString &id, const QHttpServerRequest &request);
    // adminblocks.cpp: DELETE .../clients/CID (kick, ?reason=, ?block_minutes=); GET/DELETE .../blocks[/ADDRESS].
    Reply kick(const QString &id, const QString &client, const QHttpServerRequest &request);
    Reply blocks(const QString &id, const QStringList &rest, const QHttpServerRequest &request);
    Reply mintToken(const QString &id, const QHttpServerRequest &request);
    Reply health() const;
    // admincluster.cpp
    QJsonObject clusterJson() const;
    QByteArray metrics() const;
    QJsonObject instanceJson(const QString &id) const;
    bool authorized(const QHttpServerRequest &request) const;
    void reloadTls(); // admintls.cpp

    ServerController &m_controller;
    QString m_token;
    QStringList m_allowedHosts;
    std::chrono::milliseconds m_headTimeout;
    std::chrono::milliseconds m_idleTimeout;
    AdminListener *m_listener = nullptr;
    std::unique_ptr<AdminTls> m_tls;
    QFileSystemWatcher *m_tlsWatcher = nullptr;
};

} // namespace wsserve
