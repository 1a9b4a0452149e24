// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Integration: clients that misbehave on purpose are dealt with, and a well-behaved client on the same
// instance keeps being served (slow readers, floods, connection floods, dribbled or endless heads).

#include "phoenixtestclient.h"
#include "rawhttp.h"
#include "testserver.h"

#include <QTcpSocket>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

class tst_HostileIntegration : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> m_server;

    std::unique_ptr<PhoenixTestClient> joined(const QString &id, const QString &topic)
    {
        return m_server->joinedClient(id, topic);
    }

    static bool served(PhoenixTestClient &client)
    {
        const QString ref = client.nextRef();
        client.sendV2(QJsonValue::Null, ref, u"phoenix"_s, u"heartbeat"_s, QJsonObject{});
        return client.waitForReply(u"phoenix"_s, ref).has_value();
    }

private slots:
    void init()
    {
        m_server = std::make_unique<TestServer>();
        QVERIFY(m_server->start());
    }
    void cleanup() { m_server.reset(); }

    void slowReaderIsClosed()
    {
        QVERIFY(m_server->addInstance(u"room"_s, u"chat"_s,
                                      {{u"max_send_buffer_bytes"_s, 256 * 1024}, {u"presence"_s, false}}));
        // The slow reader: upgrades, joins, then stops reading (Qt buffers at most 1 KiB for it, so the
        // kernel buffers fill and the server's queue for it grows).
        QTcpSocket slow;
        slow.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(slow.waitForConnected(5000));
        slow.write(upgradeHead("/socket/room/websocket?vsn=2.0.0"));
        QByteArray head;
        QVERIFY(QTest::qWaitFor(
            [&] {
                head += slow.readAll();
                return head.contains("\r\n\r\n");
            },
            5000));
        QVERIFY(head.startsWith("HTTP/1.1 101"));
        const QByteArray join = R"(["1","1","room:1","phx_join",{}])";
        slow.write(RawWebSocketClient::frame(0x81, join));
        QVERIFY(QTest::qWaitFor([&] { return slow.bytesAvailable() > 0; }, 5000)); // join reply arrived
        slow.setReadBufferSize(1024);

        auto talker = joined(u"room"_s, u"room:1"_s);
        QVERIFY(talker);
        const QJsonObject big{{u"blob"_s, QString(60 * 1024, u'x')}};
        // Bounded: far more than loopback buffers hold (~a few MiB), far less than a real flood.
        for (int i = 0; i < 400 && slow.state() == QAbstractSocket::ConnectedState; ++i) {
            talker->sendV2(u"1"_s, QString::number(10 + i), u"room:1"_s, u"shout"_s, big);
            if (i % 20 == 19) {
                QVERIFY(talker->waitForReply(u"room:1"_s, QString::number(10 + i), 20000));
                talker->clearFrames();
            }
        }
        QTRY_VERIFY_WITH_TIMEOUT(m_server->controller().instance(u"room"_s).stats.clients == 1, 20000);
        QVERIFY(served(*talker));
    }

    void floodOverTheRateLimitIsClosed()
    {
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s, {{u"max_messages_per_second"_s, 100}}));
        auto calm = joined(u"e"_s, u"t"_s);
        auto flooder = joined(u"e"_s, u"t"_s);
        QVERIFY(calm && flooder);
        for (int i = 0; i < 2000 && flooder->isConnected(); ++i) {
            flooder->sendV2(u"1"_s, QString::number(100 + i), u"t"_s, u"phx_join"_s, QJsonObject{}); // join flood
        }
        QVERIFY(flooder->waitForDisconnected(20000));
        QCOMPARE(flooder->closeReason(), u"message rate over 100/s"_s);
        QCOMPARE(flooder->closeCode(), 1008);
        QVERIFY(served(*calm));
        // A client within the limit is never cut off: 150 frames at the burst allowance (2 x 100).
        for (int i = 0; i < 150; ++i) {
            calm->sendV2(QJsonValue::Null, QString::number(1000 + i), u"phoenix"_s, u"heartbeat"_s, QJsonObject{});
        }
        QVERIFY(calm->waitForReply(u"phoenix"_s, u"1149"_s));
        QVERIFY(calm->isConnected());
    }

    void connectionFloodGets503()
    {
        QVERIFY(m_server->addInstance(u"small"_s, u"echo"_s, {{u"max_clients"_s, 5}}));
        std::vector<std::unique_ptr<PhoenixTestClient>> clients;
        for (int i = 0; i < 5; ++i) {
            clients.push_back(std::make_unique<PhoenixTestClient>());
            QVERIFY(clients.back()->open(m_server->url(u"small"_s)));
        }
        int refused = 0;
        for (int i = 0; i < 20; ++i) {
            refused += httpStatus(m_server->port(), upgradeHead("/socket/small/websocket?vsn=2.0.0")) == 503 ? 1 : 0;
        }
        QCOMPARE(refused, 20);
        for (const auto &client : clients) {
            QVERIFY(served(*client));
        }
    }

    void endlessHeadDoesNotStallOthers()
    {
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s));
        auto good = joined(u"e"_s, u"t"_s);
        QVERIFY(good);
        QTcpSocket endless;
        endless.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(endless.waitForConnected(5000));
        endless.write("GET /socket/e/websocket HTTP/1.1\r\n");
        for (int i = 0; i < 200; ++i) {
            endless.write("X-Filler: " + QByteArray(60, 'a') + "\r\n"); // never ends: over 8 KiB
        }
        QByteArray response;
        QVERIFY(QTest::qWaitFor(
            [&] {
                response += endless.readAll();
                return response.contains("\r\n\r\n");
            },
            10000));
        QVERIFY2(response.startsWith("HTTP/1.1 400 "), response.constData());
        QVERIFY(served(*good));
    }
};

QTEST_GUILESS_MAIN(tst_HostileIntegration)
#include "tst_hostile_integration.moc"
