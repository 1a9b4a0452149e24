// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "tls.h"

#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QMutex>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstring>
#include <mutex>

namespace wsserve::net {

namespace {
constexpr int kMaxRecordPlaintext = 16384;
constexpr int kRecordsPerSend = 4;

QString lastOpenSslError()
{
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) {
        return QStringLiteral("unknown error");
    }
    const char *reason = ERR_reason_error_string(code);
    return reason ? QString::fromLatin1(reason) : QStringLiteral("error %1").arg(code);
}

QDateTime toDateTime(const ASN1_TIME *time)
{
    struct tm parts {};
    if (!time || ASN1_TIME_to_tm(time, &parts) != 1) {
        return {};
    }
    return QDateTime(QDate(parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday),
                     QTime(parts.tm_hour, parts.tm_min, parts.tm_sec), Qt::UTC);
}

// ALPN: http/1.1 is the only protocol spoken here (WebSocket upgrades and pages alike).
int selectAlpn(SSL *, const unsigned char **out, unsigned char *outlen, const unsigned char *in, unsigned int inlen,
               void *)
{
    static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char *selected = nullptr;
    if (SSL_select_next_proto(&selected, outlen, kHttp11, sizeof(kHttp11), in, inlen) == OPENSSL_NPN_NEGOTIATED) {
        *out = selected;
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK; // a client offering only h2 goes on without ALPN (and speaks HTTP/1.1)
}

QString readProblem(const QString &file)
{
    const QFileInfo info(file);
    if (!info.exists()) {
        return QStringLiteral("%1: no such file").arg(file);
    }
    if (!info.isFile()) {
        return QStringLiteral("%1: not a file").arg(file);
    }
    if (!info.isReadable()) {
        return QStringLiteral("%1: not readable (permission denied)").arg(file);
    }
    return {};
}
} // namespace

TlsContext::~TlsContext()
{
    SSL_CTX_free(m_ctx);
}

bool TlsContext::isExpired() const
{
    return m_notAfter.isValid() && m_notAfter < QDateTime::currentDateTimeUtc();
}

std::shared_ptr<TlsContext> TlsContext::load(const QString &certFile, const QString &keyFile, QString *error)
{
    for (const QString &file : {certFile, keyFile}) {
        if (const QString problem = readProblem(file); !problem.isEmpty()) {
            *error = problem;
            return nullptr;
        }
    }
    std::shared_ptr<TlsContext> context(new TlsContext);
    context->m_certFile = certFile;
    context->m_keyFile = keyFile;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        *error = QStringLiteral("cannot set up TLS: %1").arg(lastOpenSslError());
        return nullptr;
    }
    context->m_ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_cipher_list(ctx, kTls12CipherList);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    // Writes are retried with the same bytes from another buffer (tlsio::sendChunks); idle sessions give
    // their record buffers back (thousands of mostly idle game clients).
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_num_tickets(ctx, 0); // no resumption: no tickets written behind the handshake
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_alpn_select_cb(ctx, selectAlpn, nullptr);

    const QByteArray certPath = QFile::encodeName(certFile);
    const QByteArray keyPath = QFile::encodeName(keyFile);
    if (SSL_CTX_use_certificate_chain_file(ctx, certPath.constData()) != 1) {
        *error = QStringLiteral("%1: not a usable PEM certificate (%2)").arg(certFile, lastOpenSslError());
        return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, keyPath.constData(), SSL_FILETYPE_PEM) != 1) {
        if (const unsigned long code = ERR_peek_last_error();
            ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) {
            ERR_clear_error();
            *error = QStringLiteral("%1: the key does not match the certificate %2").arg(keyFile, certFile);
            return nullptr;
        }
        *error = QStringLiteral("%1: not a usable PEM private key (%2)").arg(keyFile, lastOpenSslError());
        return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        *error = QStringLiteral("%1: the key does not match the certificate %2").arg(keyFile, certFile);
        return nullptr;
    }
    X509 *leaf = SSL_CTX_get0_certificate(ctx);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (leaf && X509_digest(leaf, EVP_sha256(), digest, &length) == 1) {
        QStringList parts;
        for (unsigned int i = 0; i < length; ++i) {
            parts.append(QStringLiteral("%1").arg(digest[i], 2, 16, QLatin1Char('0')).toUpper());
        }
        context->m_fingerprint = parts.join(QLatin1Char(':'));
        context->m_notBefore = toDateTime(X509_get0_notBefore(leaf));
        context->m_notAfter = toDateTime(X509_get0_notAfter(leaf));
        char subject[256] = {};
        X509_NAME_oneline(X509_get_subject_name(leaf), subject, sizeof(subject) - 1);
        context->m_subject = QString::fromUtf8(subject);
        context->m_selfSigned = X509_NAME_cmp(X509_get_subject_name(leaf), X509_get_issuer_name(leaf)) == 0;
    }
    return context;
}

// ---- the session table ----

namespace tlsio {

struct Session {
    SSL *ssl = nullptr;
    QByteArray pending; // a record OpenSSL could not write yet (WANT_WRITE): retried with these bytes
    bool shutdownSent = false;
};

namespace {
// Descriptors are small integers: a slot each, read without a lock on every socket call. The table is
// made on the first TLS session (a plain server never touches it); larger descriptors (or Windows socket
// handles past the range) fall back to a locked hash.
constexpr qintptr kTableSlots = 1 << 20;
std::atomic<std::atomic<Session *> *> g_table{nullptr};
std::once_flag g_tableOnce;
std::atomic<int> g_overflowCount{0};
QMutex g_overflowLock;
QHash<qintptr, Session *> g_overflow;

std::atomic<Session *> *table()
{
    std::call_once(g_tableOnce, [] { g_table.store(new std::atomic<Session *>[kTableSlots]()); });
    return g_table.load(std::memory_order_acquire);
}

void store(qintptr fd, Session *session)
{
    if (fd >= 0 && fd < kTableSlots) {
        table()[fd].store(session, std::memory_order_release);
        return;
    }
    const QMutexLocker lock(&g_overflowLock);
    if (session) {
        g_overflow.insert(fd, session);
    } else {
        g_overflow.remove(fd);
    }
    g_overflowCount.store(static_cast<int>(g_overflow.size()));
}
} // namespace

Session *sessionFor(qintptr fd)
{
    if (fd >= 0 && fd < kTableSlots) {
        std::atomic<Session *> *entries = g_table.load(std::memory_order_acquire);
        return entries ? entries[fd].load(std::memory_order_acquire) : nullptr;
    }
    if (g_overflowCount.load() == 0) {
        return nullptr;
    }
    const QMutexLocker lock(&g_overflowLock);
    return g_overflow.value(fd);
}

void detach(qintptr fd)
{
    Session *session = sessionFor(fd);
    if (!session) {
        return;
    }
    store(fd, nullptr);
    SSL_free(session->ssl);
    delete session;
}

qsizetype receive(Session *session, char *buffer, qsizetype capacity, IoStatus *status)
{
    // Whole records only: a read is offered at least a record's worth of room (or all there is), so no
    // plaintext waits inside OpenSSL where level-triggered readiness would not see it.
    qsizetype total = 0;
    while (total == 0 || capacity - total >= kMaxRecordPlaintext) {
        ERR_clear_error();
        const int n =
            SSL_read(session->ssl, buffer + total, static_cast<int>(std::min<qsizetype>(capacity - total, INT_MAX)));
        if (n > 0) {
            total += n;
            continue;
        }
        const int error = SSL_get_error(session->ssl, n);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            *status = total > 0 ? IoStatus::Ok : IoStatus::WouldBlock;
            return total;
        }
        ERR_clear_error();
        // close_notify, a reset, or a record that fails to decrypt: the stream is over (after what came).
        *status = total > 0 ? IoStatus::Ok : IoStatus::Closed;
        return total;
    }
    *status = IoStatus::Ok;
    return total;
}

qsizetype sendChunks(Session *session, const QByteArray *chunks, qsizetype count, qsizetype offset, IoStatus *status)
{
    // Several queued frames become one record (one encryption, one send()), as they are one sendmsg()
    // in plain text. A record OpenSSL could not send is kept and retried first: those are the bytes at
    // the front of the caller's queue, which does not change until they are reported as written.
    thread_local std::array<char, kMaxRecordPlaintext> staging;
    qsizetype taken = 0;
    qsizetype chunk = 0;
    qsizetype at = offset;
    for (int record = 0; record < kRecordsPerSend; ++record) {
        const char *data = nullptr;
        int size = 0;
        if (!session->pending.isEmpty()) {
            data = session->pending.constData();
            size = static_cast<int>(session->pending.size());
            for (qsizetype skip = size; skip > 0 && chunk < count;) { // the chunk bytes it holds
                const qsizetype part = std::min<qsizetype>(chunks[chunk].size() - at, skip);
                skip -= part;
                at += part;
                if (at == chunks[chunk].size()) {
                    ++chunk;
                    at = 0;
                }
            }
        } else {
            while (chunk < count && size < kMaxRecordPlaintext) {
                const qsizetype available = chunks[chunk].size() - at;
                const qsizetype part = std::min<qsizetype>(available, kMaxRecordPlaintext - size);
                std::memcpy(staging.data() + size, chunks[chunk].constData() + at, static_cast<size_t>(part));
                size += static_cast<int>(part);
                at += part;
                if (at == chunks[chunk].size()) {
                    ++chunk;
                    at = 0;
                }
            }
            data = staging.data();
        }
        if (size == 0) {
            break;
        }
        ERR_clear_error();
        const int n = SSL_write(session->ssl, data, size);
        if (n > 0) {
            session->pending = QByteArray();
            taken += n;
            continue;
        }
        const int error = SSL_get_error(session->ssl, n);
        if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
            if (session->pending.isEmpty()) {
                session->pending = QByteArray(data, size);
            }
            *status = taken > 0 ? IoStatus::Ok : IoStatus::WouldBlock;
            return taken;
        }
        ERR_clear_error();
        *status = IoStatus::Closed;
        return 0;
    }
    *status = IoStatus::Ok;
    return taken;
}

void shutdownWrite(Session *session)
{
    if (!session->shutdownSent) {
        session->shutdownSent = true;
        ERR_clear_error();
        SSL_shutdown(session->ssl); // close_notify; best effort, as the TCP shutdown behind it
        ERR_clear_error();
    }
}

} // namespace tlsio

bool attachTls(qintptr fd, const TlsContext &context)
{
    SSL *ssl = SSL_new(context.handle());
    if (!ssl) {
        ERR_clear_error();
        return false;
    }
    if (SSL_set_fd(ssl, static_cast<int>(fd)) != 1) {
        ERR_clear_error();
        SSL_free(ssl);
        return false;
    }
    SSL_set_accept_state(ssl);
    tlsio::detach(fd); // a stale session of a reused descriptor number (never expected)
    auto *session = new tlsio::Session;
    session->ssl = ssl;
    tlsio::store(fd, session);
    return true;
}

bool isTls(qintptr fd)
{
    return tlsio::sessionFor(fd) != nullptr;
}

HandshakeStatus continueHandshake(qintptr fd, QString *error)
{
    tlsio::Session *session = tlsio::sessionFor(fd);
    if (!session) {
        *error = QStringLiteral("no TLS session");
        return HandshakeStatus::Failed;
    }
    ERR_clear_error();
    const int result = SSL_do_handshake(session->ssl);
    if (result == 1) {
        return HandshakeStatus::Done;
    }
    switch (SSL_get_error(session->ssl, result)) {
    case SSL_ERROR_WANT_READ:
        return HandshakeStatus::WantRead;
    case SSL_ERROR_WANT_WRITE:
        return HandshakeStatus::WantWrite;
    case SSL_ERROR_SYSCALL:
        *error = ERR_peek_last_error() == 0 ? QStringLiteral("connection closed during the TLS handshake")
                                            : lastOpenSslError();
        ERR_clear_error();
        return HandshakeStatus::Failed;
    default:
        *error = lastOpenSslError();
        return HandshakeStatus::Failed;
    }
}

QString tlsDescription(qintptr fd)
{
    tlsio::Session *session = tlsio::sessionFor(fd);
    if (!session) {
        return {};
    }
    return QStringLiteral("%1 %2").arg(QString::fromLatin1(SSL_get_version(session->ssl)),
                                       QString::fromLatin1(SSL_get_cipher_name(session->ssl)));
}

} // namespace wsserve::net
