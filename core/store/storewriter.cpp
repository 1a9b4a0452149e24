// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "storewriter.h"

#include "clock.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <atomic>

Q_LOGGING_CATEGORY(lcStore, "wsserve.core.store", QtInfoMsg)

namespace wsserve {

namespace {

constexpr int kApplicationId = 0x77737276; // "wsrv": marks a wsserve database

QString nextConnectionName(const char *what)
{
    static std::atomic<int> counter{0};
    return QStringLiteral("wsserve-store-%1-%2").arg(QLatin1String(what)).arg(counter.fetch_add(1));
}

// A document holds any value as [value]. A client's payload is stored as the bytes it sent (validated).
QByteArray serialize(const LazyJson &value)
{
    if (value.hasText()) {
        QByteArray text;
        text.reserve(value.text().size() + 2);
        return text.append('[').append(value.text()).append(']');
    }
    return QJsonDocument(QJsonArray{value.value()}).toJson(QJsonDocument::Compact);
}

QJsonValue deserialize(const QByteArray &text)
{
    return QJsonDocument::fromJson(text).array().at(0);
}

bool exec(QSqlDatabase &db, const QString &sql, QString *error)
{
    QSqlQuery query(db);
    if (!query.exec(sql)) {
        *error = QStringLiteral("%1: %2").arg(sql.section(u' ', 0, 2), query.lastError().text());
        return false;
    }
    return true;
}

std::optional<qint64> pragmaInt(QSqlDatabase &db, const char *name)
{
    QSqlQuery query(db);
    if (!query.exec(QStringLiteral("PRAGMA %1").arg(QLatin1String(name))) || !query.next()) {
        return std::nullopt;
    }
    return query.value(0).toLongLong();
}

// Why the file is not a usable wsserve database (corrupt or someone else's), or empty when it is.
QString unusableReason(QSqlDatabase &db)
{
    QSqlQuery check(db);
    if (!check.exec(QStringLiteral("PRAGMA quick_check")) || !check.next()) {
        return QStringLiteral("not a database (%1)").arg(check.lastError().text());
    }
    if (const QString result = check.value(0).toString(); result != u"ok") {
        return QStringLiteral("corrupt (%1)").arg(result.left(200));
    }
    const std::optional<qint64> version = pragmaInt(db, "user_version");
    const std::optional<qint64> appId = pragmaInt(db, "application_id");
    QSqlQuery tables(db);
    if (!version || !appId || !tables.exec(QStringLiteral("SELECT count(*) FROM sqlite_master")) || !tables.next()) {
        return QStringLiteral("unreadable");
    }
    const bool empty = tables.value(0).toLongLong() == 0;
    if (*appId != kApplicationId && !(empty && *version == 0)) {
        return QStringLiteral("a database of another program");
    }
    return {};
}

const char *const kMigrations[] = {
    // 0 -> 1: history and key/value state
    "CREATE TABLE history(instance TEXT NOT NULL, topic TEXT NOT NULL, seq INTEGER NOT NULL, "
    "time_ms INTEGER NOT NULL, event TEXT NOT NULL, payload BLOB NOT NULL, is_binary INTEGER NOT NULL DEFAULT 0, "
    "PRIMARY KEY(instance, topic, seq)) WITHOUT ROWID;"
    "CREATE TABLE kv(instance TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, "
    "PRIMARY KEY(instance, key)) WITHOUT ROWID",
    // 1 -> 2: instance definitions of headless runs
    "CREATE TABLE instances(id TEXT PRIMARY KEY NOT NULL, type TEXT NOT NULL, options BLOB NOT NULL, "
    "running INTEGER NOT NULL) WITHOUT ROWID",
};
static_assert(std::size(kMigrations) == Store::kSchemaVersion);

} // namespace

bool StoreWriter::migrate(const QString &connection, int from, QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(connection, false);
    for (int version = from; version < Store::kSchemaVersion; ++version) {
        if (!db.transaction()) {
            *error = db.lastError().text();
            return false;
        }
        const QStringList statements = QString::fromLatin1(kMigrations[version]).split(u';', Qt::SkipEmptyParts);
        for (const QString &sql : statements) {
            if (!exec(db, sql, error)) {
                db.rollback();
                return false;
            }
        }
        if (!exec(db, QStringLiteral("PRAGMA application_id = %1").arg(kApplicationId), error) ||
            !exec(db, QStringLiteral("PRAGMA user_version = %1").arg(version + 1), error)) {
            db.rollback();
            return false;
        }
        if (!db.commit()) {
            *error = db.lastError().text();
            db.rollback();
            return false;
        }
        qCInfo(lcStore).noquote() << "database schema" << version << "->" << version + 1;
    }
    return true;
}

StoreWriter::StoreWriter(QString dbPath, Store::OpenOptions options)
    : m_dbPath(std::move(dbPath))
    , m_options(options)
{}

StoreWriter::~StoreWriter()
{
    {
        QMutexLocker lock(&m_mutex);
        m_stop = true;
        m_wake.wakeAll();
    }
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

bool StoreWriter::openAndLoad(Store &store, QString *error, Store::OpenError *kind)
{
    const QString connection = nextConnectionName("open");
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
        db.setDatabaseName(m_dbPath);
        const auto fail = [&](Store::OpenError what, const QString &why) {
            *kind = what;
            *error = why;
            return false;
        };
        ok = [&] {
            if (!db.open()) {
                return fail(Store::OpenError::Unwritable,
                            QStringLiteral("cannot open '%1': %2").arg(m_dbPath, db.lastError().text()));
            }
            if (const QString reason = unusableReason(db); !reason.isEmpty()) {
                db.close();
                const QString aside = m_dbPath + QStringLiteral(".corrupt-") +
                                      QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMddTHHmmss")) +
                                      u'Z';
                if (!QFile::rename(m_dbPath, aside)) {
                    return fail(Store::OpenError::Unwritable,
                                QStringLiteral("'%1' is %2 and cannot be moved aside").arg(m_dbPath, reason));
                }
                for (const char *suffix : {"-wal", "-shm"}) {
                    QFile::rename(m_dbPath + QLatin1String(suffix), aside + QLatin1String(suffix));
                }
                qCWarning(lcStore).noquote() << "the database" << m_dbPath << "is" << reason << "- moved aside as"
                                             << aside << "and a fresh one made";
                if (!db.open()) {
                    return fail(Store::OpenError::Unwritable,
                                QStringLiteral("cannot create '%1': %2").arg(m_dbPath, db.lastError().text()));
                }
            }
            QString why;
            const qint64 version = pragmaInt(db, "user_version").value_or(0);
            if (version > Store::kSchemaVersion) {
                return fail(Store::OpenError::NewerSchema,
                            QStringLiteral("'%1' has schema %2, newer than this wsserve's %3: use a newer wsserve or "
                                           "another --data-dir")
                                .arg(m_dbPath)
                                .arg(version)
                                .arg(Store::kSchemaVersion));
            }
            QSqlQuery mode(db);
            if (!mode.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !mode.next() ||
                mode.value(0).toString() != u"wal") {
                return fail(
                    Store::OpenError::Unwritable,
                    QStringLiteral("cannot switch '%1' to WAL mode: %2").arg(m_dbPath, mode.lastError().text()));
            }
            mode.finish(); // an active statement would keep the migration from committing
            if (!migrate(connection, static_cast<int>(version), &why)) {
                return fail(Store::OpenError::Unwritable, QStringLiteral("cannot prepare '%1': %2").arg(m_dbPath, why));
            }
            // Load everything: memory answers every read from now on.
            QSqlQuery rows(db);
            rows.setForwardOnly(true);
            if (!rows.exec(QStringLiteral(
                    "SELECT instance, topic, seq, time_ms, event, payload, is_binary FROM history ORDER BY instance, "
                    "topic, seq"))) {
                return fail(Store::OpenError::Failed, rows.lastError().text());
            }
            while (rows.next()) {
                StoredMessage message;
                message.seq = rows.value(2).toLongLong();
                message.timeMs = rows.value(3).toLongLong();
                message.event = rows.value(4).toString();
                const QByteArray bytes = rows.value(5).toByteArray();
                message.payload =
                    rows.value(6).toBool() ? Payload::fromBinary(bytes) : Payload::fromJson(deserialize(bytes));
                Store::TopicHistory &topic = store.m_data[rows.value(0).toString()].topics[rows.value(1).toString()];
                topic.nextSeq = message.seq + 1;
                topic.messages.push_back(std::move(message));
                ++store.m_storedMessages;
            }
            if (!rows.exec(QStringLiteral("SELECT instance, key, value FROM kv"))) {
                return fail(Store::OpenError::Failed, rows.lastError().text());
            }
            while (rows.next()) {
                store.m_data[rows.value(0).toString()].values.insert(rows.value(1).toString(),
                                                                     deserialize(rows.value(2).toByteArray()));
            }
            if (!rows.exec(QStringLiteral("SELECT id, type, options, running FROM instances"))) {
                return fail(Store::OpenError::Failed, rows.lastError().text());
            }
            while (rows.next()) {
                StoredInstance definition{rows.value(0).toString(), rows.value(1).toString(),
                                          deserialize(rows.value(2).toByteArray()).toObject(), rows.value(3).toBool()};
                store.m_instances.insert(definition.id, definition);
            }
            return true;
        }();
        db.close();
    }
    QSqlDatabase::removeDatabase(connection);
    if (ok) {
        m_thread = std::thread([this] { run(); });
    }
    return ok;
}

void StoreWriter::enqueue(StoreOp op)
{
    QMutexLocker lock(&m_mutex);
    if (m_queue.size() >= Store::kMaxQueue) {
        // The disk is slower than the traffic: the oldest unwritten history goes, never the instance's time.
        const auto oldest = std::find_if(m_queue.begin(), m_queue.end(), [](const StoreOp &queued) {
            return queued.kind == StoreOp::Kind::HistoryInsert;
        });
        if (oldest != m_queue.end()) {
            m_queue.erase(oldest);
            ++m_stats.droppedUnwritten;
            ++m_handled;
        }
    }
    if (m_queue.isEmpty()) {
        m_wake.wakeAll();
    }
    m_queue.append(std::move(op));
    ++m_handedOver;
}

bool StoreWriter::flush(int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    QMutexLocker lock(&m_mutex);
    const quint64 target = m_handedOver;
    m_flushRequested = true;
    m_wake.wakeAll();
    while (m_handled < target) {
        const qint64 left = timeoutMs - timer.elapsed();
        if (left <= 0 || !m_thread.joinable()) {
            return false;
        }
        m_done.wait(&m_mutex, static_cast<unsigned long>(left));
    }
    return true;
}

void StoreWriter::fillStats(StoreStats *stats) const
{
    QMutexLocker lock(&m_mutex);
    const qint64 stored = stats->storedMessages;
    *stats = m_stats;
    stats->storedMessages = stored;
    stats->queueLength = m_queue.size();
    stats->paused = m_pausedUntilMs > nowMs();
}

bool StoreWriter::paused() const
{
    QMutexLocker lock(&m_mutex);
    return m_pausedUntilMs > nowMs();
}

void StoreWriter::run()
{
    const QString connection = nextConnectionName("writer");
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
        db.setDatabaseName(m_dbPath);
        QString error;
        const bool opened = db.open() && exec(db, QStringLiteral("PRAGMA synchronous=FULL"), &error) &&
                            exec(db, QStringLiteral("PRAGMA busy_timeout=2000"), &error) &&
                            (m_options.maxPageCount <= 0 ||
                             exec(db, QStringLiteral("PRAGMA max_page_count=%1").arg(m_options.maxPageCount), &error));
        if (!opened) {
            qCCritical(lcStore).noquote()
                << "the writer cannot open" << m_dbPath << ":" << (error.isEmpty() ? db.lastError().text() : error);
        }
        for (;;) {
            QList<StoreOp> batch;
            {
                QMutexLocker lock(&m_mutex);
                while (m_queue.isEmpty() && !m_stop) {
                    m_flushRequested = false;
                    m_wake.wait(&m_mutex);
                }
                if (m_queue.isEmpty() && m_stop) {
                    break;
                }
                if (!m_stop && !m_flushRequested) {
                    m_wake.wait(&m_mutex, Store::kCommitIntervalMs); // gathers a batch
                }
                batch.swap(m_queue);
            }
            commit(batch, connection);
            QMutexLocker lock(&m_mutex);
            m_handled += static_cast<quint64>(batch.size());
            m_done.wakeAll();
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(connection);
}

void StoreWriter::commit(QList<StoreOp> &batch, const QString &connection)
{
    QElapsedTimer timer;
    timer.start();
    qint64 bytes = 0;
    QString error;
    if (applyAll(batch, connection, true, &bytes, &error)) {
        QMutexLocker lock(&m_mutex);
        m_stats.bytesWritten += bytes;
        m_stats.lastCommitMs = timer.elapsed();
        m_stats.maxCommitMs = std::max(m_stats.maxCommitMs, m_stats.lastCommitMs);
        ++m_stats.commits;
        return;
    }
    // Most likely the disk is full: history pauses (live traffic goes on); state changes are tried alone.
    const qint64 inserts = std::count_if(batch.cbegin(), batch.cend(),
                                         [](const StoreOp &op) { return op.kind == StoreOp::Kind::HistoryInsert; });
    QString stateError;
    const bool stateSaved = applyAll(batch, connection, false, &bytes, &stateError);
    bool firstError = false;
    {
        QMutexLocker lock(&m_mutex);
        firstError = m_pausedUntilMs == 0 || m_stats.error != error;
        m_stats.droppedUnwritten += inserts;
        m_stats.error = error;
        m_pausedUntilMs = nowMs() + Store::kPauseRetryMs;
    }
    if (firstError) {
        qCCritical(lcStore).noquote() << "cannot write to" << m_dbPath << "(" << error << "): history pauses for"
                                      << Store::kPauseRetryMs << "ms," << inserts << "messages not stored; state"
                                      << (stateSaved ? QStringLiteral("saved")
                                                     : QStringLiteral("NOT saved: ") + stateError);
    }
}

bool StoreWriter::applyAll(const QList<StoreOp> &batch, const QString &connection, bool history, qint64 *bytes,
                           QString *error)
{
    QSqlDatabase db = QSqlDatabase::database(connection, false);
    if (!db.isOpen()) {
        *error = QStringLiteral("database not open");
        return false;
    }
    if (!db.transaction()) {
        *error = db.lastError().text();
        return false;
    }
    QSqlQuery insert(db);
    insert.prepare(QStringLiteral("INSERT OR REPLACE INTO history(instance, topic, seq, time_ms, event, payload, "
                                  "is_binary) VALUES(?, ?, ?, ?, ?, ?, ?)"));
    QSqlQuery query(db);
    QHash<std::pair<QString, QString>, qint64> trims; // the oldest seq kept, applied once per topic
    bool ok = true;
    const auto run = [&](QSqlQuery &q) {
        if (ok && !q.exec()) {
            ok = false;
            *error = q.lastError().text();
        }
    };
    const auto runSql = [&](const QString &sql, std::initializer_list<QVariant> values) {
        query.prepare(sql);
        int i = 0;
        for (const QVariant &value : values) {
            query.bindValue(i++, value);
        }
        run(query);
    };
    for (const StoreOp &op : batch) {
        switch (op.kind) {
        case StoreOp::Kind::HistoryInsert: {
            if (!history) {
                break;
            }
            const QByteArray data = op.payload.isBinary ? op.payload.bytes : serialize(op.payload.json);
            *bytes += data.size();
            insert.bindValue(0, op.instance);
            insert.bindValue(1, op.name);
            insert.bindValue(2, op.seq);
            insert.bindValue(3, op.timeMs);
            insert.bindValue(4, op.event);
            insert.bindValue(5, data);
            insert.bindValue(6, op.payload.isBinary ? 1 : 0);
            run(insert);
            break;
        }
        case StoreOp::Kind::HistoryTrim:
            if (history) {
                qint64 &keep = trims[{op.instance, op.name}];
                keep = std::max(keep, op.seq);
            }
            break;
        case StoreOp::Kind::HistoryClear:
            if (op.name.isEmpty()) {
                runSql(QStringLiteral("DELETE FROM history WHERE instance = ?"), {op.instance});
            } else {
                runSql(QStringLiteral("DELETE FROM history WHERE instance = ? AND topic = ?"), {op.instance, op.name});
            }
            break;
        case StoreOp::Kind::ValuePut:
            runSql(QStringLiteral("INSERT OR REPLACE INTO kv(instance, key, value) VALUES(?, ?, ?)"),
                   {op.instance, op.name, serialize(op.value)});
            break;
        case StoreOp::Kind::ValueRemove:
            runSql(QStringLiteral("DELETE FROM kv WHERE instance = ? AND key = ?"), {op.instance, op.name});
            break;
        case StoreOp::Kind::InstancePut:
            runSql(QStringLiteral("INSERT OR REPLACE INTO instances(id, type, options, running) VALUES(?, ?, ?, ?)"),
                   {op.definition.id, op.definition.type, serialize(op.definition.options),
                    op.definition.running ? 1 : 0});
            break;
        case StoreOp::Kind::InstanceRemove:
            runSql(QStringLiteral("DELETE FROM instances WHERE id = ?"), {op.name});
            break;
        case StoreOp::Kind::Invalid:
            break;
        }
    }
    for (auto it = trims.cbegin(); it != trims.cend() && ok; ++it) {
        runSql(QStringLiteral("DELETE FROM history WHERE instance = ? AND topic = ? AND seq < ?"),
               {it.key().first, it.key().second, it.value()});
    }
    if (ok && !db.commit()) {
        ok = false;
        *error = db.lastError().text();
    }
    if (!ok) {
        db.rollback();
    }
    return ok;
}

} // namespace wsserve
