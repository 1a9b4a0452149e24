// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Integration: clients that misbehave on purpose are dealt with, and a well-behaved client on the same
// instance keeps being served (slow readers, floods, connection floods, dribbled or endless heads).

#include "phoenixtestclient.h"
#include "rawhttp.h"
#include "testserver.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QTcpSocket>
#include <QTest>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {
qint64 residentBytes()
{
    QFile statm(u"/proc/self/statm"_s);
    if (!statm.open(QIODevice::ReadOnly)) {
        return 0;
    }
    return statm.readAll().split(' ').value(1).toLongLong() * 4096;
}

// A client written to break things: a blocking POSIX socket with a tiny receive buffer that upgrades,
// then only writes (it never reads again).
class NonReader
{
public:
    ~NonReader()
    {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    bool open(quint16 port, const QByteArray &target)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        const int small = 4096;
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
            return false;
        }
        const QByteArray head = "GET " + target +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        if (::send(m_fd, head.constData(), static_cast<size_t>(head.size()), MSG_NOSIGNAL) != head.size()) {
            return false;
        }
        QByteArray answer;
        char buffer[512];
        pollfd readable{m_fd, POLLIN, 0};
        while (!answer.contains("\r\n\r\n") && ::poll(&readable, 1, 10000) == 1) {
            const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                return false;
            }
            answer.append(buffer, n);
        }
        return answer.startsWith("HTTP/1.1 101");
    }
    // Sends what the kernel takes now; false once the server has closed the connection.
    bool offer(const QByteArray &bytes)
    {
        const ssize_t n =
            ::send(m_fd, bytes.constData(), static_cast<size_t>(bytes.size()), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            m_sent += n;
        }
        return n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK;
    }
    qint64 sent() const { return m_sent; }

private:
    int m_fd = -1;
    qint64 m_sent = 0;
};

QByteArray repeated(const QByteArray &frame, int count)
{
    QByteArray out;
    out.reserve(frame.size() * count);
    for (int i = 0; i < count; ++i) {
        out += frame;
    }
    return out;
}
} // namespace

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

    void pingFloodFromANonReaderIsClosed()
    {
        // Rate limit off: the send buffer alone must stop a client that pings and never reads its pongs
        // (pongs used to be queued one buffer each, unchecked: 1.8 GB for 213 MB of pings).
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s,
                                      {{u"max_messages_per_second"_s, 0}, {u"max_send_buffer_bytes"_s, 64 * 1024}}));
        auto probe = joined(u"e"_s, u"t"_s);
        QVERIFY(probe);
        NonReader flooder;
        QVERIFY(flooder.open(m_server->port(), "/socket/e/websocket?vsn=2.0.0"));
        QTRY_COMPARE(m_server->controller().instance(u"e"_s).stats.clients, 2);
        const qint64 rssBefore = residentBytes();
        const QByteArray pings = repeated(RawWebSocketClient::frame(0x89, {}), 4096); // masked empty pings
        QElapsedTimer clock;
        clock.start();
        bool open = true;
        // Bounded: 256 MiB of pings at most, 60 s at most; the server closes it long before.
        while (open && flooder.sent() < 256LL * 1024 * 1024 && clock.elapsed() < 60000) {
            open = flooder.offer(pings);
            QCoreApplication::processEvents();
            if (m_server->controller().instance(u"e"_s).stats.clients == 1) {
                break;
            }
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_server->controller().instance(u"e"_s).stats.clients, 1, 20000);
        QVERIFY2(flooder.sent() < 256LL * 1024 * 1024, "the flooder was never closed");
        QVERIFY(served(*probe));
#ifndef __SANITIZE_ADDRESS__ // ASan's quarantine keeps freed memory resident
        const qint64 grown = residentBytes() - rssBefore;
        QVERIFY2(grown < 64LL * 1024 * 1024,
                 qPrintable(u"grew %1 MB after %2 MB of pings"_s.arg(grown >> 20).arg(flooder.sent() >> 20)));
#else
        Q_UNUSED(rssBefore)
#endif
    }

    void everyFrameCountsTowardTheRate_data()
    {
        QTest::addColumn<QByteArray>("flood");
        QTest::newRow("pings") << repeated(RawWebSocketClient::frame(0x89, "p"), 2000);
        QTest::newRow("pongs") << repeated(RawWebSocketClient::frame(0x8A, {}), 2000);
        QTest::newRow("continuations of a message never finished")
            << RawWebSocketClient::frame(0x01, "[") + repeated(RawWebSocketClient::frame(0x00, {}), 2000);
    }

    void everyFrameCountsTowardTheRate()
    {
        QFETCH(QByteArray, flood);
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s, {{u"max_messages_per_second"_s, 100}}));
        auto probe = joined(u"e"_s, u"t"_s);
        QVERIFY(probe);
        RawWebSocketClient flooder;
        QVERIFY(flooder.open(m_server->port(), "/socket/e/websocket?vsn=2.0.0"));
        flooder.sendRaw(flood);
        QCOMPARE(flooder.waitForClose(), 1008);
        QVERIFY(served(*probe));
    }

    void overlongTopicsAndEventsAreRefused()
    {
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s));
        auto client = joined(u"e"_s, u"t"_s);
        QVERIFY(client);
        // 100 channels of long topics used to pin ~290 MB; now none is kept.
        const QString longTopic = u"room:"_s + QString(1000, u'x');
        for (int i = 0; i < 100; ++i) {
            const QString ref = client->join(longTopic + QString::number(i));
            const auto reply = client->waitForReply(longTopic + QString::number(i), ref);
            QVERIFY(reply);
            QCOMPARE(reply->payload()[u"status"_s].toString(), u"error"_s);
            QCOMPARE(reply->payload()[u"response"_s][u"reason"_s].toString(),
                     u"topic over 255 bytes (max_topic_bytes)"_s);
        }
        QTRY_COMPARE(m_server->controller().instance(u"e"_s).stats.channels, 1);
        // 86 three-byte characters are 258 bytes: the limit is on the UTF-8 size.
        const QString ref = client->join(QString(86, QChar(0x20AC)));
        QCOMPARE(client->waitForReply(QString(86, QChar(0x20AC)), ref)->payload()[u"status"_s].toString(), u"error"_s);
        QVERIFY(client->waitForReply(QString(85, QChar(0x20AC)), client->join(QString(85, QChar(0x20AC))))
                    ->payload()[u"status"_s]
                    .toString() == u"ok"_s);
        const QString eventRef = client->nextRef();
        client->sendV2(u"1"_s, eventRef, u"t"_s, QString(300, u'e'), QJsonObject{});
        const auto eventReply = client->waitForReply(u"t"_s, eventRef);
        QVERIFY(eventReply);
        QCOMPARE(eventReply->payload()[u"response"_s][u"reason"_s].toString(),
                 u"event name over 255 bytes (max_topic_bytes)"_s);
        QVERIFY(served(*client));
    }

    void tictactoeFreesAGameWithItsLastMember()
    {
        QVERIFY(m_server->addInstance(u"ttt"_s, u"tictactoe"_s));
        const auto movesAfterJoin = [&](PhoenixTestClient &client, const QString &topic) {
            const QString ref = client.join(topic);
            const auto reply = client.waitForReply(topic, ref);
            return reply ? reply->payload()[u"response"_s][u"state"_s][u"moves"_s].toInt(-1) : -1;
        };
        const auto leave = [](PhoenixTestClient &client, const QString &topic) {
            const QString ref = client.nextRef();
            client.sendV2(QJsonValue::Null, ref, topic, u"phx_leave"_s, QJsonObject{});
            return client.waitForReply(topic, ref).has_value();
        };
        auto x = std::make_unique<PhoenixTestClient>();
        auto o = std::make_unique<PhoenixTestClient>();
        auto watcher = std::make_unique<PhoenixTestClient>();
        QVERIFY(x->open(m_server->url(u"ttt"_s)) && o->open(m_server->url(u"ttt"_s)) &&
                watcher->open(m_server->url(u"ttt"_s)));
        for (const QString &topic : {u"game:kept"_s, u"game:freed"_s}) {
            QCOMPARE(movesAfterJoin(*x, topic), 0);
            QCOMPARE(movesAfterJoin(*o, topic), 0);
            const QString ref = x->nextRef();
            x->sendV2(QJsonValue::Null, ref, topic, u"move"_s, QJsonObject{{u"cell"_s, 4}});
            QCOMPARE(x->waitForReply(topic, ref)->payload()[u"status"_s].toString(), u"ok"_s);
        }
        QCOMPARE(movesAfterJoin(*watcher, u"game:kept"_s), 1); // a spectator keeps the game alive
        for (const QString &topic : {u"game:kept"_s, u"game:freed"_s}) {
            QVERIFY(leave(*x, topic));
            QVERIFY(leave(*o, topic));
        }
        QCOMPARE(movesAfterJoin(*x, u"game:kept"_s), 1);
        QCOMPARE(movesAfterJoin(*x, u"game:freed"_s), 0); // its last member left: a new game
    }

    void unencodableReplyClosesTheClient()
    {
        // A binary push whose topic decodes (invalid UTF-8 becomes U+FFFD, three bytes each) to more than
        // the 255 bytes a binary reply can carry: the client is closed with a reason, not left waiting.
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s, {{u"max_topic_bytes"_s, 1000}}));
        auto client = std::make_unique<PhoenixTestClient>();
        QVERIFY(client->open(m_server->url(u"e"_s)));
        const QString decoded(200, QChar(0xFFFD));
        client->sendV2(u"1"_s, u"1"_s, decoded, u"phx_join"_s, QJsonObject{});
        QCOMPARE(client->waitForReply(decoded, u"1"_s)->payload()[u"status"_s].toString(), u"ok"_s);
        QByteArray push;
        push.append(char(0)).append(char(1)).append(char(1)).append(char(200)).append(char(1));
        push.append("1").append("2").append(QByteArray(200, '\xFF')).append("e").append("\x01\x02", 2);
        for (int i = 0; i < 50; ++i) {
            client->sendBinary(push);
        }
        QVERIFY(client->waitForDisconnected());
        QCOMPARE(client->closeCode(), 1011);
        QVERIFY2(client->closeReason().startsWith(u"cannot encode a reply"_s), qPrintable(client->closeReason()));
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
