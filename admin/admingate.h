// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QHostAddress>
#include <QSet>
#include <QSslConfiguration>
#include <QStringList>
#include <QTcpServer>

#include <chrono>
#include <optional>

class QTcpSocket;

namespace wsserve {

// What the gate accepts as "this admin API" in Host and Origin headers.
struct AdminHostPolicy {
    QHostAddress bound;     // the listen address (Any / AnyIPv4 / AnyIPv6: every local IP literal)
    quint16 port = 0;       // the listening port (an Origin must carry it)
    QStringList extraHosts; // --admin-host names and literals, lower case
    bool tls = false;       // served over https:// (the Origin's scheme)
};

// True when a Host header value (name or IP literal, optional ":port") names this admin API:
// the bound IP literal (any local one when bound to a wildcard), "localhost", or an --admin-host entry.
// `local` is the address the connection arrived on.
bool adminHostAllowed(QByteArrayView hostHeader, const AdminHostPolicy &policy, const QHostAddress &local);

// True when an Origin header value is the admin API's own origin: "http://HOST:PORT" (with policy.tls,
// "https://HOST:PORT") with HOST allowed by adminHostAllowed and PORT the listening port (80, or 443 with
// TLS, when absent).
bool adminOriginAllowed(QByteArrayView origin, const AdminHostPolicy &policy, const QHostAddress &local);

// A client value made safe for a log line or a JSON error: at most 200 bytes, printable ASCII only,
// everything else (CR, LF, controls, non-ASCII) as \xHH.
QString escapeClientValue(QByteArrayView value);

// The admin API's TCP listener. Every accepted socket passes through a per-connection gate that
// sees each byte before QAbstractHttpServer does; see admingate.cpp for how and why.
// Thread: main thread.
class AdminListener final : public QTcpServer
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminListener)

public:
    static constexpr int kMaxConnections = 64;
    static constexpr qsizetype kMaxHeadBytes = 8 * 1024;
    static constexpr int kMaxHeaderFields = 100; // QHttpHeaderParser drops all headers past this
    static constexpr std::chrono::milliseconds kHeadTimeout{10000};
    static constexpr std::chrono::milliseconds kIdleTimeout{30000};

    // `http` is the QAbstractHttpServer that takes the sockets (its readyRead handler has it as context).
    AdminListener(QObject *http, AdminHostPolicy policy, qint64 maxBodyBytes, QObject *parent = nullptr);

    void setPort(quint16 port) { m_policy.port = port; }
    // Time allowed for a request head plus its declared body, and for an idle keep-alive connection.
    void setTimeouts(std::chrono::milliseconds head, std::chrono::milliseconds idle);
    int connectionCount() const { return m_connections; }
    // Serve TLS (admintls.h) on connections accepted from now on; before listening, or on a reload.
    void setTls(const QSslConfiguration &configuration) { m_tls = configuration; }
    // A connection accepted on this listener's descriptor (by net::AcceptGuard): gated, then handed over.
    void takeConnection(qintptr descriptor) { incomingConnection(descriptor); }

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void refuseOverCap(qintptr descriptor);
    // Puts the gate in front of the socket and gives it to QAbstractHttpServer.
    void handOver(QTcpSocket *socket);
    void logPlainHttp(const QHostAddress &peer);

    QObject *m_http;
    AdminHostPolicy m_policy;
    qint64 m_maxBodyBytes;
    std::chrono::milliseconds m_headTimeout = kHeadTimeout;
    std::chrono::milliseconds m_idleTimeout = kIdleTimeout;
    int m_connections = 0;
    bool m_capBurst = false;
    int m_capRefused = 0;
    std::optional<QSslConfiguration> m_tls;
    QSet<QString> m_plainHttpPeers; // peers already logged for plain HTTP on the TLS port
};

} // namespace wsserve
