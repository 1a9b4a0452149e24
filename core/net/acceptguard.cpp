// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "acceptguard.h"

#include "logging.h"

#include <QTcpServer>
#include <QTimer>

#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace wsserve::net {

namespace {
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

AcceptGuard::AcceptGuard(QTcpServer *server, QString listenerName, std::shared_ptr<ListenerHealth> health)
    : QObject(server)
    , m_server(server)
    , m_name(std::move(listenerName))
    , m_health(std::move(health))
{
    m_retryTimer = new QTimer(this);
    m_retryTimer->setInterval(kRetryMs);
    connect(m_retryTimer, &QTimer::timeout, this, &AcceptGuard::retry);
    connect(m_server, &QTcpServer::acceptError, this, &AcceptGuard::onAcceptError);
}

AcceptGuard::~AcceptGuard() = default;

void AcceptGuard::onAcceptError()
{
    // Qt has paused the server already.
    m_failedSinceResume = true;
    if (m_blocked) {
        return;
    }
    m_blocked = true;
    const QString reason = QStringLiteral("%1 cannot accept connections: %2 (out of file descriptors?); retrying "
                                          "every %3 ms")
                               .arg(m_name, m_server->errorString())
                               .arg(kRetryMs);
    qCWarning(lcEndpoint).noquote() << reason;
    m_health->setBlocked(reason);
    m_retryTimer->start();
}

void AcceptGuard::retry()
{
    if (!m_server->isListening()) {
        m_retryTimer->stop();
        m_blocked = false;
        m_health->setAccepting();
        return;
    }
    if (!m_failedSinceResume && descriptorAvailable()) {
        // The last resume raised no error and descriptors can be had: the episode is over.
        m_blocked = false;
        m_retryTimer->stop();
        m_health->setAccepting();
        qCInfo(lcEndpoint).noquote() << m_name << "accepting connections again";
        return;
    }
    m_failedSinceResume = false;
    m_server->resumeAccepting(); // a waiting connection is accepted now, or the error comes back
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
