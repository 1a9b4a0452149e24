// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "socketio.h"

#include <QByteArray>
#include <QDateTime>
#include <QString>
#include <QStringList>

#include <memory>

struct ssl_ctx_st;

namespace wsserve::net {

// TLS for the game port (OpenSSL), as a transport under socketio's calls. A server-side TLS session is
// attached to a connection's descriptor (a process-wide table indexed by the descriptor), and receive(),
// sendChunks(), sendAll(), shutdownWrite() and closeDescriptor() go through it: every code path that
// reads or writes a descriptor (frames, HTTP answers, refusals, long-poll replies) is encrypted without
// knowing it, and one session is one record stream used by one thread at a time (the endpoint's during
// the handshake and the request head, then the instance's after the hand-off, which the queued call
// orders). See docs/design-notes.md "TLS on the game port".

// TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3's own suites are all modern); OpenSSL's
// cipher-list syntax. The game port's sessions and the admin API's Qt sockets use the same list.
inline constexpr const char *kTls12CipherList = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// A loaded certificate chain and key: what new sessions are made from. Immutable once loaded; shared
// by the threads that make sessions (a reload makes a new one; sessions keep the context they began with).
// Thread: any.
class TlsContext
{
public:
    ~TlsContext();
    TlsContext(const TlsContext &) = delete;
    TlsContext &operator=(const TlsContext &) = delete;

    // Loads a PEM certificate (chain allowed: the leaf first) and its PEM private key. On failure returns
    // null and *error is one line naming the file and the problem.
    static std::shared_ptr<TlsContext> load(const QString &certFile, const QString &keyFile, QString *error);

    ssl_ctx_st *handle() const { return m_ctx; }
    QString certFile() const { return m_certFile; }
    QString keyFile() const { return m_keyFile; }
    // SHA-256 of the leaf certificate (DER), as "AB:CD:...".
    QString fingerprint() const { return m_fingerprint; }
    QDateTime notAfter() const { return m_notAfter; }
    QDateTime notBefore() const { return m_notBefore; }
    bool isExpired() const;
    QString subject() const { return m_subject; }
    bool isSelfSigned() const { return m_selfSigned; }

private:
    TlsContext() = default;
    ssl_ctx_st *m_ctx = nullptr;
    QString m_certFile;
    QString m_keyFile;
    QString m_fingerprint;
    QString m_subject;
    QDateTime m_notBefore;
    QDateTime m_notAfter;
    bool m_selfSigned = false;
};

// Makes (first run) or reuses (later runs) a self-signed certificate in `folder`: tls-self-signed.key (EC
// P-256) and tls-self-signed.crt, valid for `names` (DNS names) and `addresses` (IP literals). A stored
// pair is reused while it loads and has not expired. Returns the paths, or false with *error.
bool ensureSelfSignedCertificate(const QString &folder, const QStringList &names, const QStringList &addresses,
                                 QString *certFile, QString *keyFile, QString *error);
// Writes a new EC P-256 key and a self-signed certificate valid from now+notBeforeSeconds to
// now+notAfterSeconds for `names` and `addresses` (subject alternative names).
bool writeSelfSignedCertificate(const QString &certFile, const QString &keyFile, const QStringList &names,
                                const QStringList &addresses, qint64 notBeforeSeconds, qint64 notAfterSeconds,
                                QString *error);
// The names and addresses a self-signed certificate for this host covers: the host name, localhost,
// 127.0.0.1, ::1 and the addresses of the host's up interfaces.
void selfSignedSubjects(QStringList *names, QStringList *addresses);

// ---- sessions (used by socketio and the endpoint) ----

// Attaches a new server-side session made from `context` to fd. False when OpenSSL refused.
bool attachTls(qintptr fd, const TlsContext &context);
bool isTls(qintptr fd);
enum class HandshakeStatus { Done, WantRead, WantWrite, Failed };
// Advances the handshake of fd's session; on Failed, *error says why (OpenSSL's reason).
HandshakeStatus continueHandshake(qintptr fd, QString *error);
// The protocol version ("TLSv1.3") and cipher of an established session, for logs.
QString tlsDescription(qintptr fd);

// socketio's calls for a descriptor with a session (internal to core/net).
namespace tlsio {
struct Session;
Session *sessionFor(qintptr fd);
qsizetype receive(Session *session, char *buffer, qsizetype capacity, IoStatus *status);
qsizetype sendChunks(Session *session, const QByteArray *chunks, qsizetype count, qsizetype offset, IoStatus *status);
void shutdownWrite(Session *session);
void detach(qintptr fd); // frees fd's session, if any
} // namespace tlsio

} // namespace wsserve::net
