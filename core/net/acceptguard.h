// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QMutex>
#include <QObject>
#include <QString>

#include <functional>
#include <memory>

class QSocketNotifier;
class QTcpServer;
class QTimer;

namespace wsserve::net {

// Whether a listener can accept, readable from any thread (the admin API's /healthz and /metrics).
class ListenerHealth
{
public:
    struct Snapshot {
        bool accepting = true;
        quint64 acceptErrors = 0; // episodes in which accept() failed for lack of resources
        QString reason;           // why it cannot accept; empty while it can
    };
    Snapshot snapshot() const;
    void setBlocked(const QString &reason);
    void setAccepting();

private:
    mutable QMutex m_mutex;
    Snapshot m_state;
};

// Accepts the connections of a listening QTcpServer in place of Qt's own accept loop, which cannot
// survive descriptor exhaustion. In Qt 6.4 an engine keeps the first error it ever recorded, so once an
// accept found the backlog empty (EAGAIN, "temporary"), a later EMFILE is taken for temporary too and
// the level-triggered notifier spins at 100 % CPU for as long as descriptors are short; when EMFILE is
// the first error, the server is paused for good and nothing resumes it.
// The guard pauses Qt's notifier and watches the descriptor itself. On EMFILE, ENFILE, ENOBUFS or
// ENOMEM it stops watching, logs once per episode, counts the episode, reports it in health(), and
// tries again every kRetryMs; the episode ends when descriptors can be had again. Connections that
// arrive meanwhile wait in the kernel's backlog.
// Thread: the server's thread; health() may be read anywhere.
class AcceptGuard final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AcceptGuard)

public:
    static constexpr int kRetryMs = 200;

    // onAccepted(descriptor) takes ownership of each accepted descriptor.
    AcceptGuard(QTcpServer *server, QString listenerName, std::shared_ptr<ListenerHealth> health,
                std::function<void(qintptr)> onAccepted);
    ~AcceptGuard() override;

    // After server->listen() succeeded: takes over accepting. stop() before server->close().
    void start();
    void stop();

    const std::shared_ptr<ListenerHealth> &health() const { return m_health; }

private:
    void onReadable();
    void outOfResources(const QString &error);
    void retry();
    void recovered();

    QTcpServer *m_server;
    QString m_name;
    std::shared_ptr<ListenerHealth> m_health;
    std::function<void(qintptr)> m_onAccepted;
    QSocketNotifier *m_notifier = nullptr;
    QTimer *m_retryTimer = nullptr;
    bool m_blocked = false;
};

// Raises this process's soft open-files limit to its hard limit, as servers do (the common default soft
// limit of 1 024 is far below what one instance can serve). Returns a sentence for the log saying what
// it got. Does nothing where there is no such limit.
QString raiseOpenFilesLimit();

} // namespace wsserve::net
