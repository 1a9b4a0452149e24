// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "acceptguard.h"

#include "logging.h"
#include "socketio.h"

#include <QSocketNotifier>
#include <QTcpServer>
#include <QTimer>

#include <cerrno>
#include <cstring>

#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace wsserve::net {

namespace {
enum class AcceptError { Empty, Retry, OutOfResources };

// One accept(2) on the non-blocking listening descriptor; kInvalidDescriptor and *error on failure.
qintptr acceptConnection(qintptr listener, int *error)
{
#ifdef Q_OS_WIN
    const SOCKET fd = ::accept(static_cast<SOCKET>(listener), nullptr, nullptr);
    if (fd == INVALID_SOCKET) {
        *error = WSAGetLastError();
        return kInvalidDescriptor;
    }
    return static_cast<qintptr>(fd);
#else
    const int fd = ::accept4(static_cast<int>(listener), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        *error = errno;
        return kInvalidDescriptor;
    }
    return fd;
#endif
}

AcceptError classifyAcceptError(int error)
{
#ifdef Q_OS_WIN
    switch (error) {
    case WSAEWOULDBLOCK:
        return AcceptError::Empty;
    case WSAEMFILE:
    case WSAENOBUFS:
        return AcceptError::OutOfResources;
    default:
        return AcceptError::Retry;
    }
#else
    switch (error) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return AcceptError::Empty;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:
        return AcceptError::OutOfResources;
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
        return AcceptError::Retry;
    default:
        // accept(2): pending network errors of the new connection are reported here; none stops the
        // listener. Anything else would repeat, so it is handled as a shortage (paced retries).
        return error == ENETDOWN || error == ENOPROTOOPT || error == EHOSTDOWN || error == ENONET ||
                       error == EHOSTUNREACH || error == EOPNOTSUPP || error == ENETUNREACH
                   ? AcceptError::Retry
                   : AcceptError::OutOfResources;
    }
#endif
}

// Whether this process could open one more descriptor right now.
bool descriptorAvailable()
{
#ifdef Q_OS_UNIX
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    ::close(fd);
#endif
    return true;
}
} // namespace

ListenerHealth::Snapshot ListenerHealth::snapshot() const
{
    const QMutexLocker lock(&m_mutex);
    return m_state;
}

void ListenerHealth::setBlocked(const QString &reason)
{
    const QMutexLocker lock(&m_mutex);
    if (m_state.accepting) {
        ++m_state.acceptErrors;
    }
    m_state.accepting = false;
    m_state.reason = reason;
}

void ListenerHealth::setAccepting()
{
    const QMutexLocker lock(&m_mutex);
    m_state.accepting = true;
    m_state.reason.clear();
}

AcceptGuard::AcceptGuard(QTcpServer *server, QString listenerName, std::shared_ptr<ListenerHealth> health,
                         std::function<void(qintptr)> onAccepted)
    : QObject(server)
    , m_server(server)
    , m_name(std::move(listenerName))
    , m_health(std::move(health))
    , m_onAccepted(std::move(onAccepted))
{
    m_retryTimer = new QTimer(this);
    m_retryTimer->setInterval(kRetryMs);
    connect(m_retryTimer, &QTimer::timeout, this, &AcceptGuard::retry);
}

AcceptGuard::~AcceptGuard() = default;

void AcceptGuard::start()
{
    stop();
    m_server->pauseAccepting(); // Qt's notifier off for good: this guard accepts
    m_notifier = new QSocketNotifier(m_server->socketDescriptor(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &AcceptGuard::onReadable);
}

void AcceptGuard::stop()
{
    delete m_notifier;
    m_notifier = nullptr;
    m_retryTimer->stop();
    if (m_blocked) {
        m_blocked = false;
        m_health->setAccepting();
    }
}

void AcceptGuard::onReadable()
{
    // A bounded batch per event: other work of this thread (request heads) is not starved by a flood.
    constexpr int kAcceptsPerEvent = 64;
    const qintptr listener = m_server->socketDescriptor();
    for (int i = 0; i < kAcceptsPerEvent && m_notifier; ++i) {
        int error = 0;
        const qintptr fd = acceptConnection(listener, &error);
        if (fd != kInvalidDescriptor) {
            if (m_blocked) {
                recovered();
            }
            m_onAccepted(fd);
            continue;
        }
        switch (classifyAcceptError(error)) {
        case AcceptError::Empty:
            if (m_blocked) {
                recovered();
            }
            return;
        case AcceptError::Retry:
            continue; // the peer gave up (ECONNABORTED), a signal: try the next one
        case AcceptError::OutOfResources:
            outOfResources(QString::fromLocal8Bit(std::strerror(error)));
            return;
        }
    }
}

void AcceptGuard::outOfResources(const QString &error)
{
    m_notifier->setEnabled(false);
    m_retryTimer->start();
    if (m_blocked) {
        return;
    }
    m_blocked = true;
    const QString reason = QStringLiteral("%1 cannot accept connections: %2 (out of file descriptors?); they wait "
                                          "in the backlog, retrying every %3 ms")
                               .arg(m_name, error)
                               .arg(kRetryMs);
    qCWarning(lcEndpoint).noquote() << reason;
    m_health->setBlocked(reason);
}

void AcceptGuard::retry()
{
    if (!m_notifier) {
        m_retryTimer->stop();
        return;
    }
    if (descriptorAvailable()) {
        m_retryTimer->stop();
        m_notifier->setEnabled(true); // a waiting connection is accepted now (or the error comes back)
        recovered();
    }
}

void AcceptGuard::recovered()
{
    m_blocked = false;
    m_retryTimer->stop();
    m_health->setAccepting();
    qCInfo(lcEndpoint).noquote() << m_name << "accepting connections again";
}

QString raiseOpenFilesLimit()
{
#ifdef Q_OS_UNIX
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return QStringLiteral("open files limit unknown");
    }
    const rlim_t before = limit.rlim_cur;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            return QStringLiteral("open files limit %1 (could not raise it to the hard limit %2)")
                .arg(before)
                .arg(limit.rlim_max);
        }
        return QStringLiteral("open files limit %1 (raised from %2)").arg(limit.rlim_cur).arg(before);
    }
    return QStringLiteral("open files limit %1 (the hard limit)").arg(limit.rlim_cur);
#else
    return {};
#endif
}

} // namespace wsserve::net
