// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Integration: supervision semantics with real clients (architecture.md "Supervision"): channel crashes,
// instance restarts with 1012, the Failed state, the watchdog for hung threads, and lifecycle commands.

#include "phoenixtestclient.h"
#include "rawhttp.h"
#include "testserver.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTest>
#include <QThread>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {
// The names of this process's threads, as the kernel (and so a debugger or `top -H`) shows them.
QStringList threadNames()
{
    QStringList names;
    const QDir tasks(u"/proc/self/task"_s);
    for (const QString &task : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile comm(tasks.filePath(task + u"/comm"_s));
        if (comm.open(QIODevice::ReadOnly)) {
            names.append(QString::fromUtf8(comm.readAll().trimmed()));
        }
    }
    return names;
}
} // namespace

class tst_SupervisorIntegration : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> m_server;

    std::unique_ptr<PhoenixTestClient> joined(const QString &id, const QString &topic)
    {
        return m_server->joinedClient(id, topic);
    }

    // A raw client joined to `topic`: reads the close code exactly as the server sent it.
    std::unique_ptr<RawWebSocketClient> rawJoined(const QString &id, const QString &topic)
    {
        auto raw = std::make_unique<RawWebSocketClient>();
        if (!raw->open(m_server->port(), "/socket/" + id.toUtf8() + "/websocket?vsn=2.0.0")) {
            return nullptr;
        }
        raw->sendText(R"(["1","1",")" + topic.toUtf8() + R"(","phx_join",{}])");
        if (!raw->waitForText(R"("status":"ok")")) {
            return nullptr;
        }
        return raw;
    }

    static bool echoes(PhoenixTestClient &client, const QString &topic, const QString &joinRef)
    {
        const QString ref = client.nextRef();
        client.sendV2(joinRef, ref, topic, u"ping"_s, QJsonObject{{u"ref"_s, ref}});
        const auto reply = client.waitForReply(topic, ref);
        return reply && reply->payload()["status"_L1].toString() == u"ok";
    }

private slots:
    void init()
    {
        m_server = std::make_unique<TestServer>();
        QVERIFY(m_server->start());
    }
    void cleanup() { m_server.reset(); }

    void channelCrashOnlyAffectsThatChannel()
    {
        QVERIFY(m_server->addInstance(u"c"_s, u"chaos"_s));
        auto victim = joined(u"c"_s, u"room:1"_s);
        auto other = joined(u"c"_s, u"room:1"_s);
        QVERIFY(victim && other);
        const QString secondRef = victim->join(u"room:2"_s);
        QVERIFY(victim->waitForReply(u"room:2"_s, secondRef));

        victim->sendV2(u"1"_s, u"10"_s, u"room:1"_s, u"crash"_s, QJsonObject{});
        const auto error = victim->waitFor([](const ReceivedFrame &f) { return f.event() == u"phx_error"; });
        QVERIFY(error);
        QCOMPARE(error->raw, QByteArray(R"(["1","1","room:1","phx_error",{"reason":"channel_crash"}])"));
        // The crashed channel is gone; the client's other channel and the other client are untouched.
        victim->sendV2(u"1"_s, u"11"_s, u"room:1"_s, u"ping"_s, QJsonObject{});
        const auto gone = victim->waitForReply(u"room:1"_s, u"11"_s);
        QVERIFY(gone);
        QCOMPARE(gone->payload()["response"_L1]["reason"_L1].toString(), u"unmatched topic"_s);
        QVERIFY(echoes(*victim, u"room:2"_s, secondRef));
        QVERIFY(echoes(*other, u"room:1"_s, u"1"_s));
        // The client rejoins with a new join_ref, as the official clients do.
        const QString rejoin = victim->join(u"room:1"_s);
        QVERIFY(victim->waitForReply(u"room:1"_s, rejoin));
        QVERIFY(echoes(*victim, u"room:1"_s, rejoin));
        QCOMPARE(m_server->controller().instance(u"c"_s).state, InstanceState::Running);
        QCOMPARE(m_server->controller().instance(u"c"_s).restarts, 0);
        QTRY_COMPARE(m_server->controller().instance(u"c"_s).stats.channelCrashes, 1ULL);
    }

    void tooManyChannelCrashesRestartTheInstance()
    {
        QVERIFY(m_server->addInstance(u"c"_s, u"chaos"_s, {{u"max_channel_crashes"_s, 3}}));
        auto client = joined(u"c"_s, u"room:1"_s);
        auto raw = rawJoined(u"c"_s, u"room:1"_s);
        QVERIFY(client && raw);
        QSignalSpy states(&m_server->controller(), &ServerController::instanceStateChanged);
        for (int i = 0; i < 3; ++i) {
            const QString ref = client->join(u"room:%1"_s.arg(i + 10));
            QVERIFY(client->waitForReply(u"room:%1"_s.arg(i + 10), ref));
            client->sendV2(ref, client->nextRef(), u"room:%1"_s.arg(i + 10), u"crash"_s, QJsonObject{});
        }
        QCOMPARE(raw->waitForClose(), 1012);
        QVERIFY(client->waitForDisconnected());
        QVERIFY(m_server->waitForState(u"c"_s, InstanceState::Running));
        QCOMPARE(m_server->controller().instance(u"c"_s).restarts, 1);
        bool sawRestarting = false;
        for (const QList<QVariant> &args : states) {
            sawRestarting = sawRestarting || args.at(1).value<InstanceState>() == InstanceState::Restarting;
        }
        QVERIFY(sawRestarting);
        auto again = joined(u"c"_s, u"room:1"_s);
        QVERIFY(again);
        QVERIFY(echoes(*again, u"room:1"_s, u"1"_s));
    }

    void explicitRestartClosesWith1012()
    {
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s));
        auto a = joined(u"e"_s, u"room:1"_s);
        auto b = rawJoined(u"e"_s, u"room:1"_s);
        QVERIFY(a && b);
        const CommandResult restarted = m_server->controller().restartInstance(u"e"_s);
        QVERIFY2(restarted, qPrintable(restarted.message));
        QCOMPARE(b->waitForClose(), 1012);
        QVERIFY(a->waitForDisconnected());
        QVERIFY(m_server->waitForState(u"e"_s, InstanceState::Running));
        auto c = joined(u"e"_s, u"room:1"_s);
        QVERIFY(c);
        QVERIFY(echoes(*c, u"room:1"_s, u"1"_s));
        const QList<SupervisorEvent> log = m_server->controller().supervisorLog();
        QVERIFY(std::any_of(log.cbegin(), log.cend(), [](const SupervisorEvent &event) {
            return event.instanceId == u"e" && event.state == InstanceState::Restarting &&
                   event.message == u"restart requested";
        }));
    }

    void repeatedFailuresEndInFailed()
    {
        QVERIFY(m_server->addInstance(u"c"_s, u"chaos"_s, {{u"max_restarts"_s, 2}}));
        for (int attempt = 0; attempt < 3; ++attempt) {
            QVERIFY(m_server->waitForState(u"c"_s, InstanceState::Running));
            auto client = rawJoined(u"c"_s, u"room:1"_s);
            QVERIFY(client);
            client->sendText(R"(["1","2","room:1","fail",{"reason":"boom )" + QByteArray::number(attempt) + R"("}])");
            QCOMPARE(client->waitForClose(), 1012);
        }
        QVERIFY(m_server->waitForState(u"c"_s, InstanceState::Failed));
        const QList<SupervisorEvent> log = m_server->controller().supervisorLog();
        QVERIFY(log.last().message.contains(u"boom 2"));
        // Failed stays down: new connections are refused until someone starts it.
        QCOMPARE(httpStatus(m_server->port(), upgradeHead("/socket/c/websocket?vsn=2.0.0")), 503);
        QCOMPARE(m_server->controller().instance(u"c"_s).state, InstanceState::Failed);
        const CommandResult started = m_server->controller().startInstance(u"c"_s);
        QVERIFY2(started, qPrintable(started.message));
        QVERIFY(m_server->waitForState(u"c"_s, InstanceState::Running));
        auto client = joined(u"c"_s, u"room:1"_s);
        QVERIFY(client);
        QVERIFY(echoes(*client, u"room:1"_s, u"1"_s));
    }

    void hungThreadIsDetectedAndReplaced()
    {
        QVERIFY(m_server->addInstance(u"c"_s, u"chaos"_s, {{u"watchdog_ms"_s, 500}}));
        auto client = joined(u"c"_s, u"room:1"_s);
        QVERIFY(client);
        QElapsedTimer clock;
        clock.start();
        client->sendV2(u"1"_s, u"2"_s, u"room:1"_s, u"stall"_s, QJsonObject{{u"ms"_s, 8000}});
        // The supervisor shuts the hung thread's sockets down at the OS level, long before the stall ends.
        QVERIFY(client->waitForDisconnected(7000));
        QVERIFY(clock.elapsed() < 7000);
        QVERIFY(m_server->waitForState(u"c"_s, InstanceState::Running, 7000));
        QVERIFY(clock.elapsed() < 8000);
        auto fresh = joined(u"c"_s, u"room:1"_s);
        QVERIFY(fresh);
        QVERIFY(echoes(*fresh, u"room:1"_s, u"1"_s));
        QCOMPARE(m_server->controller().instance(u"c"_s).restarts, 1);
        const QList<SupervisorEvent> log = m_server->controller().supervisorLog();
        QVERIFY(std::any_of(log.cbegin(), log.cend(),
                            [](const SupervisorEvent &event) { return event.message.contains(u"unresponsive"); }));
        // The abandoned thread finishes when its stall ends and is cleaned up then (not left to the
        // process exit, where LeakSanitizer would report its objects): only the fresh thread remains.
        QTRY_COMPARE_WITH_TIMEOUT(threadNames().count(u"instance:c"_s), 1, 20000);
        QVERIFY(echoes(*fresh, u"room:1"_s, u"1"_s));
    }

    void shortStallRestartsNothing()
    {
        QVERIFY(m_server->addInstance(u"c"_s, u"chaos"_s, {{u"watchdog_ms"_s, 3000}}));
        auto client = joined(u"c"_s, u"room:1"_s);
        QVERIFY(client);
        client->sendV2(u"1"_s, u"2"_s, u"room:1"_s, u"stall"_s, QJsonObject{{u"ms"_s, 300}});
        QVERIFY(client->waitForReply(u"room:1"_s, u"2"_s));
        QVERIFY(echoes(*client, u"room:1"_s, u"1"_s)); // answered after the stall ended
        QVERIFY(client->isConnected());
        QCOMPARE(m_server->controller().instance(u"c"_s).state, InstanceState::Running);
        QCOMPARE(m_server->controller().instance(u"c"_s).restarts, 0);
    }

    void lifecycleCommands()
    {
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s));
        auto client = joined(u"e"_s, u"room:1"_s);
        QVERIFY(client);
        using Error = CommandResult::Error;
        CommandResult result = m_server->controller().createInstance(u"e"_s, u"echo"_s, {}, true);
        QCOMPARE(result.error, Error::IdTaken);
        QVERIFY(result.message.contains(u"already taken"));
        result = m_server->controller().createInstance(u"bad id"_s, u"echo"_s, {}, true);
        QCOMPARE(result.error, Error::InvalidId);
        QVERIFY(result.message.contains(u"bad id"));
        result = m_server->controller().createInstance(u"x"_s, u"nope"_s, {}, true);
        QCOMPARE(result.error, Error::UnknownType);
        QVERIFY(result.message.contains(u"unknown instance type 'nope'"));
        result = m_server->controller().createInstance(u"x"_s, u"echo"_s, {{u"max_clients"_s, u"many"_s}}, true);
        QCOMPARE(result.error, Error::InvalidOption);
        QCOMPARE(m_server->controller().startInstance(u"nope"_s).error, Error::NotFound);
        QCOMPARE(m_server->controller().startInstance(u"e"_s).error, Error::WrongState);
        QCOMPARE(m_server->controller().broadcast(u"nope"_s, u"t"_s, u"x"_s, {}).error, Error::NotFound);
        QCOMPARE(m_server->controller().kickClient(u"e"_s, 999, u"bye"_s).error, Error::NotFound);

        QVERIFY(m_server->controller().stopInstance(u"e"_s));
        QVERIFY(client->waitForDisconnected());
        QCOMPARE(client->closeCode(), 1001);
        QVERIFY(m_server->waitForState(u"e"_s, InstanceState::Stopped));
        QVERIFY(!PhoenixTestClient().open(m_server->url(u"e"_s), 5000));
        QCOMPARE(m_server->controller().broadcast(u"e"_s, u"t"_s, u"x"_s, {}).error, Error::NotRunning);
        QVERIFY(m_server->controller().startInstance(u"e"_s));
        QVERIFY(m_server->waitForState(u"e"_s, InstanceState::Running));
        auto back = joined(u"e"_s, u"room:1"_s);
        QVERIFY(back);

        QSignalSpy removed(&m_server->controller(), &ServerController::instanceRemoved);
        QVERIFY(m_server->controller().removeInstance(u"e"_s));
        QVERIFY(removed.wait(10000) || removed.size() == 1);
        QVERIFY(back->waitForDisconnected());
        QVERIFY(!m_server->controller().instanceIds().contains(u"e"_s));
        QCOMPARE(httpStatus(m_server->port(), "GET /socket/e/websocket HTTP/1.1\r\nHost: x\r\n\r\n"), 404);
    }

    void kickClosesOneClient()
    {
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s));
        auto a = joined(u"e"_s, u"room:1"_s);
        auto b = joined(u"e"_s, u"room:1"_s);
        QVERIFY(a && b);
        // The published client list names both, with their topics and counters.
        QTRY_COMPARE_WITH_TIMEOUT(m_server->controller().clients(u"e"_s).size(), 2, 10000);
        const ClientList clients = m_server->controller().clients(u"e"_s);
        QVERIFY(clients.at(0).id > 0 && clients.at(1).id > clients.at(0).id); // in id order, a first
        QCOMPARE(clients.at(0).topics, QStringList{u"room:1"_s});
        QCOMPARE(clients.at(0).format, WireFormat::V2Json);
        QCOMPARE(clients.at(0).remoteAddress, u"127.0.0.1"_s);
        QVERIFY(clients.at(0).messagesIn >= 1 && clients.at(0).messagesOut >= 1);
        QVERIFY(clients.at(0).bytesIn > 0 && clients.at(0).bytesOut > 0);
        QVERIFY(m_server->controller().kickClient(u"e"_s, clients.at(0).id, u"bye"_s));
        QVERIFY(a->waitForDisconnected());
        QCOMPARE(a->closeCode(), 1008);
        QCOMPARE(a->closeReason(), u"bye"_s);
        QVERIFY(echoes(*b, u"room:1"_s, u"1"_s));
        QTRY_COMPARE_WITH_TIMEOUT(m_server->controller().clients(u"e"_s).size(), 1, 10000);
        QCOMPARE(m_server->controller().clients(u"e"_s).at(0).id, clients.at(1).id);
    }

    void messageFlowBatchesAndSampling()
    {
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s, {{u"max_messages_per_second"_s, 0}}));
        QList<MessageEvent> events;
        quint64 dropped = 0;
        QObject scope; // the connection must not outlive the locals it writes to
        connect(&m_server->controller(), &ServerController::instanceMessageFlow, &scope,
                [&](const QString &id, const MessageBatch &batch) {
                    QCOMPARE(id, u"e"_s);
                    events += batch.events;
                    dropped += batch.dropped;
                });
        auto quiet = joined(u"e"_s, u"room:1"_s);
        QVERIFY(quiet);
        QVERIFY(echoes(*quiet, u"room:1"_s, u"1"_s)); // not watched: must not be recorded

        m_server->controller().setMessageFlowEnabled(u"e"_s, true);
        quiet->sendV2(u"1"_s, u"watched"_s, u"room:1"_s, u"ping"_s, QJsonObject{});
        QVERIFY(quiet->waitForReply(u"room:1"_s, u"watched"_s));
        QTRY_VERIFY(events.size() >= 2);
        // Batches arrive in order, so the first recorded frame is the first one sent while watched.
        const MessageEvent in = events.at(0);
        QVERIFY(!in.outgoing);
        QTRY_COMPARE(m_server->controller().clients(u"e"_s).size(), 1);
        QCOMPARE(in.clientId, m_server->controller().clients(u"e"_s).at(0).id);
        QCOMPARE(in.topic, u"room:1"_s);
        QCOMPARE(in.event, u"ping"_s);
        QCOMPARE(in.frame, QByteArray(R"(["1","watched","room:1","ping",{}])"));
        QCOMPARE(in.size, in.frame.size());
        const MessageEvent out = events.at(1);
        QVERIFY(out.outgoing);
        QCOMPARE(out.event, u"phx_reply"_s);

        // Far more than one batch holds in 100 ms: the instance samples and says how many it left out.
        events.clear();
        for (int i = 0; i < 8000; ++i) {
            quiet->sendV2(u"1"_s, QString::number(10000 + i), u"room:1"_s, u"flood"_s, QJsonObject{});
        }
        QVERIFY(quiet->waitForReply(u"room:1"_s, u"17999"_s, 30000));
        QTRY_VERIFY_WITH_TIMEOUT(events.size() + dropped >= 16000, 20000); // every frame in and out, kept or not
        QVERIFY(dropped > 0);
        m_server->controller().setMessageFlowEnabled(u"e"_s, false);
    }

    void instancesRunInNamedThreads()
    {
        QVERIFY(m_server->addInstance(u"one"_s, u"echo"_s));
        QVERIFY(m_server->addInstance(u"two"_s, u"echo"_s));
        // The names are what a debugger or `top -H` shows; each instance has its own.
        QTRY_VERIFY_WITH_TIMEOUT(threadNames().contains(u"instance:one"_s) && threadNames().contains(u"instance:two"_s),
                                 10000);
    }
};

QTEST_GUILESS_MAIN(tst_SupervisorIntegration)
#include "tst_supervisor_integration.moc"
