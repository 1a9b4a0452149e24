// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Persistence against the real binary with a --data-dir: history and admin-created instances after a
// SIGTERM and a restart; a SIGKILL during a steady publish load (the file passes PRAGMA integrity_check,
// what is stored is a gap-free prefix, and nothing acknowledged well before the kill is lost); the admin
// history routes; and the bad conditions of the command line (folder in use, folder that cannot be
// made, a corrupt file moved aside).

#include "phoenixtestclient.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {

// Starts the server and waits for its listening line; returns the port (0 on failure). *adminPort gets
// the admin API's port when asked for.
quint16 startServer(QProcess &process, const QStringList &arguments, quint16 *adminPort = nullptr)
{
    process.start(QStringLiteral(WSSERVE_BINARY), arguments);
    if (!process.waitForStarted(10000) ||
        !QTest::qWaitFor([&] { return process.canReadLine() || process.state() == QProcess::NotRunning; }, 20000) ||
        !process.canReadLine()) {
        return 0;
    }
    static const QRegularExpression listening(u"^wsserve: listening on ws://[^ ]+:(\\d+)$"_s);
    const auto match = listening.match(QString::fromUtf8(process.readLine()).trimmed());
    if (adminPort) {
        static const QRegularExpression admin(u"^wsserve: admin API on http://[^ ]+:(\\d+)$"_s);
        (void)QTest::qWaitFor([&] { return process.canReadLine(); }, 10000);
        const auto adminMatch = admin.match(QString::fromUtf8(process.readLine()).trimmed());
        *adminPort = adminMatch.hasMatch() ? static_cast<quint16>(adminMatch.captured(1).toUInt()) : 0;
    }
    return match.hasMatch() ? static_cast<quint16>(match.captured(1).toUInt()) : 0;
}

bool stop(QProcess &process)
{
    process.terminate(); // SIGTERM
    return process.waitForFinished(10000) && process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
}

QString url(quint16 port, const QString &instance)
{
    return u"ws://127.0.0.1:%1/socket/%2/websocket?vsn=2.0.0"_s.arg(port).arg(instance);
}

// Joins `topic` asking for history; returns the join reply's history count (-1 without a reply).
int joinWithHistory(PhoenixTestClient &client, const QString &topic, int limit)
{
    const QString ref =
        client.join(topic, QJsonObject{{u"history"_s, QJsonObject{{u"limit"_s, limit}}}, {u"name"_s, u"late"_s}});
    const std::optional<ReceivedFrame> reply = client.waitForReply(topic, ref);
    if (!reply) {
        return -1;
    }
    return reply->payload()
        .toObject()
        .value(u"response"_s)
        .toObject()
        .value(u"history"_s)
        .toObject()
        .value(u"count"_s)
        .toInt(-1);
}

QList<int> numbersReceived(const PhoenixTestClient &client, const QString &event)
{
    QList<int> numbers;
    for (const ReceivedFrame &frame : client.frames()) {
        if (frame.event() == event) {
            numbers.append(frame.payload().toObject().value(u"n"_s).toInt());
        }
    }
    return numbers;
}

QByteArray http(quint16 port, const QByteArray &method, const QByteArray &target, int *status,
                const QByteArray &body = {})
{
    QByteArray response;
    QByteArray request = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!body.isEmpty()) {
        request += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    }
    *status = httpStatus(port, request + "\r\n" + body, 10000, &response);
    return response.mid(response.indexOf("\r\n\r\n") + 4);
}

} // namespace

class tst_PersistenceIntegration : public QObject
{
    Q_OBJECT

private slots:
    void historyAndAdminInstancesSurviveSigterm()
    {
        QTemporaryDir dir;
        const QStringList arguments{u"--headless"_s,
                                    u"--port"_s,
                                    u"0"_s,
                                    u"--data-dir"_s,
                                    dir.path(),
                                    u"--instance"_s,
                                    u"room:chat:history=50,presence=false"_s};
        {
            QProcess server;
            quint16 adminPort = 0;
            const quint16 port = startServer(server, arguments, &adminPort);
            QVERIFY(port != 0);
            QVERIFY(adminPort != 0);
            // An instance created over the admin API is kept in the data folder.
            int status = 0;
            http(adminPort, "POST", "/api/instances", &status,
                 R"({"id": "extra", "type": "echo", "options": {"history": 10}})");
            QCOMPARE(status, 201);
            PhoenixTestClient talker;
            QVERIFY(talker.open(QUrl(url(port, u"room"_s))));
            QVERIFY(talker.waitForReply(u"lobby"_s, talker.join(u"lobby"_s)));
            for (int n = 1; n <= 20; ++n) {
                const QString ref = talker.nextRef();
                talker.sendV2(u"1"_s, ref, u"lobby"_s, u"shout"_s, QJsonObject{{u"n"_s, n}});
                QVERIFY(talker.waitForReply(u"lobby"_s, ref)); // acknowledged
            }
            // The admin API sees the history and a server-side broadcast is stored too.
            const QByteArray topics = http(adminPort, "GET", "/api/instances/room/history", &status);
            QCOMPARE(status, 200);
            QVERIFY2(topics.contains(R"("count":20)"), topics.constData());
            http(adminPort, "POST", "/api/instances/room/broadcast", &status,
                 R"({"topic": "lobby", "event": "shout", "payload": {"n": 21}})");
            QCOMPARE(status, 202);
            // The broadcast reaches the instance thread queued: wait until it is stored.
            QByteArray messages;
            QTRY_VERIFY2((messages = http(adminPort, "GET", "/api/instances/room/history?topic=lobby&limit=2", &status))
                             .contains(R"("n":21)"),
                         messages.constData());
            QCOMPARE(status, 200);
            QVERIFY2(messages.contains(R"("n":20)") && !messages.contains(R"("n":19)"), messages.constData());
            http(adminPort, "GET", "/api/instances/room/history?topic=lobby&limit=0", &status);
            QCOMPARE(status, 400);
            http(adminPort, "GET", "/api/instances/nope/history", &status);
            QCOMPARE(status, 404);
            const QByteArray metrics = http(adminPort, "GET", "/metrics", &status);
            QVERIFY(metrics.contains("wsserve_history_messages 21"));
            QVERIFY(metrics.contains("wsserve_store_queue_length"));
            QVERIFY(stop(server));
        }
        QProcess server;
        quint16 adminPort = 0;
        const quint16 port = startServer(server, arguments, &adminPort);
        QVERIFY(port != 0);
        PhoenixTestClient late;
        QVERIFY(late.open(QUrl(url(port, u"room"_s))));
        QCOMPARE(joinWithHistory(late, u"lobby"_s, 5), 5);
        QTRY_COMPARE(numbersReceived(late, u"shout"_s), (QList<int>{17, 18, 19, 20, 21}));
        int status = 0;
        const QByteArray extra = http(adminPort, "GET", "/api/instances/extra", &status);
        QCOMPARE(status, 200);
        QVERIFY2(extra.contains(R"("state":"running")") || extra.contains(R"("state":"Running")"), extra.constData());
        // Clearing history over the admin API.
        const QByteArray cleared = http(adminPort, "DELETE", "/api/instances/room/history?topic=lobby", &status);
        QCOMPARE(status, 200);
        QVERIFY2(cleared.contains(R"("removed":21)"), cleared.constData());
        // Removing the admin-created instance forgets it for the next start.
        http(adminPort, "DELETE", "/api/instances/extra", &status);
        QCOMPARE(status, 200);
        QVERIFY(stop(server));
        QProcess third;
        QVERIFY(startServer(third, arguments, &adminPort) != 0);
        http(adminPort, "GET", "/api/instances/extra", &status);
        QCOMPARE(status, 404);
        QVERIFY(stop(third));
    }

    void sigkillDuringLoadLosesAtMostTheLastBatch()
    {
        QTemporaryDir dir;
        const QStringList arguments{
            u"--headless"_s, u"--port"_s, u"0"_s,          u"--no-admin"_s,
            u"--data-dir"_s, dir.path(),  u"--instance"_s, u"room:chat:history=10000,presence=false"_s};
        QProcess server;
        const quint16 port = startServer(server, arguments);
        QVERIFY(port != 0);
        PhoenixTestClient publisher;
        QVERIFY(publisher.open(QUrl(url(port, u"room"_s))));
        QVERIFY(publisher.waitForReply(u"t"_s, publisher.join(u"t"_s)));
        // A steady load: one message every 2 ms; the acknowledgement time of each is recorded.
        QElapsedTimer clock;
        clock.start();
        QHash<QString, int> pending; // ref -> n
        QList<qint64> ackedAt;       // ackedAt[n - 1]
        int sent = 0;
        QObject::connect(&publisher.socket(), &QWebSocket::textMessageReceived, &publisher, [&](const QString &text) {
            const QJsonArray frame = QJsonDocument::fromJson(text.toUtf8()).array();
            if (frame.at(3).toString() == u"phx_reply"_s && pending.contains(frame.at(1).toString())) {
                const int n = pending.take(frame.at(1).toString());
                while (ackedAt.size() < n) {
                    ackedAt.append(-1);
                }
                ackedAt[n - 1] = clock.elapsed();
            }
        });
        QTimer pace;
        pace.setInterval(2);
        QObject::connect(&pace, &QTimer::timeout, &publisher, [&] {
            const QString ref = publisher.nextRef();
            pending.insert(ref, ++sent);
            publisher.sendV2(u"1"_s, ref, u"t"_s, u"shout"_s, QJsonObject{{u"n"_s, sent}});
        });
        pace.start();
        QVERIFY(QTest::qWaitFor([&] { return ackedAt.size() >= 600; }, 30000));
        server.kill(); // SIGKILL
        const qint64 killedAt = clock.elapsed();
        pace.stop();
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitStatus(), QProcess::CrashExit);

        qint64 stored = 0;
        qint64 lastSeq = 0;
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"check"_s);
            db.setDatabaseName(dir.filePath(u"wsserve.db"_s));
            QVERIFY(db.open());
            QSqlQuery query(db);
            QVERIFY(query.exec(u"PRAGMA integrity_check"_s) && query.next());
            QCOMPARE(query.value(0).toString(), u"ok"_s);
            QVERIFY(query.exec(u"SELECT count(*), coalesce(max(seq), 0) FROM history WHERE topic = 't'"_s) &&
                    query.next());
            stored = query.value(0).toLongLong();
            lastSeq = query.value(1).toLongLong();
            query.finish();
            db.close();
        }
        QSqlDatabase::removeDatabase(u"check"_s);
        QCOMPARE(stored, lastSeq); // a gap-free prefix: batches commit in order
        // The bound: the writer commits every 50 ms; everything acknowledged 500 ms before the kill (ten
        // batches of margin for a loaded test machine) is on disk.
        qint64 ackedWellBefore = 0;
        for (qsizetype i = 0; i < ackedAt.size(); ++i) {
            if (ackedAt.at(i) >= 0 && ackedAt.at(i) < killedAt - 500) {
                ackedWellBefore = i + 1;
            }
        }
        qInfo("sent %d, acknowledged %lld, stored %lld, acknowledged 500 ms before the kill %lld", sent,
              static_cast<long long>(ackedAt.size()), static_cast<long long>(stored),
              static_cast<long long>(ackedWellBefore));
        QVERIFY(ackedWellBefore > 0);
        QVERIFY(stored >= ackedWellBefore);
        QVERIFY(stored <= sent);

        // A restart takes over the killed process's lock and replays what was kept.
        QProcess again;
        const quint16 port2 = startServer(again, arguments);
        QVERIFY(port2 != 0);
        PhoenixTestClient late;
        QVERIFY(late.open(QUrl(url(port2, u"room"_s))));
        QCOMPARE(joinWithHistory(late, u"t"_s, 3), 3);
        QTRY_COMPARE(numbersReceived(late, u"shout"_s), (QList<int>{int(lastSeq) - 2, int(lastSeq) - 1, int(lastSeq)}));
        QVERIFY(stop(again));
    }

    void secondServerOnTheSameFolderExits2()
    {
        QTemporaryDir dir;
        QProcess first;
        QVERIFY(startServer(first,
                            {u"--headless"_s, u"--port"_s, u"0"_s, u"--no-admin"_s, u"--data-dir"_s, dir.path()}) != 0);
        QProcess second;
        second.start(QStringLiteral(WSSERVE_BINARY),
                     {u"--headless"_s, u"--port"_s, u"0"_s, u"--no-admin"_s, u"--data-dir"_s, dir.path()});
        QVERIFY(second.waitForFinished(20000));
        QCOMPARE(second.exitCode(), 2);
        const QString error = QString::fromUtf8(second.readAllStandardError());
        QVERIFY2(error.contains(u"is in use by another wsserve"_s), qPrintable(error));
        QVERIFY(stop(first));
    }

    void unusableFolderExits2()
    {
        QTemporaryDir dir;
        QFile file(dir.filePath(u"file"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        QProcess server;
        server.start(QStringLiteral(WSSERVE_BINARY), {u"--headless"_s, u"--port"_s, u"0"_s, u"--no-admin"_s,
                                                      u"--data-dir"_s, dir.filePath(u"file/data"_s)});
        QVERIFY(server.waitForFinished(20000));
        QCOMPARE(server.exitCode(), 2);
        const QString error = QString::fromUtf8(server.readAllStandardError());
        QVERIFY2(error.contains(u"cannot be created"_s), qPrintable(error));
    }

    void savedInstanceThatNoLongerFitsIsSkipped()
    {
        QTemporaryDir dir;
        const QStringList arguments{u"--headless"_s, u"--port"_s, u"0"_s, u"--no-admin"_s, u"--data-dir"_s, dir.path()};
        {
            QProcess first;
            QVERIFY(startServer(first, arguments) != 0);
            QVERIFY(stop(first));
        }
        {
            QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"ghost"_s);
            db.setDatabaseName(dir.filePath(u"wsserve.db"_s));
            QVERIFY(db.open());
            QSqlQuery query(db);
            QVERIFY(query.exec(u"INSERT INTO instances VALUES('ghost', 'no-such-type', '[{}]', 1)"_s));
            db.close();
        }
        QSqlDatabase::removeDatabase(u"ghost"_s);
        QProcess server;
        QVERIFY(startServer(server, arguments) != 0); // starts anyway
        QVERIFY(stop(server));
        const QString log = QString::fromUtf8(server.readAllStandardError());
        QVERIFY2(log.contains(u"saved instance 'ghost' was not restored"_s), qPrintable(log));
    }

    void corruptFileIsMovedAside()
    {
        QTemporaryDir dir;
        QFile file(dir.filePath(u"wsserve.db"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(4096, '\x5a'));
        file.close();
        QProcess server;
        QVERIFY(startServer(server,
                            {u"--headless"_s, u"--port"_s, u"0"_s, u"--no-admin"_s, u"--data-dir"_s, dir.path()}) != 0);
        QVERIFY(stop(server));
        const QString log = QString::fromUtf8(server.readAllStandardError());
        QVERIFY2(log.contains(u"moved aside"_s), qPrintable(log));
        QCOMPARE(QDir(dir.path()).entryList({u"wsserve.db.corrupt-*"_s}).size(), 1);
    }
};

QTEST_GUILESS_MAIN(tst_PersistenceIntegration)
#include "tst_persistence_integration.moc"
