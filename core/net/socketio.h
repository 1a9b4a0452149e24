// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>

#include <atomic>

class QTcpSocket;

namespace wsserve::net {

// The few socket calls the instance's own connection layer needs, on a raw, non-blocking descriptor.
// Thread: any; each call works on the descriptor it is given.

inline constexpr qintptr kInvalidDescriptor = -1;

// A descriptor with a TLS session attached (net/tls.h) is read and written through it by these calls.

// Takes the connection out of a QTcpSocket: returns a duplicate of its descriptor (non-blocking,
// close-on-exec, TCP_NODELAY set) and appends what the QTcpSocket had already read to *buffered. The
// QTcpSocket is left to be deleted by the caller (that closes only its own copy). kInvalidDescriptor on
// failure.
qintptr takeDescriptor(QTcpSocket *socket, QByteArray *buffered);

enum class IoStatus { Ok, WouldBlock, Closed };
// recv(): the bytes read, 0 with WouldBlock when there is nothing, 0 with Closed at EOF or on error.
qsizetype receive(qintptr fd, char *buffer, qsizetype capacity, IoStatus *status);
// Writes as much of chunks[0, count) (starting offset bytes into the first) as the kernel takes, in one
// call. Returns the bytes written; Closed when the peer is gone.
qsizetype sendChunks(qintptr fd, const QByteArray *chunks, qsizetype count, qsizetype offset, IoStatus *status);
// Best effort: writes bytes once (a short HTTP answer into an empty send buffer).
void sendAll(qintptr fd, const QByteArray &bytes);
void shutdownWrite(qintptr fd);
void closeDescriptor(qintptr fd);

// A connection taken out of its QTcpSocket on its way to an instance thread: closed when dropped
// unclaimed (an instance that stopped before the hand-off arrived). The queued call that carries it may
// be destroyed in either thread (Qt drops its reference to the call in the posting thread), so the
// instance thread only reads `buffered` (a copy shares it) and claims the descriptor atomically.
struct TakenConnection {
    std::atomic<qintptr> fd{kInvalidDescriptor};
    QByteArray buffered; // bytes that followed the request head; written before the hand-off only

    TakenConnection() = default;
    TakenConnection(const TakenConnection &) = delete;
    TakenConnection &operator=(const TakenConnection &) = delete;
    ~TakenConnection() { closeDescriptor(fd.load()); }
    qintptr release() { return fd.exchange(kInvalidDescriptor); }
};

} // namespace wsserve::net
