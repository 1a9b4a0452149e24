// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Integration: real QWebSocket clients against an in-process server on 127.0.0.1:0, covering the
// server-side rows of phoenix-protocol.md section 11 and the endpoint's HTTP answers.

#include "phoenixtestclient.h"
#include "rawhttp.h"
#include "testserver.h"

#include "behaviours/builtins.h"
#include "protocol/codec.h"

#include <QJsonDocument>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {

// A behaviour that shows the test what it was given: connect params and auth token in its join reply,
// refuses connections whose `token` param is "bad", and refuses joins of "private:*".
class ProbeBehaviour final : public IBehaviour
{
public:
    std::optional<QString> connect(const ConnectInfo &info) override
    {
        if (info.params.value(u"token"_s).toString() == u"bad") {
            return u"invalid token"_s;
        }
        return std::nullopt;
    }
    JoinResult join(ChannelContext &channel, const QJsonValue &params) override
    {
        if (channel.topic().startsWith(u"private:")) {
            return JoinResult::refuse(u"unauthorized"_s);
        }
        return JoinResult::accept(QJsonObject{{u"params"_s, channel.connectInfo().params},
                                              {u"token"_s, channel.connectInfo().authToken},
                                              {u"join_params"_s, params}});
    }
    void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) override
    {
        if (event == u"silent") {
            return; // no reply at all (matrix row 10)
        }
        if (event == u"push_binary") {
            channel.push(u"bytes"_s, Payload::fromBinary(QByteArray("\x09\x09", 2)));
            return;
        }
        channel.replyOk(payload);
    }
};

BehaviourRegistry registryWithProbe()
{
    BehaviourRegistry registry = builtinRegistry();
    registry.add({u"probe"_s, u"test probe"_s, {}, [](const InstanceConfig &) {
                      return std::make_unique<ProbeBehaviour>();
                  }});
    return registry;
}

// The same request with one part of its head replaced (a header changed, removed or added).
QByteArray upgradeRequestWith(const QByteArray &target, const QByteArray &from, const QByteArray &to)
{
    return upgradeHead(target).replace(from, to);
}

QByteArray withOrigin(const QByteArray &target, const QByteArray &origin)
{
    return upgradeRequestWith(target, "Host: 127.0.0.1\r\n", "Host: 127.0.0.1\r\nOrigin: " + origin + "\r\n");
}

QJsonValue parse(const QByteArray &text)
{
    const QJsonDocument document = QJsonDocument::fromJson(text);
    return document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object());
}

} // namespace

class tst_ProtocolIntegration : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> m_server;

    std::unique_ptr<PhoenixTestClient> connectClient(const QString &id, const QString &query = u"vsn=2.0.0"_s)
    {
        auto client = std::make_unique<PhoenixTestClient>();
        if (!client->open(m_server->url(id, query))) {
            return nullptr;
        }
        return client;
    }

private slots:
    void init()
    {
        m_server = std::make_unique<TestServer>(registryWithProbe());
        QVERIFY(m_server->start());
        QVERIFY(m_server->addInstance(u"echo"_s, u"echo"_s));
        QVERIFY(m_server->addInstance(u"chat"_s, u"chat"_s));
        QVERIFY(m_server->addInstance(u"relay"_s, u"relay"_s));
        QVERIFY(m_server->addInstance(u"probe"_s, u"probe"_s));
        QVERIFY(m_server->addInstance(u"ttt"_s, u"tictactoe"_s));
        QVERIFY(m_server->addInstance(u"chaos"_s, u"chaos"_s));
    }
    void cleanup() { m_server.reset(); }

    void httpAnswersBeforeUpgrade_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::newRow("unknown instance") << upgradeHead("/socket/nope/websocket?vsn=2.0.0") << 404;
        QTest::newRow("unknown path") << upgradeHead("/other") << 404;
        QTest::newRow("vsn 3.0.0") << upgradeHead("/socket/echo/websocket?vsn=3.0.0") << 403;
        QTest::newRow("vsn 2.1.0") << upgradeHead("/socket/echo/websocket?vsn=2.1.0") << 403;
        QTest::newRow("vsn *") << upgradeHead("/socket/echo/websocket?vsn=*") << 403;
        QTest::newRow("not an upgrade") << QByteArray("GET /socket/echo/websocket HTTP/1.1\r\nHost: x\r\n\r\n") << 426;
        QTest::newRow("POST") << QByteArray("POST /socket/echo/websocket HTTP/1.1\r\nHost: x\r\n\r\n") << 405;
        QTest::newRow("garbage") << QByteArray("HELLO\r\n\r\n") << 400;
        QTest::newRow("head over 8 KiB") << QByteArray("GET /socket/echo/websocket HTTP/1.1\r\nX-Pad: " +
                                                       QByteArray(9000, 'a'))
                                         << 400;
        QTest::newRow("connect refused by behaviour")
            << upgradeHead("/socket/probe/websocket?token=bad&vsn=2.0.0") << 403;
        const QByteArray echo = "/socket/echo/websocket?vsn=2.0.0";
        QTest::newRow("websocket version 8")
            << upgradeRequestWith(echo, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8") << 426;
        QTest::newRow("no key") << upgradeRequestWith(echo, QByteArray("Sec-WebSocket-Key: ") + kSampleKey + "\r\n", "")
                                << 400;
        QTest::newRow("key not 16 bytes") << upgradeRequestWith(echo, kSampleKey, "c2hvcnQ=") << 400;
        QTest::newRow("page from another site") << withOrigin(echo, "http://evil.example") << 403;
        // RFC 9112 / RFC 6455 4.1 strictness: an upgrade is HTTP/1.1, with exactly one Host and no body.
        QTest::newRow("HTTP/1.0 upgrade") << upgradeRequestWith(echo, "HTTP/1.1", "HTTP/1.0") << 400;
        QTest::newRow("no Host") << upgradeRequestWith(echo, "Host: 127.0.0.1\r\n", "") << 400;
        QTest::newRow("two Host headers")
            << upgradeRequestWith(echo, "Host: 127.0.0.1\r\n", "Host: 127.0.0.1\r\nHost: evil.example\r\n") << 400;
        QTest::newRow("Transfer-Encoding")
            << upgradeRequestWith(echo, "Host: 127.0.0.1\r\n", "Host: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n")
            << 400;
        QTest::newRow("encoded / in the path") << upgradeHead("/socket/echo%2Fwebsocket?vsn=2.0.0") << 400;
        QTest::newRow("vsn with a trailing newline") << upgradeHead("/socket/echo/websocket?vsn=2.0.0%0A") << 403;
        QTest::newRow("vsn with other digits") << upgradeHead("/socket/echo/websocket?vsn=2.0.%D9%A3") << 403;
        QTest::newRow("bare CR in Origin") << withOrigin(echo, "http://evil.example\rX-Injected: 1") << 400;
        QTest::newRow("control byte in the target") << upgradeHead("/socket/echo/web\x01socket?vsn=2.0.0") << 400;
    }

    void httpAnswersBeforeUpgrade()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        QCOMPARE(httpStatus(m_server->port(), request), status);
        // The endpoint is still serving others afterwards.
        QCOMPARE(httpStatus(m_server->port(), upgradeHead("/socket/echo/websocket?vsn=2.0.0")), 101);
    }

    void clientStringsAreEscapedInAnswers()
    {
        // A Unicode line separator in the Origin reaches neither the log nor the body raw.
        QByteArray response;
        QCOMPARE(httpStatus(m_server->port(),
                            withOrigin("/socket/echo/websocket?vsn=2.0.0", "http://evil.example\xE2\x80\xA8x"), 10000,
                            &response),
                 403);
        QVERIFY2(response.contains("evil.example\\u2028x"), response.constData());
        QVERIFY(!response.contains("\xE2\x80\xA8"));
    }

    void originCheckFollowsTheInstanceOption()
    {
        QCOMPARE(httpStatus(m_server->port(), withOrigin("/socket/echo/websocket", "http://127.0.0.1:5173")), 101);
        QVERIFY(m_server->addInstance(u"open"_s, u"echo"_s, {{u"check_origin"_s, u"any"_s}}));
        QVERIFY(m_server->addInstance(u"listed"_s, u"echo"_s, {{u"check_origin"_s, u"https://game.example"_s}}));
        QCOMPARE(httpStatus(m_server->port(), withOrigin("/socket/open/websocket", "http://evil.example")), 101);
        QCOMPARE(httpStatus(m_server->port(), withOrigin("/socket/listed/websocket", "https://game.example")), 101);
        QCOMPARE(httpStatus(m_server->port(), withOrigin("/socket/listed/websocket", "http://127.0.0.1")), 403);
    }

    void incompleteHeadTimesOutWith408()
    {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(socket.waitForConnected(5000));
        socket.write("GET /socket/echo/websocket HTTP/1.1\r\nHost: x\r\n"); // never finished
        QByteArray response;
        QVERIFY(QTest::qWaitFor(
            [&] {
                response += socket.readAll();
                return socket.state() == QAbstractSocket::UnconnectedState || response.contains("\r\n\r\n");
            },
            20000));
        QVERIFY2(response.startsWith("HTTP/1.1 408 "), response.constData());
    }

    void headDribbledByteByByteStillUpgrades()
    {
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(socket.waitForConnected(5000));
        const QByteArray request = upgradeHead("/socket/echo/websocket?vsn=2.0.0");
        for (const char byte : request) {
            socket.write(&byte, 1);
            QVERIFY(socket.waitForBytesWritten(5000));
        }
        QByteArray response;
        QVERIFY(QTest::qWaitFor(
            [&] {
                response += socket.readAll();
                return response.contains("\r\n\r\n");
            },
            10000));
        QVERIFY2(response.startsWith("HTTP/1.1 101 "), response.constData());
    }

    void handshakeAnswerFollowsRfc6455()
    {
        RawWebSocketClient client;
        QVERIFY(client.open(m_server->port(), "/socket/echo/websocket?vsn=2.0.0"));
        const QByteArray head = client.responseHead();
        QVERIFY2(head.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), head.constData());
        QVERIFY(head.contains("\r\nUpgrade: websocket\r\n"));
        QVERIFY(!head.contains("Sec-WebSocket-Protocol")); // none offered, none chosen
    }

    void framesSentWithTheHeadAreAnswered()
    {
        // A client that does not wait for the 101: its first frames arrive in the same packet as the head.
        const QByteArray first = RawWebSocketClient::frame(0x81, R"([null,"1","phoenix","heartbeat",{}])");
        const QByteArray second = RawWebSocketClient::frame(0x81, R"([null,"2","phoenix","heartbeat",{}])");
        RawWebSocketClient client;
        QVERIFY(client.open(m_server->port(), "/socket/echo/websocket?vsn=2.0.0", 10000, first + second));
        QVERIFY(client.waitForText(R"([null,"1","phoenix","phx_reply")"));
        QVERIFY(client.waitForText(R"([null,"2","phoenix","phx_reply")"));
    }

    void fragmentsAndControlFramesBetweenThem()
    {
        RawWebSocketClient client;
        QVERIFY(client.open(m_server->port(), "/socket/echo/websocket?vsn=2.0.0"));
        client.sendFrame(0x01, R"([null,"7","phoe)");  // text, not final
        client.sendFrame(0x89, "are you there");       // a ping between the fragments
        client.sendFrame(0x00, R"(nix","heartbeat")"); // continuation
        client.sendFrame(0x80, R"(,{}])");             // final continuation
        QVERIFY(client.waitForPong("are you there"));
        QVERIFY(client.waitForText(R"([null,"7","phoenix","phx_reply",{"response":{},"status":"ok"}])"));
    }

    void framingErrorsCloseWithTheirCode_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<int>("code");
        QTest::newRow("unmasked") << RawWebSocketClient::frame(0x81, "[]", false) << 1002;
        QTest::newRow("reserved bit") << RawWebSocketClient::frame(0xC1, "[]") << 1002;
        QTest::newRow("unknown opcode") << RawWebSocketClient::frame(0x83, "[]") << 1002;
        QTest::newRow("continuation first") << RawWebSocketClient::frame(0x80, "[]") << 1002;
        QTest::newRow("ping over 125 bytes") << RawWebSocketClient::frame(0x89, QByteArray(126, 'p')) << 1002;
        QTest::newRow("text not UTF-8") << RawWebSocketClient::frame(0x81, "[\"\xC0\x80\"]") << 1007;
        QTest::newRow("close code 1005") << RawWebSocketClient::frame(0x88, QByteArray("\x03\xED", 2)) << 1002;
    }
    void framingErrorsCloseWithTheirCode()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(int, code);
        RawWebSocketClient bad;
        QVERIFY(bad.open(m_server->port(), "/socket/echo/websocket?vsn=2.0.0"));
        RawWebSocketClient good;
        QVERIFY(good.open(m_server->port(), "/socket/echo/websocket?vsn=2.0.0"));
        bad.sendRaw(bytes);
        QCOMPARE(bad.waitForClose(), code);
        // Others on the instance are unaffected.
        good.sendText(R"([null,"3","phoenix","heartbeat",{}])");
        QVERIFY(good.waitForText(R"([null,"3","phoenix","phx_reply")"));
    }

    void clientCloseIsAnsweredWithItsCode()
    {
        RawWebSocketClient client;
        QVERIFY(client.open(m_server->port(), "/socket/echo/websocket?vsn=2.0.0"));
        client.sendFrame(0x88, QByteArray::fromHex("0fa0") + "bye"); // code 4000
        QCOMPARE(client.waitForClose(), 4000);
    }

    void upgradeWithoutWebsocketSuffix()
    {
        QCOMPARE(httpStatus(m_server->port(), upgradeHead("/socket/echo?vsn=2.0.0")), 101);
    }

    void v1WhenVsnMissing()
    {
        auto client = connectClient(u"echo"_s, QString());
        QVERIFY(client);
        client->sendText(R"({"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"})");
        const auto frame = client->waitFor([](const ReceivedFrame &) { return true; });
        QVERIFY(frame);
        QCOMPARE(frame->json, parse(R"({"event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"1",)"
                                    R"("topic":"phoenix"})"));
        QVERIFY(!frame->json.toObject().contains(u"join_ref"_s));
    }

    void v1JoinPushLeaveShapes()
    {
        auto client = connectClient(u"echo"_s, u"vsn=1.0.0"_s);
        QVERIFY(client);
        client->sendText(R"({"topic":"room:1","event":"phx_join","payload":{},"ref":"1"})");
        QVERIFY(client->waitFor([](const ReceivedFrame &f) { return f.json.toObject().value(u"ref"_s) == u"1"_s; }));
        client->sendText(R"({"topic":"room:1","event":"ping","payload":{"n":1},"ref":"2"})");
        const auto reply =
            client->waitFor([](const ReceivedFrame &f) { return f.json.toObject().value(u"ref"_s) == u"2"_s; });
        QVERIFY(reply);
        QCOMPARE(reply->json, parse(R"({"topic":"room:1","event":"phx_reply","ref":"2",)"
                                    R"("payload":{"status":"ok","response":{"n":1}}})"));
        client->sendText(R"({"topic":"room:1","event":"phx_leave","payload":{},"ref":"3"})");
        const auto close = client->waitFor(
            [](const ReceivedFrame &f) { return f.json.toObject().value(u"event"_s) == u"phx_close"_s; });
        QVERIFY(close);
        // V1 puts the join reference in `ref` and never sends join_ref.
        QCOMPARE(close->json, parse(R"({"topic":"room:1","event":"phx_close","ref":"1","payload":{}})"));
    }

    void malformedV1FrameCloses()
    {
        auto client = connectClient(u"echo"_s, u"vsn=1.0.0"_s);
        QVERIFY(client);
        client->sendText(R"({"topic":"room:1","event":"phx_join","payload":{}})"); // no "ref" key
        QVERIFY(client->waitForDisconnected());
        QCOMPARE(client->closeCode(), 1007);
    }

    void heartbeatEchoesRefType_data()
    {
        QTest::addColumn<QByteArray>("frame");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("string ref") << QByteArray(R"([null,"4","phoenix","heartbeat",{}])")
                                    << QByteArray(R"([null,"4","phoenix","phx_reply",{"status":"ok","response":{}}])");
        QTest::newRow("number ref") << QByteArray(R"([null,4,"phoenix","heartbeat",{}])")
                                    << QByteArray(R"([null,4,"phoenix","phx_reply",{"status":"ok","response":{}}])");
    }
    void heartbeatEchoesRefType()
    {
        QFETCH(QByteArray, frame);
        QFETCH(QByteArray, expected);
        auto client = connectClient(u"echo"_s);
        QVERIFY(client);
        client->sendText(frame);
        const auto reply = client->waitFor([](const ReceivedFrame &) { return true; });
        QVERIFY(reply);
        QCOMPARE(reply->json, parse(expected));
    }

    void joinPushReplyAndParams()
    {
        // Matrix rows 1, 6, 9 and 25 (token): params decoded, token exposed, reply shapes exact.
        auto client = std::make_unique<PhoenixTestClient>();
        QVERIFY(client->open(m_server->url(u"probe"_s, u"token=a%20b&user%5Bid%5D=5&vsn=2.0.0"_s), 10000,
                             {u"phoenix"_s, u"base64url.bearer.phx.c2VjcmV0LXRva2Vu"_s}));
        QCOMPARE(client->socket().subprotocol(), u"phoenix"_s);
        client->sendV2(u"3"_s, u"3"_s, u"room:1"_s, u"phx_join"_s, QJsonObject{{u"u"_s, u"x"_s}});
        const auto joined = client->waitForReply(u"room:1"_s, u"3"_s);
        QVERIFY(joined);
        QCOMPARE(joined->json, parse(R"(["3","3","room:1","phx_reply",{"status":"ok","response":{)"
                                     R"("params":{"token":"a b","user":{"id":"5"},"vsn":"2.0.0"},)"
                                     R"("token":"secret-token","join_params":{"u":"x"}}}])"));
        client->sendV2(u"3"_s, u"5"_s, u"room:1"_s, u"ping"_s, QJsonObject{{u"n"_s, 1}});
        const auto reply = client->waitForReply(u"room:1"_s, u"5"_s);
        QVERIFY(reply);
        QCOMPARE(reply->json, parse(R"(["3","5","room:1","phx_reply",{"status":"ok","response":{"n":1}}])"));
    }

    void joinRefusedAndUnmatchedTopic()
    {
        auto client = connectClient(u"probe"_s);
        QVERIFY(client);
        client->sendV2(u"3"_s, u"3"_s, u"private:x"_s, u"phx_join"_s, QJsonObject{});
        const auto refused = client->waitForReply(u"private:x"_s, u"3"_s);
        QVERIFY(refused);
        QCOMPARE(refused->json,
                 parse(R"(["3","3","private:x","phx_reply",{"status":"error","response":{"reason":"unauthorized"}}])"));

        auto game = connectClient(u"ttt"_s);
        QVERIFY(game);
        game->sendV2(u"3"_s, u"3"_s, u"nope:1"_s, u"phx_join"_s, QJsonObject{});
        const auto unmatched = game->waitForReply(u"nope:1"_s, u"3"_s);
        QVERIFY(unmatched);
        QCOMPARE(unmatched->json, parse(R"([null,"3","nope:1","phx_reply",)"
                                        R"({"status":"error","response":{"reason":"unmatched topic"}}])"));
    }

    void joinWithNullJoinRefUsesRef()
    {
        auto client = connectClient(u"echo"_s);
        QVERIFY(client);
        client->sendV2(QJsonValue::Null, u"7"_s, u"room:1"_s, u"phx_join"_s, QJsonObject{});
        const auto joined = client->waitForReply(u"room:1"_s, u"7"_s);
        QVERIFY(joined);
        QCOMPARE(joined->joinRef(), QJsonValue(QJsonValue::Null)); // echoed as sent
        client->sendV2(QJsonValue::Null, u"8"_s, u"room:1"_s, u"phx_leave"_s, QJsonObject{});
        const auto close = client->waitFor([](const ReceivedFrame &f) { return f.event() == u"phx_close"; });
        QVERIFY(close);
        QCOMPARE(close->json, parse(R"(["7","7","room:1","phx_close",{}])"));
    }

    void pushWithoutReplySendsNothing()
    {
        auto client = connectClient(u"probe"_s);
        QVERIFY(client);
        client->join(u"room:1"_s);
        QVERIFY(client->waitForReply(u"room:1"_s, u"1"_s));
        client->sendV2(u"1"_s, u"2"_s, u"room:1"_s, u"silent"_s, QJsonObject{});
        client->sendV2(u"1"_s, u"3"_s, u"room:1"_s, u"ping"_s, QJsonObject{});
        QVERIFY(client->waitForReply(u"room:1"_s, u"3"_s));
        // Frames are processed in order, so the silent push has been handled by now.
        QVERIFY(!client->waitForReply(u"room:1"_s, u"2"_s, 0));
    }

    void pushToUnjoinedTopic()
    {
        auto client = connectClient(u"echo"_s);
        QVERIFY(client);
        client->sendV2(QJsonValue::Null, u"6"_s, u"room:2"_s, u"ping"_s, QJsonObject{});
        const auto reply = client->waitForReply(u"room:2"_s, u"6"_s);
        QVERIFY(reply);
        QCOMPARE(reply->json, parse(R"([null,"6","room:2","phx_reply",)"
                                    R"({"status":"error","response":{"reason":"unmatched topic"}}])"));
    }

    void staleJoinRefDropped()
    {
        auto client = connectClient(u"echo"_s);
        QVERIFY(client);
        client->sendV2(u"3"_s, u"3"_s, u"room:1"_s, u"phx_join"_s, QJsonObject{});
        QVERIFY(client->waitForReply(u"room:1"_s, u"3"_s));
        client->sendV2(u"7"_s, u"7"_s, u"room:1"_s, u"phx_join"_s, QJsonObject{});
        QVERIFY(client->waitForReply(u"room:1"_s, u"7"_s));
        client->sendV2(u"3"_s, u"8"_s, u"room:1"_s, u"ping"_s, QJsonObject{}); // stale
        client->sendV2(u"7"_s, u"9"_s, u"room:1"_s, u"ping"_s, QJsonObject{});
        QVERIFY(client->waitForReply(u"room:1"_s, u"9"_s));
        QVERIFY(!client->waitForReply(u"room:1"_s, u"8"_s, 0));
    }

    void duplicateJoinClosesOldAfterNewReply()
    {
        auto client = connectClient(u"chat"_s);
        QVERIFY(client);
        client->sendV2(u"3"_s, u"3"_s, u"room:1"_s, u"phx_join"_s, QJsonObject{});
        QVERIFY(client->waitForReply(u"room:1"_s, u"3"_s));
        client->clearFrames();
        client->sendV2(u"7"_s, u"7"_s, u"room:1"_s, u"phx_join"_s, QJsonObject{});
        QVERIFY(client->waitFor([](const ReceivedFrame &f) { return f.event() == u"phx_close"; }));
        QList<QByteArray> order;
        for (const ReceivedFrame &frame : client->frames()) {
            if (frame.event() == u"phx_reply" || frame.event() == u"phx_close") {
                order.append(frame.raw);
            }
        }
        QCOMPARE(order.size(), 2);
        // Client ids are unique for the process lifetime: whatever this one got, the reply names it.
        const QString id = parse(order.at(0))[4]["response"_L1]["client_id"_L1].toString();
        QVERIFY(id.toULongLong() > 0);
        QCOMPARE(parse(order.at(0)), parse(QStringLiteral(R"(["7","7","room:1","phx_reply",{"status":"ok","response":)"
                                                          R"({"client_id":"%1","name":"client-%1"}}])")
                                               .arg(id)
                                               .toUtf8()));
        QCOMPARE(parse(order.at(1)), parse(R"(["3","3","room:1","phx_close",{}])"));
        // Exactly one channel remains: a broadcast arrives once, tagged for nobody (fastlane).
        client->clearFrames();
        client->sendV2(u"7"_s, u"8"_s, u"room:1"_s, u"shout"_s, QJsonObject{{u"a"_s, 1}});
        QVERIFY(client->waitForReply(u"room:1"_s, u"8"_s));
        int shouts = 0;
        for (const ReceivedFrame &frame : client->frames()) {
            shouts += frame.event() == u"shout" ? 1 : 0;
        }
        QCOMPARE(shouts, 1);
    }

    void broadcastAndBroadcastFrom()
    {
        auto a = connectClient(u"chat"_s);
        auto b = connectClient(u"chat"_s, u"vsn=1.0.0"_s);
        QVERIFY(a && b);
        a->join(u"room:1"_s, QJsonObject{{u"name"_s, u"a"_s}});
        QVERIFY(a->waitForReply(u"room:1"_s, u"1"_s));
        b->sendText(R"({"topic":"room:1","event":"phx_join","payload":{"name":"b"},"ref":"1"})");
        QVERIFY(
            b->waitFor([](const ReceivedFrame &f) { return f.json.toObject().value(u"event"_s) == u"phx_reply"_s; }));
        a->sendV2(u"1"_s, u"2"_s, u"room:1"_s, u"shout"_s, QJsonObject{{u"body"_s, u"hi"_s}});
        const auto atA = a->waitFor([](const ReceivedFrame &f) { return f.event() == u"shout"; });
        const auto atB =
            b->waitFor([](const ReceivedFrame &f) { return f.json.toObject().value(u"event"_s) == u"shout"_s; });
        QVERIFY(atA && atB);
        QCOMPARE(atA->json, parse(R"([null,null,"room:1","shout",{"body":"hi"}])"));
        QCOMPARE(atB->json, parse(R"({"topic":"room:1","event":"shout","ref":null,"payload":{"body":"hi"}})"));

        // relay = broadcast_from: the sender gets only its ok reply.
        auto c = connectClient(u"relay"_s);
        auto d = connectClient(u"relay"_s);
        QVERIFY(c && d);
        c->join(u"room:1"_s);
        d->join(u"room:1"_s);
        QVERIFY(c->waitForReply(u"room:1"_s, u"1"_s) && d->waitForReply(u"room:1"_s, u"1"_s));
        c->sendV2(u"1"_s, u"2"_s, u"room:1"_s, u"move"_s, QJsonObject{{u"x"_s, 1}});
        QVERIFY(d->waitFor([](const ReceivedFrame &f) { return f.event() == u"move"; }));
        d->sendV2(u"1"_s, u"2"_s, u"room:1"_s, u"ping"_s, QJsonObject{});
        QVERIFY(d->waitForReply(u"room:1"_s, u"2"_s));
        QVERIFY(c->waitForReply(u"room:1"_s, u"2"_s));
        QVERIFY(!c->waitFor([](const ReceivedFrame &f) { return f.event() == u"move"; }, 0));
    }

    void leaveRepliesThenCloses()
    {
        auto client = connectClient(u"echo"_s);
        QVERIFY(client);
        client->sendV2(u"3"_s, u"3"_s, u"room:1"_s, u"phx_join"_s, QJsonObject{});
        QVERIFY(client->waitForReply(u"room:1"_s, u"3"_s));
        client->clearFrames();
        client->sendV2(u"3"_s, u"9"_s, u"room:1"_s, u"phx_leave"_s, QJsonObject{});
        QVERIFY(client->waitFor([](const ReceivedFrame &f) { return f.event() == u"phx_close"; }));
        QCOMPARE(client->frames().size(), 2);
        QCOMPARE(client->frames().at(0).json, parse(R"(["3","9","room:1","phx_reply",{"status":"ok","response":{}}])"));
        QCOMPARE(client->frames().at(1).json, parse(R"(["3","3","room:1","phx_close",{}])"));
        client->clearFrames();
        client->sendV2(u"9"_s, u"10"_s, u"room:9"_s, u"phx_leave"_s, QJsonObject{});
        const auto reply = client->waitForReply(u"room:9"_s, u"10"_s);
        QVERIFY(reply);
        QCOMPARE(reply->json, parse(R"(["9","10","room:9","phx_reply",{"status":"ok","response":{}}])"));
        // No close follows a leave of something not joined.
        client->sendV2(QJsonValue::Null, u"11"_s, u"phoenix"_s, u"heartbeat"_s, QJsonObject{});
        QVERIFY(client->waitForReply(u"phoenix"_s, u"11"_s));
        QCOMPARE(client->frames().size(), 2);
    }

    void serverStopsChannel()
    {
        auto client = connectClient(u"chaos"_s);
        QVERIFY(client);
        client->sendV2(u"3"_s, u"3"_s, u"room:1"_s, u"phx_join"_s, QJsonObject{});
        QVERIFY(client->waitForReply(u"room:1"_s, u"3"_s));
        client->sendV2(u"3"_s, u"4"_s, u"room:1"_s, u"stop"_s, QJsonObject{});
        const auto close = client->waitFor([](const ReceivedFrame &f) { return f.event() == u"phx_close"; });
        QVERIFY(close);
        QCOMPARE(close->json, parse(R"(["3","3","room:1","phx_close",{}])"));
        client->sendV2(u"3"_s, u"5"_s, u"room:1"_s, u"ping"_s, QJsonObject{});
        const auto after = client->waitForReply(u"room:1"_s, u"5"_s);
        QVERIFY(after);
        QCOMPARE(after->payload().toObject().value(u"response"_s).toObject().value(u"reason"_s), u"unmatched topic"_s);
    }

    void binaryPushReplyAndBroadcast()
    {
        auto client = connectClient(u"echo"_s);
        QVERIFY(client);
        client->sendV2(u"3"_s, u"3"_s, u"room:lobby"_s, u"phx_join"_s, QJsonObject{});
        QVERIFY(client->waitForReply(u"room:lobby"_s, u"3"_s));
        // The exact frame JS 1.8.16 sends for channel.push("bin", Uint8Array [1,2,3]) (protocol 3).
        client->sendBinary(QByteArray::fromHex("0001010a033336726f6f6d3a6c6f62627962696e010203"));
        const auto reply = client->waitFor([](const ReceivedFrame &f) { return f.binary; });
        QVERIFY(reply);
        // kind 1 reply: join_ref "3", ref "6", topic, status "ok", payload 01 02 03.
        QCOMPARE(reply->raw.toHex(), QByteArray("010101"
                                                "0a02"
                                                "3336"
                                                "726f6f6d3a6c6f626279"
                                                "6f6b"
                                                "010203"));

        auto probe = connectClient(u"probe"_s);
        QVERIFY(probe);
        probe->sendV2(u"3"_s, u"3"_s, u"r"_s, u"phx_join"_s, QJsonObject{});
        QVERIFY(probe->waitForReply(u"r"_s, u"3"_s));
        probe->sendV2(u"3"_s, u"4"_s, u"r"_s, u"push_binary"_s, QJsonObject{});
        const auto pushed = probe->waitFor([](const ReceivedFrame &f) { return f.binary; });
        QVERIFY(pushed);
        QCOMPARE(pushed->raw.toHex(), QByteArray("00"
                                                 "01"
                                                 "01"
                                                 "05"
                                                 "33"
                                                 "72"
                                                 "6279746573"
                                                 "0909")); // kind 0

        auto a = connectClient(u"relay"_s);
        auto b = connectClient(u"relay"_s);
        QVERIFY(a && b);
        a->join(u"g"_s);
        b->join(u"g"_s);
        QVERIFY(a->waitForReply(u"g"_s, u"1"_s) && b->waitForReply(u"g"_s, u"1"_s));
        QString error;
        const Frame frame = codec::encodeClientMessage(
            WireFormat::V2Json,
            Message{u"1"_s, u"2"_s, u"g"_s, u"pos"_s, Payload::fromBinary(QByteArray("\x09\x09", 2))}, &error);
        a->sendBinary(frame.data);
        const auto relayed = b->waitFor([](const ReceivedFrame &f) { return f.binary; });
        QVERIFY(relayed);
        QCOMPARE(relayed->raw.toHex(), QByteArray("02"
                                                  "01"
                                                  "03"
                                                  "67"
                                                  "706f73"
                                                  "0909")); // kind 2
    }

    void malformedFramesCloseOnlyThatConnection_data()
    {
        QTest::addColumn<bool>("binary");
        QTest::addColumn<QByteArray>("frame");
        QTest::addColumn<int>("code");
        QTest::newRow("bad json") << false << QByteArray("[\"1\",") << 1007;
        QTest::newRow("wrong arity") << false << QByteArray(R"(["1","1","room:1"])") << 1007;
        QTest::newRow("object on V2") << false << QByteArray(R"({"topic":"x"})") << 1007;
        QTest::newRow("binary kind 1") << true << QByteArray::fromHex("0101010101") << 1003;
        QTest::newRow("binary lengths too long") << true << QByteArray::fromHex("00ffffffff41") << 1007;
    }
    void malformedFramesCloseOnlyThatConnection()
    {
        QFETCH(bool, binary);
        QFETCH(QByteArray, frame);
        QFETCH(int, code);
        auto bystander = connectClient(u"echo"_s);
        auto bad = connectClient(u"echo"_s);
        QVERIFY(bystander && bad);
        if (binary) {
            bad->sendBinary(frame);
        } else {
            bad->sendText(frame);
        }
        QVERIFY(bad->waitForDisconnected());
        QCOMPARE(bad->closeCode(), code);
        bystander->sendV2(QJsonValue::Null, u"1"_s, u"phoenix"_s, u"heartbeat"_s, QJsonObject{});
        QVERIFY(bystander->waitForReply(u"phoenix"_s, u"1"_s));
    }

    void channelLimit()
    {
        auto client = connectClient(u"echo"_s);
        QVERIFY(client);
        for (int i = 0; i < 100; ++i) {
            client->join(u"t:%1"_s.arg(i));
        }
        QVERIFY(client->waitForReply(u"t:99"_s, u"100"_s));
        const QString ref = client->join(u"t:100"_s);
        const auto refused = client->waitForReply(u"t:100"_s, ref);
        QVERIFY(refused);
        QCOMPARE(refused->payload().toObject(),
                 parse(R"({"status":"error","response":{"reason":"too many channels joined"}})").toObject());
        // Rejoining an existing topic is a duplicate join, not a new channel: allowed.
        const QString again = client->join(u"t:5"_s);
        const auto ok = client->waitForReply(u"t:5"_s, again);
        QVERIFY(ok);
        QCOMPARE(ok->payload().toObject().value(u"status"_s), u"ok"_s);
    }

    void frameSizeCapAndIdleTimeout()
    {
        QVERIFY(
            m_server->addInstance(u"small"_s, u"echo"_s, {{u"max_frame_bytes"_s, 1024}, {u"idle_timeout_ms"_s, 1000}}));
        auto big = connectClient(u"small"_s);
        QVERIFY(big);
        big->sendText("[null,\"1\",\"phoenix\",\"heartbeat\",{\"pad\":\"" + QByteArray(2000, 'x') + "\"}]");
        QVERIFY(big->waitForDisconnected());
        QCOMPARE(big->closeCode(), 1009);

        auto idle = connectClient(u"small"_s);
        QVERIFY(idle);
        QVERIFY(idle->waitForDisconnected(10000));
        QCOMPARE(idle->closeCode(), 1001);
        QCOMPARE(idle->closeReason(), u"idle timeout"_s);
    }

    void answersWebSocketPing()
    {
        auto client = connectClient(u"echo"_s);
        QVERIFY(client);
        QSignalSpy pong(&client->socket(), &QWebSocket::pong);
        client->socket().ping("are you there");
        QVERIFY(pong.wait(10000));
        QCOMPARE(pong.first().at(1).toByteArray(), QByteArray("are you there"));
    }

    void maxClientsAnswers503()
    {
        QVERIFY(m_server->addInstance(u"tiny"_s, u"echo"_s, {{u"max_clients"_s, 1}}));
        auto first = connectClient(u"tiny"_s);
        QVERIFY(first);
        QCOMPARE(httpStatus(m_server->port(), upgradeHead("/socket/tiny/websocket?vsn=2.0.0")), 503);
        first->sendV2(QJsonValue::Null, u"1"_s, u"phoenix"_s, u"heartbeat"_s, QJsonObject{});
        QVERIFY(first->waitForReply(u"phoenix"_s, u"1"_s));
    }

    void presenceStateAndDiffs()
    {
        auto a = connectClient(u"chat"_s);
        auto b = connectClient(u"chat"_s);
        QVERIFY(a && b);
        a->join(u"room:p"_s, QJsonObject{{u"name"_s, u"alice"_s}});
        const auto stateA = a->waitFor([](const ReceivedFrame &f) { return f.event() == u"presence_state"; });
        QVERIFY(stateA);
        QCOMPARE(stateA->joinRef(), QJsonValue(u"1"_s)); // a push carries the channel's join_ref
        QCOMPARE(stateA->ref(), QJsonValue(QJsonValue::Null));
        QCOMPARE(stateA->payload().toObject().keys(), QStringList{u"alice"_s});
        a->clearFrames();
        b->join(u"room:p"_s, QJsonObject{{u"name"_s, u"bob"_s}});
        const auto stateB = b->waitFor([](const ReceivedFrame &f) { return f.event() == u"presence_state"; });
        QVERIFY(stateB);
        QCOMPARE(stateB->payload().toObject().keys(), (QStringList{u"alice"_s, u"bob"_s}));
        const auto joinDiff = a->waitFor([](const ReceivedFrame &f) { return f.event() == u"presence_diff"; });
        QVERIFY(joinDiff);
        QCOMPARE(joinDiff->joinRef(), QJsonValue(QJsonValue::Null)); // broadcast
        const QJsonObject joins = joinDiff->payload().toObject().value(u"joins"_s).toObject();
        QCOMPARE(joins.keys(), QStringList{u"bob"_s});
        const QString bobRef = joins.value(u"bob"_s)
                                   .toObject()
                                   .value(u"metas"_s)
                                   .toArray()
                                   .at(0)
                                   .toObject()
                                   .value(u"phx_ref"_s)
                                   .toString();
        QVERIFY(!bobRef.isEmpty());
        a->clearFrames();
        b->sendV2(u"1"_s, u"2"_s, u"room:p"_s, u"presence_update"_s, QJsonObject{{u"status"_s, u"away"_s}});
        const auto update = a->waitFor([](const ReceivedFrame &f) { return f.event() == u"presence_diff"; });
        QVERIFY(update);
        const QJsonObject newMeta = update->payload()["joins"_L1]["bob"_L1]["metas"_L1][0].toObject();
        QCOMPARE(newMeta.value(u"status"_s), u"away"_s);
        QCOMPARE(newMeta.value(u"phx_ref_prev"_s), bobRef);
        QCOMPARE(update->payload()["leaves"_L1]["bob"_L1]["metas"_L1][0]["phx_ref"_L1].toString(), bobRef);
        a->clearFrames();
        b->socket().close();
        const auto leave = a->waitFor([](const ReceivedFrame &f) { return f.event() == u"presence_diff"; });
        QVERIFY(leave);
        QCOMPARE(leave->payload()["leaves"_L1].toObject().keys(), QStringList{u"bob"_s});
        QVERIFY(leave->payload()["joins"_L1].toObject().isEmpty());
    }

    void tictactoeValidatesMoves()
    {
        auto x = connectClient(u"ttt"_s);
        auto o = connectClient(u"ttt"_s);
        auto watcher = connectClient(u"ttt"_s);
        QVERIFY(x && o && watcher);
        x->join(u"game:1"_s);
        const auto xJoin = x->waitForReply(u"game:1"_s, u"1"_s);
        QVERIFY(xJoin);
        QCOMPARE(xJoin->payload()["response"_L1]["role"_L1].toString(), u"X"_s);
        o->join(u"game:1"_s);
        const auto oJoin = o->waitForReply(u"game:1"_s, u"1"_s);
        QVERIFY(oJoin);
        QCOMPARE(oJoin->payload()["response"_L1]["role"_L1].toString(), u"O"_s);
        watcher->join(u"game:1"_s);
        const auto wJoin = watcher->waitForReply(u"game:1"_s, u"1"_s);
        QVERIFY(wJoin);
        QCOMPARE(wJoin->payload()["response"_L1]["role"_L1].toString(), u"spectator"_s);

        const auto move = [](PhoenixTestClient &client, int cell) {
            const QString ref = client.nextRef();
            client.sendV2(u"1"_s, ref, u"game:1"_s, u"move"_s, QJsonObject{{u"cell"_s, cell}});
            const auto reply = client.waitForReply(u"game:1"_s, ref);
            return reply ? reply->payload().toObject() : QJsonObject{};
        };
        QCOMPARE(move(*o, 0)["response"_L1]["reason"_L1].toString(), u"not your turn"_s);
        QCOMPARE(move(*x, 0)["status"_L1].toString(), u"ok"_s);
        QCOMPARE(move(*o, 0)["response"_L1]["reason"_L1].toString(), u"cell 0 is taken"_s);
        QCOMPARE(move(*o, 9)["response"_L1]["reason"_L1].toString(), u"cell must be a whole number from 0 to 8"_s);
        QCOMPARE(move(*watcher, 4)["response"_L1]["reason"_L1].toString(), u"spectators cannot move"_s);
        QCOMPARE(move(*o, 3)["status"_L1].toString(), u"ok"_s);
        QCOMPARE(move(*x, 1)["status"_L1].toString(), u"ok"_s);
        QCOMPARE(move(*o, 4)["status"_L1].toString(), u"ok"_s);
        QCOMPARE(move(*x, 2)["status"_L1].toString(), u"ok"_s);
        const auto won = watcher->waitFor([](const ReceivedFrame &f) {
            return f.event() == u"state" && f.payload()["winner"_L1].toString() == u"X";
        });
        QVERIFY(won);
        QCOMPARE(move(*o, 8)["response"_L1]["reason"_L1].toString(), u"game over"_s);
    }
};

QTEST_GUILESS_MAIN(tst_ProtocolIntegration)
#include "tst_protocol_integration.moc"
