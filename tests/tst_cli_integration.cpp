// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// End to end: the built wsserve binary as a user runs it (flags, config files, exit codes, the
// listening line, signals).

#include "phoenixtestclient.h"
#include "rawhttp.h"
#include "runtoend.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

#include <sys/resource.h>

using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {

// Reads the "wsserve: admin API on http://HOST:PORT" line that follows the listening line.
quint16 adminPortOf(QProcess &process)
{
    if (!QTest::qWaitFor([&] { return process.canReadLine(); }, 10000)) {
        return 0;
    }
    static const QRegularExpression pattern(u"^wsserve: admin API on http://[^ ]+:(\\d+)$"_s);
    const auto match = pattern.match(QString::fromUtf8(process.readLine()).trimmed());
    return match.hasMatch() ? static_cast<quint16>(match.captured(1).toUInt()) : 0;
}

// One request on an open keep-alive connection; returns the whole response (head and body).
QByteArray exchange(QTcpSocket &socket, const QByteArray &request)
{
    socket.write(request);
    QByteArray data;
    (void)QTest::qWaitFor(
        [&] {
            data += socket.readAll();
            const qsizetype end = data.indexOf("\r\n\r\n");
            if (end < 0) {
                return false;
            }
            const qsizetype at = data.toLower().indexOf("content-length:");
            const qsizetype lineEnd = data.indexOf('\r', at);
            return at >= 0 && data.size() >= end + 4 + data.mid(at + 15, lineEnd - at - 15).trimmed().toLongLong();
        },
        10000);
    return data;
}

// Starts the server and waits for its first stdout line; returns the port (0 on failure).
quint16 startServer(QProcess &process, const QStringList &arguments, QString *firstLine = nullptr)
{
    process.start(QStringLiteral(WSSERVE_BINARY), arguments);
    if (!process.waitForStarted(10000)) {
        return 0;
    }
    if (!QTest::qWaitFor([&] { return process.canReadLine() || process.state() == QProcess::NotRunning; }, 20000) ||
        !process.canReadLine()) {
        return 0;
    }
    const QString line = QString::fromUtf8(process.readLine()).trimmed();
    if (firstLine) {
        *firstLine = line;
    }
    static const QRegularExpression pattern(u"^wsserve: listening on ws://[^ ]+:(\\d+)$"_s);
    const auto match = pattern.match(line);
    return match.hasMatch() ? static_cast<quint16>(match.captured(1).toUInt()) : 0;
}

} // namespace

class tst_CliIntegration : public QObject
{
    Q_OBJECT

private slots:
    void versionAndHelp()
    {
        const RunResult version = runToEnd({u"--version"_s});
        QCOMPARE(version.exitCode, 0);
        QCOMPARE(version.out.trimmed(), u"wsserve " WSSERVE_VERSION ""_s);
        const RunResult help = runToEnd({u"--help"_s});
        QCOMPARE(help.exitCode, 0);
        for (const QString &word :
             {u"--headless"_s, u"--bind"_s, u"--port"_s, u"--instance"_s, u"--config"_s, u"--log-level"_s, u"echo"_s,
              u"chat"_s, u"relay"_s, u"tictactoe"_s, u"chaos"_s, u"max_clients"_s, u"presence"_s, u"wsserve token"_s}) {
            QVERIFY2(help.out.contains(word), qPrintable(word));
        }
        const RunResult tokenHelp = runToEnd({u"token"_s, u"--help"_s});
        QCOMPARE(tokenHelp.exitCode, 0);
        for (const QString &flag : {u"--instance-secret"_s, u"--sub"_s, u"--name"_s, u"--topics"_s, u"--ttl"_s,
                                    u"--audience"_s, u"--issuer"_s}) {
            QVERIFY2(tokenHelp.out.contains(flag), qPrintable(flag));
        }
    }

    void badStartsExitWith2_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown flag") << QStringList{u"--bogus"_s} << u"Unknown option 'bogus'"_s;
        QTest::newRow("bad port") << QStringList{u"--headless"_s, u"--port"_s, u"70000"_s}
                                  << u"--port '70000' is not a port number"_s;
        QTest::newRow("bad bind") << QStringList{u"--headless"_s, u"--bind"_s, u"nowhere"_s}
                                  << u"bind address 'nowhere'"_s;
        QTest::newRow("unknown type") << QStringList{u"--headless"_s, u"--instance"_s, u"a:nope"_s}
                                      << u"unknown instance type 'nope'"_s;
        QTest::newRow("bad id") << QStringList{u"--headless"_s, u"--instance"_s, u"a/b:echo"_s}
                                << u"instance id 'a/b'"_s;
        QTest::newRow("bad spec") << QStringList{u"--headless"_s, u"--instance"_s, u"lobby"_s}
                                  << u"must look like ID:TYPE"_s;
        QTest::newRow("unknown option") << QStringList{u"--headless"_s, u"--instance"_s, u"a:chat:colour=red"_s}
                                        << u"unknown option 'colour'"_s;
        QTest::newRow("bad option value") << QStringList{u"--headless"_s, u"--instance"_s, u"a:echo:max_clients=lots"_s}
                                          << u"option 'max_clients' must be a whole number"_s;
        QTest::newRow("duplicate id") << QStringList{u"--headless"_s, u"--instance"_s, u"a:echo"_s, u"--instance"_s,
                                                     u"a:chat"_s}
                                      << u"instance id 'a' is given twice"_s;
        QTest::newRow("missing config") << QStringList{u"--headless"_s, u"--config"_s, u"/nonexistent/wsserve.json"_s}
                                        << u"cannot read config file '/nonexistent/wsserve.json'"_s;
        QTest::newRow("bad log level") << QStringList{u"--headless"_s, u"--log-level"_s, u"loud"_s}
                                       << u"--log-level 'loud'"_s;
        QTest::newRow("admin off loopback without token")
            << QStringList{u"--headless"_s, u"--admin-bind"_s, u"0.0.0.0"_s} << u"set --admin-token"_s;
        QTest::newRow("bad admin port") << QStringList{u"--headless"_s, u"--admin-port"_s, u"-3"_s}
                                        << u"--admin-port '-3' is not a port number"_s;
        QTest::newRow("bad admin host") << QStringList{u"--headless"_s, u"--admin-host"_s, u"http://a.test/"_s}
                                        << u"--admin-host 'http://a.test/'"_s;
        QTest::newRow("stray argument") << QStringList{u"--headless"_s, u"extra"_s} << u"unexpected argument 'extra'"_s;
    }
    void badStartsExitWith2()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const RunResult result = runToEnd(QStringList{u"--port"_s, u"0"_s} + arguments); // the row's flags win
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains(message), qPrintable(result.err));
        QVERIFY(result.out.isEmpty()); // nothing half-started: no listening line
    }

    void badConfigFileExitsWith2()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QFile file(dir.filePath(u"config.json"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"port": 0, "instances": [{"id": "lobby", "type": "chat"},]})");
        file.close();
        const RunResult result = runToEnd({u"--headless"_s, u"--config"_s, file.fileName()});
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains(u"invalid JSON at offset"_s), qPrintable(result.err));
        QVERIFY(result.err.contains(file.fileName()));
    }

    // Issue #17 item 6: `wsserve token` prints a token that a server with the same jwt_secret accepts,
    // with its name and topics claims; the audience and issuer flags match the instance's checks.
    void tokenCommandPrintsAVerifiableToken()
    {
        const QString secret = u"cli-secret-7d2e"_s;
        const RunResult minted =
            runToEnd({u"token"_s, u"--instance-secret"_s, secret, u"--sub"_s, u"alice"_s, u"--name"_s, u"Alice"_s,
                      u"--topics"_s, u"room:*, game:42"_s, u"--ttl"_s, u"600"_s, u"--audience"_s, u"quiz"_s});
        QCOMPARE(minted.exitCode, 0);
        QVERIFY2(minted.err.isEmpty(), qPrintable(minted.err));
        const QString token = minted.out.trimmed();
        QCOMPARE(token.count(u'.'), 2);
        QVERIFY(minted.out.endsWith(u'\n'));

        QProcess server;
        const quint16 port = startServer(
            server, {u"--headless"_s, u"--bind"_s, u"127.0.0.1"_s, u"--port"_s, u"0"_s, u"--no-admin"_s,
                     u"--instance"_s, u"quiz:chat:auth=jwt,jwt_secret="_s + secret + u",jwt_audience=quiz"_s});
        QVERIFY(port != 0);
        const QString base = u"ws://127.0.0.1:%1/socket/quiz/websocket?vsn=2.0.0"_s.arg(port);
        PhoenixTestClient player;
        QVERIFY(player.open(QUrl(base + u"&token="_s + token)));
        const auto joined = player.waitForReply(u"game:42"_s, player.join(u"game:42"_s));
        QVERIFY(joined);
        QCOMPARE(joined->payload()["status"_L1].toString(), u"ok"_s);
        QCOMPARE(joined->payload()["response"_L1]["name"_L1].toString(), u"Alice"_s);
        const auto refused = player.waitForReply(u"game:43"_s, player.join(u"game:43"_s));
        QVERIFY(refused);
        QCOMPARE(refused->payload()["response"_L1]["reason"_L1].toString(), u"unauthorized"_s);

        // A token for another audience, or signed with another secret, is refused at the upgrade.
        const RunResult otherAudience = runToEnd({u"token"_s, u"--instance-secret"_s, secret, u"--sub"_s, u"bob"_s});
        QCOMPARE(otherAudience.exitCode, 0);
        PhoenixTestClient noAudience;
        QVERIFY(!noAudience.open(QUrl(base + u"&token="_s + otherAudience.out.trimmed())));
        const RunResult otherSecret = runToEnd(
            {u"token"_s, u"--instance-secret"_s, u"wrong"_s, u"--sub"_s, u"bob"_s, u"--audience"_s, u"quiz"_s});
        PhoenixTestClient forged;
        QVERIFY(!forged.open(QUrl(base + u"&token="_s + otherSecret.out.trimmed())));
        server.terminate();
        QVERIFY(server.waitForFinished(10000));
        QVERIFY(!QString::fromUtf8(server.readAllStandardError()).contains(secret)); // never logged
    }

    void tokenCommandBadArgumentsExitWith2_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        const QStringList secret{u"--instance-secret"_s, u"s"_s};
        QTest::newRow("no secret") << QStringList{u"--sub"_s, u"a"_s} << u"--instance-secret is required"_s;
        QTest::newRow("no sub") << secret << u"--sub is required"_s;
        QTest::newRow("empty sub") << secret + QStringList{u"--sub"_s, u""_s} << u"'sub' is required"_s;
        QTest::newRow("ttl zero") << secret + QStringList{u"--sub"_s, u"a"_s, u"--ttl"_s, u"0"_s} << u"--ttl"_s;
        QTest::newRow("ttl too long") << secret + QStringList{u"--sub"_s, u"a"_s, u"--ttl"_s, u"2592001"_s}
                                      << u"30 days"_s;
        QTest::newRow("ttl text") << secret + QStringList{u"--sub"_s, u"a"_s, u"--ttl"_s, u"1h"_s}
                                  << u"--ttl '1h' is not a number"_s;
        QTest::newRow("empty topics") << secret + QStringList{u"--sub"_s, u"a"_s, u"--topics"_s, u","_s}
                                      << u"--topics is empty"_s;
        QTest::newRow("unknown flag") << secret + QStringList{u"--sub"_s, u"a"_s, u"--colour"_s}
                                      << u"Unknown option 'colour'"_s;
        QTest::newRow("stray argument") << secret + QStringList{u"--sub"_s, u"a"_s, u"extra"_s}
                                        << u"unexpected argument 'extra'"_s;
    }
    void tokenCommandBadArgumentsExitWith2()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const RunResult result = runToEnd(QStringList{u"token"_s} + arguments);
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains(message), qPrintable(result.err));
        QVERIFY(result.out.isEmpty());
    }

    void adminApiLineAndNoAdmin()
    {
        QProcess server;
        const quint16 port =
            startServer(server, {u"--headless"_s, u"--port"_s, u"0"_s, u"--instance"_s, u"a:echo"_s, u"--admin-host"_s,
                                 u"Admin.Test"_s, u"--admin-host"_s, u"ops.test"_s});
        QVERIFY(port != 0);
        QVERIFY(QTest::qWaitFor([&] { return server.canReadLine(); }, 10000));
        const QString adminLine = QString::fromUtf8(server.readLine()).trimmed();
        static const QRegularExpression pattern(u"^wsserve: admin API on http://127\\.0\\.0\\.1:(\\d+)$"_s);
        const auto match = pattern.match(adminLine);
        QVERIFY2(match.hasMatch(), qPrintable(adminLine));
        const auto adminPort = static_cast<quint16>(match.captured(1).toUInt());
        QVERIFY(adminPort != port);
        QByteArray response;
        QCOMPARE(httpStatus(adminPort, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 10000, &response), 200);
        // Host names: the --admin-host ones (case-insensitive, with a port) and localhost; others are 421.
        QCOMPARE(httpStatus(adminPort,
                            "GET /healthz HTTP/1.1\r\nHost: admin.test:" + QByteArray::number(adminPort) + "\r\n\r\n"),
                 200);
        QCOMPARE(httpStatus(adminPort, "GET /healthz HTTP/1.1\r\nHost: ops.test\r\n\r\n"), 200);
        QCOMPARE(httpStatus(adminPort, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"), 200);
        QCOMPARE(httpStatus(adminPort, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 10000, &response), 421);
        QVERIFY2(response.contains("--admin-host"), response.constData());
        server.terminate();
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitCode(), 0);

        QProcess quiet;
        QVERIFY(startServer(quiet, {u"--headless"_s, u"--port"_s, u"0"_s, u"--no-admin"_s}) != 0);
        quiet.terminate();
        QVERIFY(quiet.waitForFinished(10000));
        QCOMPARE(QString::fromUtf8(quiet.readAllStandardOutput()).trimmed(), QString()); // no admin line
        QCOMPARE(quiet.exitCode(), 0);
    }

    void portInUseSaysSo()
    {
        QTcpServer blocker;
        QVERIFY(blocker.listen(QHostAddress::Any, 0));
        const RunResult result = runToEnd(
            {u"--headless"_s, u"--port"_s, QString::number(blocker.serverPort()), u"--instance"_s, u"a:echo"_s});
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.err.contains(u"address already in use"_s), qPrintable(result.err));
        QVERIFY(result.out.isEmpty());
    }

    void configFileStartsInstances()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QFile file(dir.filePath(u"config.json"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(R"({"bind": "127.0.0.1", "port": 0, "log_level": "warning", "admin": true, "admin_bind": "127.0.0.1",
            "admin_port": 0, "admin_token": "t0ken", "admin_hosts": ["x"], "instances": [
            {"id": "lobby", "type": "chat", "options": {"presence": false, "max_clients": 50}},
            {"id": "later", "type": "echo", "start": false}]})");
        file.close();
        QProcess server;
        QString line;
        const quint16 port = startServer(server, {u"--headless"_s, u"--config"_s, file.fileName()}, &line);
        QVERIFY2(port != 0, qPrintable(line + QString::fromUtf8(server.readAllStandardError())));
        QVERIFY(line.startsWith(u"wsserve: listening on ws://127.0.0.1:"_s));
        PhoenixTestClient client;
        QVERIFY(client.open(QUrl(u"ws://127.0.0.1:%1/socket/lobby/websocket?vsn=2.0.0"_s.arg(port))));
        const QString ref = client.join(u"room:1"_s);
        QVERIFY(client.waitForReply(u"room:1"_s, ref));
        client.sendV2(ref, u"9"_s, u"room:1"_s, u"hello"_s, QJsonObject{});
        QVERIFY(client.waitForReply(u"room:1"_s, u"9"_s));
        // presence=false: no presence_state was pushed.
        QVERIFY(!client.waitFor([](const ReceivedFrame &f) { return f.event() == u"presence_state"; }, 0));
        // "later" exists but was not started.
        QCOMPARE(httpStatus(port, upgradeHead("/socket/later/websocket?vsn=2.0.0")), 503);
        // The admin settings from the file apply: its own port, and the token.
        QVERIFY(QTest::qWaitFor([&] { return server.canReadLine(); }, 10000));
        const QString adminLine = QString::fromUtf8(server.readLine()).trimmed();
        const auto adminPort = static_cast<quint16>(adminLine.section(u':', -1).toUInt());
        QVERIFY2(adminLine.startsWith(u"wsserve: admin API on http://127.0.0.1:"_s) && adminPort != 0,
                 qPrintable(adminLine));
        QCOMPARE(httpStatus(adminPort, "GET /api/instances HTTP/1.1\r\nHost: x\r\n\r\n"), 401);
        QByteArray listing;
        QCOMPARE(httpStatus(adminPort,
                            "GET /api/instances/later HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\n\r\n",
                            10000, &listing),
                 200);
        QVERIFY2(listing.contains(R"("state":"Stopped")"), listing.constData());
        server.terminate(); // SIGTERM
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
    }

    void sigintClosesEveryClientWith1012()
    {
        QProcess server;
        const quint16 port = startServer(server, {u"--headless"_s, u"--bind"_s, u"127.0.0.1"_s, u"--port"_s, u"0"_s,
                                                  u"--instance"_s, u"lobby:chat"_s, u"--instance"_s, u"e:echo"_s});
        QVERIFY(port != 0);
        std::vector<std::unique_ptr<RawWebSocketClient>> clients;
        for (int i = 0; i < 60; ++i) {
            auto client = std::make_unique<RawWebSocketClient>();
            QVERIFY(client->open(port, i % 2 ? "/socket/lobby/websocket?vsn=2.0.0" : "/socket/e?vsn=2.0.0"));
            if (i % 3 == 0) {
                client->sendText(R"(["1","1","room:1","phx_join",{}])");
                QVERIFY(client->waitForText(R"("status":"ok")"));
            }
            clients.push_back(std::move(client));
        }
        QElapsedTimer clock;
        clock.start();
        ::kill(static_cast<pid_t>(server.processId()), SIGINT);
        QVERIFY(server.waitForFinished(10000));
        QVERIFY(clock.elapsed() < 5000);
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
        for (const auto &client : clients) {
            QCOMPARE(client->waitForClose(), 1012); // joined or not, every connection (protocol 7.6)
        }
    }

    void sigtermDuringAStallExitsPromptly()
    {
        // A hung instance thread (chaos stall, 30 s) must not hold up the shutdown: it is abandoned as
        // the watchdog abandons one, its sockets get 1012 and are shut down at the OS level.
        QProcess server;
        const quint16 port = startServer(server, {u"--headless"_s, u"--bind"_s, u"127.0.0.1"_s, u"--port"_s, u"0"_s,
                                                  u"--instance"_s, u"c:chaos"_s, u"--no-admin"_s});
        QVERIFY(port != 0);
        RawWebSocketClient client;
        QVERIFY(client.open(port, "/socket/c/websocket?vsn=2.0.0"));
        client.sendText(R"(["1","1","t","phx_join",{}])");
        QVERIFY(client.waitForText(R"("status":"ok")"));
        client.sendText(R"(["1","2","t","stall",{"ms":30000}])");
        QVERIFY(client.waitForText(R"("stalled_ms":30000)"));
        QElapsedTimer clock;
        clock.start();
        ::kill(static_cast<pid_t>(server.processId()), SIGTERM);
        QVERIFY(server.waitForFinished(20000));
        // Far below the 30 s stall: the README promises 5 s; the figure is in docs/reliability.md.
        QVERIFY2(clock.elapsed() < 15000, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(server.exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.exitCode(), 0);
        QCOMPARE(client.waitForClose(), 1012);
        QVERIFY(server.readAllStandardError().contains("did not stop within"));
    }

    void listenerResumesAfterRunningOutOfDescriptors()
    {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        // The sanitizer runtimes need descriptors of their own (UBSan probes memory through a pipe): with
        // none left they report false errors. The normal build runs this test.
        QSKIP("needs a process without sanitizer runtimes (they use descriptors themselves)");
#endif
        // Qt pauses a QTcpServer for good on EMFILE. Under a 64-descriptor limit (soft and hard, so
        // raising it does not help), half-finished request heads take every descriptor; the game port
        // must report it (/healthz 503, a metric) and accept again by itself once they are released.
        QProcess server;
        server.setChildProcessModifier([] {
            rlimit limit{64, 64};
            ::setrlimit(RLIMIT_NOFILE, &limit);
        });
        const quint16 port = startServer(
            server, {u"--headless"_s, u"--bind"_s, u"127.0.0.1"_s, u"--port"_s, u"0"_s, u"--instance"_s, u"e:echo"_s});
        QVERIFY(port != 0);
        const quint16 adminPort = adminPortOf(server);
        QVERIFY(adminPort != 0);
        QTcpSocket admin; // opened while descriptors are free, kept alive
        admin.connectToHost(QHostAddress::LocalHost, adminPort);
        QVERIFY(admin.waitForConnected(5000));
        QVERIFY(exchange(admin, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").startsWith("HTTP/1.1 200"));

        QByteArray log;
        std::vector<std::unique_ptr<QTcpSocket>> holders;
        for (int i = 0; i < 70 && !log.contains("cannot accept"); ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            socket->connectToHost(QHostAddress::LocalHost, port);
            QVERIFY(socket->waitForConnected(5000)); // the kernel completes it; the server may not accept it
            socket->write("GET /socket/e/websocket HTTP/1.1\r\n"); // and never the rest
            QVERIFY(socket->waitForBytesWritten(5000));
            holders.push_back(std::move(socket));
            (void)QTest::qWaitFor(
                [&] {
                    log += server.readAllStandardError();
                    return log.contains("cannot accept");
                },
                i < 40 ? 1 : 100);
        }
        QTRY_VERIFY2_WITH_TIMEOUT((log += server.readAllStandardError()).contains("cannot accept"), log.constData(),
                                  10000);
        const QByteArray health = exchange(admin, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QVERIFY2(health.startsWith("HTTP/1.1 503"), health.constData());
        QVERIFY(health.contains("cannot accept connections"));
        const QByteArray metrics = exchange(admin, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        QVERIFY2(metrics.contains("\nwsserve_listener_accepting 0\n"), metrics.constData());
        QVERIFY(metrics.contains("\nwsserve_accept_errors_total 1\n"));

        // A player tries now: the connection waits in the backlog.
        RawWebSocketClient waiting;
        holders.clear(); // released: the server sees them close and frees their descriptors
        QVERIFY(waiting.open(port, "/socket/e/websocket?vsn=2.0.0"));
        waiting.sendText(R"([null,"1","phoenix","heartbeat",{}])");
        QVERIFY(waiting.waitForText(R"("status":"ok")"));
        QTRY_VERIFY_WITH_TIMEOUT(
            exchange(admin, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").startsWith("HTTP/1.1 200"), 10000);
        log += server.readAllStandardError();
        QVERIFY(log.contains("accepting connections again"));
        QCOMPARE(log.count("cannot accept connections"), 1); // logged once per episode, not per attempt
        server.terminate();
        QVERIFY(server.waitForFinished(10000));
        QCOMPARE(server.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(tst_CliIntegration)
#include "tst_cli_integration.moc"
