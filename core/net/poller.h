// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QHash>
#include <QObject>

#include <functional>

class QSocketNotifier;

namespace wsserve::net {

// Readiness of many sockets for one thread's event loop, at a cost that does not grow with their number.
// On Linux one epoll set holds every socket and only its descriptor is watched by the thread's Qt event
// dispatcher, so a loop iteration no longer polls thousands of descriptors (Qt's GLib and poll()
// dispatchers do; with 10 000 sockets that is where an instance thread spent its time). Elsewhere, or
// with WSSERVE_POLLER=qt, each socket gets QSocketNotifiers of the thread's own dispatcher.
// Level-triggered: a socket stays reported while it has something to read (or room to write, while
// asked for). Events are delivered in batches of at most kMaxBatch; batchDone() follows every batch,
// which is where the owner flushes what the batch queued.
// Thread: lives in, and is used from, one thread.
class Poller final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Poller)

public:
    enum Event : quint32 { Readable = 0x1, Writable = 0x2 };
    static constexpr int kMaxBatch = 256;

    using Handler = std::function<void(qintptr fd, quint32 events)>;
    using BatchDone = std::function<void()>;

    Poller(Handler handler, BatchDone batchDone, QObject *parent = nullptr);
    ~Poller() override;

    // Watches fd for reading (and writing when wantWrite). False when the OS refused.
    bool add(qintptr fd);
    // What fd is watched for (reading is on after add(); a peer that must not be read any more, such as a
    // flooder being closed, is left with its kernel buffers full instead).
    void setInterest(qintptr fd, bool wantRead, bool wantWrite);
    void remove(qintptr fd);
    // "epoll" or "qt".
    QString backend() const;

private:
    void dispatchEpoll();
    void dispatchNotifier(qintptr fd, quint32 events);

    Handler m_handler;
    BatchDone m_batchDone;
    int m_epoll = -1;
    QSocketNotifier *m_epollNotifier = nullptr;
    struct Notifiers {
        QSocketNotifier *read = nullptr; // children of the poller
        QSocketNotifier *write = nullptr;
    };
    QHash<qintptr, Notifiers> m_notifiers; // the "qt" backend
};

} // namespace wsserve::net
