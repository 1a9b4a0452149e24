// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "poller.h"

#include <QSocketNotifier>

#ifdef Q_OS_LINUX
#include <sys/epoll.h>
#include <unistd.h>
#endif

namespace wsserve::net {

namespace {
bool epollWanted()
{
#ifdef Q_OS_LINUX
    return qEnvironmentVariable("WSSERVE_POLLER") != u"qt";
#else
    return false;
#endif
}
} // namespace

Poller::Poller(Handler handler, BatchDone batchDone, QObject *parent)
    : QObject(parent)
    , m_handler(std::move(handler))
    , m_batchDone(std::move(batchDone))
{
#ifdef Q_OS_LINUX
    if (epollWanted()) {
        m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    }
    if (m_epoll >= 0) {
        m_epollNotifier = new QSocketNotifier(m_epoll, QSocketNotifier::Read, this);
        connect(m_epollNotifier, &QSocketNotifier::activated, this, &Poller::dispatchEpoll);
    }
#endif
}

Poller::~Poller()
{
#ifdef Q_OS_LINUX
    if (m_epoll >= 0) {
        delete m_epollNotifier;
        ::close(m_epoll);
    }
#endif
}

QString Poller::backend() const
{
    return m_epoll >= 0 ? QStringLiteral("epoll") : QStringLiteral("qt");
}

bool Poller::add(qintptr fd)
{
#ifdef Q_OS_LINUX
    if (m_epoll >= 0) {
        epoll_event event{};
        event.events = EPOLLIN | EPOLLRDHUP;
        event.data.fd = static_cast<int>(fd);
        return ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, static_cast<int>(fd), &event) == 0;
    }
#endif
    Notifiers notifiers;
    notifiers.read = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    notifiers.write = new QSocketNotifier(fd, QSocketNotifier::Write, this);
    notifiers.write->setEnabled(false);
    connect(notifiers.read, &QSocketNotifier::activated, this, [this, fd] { dispatchNotifier(fd, Readable); });
    connect(notifiers.write, &QSocketNotifier::activated, this, [this, fd] { dispatchNotifier(fd, Writable); });
    m_notifiers.insert(fd, notifiers);
    return true;
}

void Poller::setInterest(qintptr fd, bool wantRead, bool wantWrite)
{
#ifdef Q_OS_LINUX
    if (m_epoll >= 0) {
        epoll_event event{};
        // A hang-up or error is still reported without EPOLLIN (epoll always reports those).
        event.events = (wantRead ? EPOLLIN | EPOLLRDHUP : 0u) | (wantWrite ? EPOLLOUT : 0u);
        event.data.fd = static_cast<int>(fd);
        ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, static_cast<int>(fd), &event);
        return;
    }
#endif
    const auto it = m_notifiers.find(fd);
    if (it != m_notifiers.end()) {
        it->read->setEnabled(wantRead);
        it->write->setEnabled(wantWrite);
    }
}

void Poller::remove(qintptr fd)
{
#ifdef Q_OS_LINUX
    if (m_epoll >= 0) {
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, static_cast<int>(fd), nullptr);
        return;
    }
#endif
    const auto it = m_notifiers.find(fd);
    if (it != m_notifiers.end()) {
        it->read->setEnabled(false);
        it->write->setEnabled(false);
        // A notifier may be the one whose activated() is running: let the loop delete it.
        it->read->deleteLater();
        it->write->deleteLater();
        m_notifiers.erase(it);
    }
}

void Poller::dispatchEpoll()
{
#ifdef Q_OS_LINUX
    // One batch per loop iteration: timers and queued calls run between batches, and the epoll
    // descriptor stays readable (level-triggered) while sockets are still ready.
    epoll_event events[kMaxBatch];
    const int count = ::epoll_wait(m_epoll, events, kMaxBatch, 0);
    for (int i = 0; i < count; ++i) {
        quint32 mask = 0;
        if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            mask |= Readable; // a hang-up or error is found out by reading
        }
        if (events[i].events & EPOLLOUT) {
            mask |= Writable;
        }
        m_handler(events[i].data.fd, mask);
    }
    if (count > 0) {
        m_batchDone();
    }
#endif
}

void Poller::dispatchNotifier(qintptr fd, quint32 events)
{
    m_handler(fd, events);
    m_batchDone();
}

} // namespace wsserve::net
