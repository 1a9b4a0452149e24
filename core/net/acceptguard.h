// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QMutex>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>

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

// Keeps a QTcpServer accepting through descriptor exhaustion. Qt pauses a server on any accept error that
// is not temporary (EMFILE, ENFILE, ENOBUFS...) and never resumes it, so one burst of connections could
// stop a listener for good. The guard logs the first error of an episode (once, not per attempt), counts
// the episode, and retries every kRetryMs; once a descriptor can be had again and an accept attempt
// raised no error, the episode is over and that is logged too.
// Thread: the server's thread; health() may be read anywhere.
class AcceptGuard final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AcceptGuard)

public:
    static constexpr int kRetryMs = 200;

    AcceptGuard(QTcpServer *server, QString listenerName, std::shared_ptr<ListenerHealth> health);
    ~AcceptGuard() override;

    const std::shared_ptr<ListenerHealth> &health() const { return m_health; }

private:
    void onAcceptError();
    void retry();

    QTcpServer *m_server;
    QString m_name;
    std::shared_ptr<ListenerHealth> m_health;
    QTimer *m_retryTimer = nullptr;
    bool m_blocked = false;
    bool m_failedSinceResume = false;
};

// Raises this process's soft open-files limit to its hard limit, as servers do (the common default soft
// limit of 1 024 is far below what one instance can serve). Returns a sentence for the log saying what
// it got. Does nothing where there is no such limit.
QString raiseOpenFilesLimit();

} // namespace wsserve::net
