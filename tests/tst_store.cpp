// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for the persistence store (core/store) on real SQLite files in a temporary folder: what is
// handed over is on disk after flush() and back after reopening, history bounds (keep, ttl, since,
// limit), the schema migration from version 1, and the bad conditions: a newer schema, a corrupt or
// foreign file (moved aside), a folder in use (locked), a folder that cannot be made, a full disk.

#include "store/store.h"

#include <QDir>
#include <QFile>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

namespace {

// Runs `sql` statements on the database file directly (a separate connection, as another program would).
QStringList query(const QString &path, const QString &sql)
{
    static int counter = 0;
    const QString name = u"tst_store_%1"_s.arg(++counter);
    QStringList rows;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, name);
        db.setDatabaseName(path);
        if (db.open()) {
            QSqlQuery q(db);
            for (const QString &statement : sql.split(u';', Qt::SkipEmptyParts)) {
                if (!q.exec(statement)) {
                    rows.append(u"error: "_s + statement);
                }
            }
            while (q.isSelect() && q.next()) {
                rows.append(q.value(0).toString());
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return rows;
}

Payload json(int n)
{
    return Payload::fromJson(QJsonObject{{u"n"_s, n}});
}

} // namespace

class tst_Store : public QObject
{
    Q_OBJECT

private slots:
    void survivesReopen()
    {
        QTemporaryDir dir;
        QString error;
        {
            auto store = Store::open(dir.path(), &error);
            QVERIFY2(store, qPrintable(error));
            for (int i = 1; i <= 5; ++i) {
                QCOMPARE(store->appendHistory(u"a"_s, u"room"_s, u"msg"_s, json(i), 1000 + i, 100, 0), i);
            }
            store->appendHistory(u"a"_s, u"bin"_s, u"blob"_s, Payload::fromBinary("\x00\x01\xff"_ba), 1000, 100, 0);
            QVERIFY(store->setValue(u"a"_s, u"k"_s, QJsonObject{{u"x"_s, 1}}));
            QVERIFY(store->setValue(u"a"_s, u"s"_s, u"text"_s));
            store->saveInstance({u"a"_s, u"chat"_s, QJsonObject{{u"history"_s, 100}}, true});
            QVERIFY(store->flush());
            QCOMPARE(store->stats().storedMessages, 6);
            QVERIFY(store->stats().commits >= 1);
            QCOMPARE(store->stats().queueLength, 0);
        }
        auto store = Store::open(dir.path(), &error);
        QVERIFY2(store, qPrintable(error));
        const QList<StoredMessage> messages = store->history(u"a"_s, u"room"_s, 0, 100, 2000, 0);
        QCOMPARE(messages.size(), 5);
        QCOMPARE(messages.first().seq, 1);
        QCOMPARE(messages.last().payload.json.toObject().value(u"n"_s).toInt(), 5);
        QCOMPARE(messages.last().timeMs, 1005);
        const QList<StoredMessage> binary = store->history(u"a"_s, u"bin"_s, 0, 1, 2000, 0);
        QCOMPARE(binary.size(), 1);
        QVERIFY(binary.first().payload.isBinary);
        QCOMPARE(binary.first().payload.bytes, "\x00\x01\xff"_ba);
        QCOMPARE(store->value(u"a"_s, u"k"_s).toObject().value(u"x"_s).toInt(), 1);
        QCOMPARE(store->keys(u"a"_s), (QStringList{u"k"_s, u"s"_s}));
        QVERIFY(store->value(u"a"_s, u"missing"_s).isUndefined());
        QCOMPARE(store->instances().size(), 1);
        QCOMPARE(store->instances().first().options.value(u"history"_s).toInt(), 100);
        // The sequence goes on where it stopped.
        QCOMPARE(store->appendHistory(u"a"_s, u"room"_s, u"msg"_s, json(6), 1006, 100, 0), 6);
        QVERIFY(store->remove(u"a"_s, u"k"_s));
        QVERIFY(!store->remove(u"a"_s, u"k"_s));
        QVERIFY(store->flush());
        QCOMPARE(query(store->path(), u"PRAGMA journal_mode"_s), QStringList{u"wal"_s});
        QCOMPARE(query(store->path(), u"PRAGMA integrity_check"_s), QStringList{u"ok"_s});
        QCOMPARE(query(store->path(), u"SELECT count(*) FROM kv"_s), QStringList{u"1"_s});
    }

    void keepTtlSinceAndLimit()
    {
        QTemporaryDir dir;
        QString error;
        {
            auto store = Store::open(dir.path(), &error);
            QVERIFY2(store, qPrintable(error));
            for (int i = 1; i <= 10; ++i) {
                store->appendHistory(u"a"_s, u"t"_s, u"e"_s, json(i), i * 1000, 4, 0); // keeps the last 4
            }
            QCOMPARE(store->history(u"a"_s, u"t"_s, 0, 100, 20000, 0).size(), 4);
            const QList<StoredMessage> last2 = store->history(u"a"_s, u"t"_s, 0, 2, 20000, 0);
            QCOMPARE(last2.size(), 2);
            QCOMPARE(last2.first().seq, 9);
            QCOMPARE(last2.last().seq, 10);
            const QList<StoredMessage> since = store->history(u"a"_s, u"t"_s, 9000, 100, 20000, 0);
            QCOMPARE(since.size(), 2);
            QCOMPARE(since.first().seq, 9);
            // Read with a ttl: only what is at most 2 s old at "now" 11 000 (9 000 and 10 000).
            QCOMPARE(store->history(u"a"_s, u"t"_s, 0, 100, 11000, 2000).size(), 2);
            // Appending with a ttl drops the old ones.
            store->appendHistory(u"a"_s, u"t"_s, u"e"_s, json(11), 11000, 4, 1500);
            QCOMPARE(store->history(u"a"_s, u"t"_s, 0, 100, 11000, 0).size(), 2);
            QCOMPARE(store->historyTopics(u"a"_s).size(), 1);
            QCOMPARE(store->historyTopics(u"a"_s).first().count, 2);
            QCOMPARE(store->historyTopics(u"a"_s).first().lastSeq, 11);
            QVERIFY(store->flush());
        }
        auto store = Store::open(dir.path(), &error);
        QVERIFY2(store, qPrintable(error));
        QCOMPARE(query(store->path(), u"SELECT count(*) FROM history"_s), QStringList{u"2"_s});
        QCOMPARE(store->history(u"a"_s, u"t"_s, 0, 100, 11000, 0).size(), 2);
        QCOMPARE(store->clearHistory(u"a"_s, u"t"_s), 2);
        QVERIFY(store->history(u"a"_s, u"t"_s, 0, 100, 11000, 0).isEmpty());
        QVERIFY(store->flush());
        QCOMPARE(query(store->path(), u"SELECT count(*) FROM history"_s), QStringList{u"0"_s});
        QCOMPARE(store->appendHistory(u"a"_s, u"t"_s, u"e"_s, json(0), 1, 0, 0), 0); // keep 0: off
    }

    void refusesBadValues()
    {
        auto store = Store::inMemory();
        QString error;
        QVERIFY(!store->setValue(u"a"_s, QString(), 1, &error));
        QVERIFY(error.contains(u"key"_s));
        QVERIFY(!store->setValue(u"a"_s, QString(300, u'k'), 1, &error));
        QVERIFY(!store->setValue(u"a"_s, u"big"_s, QString(Store::kMaxValueBytes, u'x'), &error));
        QVERIFY2(error.contains(u"over"_s), qPrintable(error));
        QVERIFY(!store->setValue(u"a"_s, u"u"_s, QJsonValue(QJsonValue::Undefined), &error));
        QVERIFY(store->keys(u"a"_s).isEmpty());
        QVERIFY(!store->persistent());
        QVERIFY(store->flush());
    }

    void migratesFromVersion1()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"wsserve.db"_s);
        // A database as wsserve's schema 1 made it, with a message and a value.
        QVERIFY(
            query(path,
                  u"PRAGMA application_id = 2004054646;"
                  "CREATE TABLE history(instance TEXT NOT NULL, topic TEXT NOT NULL, seq INTEGER NOT NULL, "
                  "time_ms INTEGER NOT NULL, event TEXT NOT NULL, payload BLOB NOT NULL, is_binary INTEGER NOT NULL "
                  "DEFAULT 0, PRIMARY KEY(instance, topic, seq)) WITHOUT ROWID;"
                  "CREATE TABLE kv(instance TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, "
                  "PRIMARY KEY(instance, key)) WITHOUT ROWID;"
                  "INSERT INTO history VALUES('a', 't', 7, 123, 'e', '[{\"n\":7}]', 0);"
                  "INSERT INTO kv VALUES('a', 'k', '[42]');"
                  "PRAGMA user_version = 1"_s)
                .isEmpty());
        QString error;
        auto store = Store::open(dir.path(), &error);
        QVERIFY2(store, qPrintable(error));
        QCOMPARE(query(path, u"PRAGMA user_version"_s), QStringList{QString::number(Store::kSchemaVersion)});
        const QList<StoredMessage> messages = store->history(u"a"_s, u"t"_s, 0, 10, 1000, 0);
        QCOMPARE(messages.size(), 1);
        QCOMPARE(messages.first().seq, 7);
        QCOMPARE(messages.first().payload.json.toObject().value(u"n"_s).toInt(), 7);
        QCOMPARE(store->value(u"a"_s, u"k"_s).toInt(), 42);
        store->saveInstance({u"b"_s, u"echo"_s, {}, false}); // the table schema 2 added
        QVERIFY(store->flush());
        QCOMPARE(query(path, u"SELECT id FROM instances"_s), QStringList{u"b"_s});
        QCOMPARE(QDir(dir.path()).entryList({u"*.corrupt-*"_s}).size(), 0);
    }

    void refusesNewerSchema()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(u"wsserve.db"_s);
        QVERIFY(query(path, u"PRAGMA application_id = 2004054646; CREATE TABLE x(y); PRAGMA user_version = 99"_s)
                    .isEmpty());
        QString error;
        Store::OpenError kind = Store::OpenError::None;
        QVERIFY(!Store::open(dir.path(), &error, &kind));
        QCOMPARE(kind, Store::OpenError::NewerSchema);
        QVERIFY2(error.contains(u"newer"_s), qPrintable(error));
        QVERIFY(QFile::exists(path)); // left alone
    }

    void movesCorruptAndForeignFilesAside_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("sql");
        QTest::newRow("garbage") << QByteArray(8192, 'z') << QString();
        QTest::newRow("truncated header") << "SQLite format 3\0garbage"_ba << QString();
        QTest::newRow("foreign database") << QByteArray() << u"CREATE TABLE accounts(id, balance)"_s;
    }
    void movesCorruptAndForeignFilesAside()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, sql);
        QTemporaryDir dir;
        const QString path = dir.filePath(u"wsserve.db"_s);
        if (sql.isEmpty()) {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(content);
        } else {
            QVERIFY(query(path, sql).isEmpty());
        }
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(u"moved aside as .*wsserve\\.db\\.corrupt-"_s));
        QString error;
        auto store = Store::open(dir.path(), &error);
        QVERIFY2(store, qPrintable(error));
        QCOMPARE(QDir(dir.path()).entryList({u"wsserve.db.corrupt-*"_s}).size(), 1);
        store->appendHistory(u"a"_s, u"t"_s, u"e"_s, json(1), 1, 10, 0);
        QVERIFY(store->flush());
        QCOMPARE(query(path, u"SELECT count(*) FROM history"_s), QStringList{u"1"_s});
    }

    void refusesFolderInUse()
    {
        QTemporaryDir dir;
        QString error;
        auto first = Store::open(dir.path(), &error);
        QVERIFY2(first, qPrintable(error));
        Store::OpenError kind = Store::OpenError::None;
        QVERIFY(!Store::open(dir.path(), &error, &kind));
        QCOMPARE(kind, Store::OpenError::Locked);
        QVERIFY2(error.contains(u"in use by another wsserve"_s), qPrintable(error));
        first.reset();
        QVERIFY(Store::open(dir.path(), &error)); // free again
    }

    void refusesFolderThatCannotBeMade()
    {
        QTemporaryDir dir;
        QFile file(dir.filePath(u"plain-file"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        QString error;
        Store::OpenError kind = Store::OpenError::None;
        QVERIFY(!Store::open(dir.filePath(u"plain-file/data"_s), &error, &kind));
        QCOMPARE(kind, Store::OpenError::Unwritable);
        QVERIFY2(error.contains(u"cannot be created"_s), qPrintable(error));
        QVERIFY(!Store::open(QString(), &error, &kind));
        QCOMPARE(kind, Store::OpenError::Unwritable);
    }

    void diskFullPausesHistory()
    {
        QTemporaryDir dir;
        QString error;
        Store::OpenOptions options;
        options.maxPageCount = 40; // SQLite answers SQLITE_FULL past 40 pages (160 KB): a full disk
        auto store = Store::open(dir.path(), &error, nullptr, options);
        QVERIFY2(store, qPrintable(error));
        QTest::ignoreMessage(QtCriticalMsg, QRegularExpression(u"cannot write to .*history pauses"_s));
        const Payload big = Payload::fromJson(QJsonObject{{u"text"_s, QString(2000, u'x')}});
        qint64 accepted = 0;
        for (int i = 0; i < 400; ++i) {
            if (store->appendHistory(u"a"_s, u"t"_s, u"e"_s, big, 1000 + i, 10000, 0) > 0) {
                ++accepted;
            }
            if (i % 50 == 49) {
                QVERIFY(store->flush());
            }
        }
        QVERIFY(store->flush());
        const StoreStats stats = store->stats();
        QVERIFY(stats.paused);
        QVERIFY2(stats.error.contains(u"full"_s, Qt::CaseInsensitive), qPrintable(stats.error));
        QVERIFY(stats.droppedUnwritten > 0);
        QVERIFY(accepted < 400); // refused while paused
        QCOMPARE(store->appendHistory(u"a"_s, u"t"_s, u"e"_s, big, 5000, 10000, 0), 0);
        // State changes are still tried (small ones fit) and the file stays sound.
        QVERIFY(store->setValue(u"a"_s, u"k"_s, 1));
        QVERIFY(store->flush());
        QCOMPARE(query(store->path(), u"PRAGMA integrity_check"_s), QStringList{u"ok"_s});
    }
};

QTEST_GUILESS_MAIN(tst_Store)
#include "tst_store.moc"
