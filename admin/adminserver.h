// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QAbstractHttpServer>
#include <QHostAddress>
#include <QJsonObject>

class QTcpServer;

namespace wsserve {

class ServerController;

// The admin HTTP API: JSON endpoints over the same facade the GUI and CLI use, plus Prometheus
// /metrics and /healthz (README "Admin HTTP API" lists every route). Served by Qt HTTP Server.
// Off loopback it needs a bearer token, compared in constant time.
// Thread: main thread (it calls the facade directly).
class AdminServer final : public QAbstractHttpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminServer)

public:
    static constexpr qsizetype kMaxBodyBytes = 1024 * 1024;

    AdminServer(ServerController &controller, QString token, QObject *parent = nullptr);
    ~AdminServer() override;

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
    Reply broadcast(const QString &id, const QHttpServerRequest &request);
    Reply health() const;
    QByteArray metrics() const;
    QJsonObject instanceJson(const QString &id) const;
    bool authorized(const QHttpServerRequest &request) const;

    ServerController &m_controller;
    QString m_token;
    QTcpServer *m_listener = nullptr;
};

} // namespace wsserve
