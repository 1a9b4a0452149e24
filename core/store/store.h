// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "protocol/message.h"

#include <QHash>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QMutex>
#include <QString>

#include <deque>
#include <memory>

class QLockFile;

namespace wsserve {

// One stored broadcast of a topic.
struct StoredMessage {
    qint64 seq = 0;    // per topic, from 1, never reused
    qint64 timeMs = 0; // wall clock, ms since the epoch
    QString event;
    Payload payload;
};

struct StoredTopic {
    QString topic;
    qint64 count = 0;
    qint64 lastSeq = 0;
};

// An instance definition kept for headless runs (what the admin API created).
struct StoredInstance {
    QString id;
    QString type;
    QJsonObject options;
    bool running = false;
};

// Counters for the metrics and the GUI.
struct StoreStats {
    qint64 storedMessages = 0;   // history entries held (memory and disk hold the same set)
    qint64 bytesWritten = 0;     // serialized history payload bytes committed since start
    qint64 queueLength = 0;      // operations waiting for the writer
    qint64 lastCommitMs = 0;     // duration of the last batch commit
    qint64 maxCommitMs = 0;      // longest batch commit since start
    qint64 commits = 0;          // batches committed
    qint64 droppedUnwritten = 0; // history entries dropped because the writer fell behind or the disk failed
    bool paused = false;         // history paused after a write error (disk full); retried every few seconds
    QString error;               // the last write error, empty when none
};

class StoreWriter;

struct StoreOpenOptions {
    qint64 maxPageCount = 0; // > 0: SQLite's max_page_count (tests make the disk "full" with it)
};

// Persistence of one data folder: message history per instance and topic, each instance's key/value
// state, and (headless) instance definitions. SQLite (Qt SQL, QSQLITE) in WAL mode.
//
// Memory is the source of every read: what the database holds is loaded once when the store opens, and
// every change updates memory at once and is handed (as values) to a writer thread that commits in
// batches (at most kCommitIntervalMs apart). So an instance thread never waits for the disk, replay on
// join is a lookup with no gap or duplicate against live traffic, and on a crash at most the last batch
// is lost. An in-memory store (no folder) behaves the same without a disk.
// Thread: any; every member is thread-safe.
class Store
{
public:
    static constexpr int kCommitIntervalMs = 50;
    static constexpr int kSchemaVersion = 2;
    static constexpr qsizetype kMaxQueue = 200000; // operations; beyond it the oldest history inserts drop
    static constexpr int kPauseRetryMs = 5000;
    static constexpr int kMaxHistory = 10000;
    static constexpr qsizetype kMaxKeyLength = 256;
    static constexpr qsizetype kMaxValueBytes = 1024 * 1024;

    using OpenOptions = StoreOpenOptions;
    enum class OpenError { None = 0, Unwritable, Locked, NewerSchema, Failed };

    // Opens DIR/wsserve.db, creating the folder and the file when missing. A corrupt or foreign file is
    // moved aside as wsserve.db.corrupt-<time> (logged) and a fresh one made. nullptr with *error (and
    // *kind) when the folder cannot be written, another wsserve uses it, or the schema is newer.
    static std::shared_ptr<Store> open(const QString &dir, QString *error, OpenError *kind = nullptr,
                                       const OpenOptions &options = {});
    // No disk: history and state live as long as the process.
    static std::shared_ptr<Store> inMemory();
    // The default data folder (QStandardPaths::AppDataLocation).
    static QString defaultDir();

    ~Store(); // commits what is queued, then stops the writer
    Store(const Store &) = delete;
    Store &operator=(const Store &) = delete;

    QString path() const { return m_path; } // empty for an in-memory store
    bool persistent() const { return !m_path.isEmpty(); }

    // History. Stores one broadcast, keeps at most `keep` per topic (and none older than ttlMs when > 0);
    // returns its seq, or 0 while history is paused (disk full) or keep is 0.
    qint64 appendHistory(const QString &instance, const QString &topic, const QString &event, const Payload &payload,
                         qint64 timeMs, int keep, qint64 ttlMs);
    // The stored messages of a topic, oldest first: the last `limit` of those at or after sinceMs (0: all)
    // and not older than ttlMs (0: any age).
    QList<StoredMessage> history(const QString &instance, const QString &topic, qint64 sinceMs, int limit, qint64 nowMs,
                                 qint64 ttlMs) const;
    QList<StoredTopic> historyTopics(const QString &instance) const;
    // Empty topic: every topic of the instance. Returns how many messages were removed.
    qint64 clearHistory(const QString &instance, const QString &topic = {});

    // Key/value state of an instance (JSON values). setValue refuses (false, *error) a key that is empty
    // or over kMaxKeyLength characters, or a value over kMaxValueBytes serialized.
    QJsonValue value(const QString &instance, const QString &key) const; // Undefined when absent
    bool setValue(const QString &instance, const QString &key, const QJsonValue &value, QString *error = nullptr);
    bool remove(const QString &instance, const QString &key);
    QStringList keys(const QString &instance) const;

    // Instance definitions (headless runs with a data folder).
    QList<StoredInstance> instances() const;
    void saveInstance(const StoredInstance &instance);
    void forgetInstance(const QString &id);

    // Blocks until everything handed over so far is committed (or failed); false on timeout.
    bool flush(int timeoutMs = 5000);
    StoreStats stats() const;

private:
    struct TopicHistory {
        std::deque<StoredMessage> messages;
        qint64 nextSeq = 1;
    };
    struct InstanceData {
        QHash<QString, TopicHistory> topics;
        QHash<QString, QJsonValue> values;
    };
    friend class StoreWriter;

    Store() = default;
    bool historyPaused() const;

    QString m_path;
    std::unique_ptr<QLockFile> m_lock;     // held while the store is open
    std::unique_ptr<StoreWriter> m_writer; // null for an in-memory store
    mutable QMutex m_mutex;                // guards what follows
    QHash<QString, InstanceData> m_data;
    QHash<QString, StoredInstance> m_instances;
    qint64 m_storedMessages = 0;
};

} // namespace wsserve
