// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// Internal to the store (store.cpp and storewriter.cpp): the database file and the writer thread.

#include "store.h"

#include <QLockFile>
#include <QLoggingCategory>
#include <QMutex>
#include <QWaitCondition>

#include <thread>

Q_DECLARE_LOGGING_CATEGORY(lcStore)

namespace wsserve {

// One change handed to the writer, as values.
struct StoreOp {
    enum class Kind {
        Invalid = 0,
        HistoryInsert,
        HistoryTrim,
        HistoryClear,
        ValuePut,
        ValueRemove,
        InstancePut,
        InstanceRemove
    };
    Kind kind = Kind::Invalid;
    QString instance;
    QString name;   // topic or key or instance id
    qint64 seq = 0; // HistoryInsert: its seq; HistoryTrim: the oldest seq kept
    qint64 timeMs = 0;
    QString event;
    Payload payload;
    QJsonValue value;          // ValuePut
    StoredInstance definition; // InstancePut
};

// Opens, checks, migrates and loads the database; then commits batches of StoreOps on its own thread.
class StoreWriter
{
public:
    StoreWriter(QString dbPath, Store::OpenOptions options);
    ~StoreWriter(); // commits what is queued and joins the thread

    // On the opening thread: checks the file (moving a corrupt or foreign one aside), migrates, loads
    // everything into `store`, then starts the writer thread. False with *error and *kind.
    bool openAndLoad(Store &store, QString *error, Store::OpenError *kind);

    void enqueue(StoreOp op);
    bool flush(int timeoutMs);
    void fillStats(StoreStats *stats) const;
    bool paused() const;

    // Exposed for the migration test.
    static bool migrate(const QString &connection, int from, QString *error);

private:
    void run();
    // Commits one batch; on a write error drops its history inserts (counted) and pauses history.
    void commit(QList<StoreOp> &batch, const QString &connection);
    bool applyAll(const QList<StoreOp> &batch, const QString &connection, bool history, qint64 *bytes, QString *error);

    QString m_dbPath;
    Store::OpenOptions m_options;
    std::thread m_thread;
    mutable QMutex m_mutex; // guards what follows
    QWaitCondition m_wake;
    QWaitCondition m_done;
    QList<StoreOp> m_queue;
    quint64 m_handedOver = 0; // ops enqueued (or dropped) so far
    quint64 m_handled = 0;    // ops committed, failed or dropped
    bool m_stop = false;
    bool m_flushRequested = false;
    StoreStats m_stats;
    qint64 m_pausedUntilMs = 0;
};

} // namespace wsserve
