// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QHostAddress>
#include <QStringList>
#include <QTcpServer>

#include <chrono>

class QTcpSocket;

namespace wsserve {

// What the gate accepts as "this admin API" in Host and Origin headers.
struct AdminHostPolicy {
    QHostAddress bound;     // the listen address (Any / AnyIPv4 / AnyIPv6: every local IP literal)
    quint16 port = 0;       // the listening port (an Origin must carry it)
    QStringList extraHosts; // --admin-host names and literals, lower case
};

// True when a Host header value (name or IP literal, optional ":port") names this admin API:
// the bound IP literal (any local one when bound to a wildcard), "localhost", or an --admin-host entry.
// `local` is the address the connection arrived on.
bool adminHostAllowed(QByteArrayView hostHeader, const AdminHostPolicy &policy, const QHostAddress &local);

// True when an Origin header value is the admin API's own origin: "http://HOST:PORT" with HOST
// allowed by adminHostAllowed and PORT the listening port (80 when absent).
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
    // A connection accepted on this listener's descriptor (by net::AcceptGuard): gated, then handed over.
    void takeConnection(qintptr descriptor) { incomingConnection(descriptor); }

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void refuseOverCap(qintptr descriptor);

    QObject *m_http;
    AdminHostPolicy m_policy;
    qint64 m_maxBodyBytes;
    std::chrono::milliseconds m_headTimeout = kHeadTimeout;
    std::chrono::milliseconds m_idleTimeout = kIdleTimeout;
    int m_connections = 0;
    bool m_capBurst = false;
    int m_capRefused = 0;
};

} // namespace wsserve
