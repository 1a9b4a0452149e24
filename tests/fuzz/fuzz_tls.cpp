// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The TLS read path of the game port (core/net/tls.*): a server-side session attached to one end of a
// socketpair (as the endpoint attaches it to an accepted connection), driven the way the endpoint and the
// instance drive it (continueHandshake() until Done, then socketio's receive() and sendChunks(), which go
// through the session), while the other end carries what a client sends. The first input byte picks how
// the rest arrives:
//   mode 0: as the client's very first bytes (ClientHello-shaped seeds: corpus/fuzz_tls/clienthello-*);
//   mode 1/2: raw bytes after a real TLS 1.3 / 1.2 handshake made by an OpenSSL client (forged, truncated
//             or oversized records inside an established session);
//   mode 3: as application data the real client encrypts, in records of (second byte + 1) bytes, then a
//           close_notify or a bare close (third byte).
// Then the client stops writing. Invariants: the server reaches a clean end (handshake Failed, or receive()
// Closed) within a bounded number of steps (never a hang); reads stay inside the buffer; in mode 3 the
// server reads exactly the plaintext the client sent; every session is freed (LeakSanitizer).
#include "fuzzsupport.h"

#include "net/socketio.h"
#include "net/tls.h"

#include <QTemporaryDir>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

using namespace wsserve;

namespace {

constexpr int kMaxSteps = 20000;

const net::TlsContext &serverContext()
{
    static const std::shared_ptr<net::TlsContext> context = [] {
        QTemporaryDir dir; // the files are read once; the context keeps what it needs in memory
        const QString cert = dir.filePath(QStringLiteral("fuzz.crt"));
        const QString key = dir.filePath(QStringLiteral("fuzz.key"));
        QString error;
        WSSERVE_FUZZ_CHECK(dir.isValid());
        WSSERVE_FUZZ_CHECK(net::writeSelfSignedCertificate(cert, key, {QStringLiteral("localhost")},
                                                           {QStringLiteral("127.0.0.1")}, -3600, 24 * 3600, &error));
        std::shared_ptr<net::TlsContext> loaded = net::TlsContext::load(cert, key, &error);
        WSSERVE_FUZZ_CHECK(loaded != nullptr);
        return loaded;
    }();
    return *context;
}

SSL_CTX *clientContext(int version)
{
    static SSL_CTX *contexts[2] = {nullptr, nullptr};
    SSL_CTX *&context = contexts[version == TLS1_3_VERSION ? 1 : 0];
    if (!context) {
        context = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(context, version);
        SSL_CTX_set_max_proto_version(context, version);
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
    }
    return context;
}

void setNonBlocking(int fd)
{
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// What the server wrote reaches the client end and is read there (or dropped, when no client reads it).
void drain(int fd, SSL *client)
{
    char buffer[16384];
    if (client) {
        while (SSL_read(client, buffer, sizeof(buffer)) > 0) {
        }
        ERR_clear_error();
        return;
    }
    while (::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT) > 0) {
    }
}

void sendRaw(int fd, const char *data, size_t size)
{
    // Bounded input (-max_len) into a socketpair buffer of >= 200 KiB: one non-blocking send takes it all;
    // whatever would not fit is simply not sent (as if the client stopped there).
    if (size > 0) {
        [[maybe_unused]] const ssize_t sent = ::send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
}

// A real handshake between `client` and the server session on serverFd. False when it did not finish.
bool handshake(int serverFd, SSL *client)
{
    bool serverDone = false;
    bool clientDone = false;
    for (int step = 0; step < 200 && !(serverDone && clientDone); ++step) {
        if (!clientDone) {
            const int result = SSL_do_handshake(client);
            clientDone = result == 1;
            if (!clientDone && SSL_get_error(client, result) != SSL_ERROR_WANT_READ) {
                return false;
            }
        }
        if (!serverDone) {
            QString error;
            const net::HandshakeStatus status = net::continueHandshake(serverFd, &error);
            if (status == net::HandshakeStatus::Failed) {
                return false;
            }
            serverDone = status == net::HandshakeStatus::Done;
        }
    }
    ERR_clear_error();
    return serverDone && clientDone;
}

// Drives the server until the stream ends; returns the plaintext it read. Aborts (a finding) when it does
// not end within kMaxSteps: the client end is shut for writing, so every path must reach EOF.
QByteArray serve(int serverFd, int clientFd, SSL *client, bool handshakeDone)
{
    QByteArray received;
    char buffer[65536];
    for (int step = 0; step < kMaxSteps; ++step) {
        if (!handshakeDone) {
            QString error;
            const net::HandshakeStatus status = net::continueHandshake(serverFd, &error);
            if (status == net::HandshakeStatus::Failed) {
                WSSERVE_FUZZ_CHECK(!error.isEmpty());
                return received;
            }
            handshakeDone = status == net::HandshakeStatus::Done;
            drain(clientFd, nullptr);
            continue;
        }
        net::IoStatus status = net::IoStatus::Ok;
        const qsizetype n = net::receive(serverFd, buffer, sizeof(buffer), &status);
        WSSERVE_FUZZ_CHECK(n >= 0 && n <= qsizetype(sizeof(buffer)));
        WSSERVE_FUZZ_CHECK(n > 0 || status != net::IoStatus::Ok);
        received.append(buffer, n);
        if (n > 0) {
            // Echoed through the session, as an instance answers (the write path after hostile reads).
            const QByteArray echo(buffer, n);
            net::IoStatus sendStatus = net::IoStatus::Ok;
            const qsizetype written = net::sendChunks(serverFd, &echo, 1, 0, &sendStatus);
            WSSERVE_FUZZ_CHECK(written >= 0 && written <= n);
            drain(clientFd, client);
        }
        if (status == net::IoStatus::Closed) {
            return received;
        }
    }
    std::fprintf(stderr, "fuzz_tls: the server did not reach the end of the stream in %d steps\n", kMaxSteps);
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const int mode = data[0] % 4;
    const auto *rest = reinterpret_cast<const char *>(data) + 1;
    size_t restSize = size - 1;
    int pair[2];
    WSSERVE_FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair) == 0);
    const int serverFd = pair[0];
    const int clientFd = pair[1];
    const int buffer = 1 << 20;
    ::setsockopt(clientFd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof(buffer));
    setNonBlocking(serverFd);
    setNonBlocking(clientFd);
    WSSERVE_FUZZ_CHECK(net::attachTls(serverFd, serverContext()));

    if (mode == 0) {
        sendRaw(clientFd, rest, restSize);
        ::shutdown(clientFd, SHUT_WR);
        serve(serverFd, clientFd, nullptr, false);
    } else {
        SSL *client = SSL_new(clientContext(mode == 2 ? TLS1_2_VERSION : TLS1_3_VERSION));
        SSL_set_fd(client, clientFd);
        SSL_set_connect_state(client);
        WSSERVE_FUZZ_CHECK(handshake(serverFd, client));
        if (mode == 3) {
            restSize = std::min<size_t>(restSize, 4096); // fits the socketpair buffer even as 1-byte records
            const size_t recordSize = restSize > 0 ? size_t(uint8_t(rest[0])) + 1 : 1;
            const bool notify = restSize > 1 && (rest[1] & 1);
            const size_t skip = std::min<size_t>(restSize, 2);
            rest += skip;
            restSize -= skip;
            const QByteArray sent(rest, static_cast<qsizetype>(restSize));
            for (size_t at = 0; at < restSize; at += recordSize) {
                const int part = static_cast<int>(std::min(recordSize, restSize - at));
                WSSERVE_FUZZ_CHECK(SSL_write(client, rest + at, part) == part);
            }
            if (notify) {
                SSL_shutdown(client);
            }
            ::shutdown(clientFd, SHUT_WR);
            const QByteArray received = serve(serverFd, clientFd, client, true);
            WSSERVE_FUZZ_CHECK(received == sent);
        } else {
            sendRaw(clientFd, rest, restSize);
            ::shutdown(clientFd, SHUT_WR);
            serve(serverFd, clientFd, client, true);
        }
        SSL_free(client);
    }
    ERR_clear_error();
    net::shutdownWrite(serverFd);
    net::closeDescriptor(serverFd); // frees the session
    WSSERVE_FUZZ_CHECK(!net::isTls(serverFd));
    ::close(clientFd);
    return 0;
}
