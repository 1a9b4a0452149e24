// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "store.h"

#include "storewriter.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>

namespace wsserve {

namespace {
constexpr auto kDatabaseName = "wsserve.db";
constexpr auto kLockName = "wsserve.lock";
} // namespace

QString Store::defaultDir()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
}

std::shared_ptr<Store> Store::inMemory()
{
    return std::shared_ptr<Store>(new Store);
}

std::shared_ptr<Store> Store::open(const QString &dir, QString *error, OpenError *kind, const OpenOptions &options)
{
    OpenError ignored = OpenError::None;
    OpenError &what = kind ? *kind : ignored;
    what = OpenError::None;
    if (dir.isEmpty()) {
        what = OpenError::Unwritable;
        *error = QStringLiteral("the data folder is empty");
        return nullptr;
    }
    const QString absolute = QFileInfo(dir).absoluteFilePath();
    if (!QDir().mkpath(absolute) || !QFileInfo(absolute).isDir()) {
        what = OpenError::Unwritable;
        *error = QStringLiteral("data folder '%1' cannot be created").arg(absolute);
        return nullptr;
    }
    auto lock = std::make_unique<QLockFile>(QDir(absolute).filePath(QLatin1String(kLockName)));
    lock->setStaleLockTime(0); // only a live process holds it (a killed one's lock is taken over)
    if (!lock->tryLock(0)) {
        if (lock->error() == QLockFile::LockFailedError) {
            qint64 pid = 0;
            QString host;
            QString app;
            lock->getLockInfo(&pid, &host, &app);
            what = OpenError::Locked;
            *error = QStringLiteral("data folder '%1' is in use by another wsserve (pid %2)").arg(absolute).arg(pid);
        } else {
            what = OpenError::Unwritable;
            *error = QStringLiteral("data folder '%1' is not writable").arg(absolute);
        }
        return nullptr;
    }
    std::shared_ptr<Store> store(new Store);
    store->m_path = QDir(absolute).filePath(QLatin1String(kDatabaseName));
    store->m_lock = std::move(lock);
    store->m_writer = std::make_unique<StoreWriter>(store->m_path, options);
    if (!store->m_writer->openAndLoad(*store, error, &what)) {
        return nullptr;
    }
    qCInfo(lcStore).noquote() << "data in" << store->m_path << "-" << store->m_storedMessages << "history messages,"
                              << store->m_instances.size() << "saved instances";
    return store;
}

Store::~Store()
{
    m_writer.reset(); // commits what is queued
}

bool Store::historyPaused() const
{
    return m_writer && m_writer->paused();
}

qint64 Store::appendHistory(const QString &instance, const QString &topic, const QString &event, const Payload &payload,
                            qint64 timeMs, int keep, qint64 ttlMs)
{
    if (keep <= 0) {
        return 0;
    }
    if (historyPaused()) {
        return 0;
    }
    StoreOp insert;
    qint64 oldestKept = 0;
    {
        QMutexLocker lock(&m_mutex);
        TopicHistory &history = m_data[instance].topics[topic];
        insert.seq = history.nextSeq++;
        history.messages.push_back(StoredMessage{insert.seq, timeMs, event, payload});
        ++m_storedMessages;
        const qint64 before = static_cast<qint64>(history.messages.size());
        while (static_cast<qint64>(history.messages.size()) > keep ||
               (ttlMs > 0 && history.messages.front().timeMs < timeMs - ttlMs)) {
            history.messages.pop_front();
        }
        if (const qint64 removed = before - static_cast<qint64>(history.messages.size()); removed > 0) {
            m_storedMessages -= removed;
            oldestKept = history.messages.empty() ? insert.seq + 1 : history.messages.front().seq;
        }
    }
    if (m_writer) {
        insert.kind = StoreOp::Kind::HistoryInsert;
        insert.instance = instance;
        insert.name = topic;
        insert.timeMs = timeMs;
        insert.event = event;
        insert.payload = payload;
        m_writer->enqueue(insert);
        if (oldestKept > 0) {
            StoreOp trim;
            trim.kind = StoreOp::Kind::HistoryTrim;
            trim.instance = instance;
            trim.name = topic;
            trim.seq = oldestKept;
            m_writer->enqueue(std::move(trim));
        }
    }
    return insert.seq;
}

QList<StoredMessage> Store::history(const QString &instance, const QString &topic, qint64 sinceMs, int limit,
                                    qint64 nowMs, qint64 ttlMs) const
{
    QList<StoredMessage> list;
    QMutexLocker lock(&m_mutex);
    const auto data = m_data.constFind(instance);
    if (data == m_data.cend() || limit <= 0) {
        return list;
    }
    const auto history = data->topics.constFind(topic);
    if (history == data->topics.cend()) {
        return list;
    }
    const qint64 from = std::max(sinceMs, ttlMs > 0 ? nowMs - ttlMs : 0);
    const auto &messages = history->messages;
    // Walk back from the newest: the last `limit` at or after `from`.
    auto first = messages.cend();
    qsizetype count = 0;
    while (first != messages.cbegin() && count < limit) {
        const auto previous = std::prev(first);
        if (previous->timeMs < from) {
            break;
        }
        first = previous;
        ++count;
    }
    list.reserve(count);
    for (auto it = first; it != messages.cend(); ++it) {
        list.append(*it);
    }
    return list;
}

QList<StoredTopic> Store::historyTopics(const QString &instance) const
{
    QList<StoredTopic> list;
    QMutexLocker lock(&m_mutex);
    const auto data = m_data.constFind(instance);
    if (data == m_data.cend()) {
        return list;
    }
    for (auto it = data->topics.cbegin(); it != data->topics.cend(); ++it) {
        if (!it->messages.empty()) {
            list.append(StoredTopic{it.key(), static_cast<qint64>(it->messages.size()), it->messages.back().seq});
        }
    }
    std::sort(list.begin(), list.end(), [](const StoredTopic &a, const StoredTopic &b) { return a.topic < b.topic; });
    return list;
}

qint64 Store::clearHistory(const QString &instance, const QString &topic)
{
    qint64 removed = 0;
    {
        QMutexLocker lock(&m_mutex);
        auto data = m_data.find(instance);
        if (data == m_data.end()) {
            return 0;
        }
        for (auto it = data->topics.begin(); it != data->topics.end(); ++it) {
            if (topic.isEmpty() || it.key() == topic) {
                removed += static_cast<qint64>(it->messages.size());
                it->messages.clear(); // nextSeq stays: a seq is not reused while the process runs
            }
        }
        m_storedMessages -= removed;
    }
    if (m_writer) {
        StoreOp clear;
        clear.kind = StoreOp::Kind::HistoryClear;
        clear.instance = instance;
        clear.name = topic;
        m_writer->enqueue(std::move(clear));
    }
    return removed;
}

QJsonValue Store::value(const QString &instance, const QString &key) const
{
    QMutexLocker lock(&m_mutex);
    const auto data = m_data.constFind(instance);
    return data == m_data.cend() ? QJsonValue(QJsonValue::Undefined)
                                 : data->values.value(key, QJsonValue(QJsonValue::Undefined));
}

bool Store::setValue(const QString &instance, const QString &key, const QJsonValue &value, QString *error)
{
    QString problem;
    if (key.isEmpty() || key.size() > kMaxKeyLength) {
        problem = QStringLiteral("a key is 1 to %1 characters").arg(kMaxKeyLength);
    } else if (value.isUndefined()) {
        problem = QStringLiteral("undefined is not a value (use remove)");
    } else if (const qsizetype size = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact).size();
               size > kMaxValueBytes) {
        problem =
            QStringLiteral("the value of '%1' is %2 bytes, over %3").arg(key.left(64)).arg(size).arg(kMaxValueBytes);
    }
    if (!problem.isEmpty()) {
        if (error) {
            *error = problem;
        }
        return false;
    }
    {
        QMutexLocker lock(&m_mutex);
        m_data[instance].values.insert(key, value);
    }
    if (m_writer) {
        StoreOp put;
        put.kind = StoreOp::Kind::ValuePut;
        put.instance = instance;
        put.name = key;
        put.value = value;
        m_writer->enqueue(std::move(put));
    }
    return true;
}

bool Store::remove(const QString &instance, const QString &key)
{
    {
        QMutexLocker lock(&m_mutex);
        auto data = m_data.find(instance);
        if (data == m_data.end() || data->values.remove(key) == 0) {
            return false;
        }
    }
    if (m_writer) {
        StoreOp op;
        op.kind = StoreOp::Kind::ValueRemove;
        op.instance = instance;
        op.name = key;
        m_writer->enqueue(std::move(op));
    }
    return true;
}

QStringList Store::keys(const QString &instance) const
{
    QMutexLocker lock(&m_mutex);
    const auto data = m_data.constFind(instance);
    QStringList list = data == m_data.cend() ? QStringList() : data->values.keys();
    list.sort();
    return list;
}

QList<StoredInstance> Store::instances() const
{
    QMutexLocker lock(&m_mutex);
    QList<StoredInstance> list = m_instances.values();
    std::sort(list.begin(), list.end(), [](const StoredInstance &a, const StoredInstance &b) { return a.id < b.id; });
    return list;
}

void Store::saveInstance(const StoredInstance &instance)
{
    {
        QMutexLocker lock(&m_mutex);
        const auto existing = m_instances.constFind(instance.id);
        if (existing != m_instances.cend() && existing->type == instance.type &&
            existing->options == instance.options && existing->running == instance.running) {
            return;
        }
        m_instances.insert(instance.id, instance);
    }
    if (m_writer) {
        StoreOp op;
        op.kind = StoreOp::Kind::InstancePut;
        op.definition = instance;
        m_writer->enqueue(std::move(op));
    }
}

void Store::forgetInstance(const QString &id)
{
    {
        QMutexLocker lock(&m_mutex);
        m_instances.remove(id);
        m_data.remove(id); // its history and state go with it
    }
    if (m_writer) {
        StoreOp op;
        op.kind = StoreOp::Kind::InstanceRemove;
        op.name = id;
        m_writer->enqueue(op);
        op.kind = StoreOp::Kind::HistoryClear;
        op.instance = id;
        op.name.clear();
        m_writer->enqueue(std::move(op));
    }
}

bool Store::flush(int timeoutMs)
{
    return !m_writer || m_writer->flush(timeoutMs);
}

StoreStats Store::stats() const
{
    StoreStats stats;
    {
        QMutexLocker lock(&m_mutex);
        stats.storedMessages = m_storedMessages;
    }
    if (m_writer) {
        m_writer->fillStats(&stats);
    }
    return stats;
}

} // namespace wsserve
