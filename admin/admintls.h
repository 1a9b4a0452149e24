// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QDateTime>
#include <QHostAddress>
#include <QSslConfiguration>
#include <QString>

#include <chrono>
#include <functional>
#include <optional>

class QSslSocket;

namespace wsserve {

// The admin API over TLS (https://). See docs/design-notes.md "TLS on the admin API".

// A PEM certificate (chain allowed) and key for the admin API: checked by the code that checks the game
// port's (net::TlsContext::load, so the one-line errors read the same), then made into the configuration
// of Qt's TLS sockets: TLS 1.2 and 1.3 only, the game port's cipher list, ALPN http/1.1, no client
// certificates. Thread: a value.
struct AdminTls {
    QSslConfiguration configuration;
    QString certFile;
    QString keyFile;
    QString fingerprint; // SHA-256 of the leaf, "AB:CD:..."
    QDateTime notAfter;
    bool expired = false;
};

// Null with *error (one line naming the file and the problem) when the pair does not load.
std::optional<AdminTls> loadAdminTls(const QString &certFile, const QString &keyFile, QString *error);

// What became of one connection's handshake.
struct AdminHandshakeHooks {
    std::function<void(QSslSocket *)> encrypted;         // the session is up: the gate takes the socket
    std::function<void(const QHostAddress &)> plainHttp; // an HTTP request arrived in plain text (answered 400)
};

// Runs the server side of the TLS handshake on a freshly accepted socket (unencrypted so far), within
// `timeout`: the first byte decides (0x16, a TLS handshake record: encryption starts; an ASCII letter,
// plain HTTP: a plain 400 naming https://; anything else: closed). A failed or stalled handshake closes
// the socket and deletes it; nothing waits on it. Thread: the socket's (main) thread.
void beginAdminHandshake(QSslSocket *socket, const QSslConfiguration &configuration, std::chrono::milliseconds timeout,
                         AdminHandshakeHooks hooks);

} // namespace wsserve
