// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "socketio.h"

#include "tls.h"

#include <QTcpSocket>

#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <climits>

namespace wsserve::net {

namespace {
constexpr int kMaxChunksPerCall = 64;

#ifndef MSG_NOSIGNAL
constexpr int kSendFlags = 0; // macOS: SO_NOSIGPIPE is set on the descriptor instead
#else
constexpr int kSendFlags = MSG_NOSIGNAL;
#endif
} // namespace

qintptr takeDescriptor(QTcpSocket *socket, QByteArray *buffered)
{
    buffered->append(socket->readAll());
    const qintptr original = socket->socketDescriptor();
    if (original == -1) {
        return kInvalidDescriptor;
    }
#ifdef Q_OS_WIN
    WSAPROTOCOL_INFOW info;
    if (WSADuplicateSocketW(static_cast<SOCKET>(original), GetCurrentProcessId(), &info) != 0) {
        return kInvalidDescriptor;
    }
    const SOCKET copy = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0,
                                   WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (copy == INVALID_SOCKET) {
        return kInvalidDescriptor;
    }
    u_long nonBlocking = 1;
    ioctlsocket(copy, FIONBIO, &nonBlocking);
    BOOL noDelay = TRUE;
    setsockopt(copy, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char *>(&noDelay), sizeof(noDelay));
    return static_cast<qintptr>(copy);
#else
    const int copy = ::fcntl(static_cast<int>(original), F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        return kInvalidDescriptor;
    }
    ::fcntl(copy, F_SETFL, ::fcntl(copy, F_GETFL) | O_NONBLOCK);
    int one = 1;
    ::setsockopt(copy, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
#ifdef SO_NOSIGPIPE
    ::setsockopt(copy, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof(one));
#endif
    return copy;
#endif
}

qsizetype receive(qintptr fd, char *buffer, qsizetype capacity, IoStatus *status)
{
    if (tlsio::Session *session = tlsio::sessionFor(fd)) {
        return tlsio::receive(session, buffer, capacity, status);
    }
#ifdef Q_OS_WIN
    const int n = ::recv(static_cast<SOCKET>(fd), buffer, static_cast<int>(std::min<qsizetype>(capacity, INT_MAX)), 0);
    if (n > 0) {
        *status = IoStatus::Ok;
        return n;
    }
    *status = n < 0 && WSAGetLastError() == WSAEWOULDBLOCK ? IoStatus::WouldBlock : IoStatus::Closed;
    return 0;
#else
    for (;;) {
        const ssize_t n = ::recv(static_cast<int>(fd), buffer, static_cast<size_t>(capacity), 0);
        if (n > 0) {
            *status = IoStatus::Ok;
            return n;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        *status = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? IoStatus::WouldBlock : IoStatus::Closed;
        return 0;
    }
#endif
}

qsizetype sendChunks(qintptr fd, const QByteArray *chunks, qsizetype total, qsizetype offset, IoStatus *status)
{
    if (tlsio::Session *session = tlsio::sessionFor(fd)) {
        return tlsio::sendChunks(session, chunks, total, offset, status);
    }
    const int count = static_cast<int>(std::min<qsizetype>(total, kMaxChunksPerCall));
#ifdef Q_OS_WIN
    WSABUF buffers[kMaxChunksPerCall];
    for (int i = 0; i < count; ++i) {
        const qsizetype skip = i == 0 ? offset : 0;
        buffers[i].buf = const_cast<char *>(chunks[i].constData() + skip);
        buffers[i].len = static_cast<ULONG>(chunks[i].size() - skip);
    }
    DWORD sent = 0;
    if (WSASend(static_cast<SOCKET>(fd), buffers, static_cast<DWORD>(count), &sent, 0, nullptr, nullptr) == 0) {
        *status = IoStatus::Ok;
        return static_cast<qsizetype>(sent);
    }
    *status = WSAGetLastError() == WSAEWOULDBLOCK ? IoStatus::WouldBlock : IoStatus::Closed;
    return 0;
#else
    iovec vectors[kMaxChunksPerCall];
    for (int i = 0; i < count; ++i) {
        const qsizetype skip = i == 0 ? offset : 0;
        vectors[i].iov_base = const_cast<char *>(chunks[i].constData() + skip);
        vectors[i].iov_len = static_cast<size_t>(chunks[i].size() - skip);
    }
    msghdr message{};
    message.msg_iov = vectors;
    message.msg_iovlen = static_cast<decltype(message.msg_iovlen)>(count);
    for (;;) {
        const ssize_t n = ::sendmsg(static_cast<int>(fd), &message, kSendFlags);
        if (n >= 0) {
            *status = IoStatus::Ok;
            return n;
        }
        if (errno == EINTR) {
            continue;
        }
        *status = errno == EAGAIN || errno == EWOULDBLOCK ? IoStatus::WouldBlock : IoStatus::Closed;
        return 0;
    }
#endif
}

void sendAll(qintptr fd, const QByteArray &bytes)
{
    IoStatus status = IoStatus::Ok;
    sendChunks(fd, &bytes, 1, 0, &status);
}

void shutdownWrite(qintptr fd)
{
    if (tlsio::Session *session = tlsio::sessionFor(fd)) {
        tlsio::shutdownWrite(session); // close_notify first, then the TCP shutdown
    }
#ifdef Q_OS_WIN
    ::shutdown(static_cast<SOCKET>(fd), SD_SEND);
#else
    ::shutdown(static_cast<int>(fd), SHUT_WR);
#endif
}

void closeDescriptor(qintptr fd)
{
    if (fd == kInvalidDescriptor) {
        return;
    }
    tlsio::detach(fd); // before the number can be reused
#ifdef Q_OS_WIN
    ::closesocket(static_cast<SOCKET>(fd));
#else
    ::close(static_cast<int>(fd));
#endif
}

} // namespace wsserve::net
