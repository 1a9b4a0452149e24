// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for the Phoenix wire codec (phoenix-protocol.md sections 2 and 3): the S->C null-rule table
// for V2 and V1, ref type preservation, text and binary decoding with their close codes, byte-exact
// binary encoding and client-message round trips. Every expected frame is written out by hand.

#include "protocol/codec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(wsserve::WireFormat)

namespace {

// Parses JSON text that the test itself wrote; a broken expectation fails loudly instead of comparing nulls.
QJsonDocument parseJson(const QByteArray &text, bool *ok)
{
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(text, &error);
    *ok = error.error == QJsonParseError::NoError && !document.isNull();
    return document;
}

QByteArray hex(const char *spaced)
{
    return QByteArray::fromHex(QByteArray(spaced));
}

} // namespace

// Compares a frame's JSON text with hand-written JSON (key order is not significant, JSON types are).
#define COMPARE_JSON(actualBytes, expectedBytes)                                                                       \
    do {                                                                                                               \
        bool expectedOk = false;                                                                                       \
        bool actualOk = false;                                                                                         \
        const QJsonDocument expectedDoc = parseJson((expectedBytes), &expectedOk);                                     \
        const QJsonDocument actualDoc = parseJson((actualBytes), &actualOk);                                           \
        QVERIFY2(expectedOk, "the test's expected JSON does not parse");                                               \
        QVERIFY2(actualOk, QByteArray("output is not valid JSON: " + QByteArray(actualBytes)).constData());            \
        QVERIFY2(actualDoc == expectedDoc,                                                                             \
                 QByteArray("actual:   " + QByteArray(actualBytes) + "\nexpected: " + QByteArray(expectedBytes))       \
                     .constData());                                                                                    \
    } while (false)

class tst_Codec : public QObject
{
    Q_OBJECT

private slots:
    void encodeServerTextFrames_data();
    void encodeServerTextFrames();
    void refsEchoedWithSameType_data();
    void refsEchoedWithSameType();

    void decodeV2_data();
    void decodeV2();
    void decodeV1_data();
    void decodeV1();
    void decodeInvalidJsonMentionsOffset_data();
    void decodeInvalidJsonMentionsOffset();

    void decodeBinary_data();
    void decodeBinary();

    void encodeBinary_data();
    void encodeBinary();
    void binaryHeaderFieldLimit_data();
    void binaryHeaderFieldLimit();
    void binaryPayloadToV1IsRefused_data();
    void binaryPayloadToV1IsRefused();

    void clientMessageRoundTrip_data();
    void clientMessageRoundTrip();
};

// ---------------------------------------------------------------------------------------------------------------
// S->C text frames: every row of the null-rule table (protocol 2.1) and its V1 equivalent (2.2).

void tst_Codec::encodeServerTextFrames_data()
{
    QTest::addColumn<WireFormat>("format");
    QTest::addColumn<QString>("op"); // reply | push | broadcast | control
    QTest::addColumn<QJsonValue>("joinRef");
    QTest::addColumn<QJsonValue>("ref");
    QTest::addColumn<QString>("topic");
    QTest::addColumn<QString>("name"); // event, or the status for replies
    QTest::addColumn<QJsonValue>("payload");
    QTest::addColumn<QByteArray>("expected");

    const QJsonValue null(QJsonValue::Null);
    const QJsonObject empty;
    const QJsonObject presence{{u"u1"_s, QJsonObject{{u"metas"_s, QJsonArray{QJsonObject{{u"phx_ref"_s, u"F0"_s}}}}}}};
    const QJsonObject body{{u"body"_s, u"hi"_s}};
    const auto V2 = WireFormat::V2Json;
    const auto V1 = WireFormat::V1Json;

    // --- V2 ---
    QTest::newRow("v2 reply to channel message")
        << V2 << u"reply"_s << QJsonValue(u"3"_s) << QJsonValue(u"5"_s) << u"room:1"_s << u"ok"_s << QJsonValue(empty)
        << QByteArray(R"(["3","5","room:1","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 reply with response")
        << V2 << u"reply"_s << QJsonValue(u"3"_s) << QJsonValue(u"5"_s) << u"room:1"_s << u"ok"_s << QJsonValue(body)
        << QByteArray(R"(["3","5","room:1","phx_reply",{"status":"ok","response":{"body":"hi"}}])");
    QTest::newRow("v2 join refused")
        << V2 << u"reply"_s << QJsonValue(u"3"_s) << QJsonValue(u"3"_s) << u"room:lobby"_s << u"error"_s
        << QJsonValue(QJsonObject{{u"reason"_s, u"unauthorized"_s}})
        << QByteArray(R"(["3","3","room:lobby","phx_reply",{"status":"error","response":{"reason":"unauthorized"}}])");
    QTest::newRow("v2 reply with null response -> {}")
        << V2 << u"reply"_s << QJsonValue(u"3"_s) << QJsonValue(u"5"_s) << u"room:1"_s << u"ok"_s << null
        << QByteArray(R"(["3","5","room:1","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 reply numeric refs")
        << V2 << u"reply"_s << QJsonValue(3) << QJsonValue(5) << u"room:1"_s << u"ok"_s << QJsonValue(empty)
        << QByteArray(R"([3,5,"room:1","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 reply string join_ref, numeric ref")
        << V2 << u"reply"_s << QJsonValue(u"3"_s) << QJsonValue(5) << u"room:1"_s << u"ok"_s << QJsonValue(empty)
        << QByteArray(R"(["3",5,"room:1","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 reply undefined join_ref -> null")
        << V2 << u"reply"_s << QJsonValue(QJsonValue::Undefined) << QJsonValue(u"5"_s) << u"room:1"_s << u"ok"_s
        << QJsonValue(empty) << QByteArray(R"([null,"5","room:1","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 heartbeat reply") << V2 << u"reply"_s << null << QJsonValue(u"4"_s) << u"phoenix"_s << u"ok"_s
                                        << QJsonValue(empty)
                                        << QByteArray(
                                               R"([null,"4","phoenix","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 unmatched topic reply")
        << V2 << u"reply"_s << null << QJsonValue(u"9"_s) << u"x:1"_s << u"error"_s
        << QJsonValue(QJsonObject{{u"reason"_s, u"unmatched topic"_s}})
        << QByteArray(R"([null,"9","x:1","phx_reply",{"status":"error","response":{"reason":"unmatched topic"}}])");
    QTest::newRow("v2 push") << V2 << u"push"_s << QJsonValue(u"3"_s) << null << u"room:1"_s << u"presence_state"_s
                             << QJsonValue(presence)
                             << QByteArray(
                                    R"(["3",null,"room:1","presence_state",{"u1":{"metas":[{"phx_ref":"F0"}]}}])");
    QTest::newRow("v2 push numeric join_ref") << V2 << u"push"_s << QJsonValue(3) << null << u"room:1"_s << u"tick"_s
                                              << QJsonValue(empty) << QByteArray(R"([3,null,"room:1","tick",{}])");
    QTest::newRow("v2 broadcast") << V2 << u"broadcast"_s << null << null << u"room:1"_s << u"new_msg"_s
                                  << QJsonValue(body) << QByteArray(R"([null,null,"room:1","new_msg",{"body":"hi"}])");
    QTest::newRow("v2 phx_close") << V2 << u"control"_s << QJsonValue(u"3"_s) << null << u"room:1"_s << u"phx_close"_s
                                  << QJsonValue(empty) << QByteArray(R"(["3","3","room:1","phx_close",{}])");
    QTest::newRow("v2 phx_error") << V2 << u"control"_s << QJsonValue(u"3"_s) << null << u"room:lobby"_s
                                  << u"phx_error"_s << QJsonValue(QJsonObject{{u"reason"_s, u"channel_crash"_s}})
                                  << QByteArray(R"(["3","3","room:lobby","phx_error",{"reason":"channel_crash"}])");
    QTest::newRow("v2 phx_close numeric join_ref")
        << V2 << u"control"_s << QJsonValue(7) << null << u"room:1"_s << u"phx_close"_s << QJsonValue(empty)
        << QByteArray(R"([7,7,"room:1","phx_close",{}])");

    // --- V1: never a join_ref key; close/error carry the join reference in `ref` ---
    QTest::newRow("v1 reply to channel message")
        << V1 << u"reply"_s << QJsonValue(u"3"_s) << QJsonValue(u"5"_s) << u"room:1"_s << u"ok"_s << QJsonValue(empty)
        << QByteArray(R"({"topic":"room:1","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"5"})");
    QTest::newRow("v1 reply with response")
        << V1 << u"reply"_s << QJsonValue(u"3"_s) << QJsonValue(u"1"_s) << u"t"_s << u"ok"_s << QJsonValue(body)
        << QByteArray(
               R"({"event":"phx_reply","payload":{"response":{"body":"hi"},"status":"ok"},"ref":"1","topic":"t"})");
    QTest::newRow("v1 reply numeric ref")
        << V1 << u"reply"_s << QJsonValue(3) << QJsonValue(5) << u"room:1"_s << u"ok"_s << QJsonValue(empty)
        << QByteArray(R"({"topic":"room:1","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":5})");
    QTest::newRow("v1 heartbeat reply")
        << V1 << u"reply"_s << null << QJsonValue(u"4"_s) << u"phoenix"_s << u"ok"_s << QJsonValue(empty)
        << QByteArray(R"({"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"4"})");
    QTest::newRow("v1 unmatched topic reply")
        << V1 << u"reply"_s << null << QJsonValue(u"9"_s) << u"x:1"_s << u"error"_s
        << QJsonValue(QJsonObject{{u"reason"_s, u"unmatched topic"_s}})
        << QByteArray(
               R"({"topic":"x:1","event":"phx_reply","payload":{"status":"error","response":{"reason":"unmatched topic"}},"ref":"9"})");
    QTest::newRow("v1 push")
        << V1 << u"push"_s << QJsonValue(u"3"_s) << null << u"room:1"_s << u"presence_state"_s << QJsonValue(presence)
        << QByteArray(
               R"({"topic":"room:1","event":"presence_state","payload":{"u1":{"metas":[{"phx_ref":"F0"}]}},"ref":null})");
    QTest::newRow("v1 broadcast") << V1 << u"broadcast"_s << null << null << u"room:1"_s << u"new_msg"_s
                                  << QJsonValue(body)
                                  << QByteArray(
                                         R"({"topic":"room:1","event":"new_msg","payload":{"body":"hi"},"ref":null})");
    QTest::newRow("v1 phx_close") << V1 << u"control"_s << QJsonValue(u"3"_s) << null << u"room:1"_s << u"phx_close"_s
                                  << QJsonValue(empty)
                                  << QByteArray(R"({"topic":"room:1","event":"phx_close","payload":{},"ref":"3"})");
    QTest::newRow("v1 phx_error")
        << V1 << u"control"_s << QJsonValue(u"3"_s) << null << u"room:lobby"_s << u"phx_error"_s
        << QJsonValue(QJsonObject{{u"reason"_s, u"channel_crash"_s}})
        << QByteArray(R"({"topic":"room:lobby","event":"phx_error","payload":{"reason":"channel_crash"},"ref":"3"})");
    QTest::newRow("v1 phx_close numeric join_ref")
        << V1 << u"control"_s << QJsonValue(7) << null << u"room:1"_s << u"phx_close"_s << QJsonValue(empty)
        << QByteArray(R"({"topic":"room:1","event":"phx_close","payload":{},"ref":7})");
}

void tst_Codec::encodeServerTextFrames()
{
    QFETCH(WireFormat, format);
    QFETCH(QString, op);
    QFETCH(QJsonValue, joinRef);
    QFETCH(QJsonValue, ref);
    QFETCH(QString, topic);
    QFETCH(QString, name);
    QFETCH(QJsonValue, payload);
    QFETCH(QByteArray, expected);

    QString error;
    Frame frame;
    if (op == u"reply") {
        frame = codec::encodeReply(format, joinRef, ref, topic, name, Payload::fromJson(payload), &error);
    } else if (op == u"push") {
        frame = codec::encodePush(format, joinRef, topic, name, Payload::fromJson(payload), &error);
    } else if (op == u"broadcast") {
        frame = codec::encodeBroadcast(format, topic, name, Payload::fromJson(payload), &error);
    } else if (op == u"control") {
        frame = codec::encodeChannelControl(format, joinRef, topic, name, payload.toObject());
    } else {
        QFAIL("unknown op in test data");
    }
    QVERIFY2(!frame.isNull(), qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(frame.binary, false);
    COMPARE_JSON(frame.data, expected);
}

// A reply echoes the decoded refs unchanged: "5" stays a string, 5 stays a number.
void tst_Codec::refsEchoedWithSameType_data()
{
    QTest::addColumn<WireFormat>("format");
    QTest::addColumn<QByteArray>("incoming");
    QTest::addColumn<QByteArray>("expectedReply");

    QTest::newRow("v2 string refs") << WireFormat::V2Json << QByteArray(R"(["3","5","room:1","ev",{}])")
                                    << QByteArray(R"(["3","5","room:1","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 number refs") << WireFormat::V2Json << QByteArray(R"([3,5,"room:1","ev",{}])")
                                    << QByteArray(R"([3,5,"room:1","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 mixed refs") << WireFormat::V2Json << QByteArray(R"([3,"5","room:1","ev",{}])")
                                   << QByteArray(R"([3,"5","room:1","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 large number ref")
        << WireFormat::V2Json << QByteArray(R"([null,12345678901,"phoenix","heartbeat",{}])")
        << QByteArray(R"([null,12345678901,"phoenix","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v2 heartbeat") << WireFormat::V2Json << QByteArray(R"([null,"4","phoenix","heartbeat",{}])")
                                  << QByteArray(R"([null,"4","phoenix","phx_reply",{"status":"ok","response":{}}])");
    QTest::newRow("v1 string ref")
        << WireFormat::V1Json << QByteArray(R"({"topic":"t","event":"e","payload":{},"ref":"5"})")
        << QByteArray(R"({"topic":"t","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"5"})");
    QTest::newRow("v1 number ref")
        << WireFormat::V1Json << QByteArray(R"({"topic":"t","event":"e","payload":{},"ref":5})")
        << QByteArray(R"({"topic":"t","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":5})");
}

void tst_Codec::refsEchoedWithSameType()
{
    QFETCH(WireFormat, format);
    QFETCH(QByteArray, incoming);
    QFETCH(QByteArray, expectedReply);

    const DecodeResult decoded = codec::decodeText(format, incoming);
    QVERIFY2(decoded.ok, qPrintable(decoded.error));
    const Frame reply = codec::encodeReply(format, decoded.message.joinRef, decoded.message.ref, decoded.message.topic,
                                           u"ok"_s, Payload::fromJson(QJsonObject{}));
    QCOMPARE(reply.binary, false);
    COMPARE_JSON(reply.data, expectedReply);
}

// ---------------------------------------------------------------------------------------------------------------
// Text decoding.

void tst_Codec::decodeV2_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("closeCode");
    QTest::addColumn<QJsonValue>("joinRef");
    QTest::addColumn<QJsonValue>("ref");
    QTest::addColumn<QString>("topic");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QJsonValue>("payload");

    const QJsonValue null(QJsonValue::Null);
    const QJsonValue none;
    QTest::newRow("message") << QByteArray(R"(["3","5","room:lobby","new_msg",{"body":"hi"}])") << true << 0
                             << QJsonValue(u"3"_s) << QJsonValue(u"5"_s) << u"room:lobby"_s << u"new_msg"_s
                             << QJsonValue(QJsonObject{{u"body"_s, u"hi"_s}});
    QTest::newRow("heartbeat, null join_ref")
        << QByteArray(R"([null,"4","phoenix","heartbeat",{}])") << true << 0 << null << QJsonValue(u"4"_s)
        << u"phoenix"_s << u"heartbeat"_s << QJsonValue(QJsonObject{});
    QTest::newRow("both refs null") << QByteArray(R"([null,null,"t","e",{}])") << true << 0 << null << null << u"t"_s
                                    << u"e"_s << QJsonValue(QJsonObject{});
    QTest::newRow("numeric refs") << QByteArray(R"([3,5,"t","e",{"n":1}])") << true << 0 << QJsonValue(3)
                                  << QJsonValue(5) << u"t"_s << u"e"_s << QJsonValue(QJsonObject{{u"n"_s, 1}});
    QTest::newRow("extra elements ignored")
        << QByteArray(R"(["1","2","t","e",{"a":true},"extra",7,null])") << true << 0 << QJsonValue(u"1"_s)
        << QJsonValue(u"2"_s) << u"t"_s << u"e"_s << QJsonValue(QJsonObject{{u"a"_s, true}});
    QTest::newRow("whitespace around") << QByteArray(" \n[ \"1\" , \"2\" , \"t\" , \"e\" , { } ]\n ") << true << 0
                                       << QJsonValue(u"1"_s) << QJsonValue(u"2"_s) << u"t"_s << u"e"_s
                                       << QJsonValue(QJsonObject{});
    QTest::newRow("4 elements") << QByteArray(R"(["1","2","t","e"])") << false << 1007 << none << none << QString()
                                << QString() << none;
    QTest::newRow("1 element") << QByteArray(R"(["1"])") << false << 1007 << none << none << QString() << QString()
                               << none;
    QTest::newRow("empty array") << QByteArray("[]") << false << 1007 << none << none << QString() << QString() << none;
    QTest::newRow("object (V1 shape)") << QByteArray(R"({"topic":"t","event":"e","payload":{},"ref":"1"})") << false
                                       << 1007 << none << none << QString() << QString() << none;
    QTest::newRow("topic not a string") << QByteArray(R"(["1","2",5,"e",{}])") << false << 1007 << none << none
                                        << QString() << QString() << none;
    QTest::newRow("topic null") << QByteArray(R"(["1","2",null,"e",{}])") << false << 1007 << none << none << QString()
                                << QString() << none;
    QTest::newRow("event not a string") << QByteArray(R"(["1","2","t",["e"],{}])") << false << 1007 << none << none
                                        << QString() << QString() << none;
    QTest::newRow("event null") << QByteArray(R"(["1","2","t",null,{}])") << false << 1007 << none << none << QString()
                                << QString() << none;
    QTest::newRow("empty frame") << QByteArray() << false << 1007 << none << none << QString() << QString() << none;
    QTest::newRow("truncated JSON") << QByteArray(R"(["1","2","t","e",{})") << false << 1007 << none << none
                                    << QString() << QString() << none;
}

void tst_Codec::decodeV2()
{
    QFETCH(QByteArray, input);
    QFETCH(bool, ok);
    QFETCH(int, closeCode);
    QFETCH(QJsonValue, joinRef);
    QFETCH(QJsonValue, ref);
    QFETCH(QString, topic);
    QFETCH(QString, event);
    QFETCH(QJsonValue, payload);

    const DecodeResult result = codec::decodeText(WireFormat::V2Json, input);
    QCOMPARE(result.ok, ok);
    QCOMPARE(int(result.closeCode), closeCode);
    if (!ok) {
        QVERIFY(!result.error.isEmpty());
        return;
    }
    QVERIFY(result.error.isEmpty());
    QCOMPARE(result.message.joinRef, joinRef);
    QCOMPARE(result.message.ref, ref);
    QCOMPARE(result.message.topic, topic);
    QCOMPARE(result.message.event, event);
    QCOMPARE(result.message.payload.isBinary, false);
    QCOMPARE(result.message.payload.json, payload);
}

void tst_Codec::decodeV1_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("closeCode");
    QTest::addColumn<QJsonValue>("joinRef");
    QTest::addColumn<QJsonValue>("ref");
    QTest::addColumn<QString>("topic");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QJsonValue>("payload");

    const QJsonValue null(QJsonValue::Null);
    const QJsonValue none;
    QTest::newRow("all keys")
        << QByteArray(R"({"topic":"room:1","event":"new_msg","payload":{"body":"hi"},"ref":"5","join_ref":"3"})")
        << true << 0 << QJsonValue(u"3"_s) << QJsonValue(u"5"_s) << u"room:1"_s << u"new_msg"_s
        << QJsonValue(QJsonObject{{u"body"_s, u"hi"_s}});
    QTest::newRow("join_ref absent -> null")
        << QByteArray(R"({"topic":"room:1","event":"phx_join","payload":{},"ref":"1"})") << true << 0 << null
        << QJsonValue(u"1"_s) << u"room:1"_s << u"phx_join"_s << QJsonValue(QJsonObject{});
    QTest::newRow("ref null") << QByteArray(R"({"topic":"phoenix","event":"heartbeat","payload":{},"ref":null})")
                              << true << 0 << null << null << u"phoenix"_s << u"heartbeat"_s
                              << QJsonValue(QJsonObject{});
    QTest::newRow("numeric ref") << QByteArray(R"({"topic":"t","event":"e","payload":{},"ref":7,"join_ref":6})") << true
                                 << 0 << QJsonValue(6) << QJsonValue(7) << u"t"_s << u"e"_s
                                 << QJsonValue(QJsonObject{});
    QTest::newRow("missing topic") << QByteArray(R"({"event":"e","payload":{},"ref":"1"})") << false << 1007 << none
                                   << none << QString() << QString() << none;
    QTest::newRow("missing event") << QByteArray(R"({"topic":"t","payload":{},"ref":"1"})") << false << 1007 << none
                                   << none << QString() << QString() << none;
    QTest::newRow("missing payload") << QByteArray(R"({"topic":"t","event":"e","ref":"1"})") << false << 1007 << none
                                     << none << QString() << QString() << none;
    QTest::newRow("missing ref") << QByteArray(R"({"topic":"t","event":"e","payload":{}})") << false << 1007 << none
                                 << none << QString() << QString() << none;
    QTest::newRow("missing ref, join_ref present")
        << QByteArray(R"({"topic":"t","event":"e","payload":{},"join_ref":"1"})") << false << 1007 << none << none
        << QString() << QString() << none;
    QTest::newRow("array (V2 shape)") << QByteArray(R"(["1","2","t","e",{}])") << false << 1007 << none << none
                                      << QString() << QString() << none;
    QTest::newRow("topic not a string") << QByteArray(R"({"topic":1,"event":"e","payload":{},"ref":"1"})") << false
                                        << 1007 << none << none << QString() << QString() << none;
    QTest::newRow("invalid JSON") << QByteArray(R"({"topic":"t",)") << false << 1007 << none << none << QString()
                                  << QString() << none;
}

void tst_Codec::decodeV1()
{
    // Same checks as decodeV2, in the V1 object format.
    QFETCH(QByteArray, input);
    QFETCH(bool, ok);
    QFETCH(int, closeCode);
    QFETCH(QJsonValue, joinRef);
    QFETCH(QJsonValue, ref);
    QFETCH(QString, topic);
    QFETCH(QString, event);
    QFETCH(QJsonValue, payload);

    const DecodeResult result = codec::decodeText(WireFormat::V1Json, input);
    QCOMPARE(result.ok, ok);
    QCOMPARE(int(result.closeCode), closeCode);
    if (!ok) {
        QVERIFY(!result.error.isEmpty());
        return;
    }
    QCOMPARE(result.message.joinRef, joinRef);
    QCOMPARE(result.message.ref, ref);
    QCOMPARE(result.message.topic, topic);
    QCOMPARE(result.message.event, event);
    QCOMPARE(result.message.payload.isBinary, false);
    QCOMPARE(result.message.payload.json, payload);
}

void tst_Codec::decodeInvalidJsonMentionsOffset_data()
{
    QTest::addColumn<WireFormat>("format");
    QTest::addColumn<QByteArray>("input");

    QTest::newRow("v2 unterminated array") << WireFormat::V2Json << QByteArray(R"(["3","5",)");
    QTest::newRow("v2 missing comma") << WireFormat::V2Json << QByteArray(R"(["3" "5","t","e",{}])");
    QTest::newRow("v2 garbage after value") << WireFormat::V2Json << QByteArray(R"(["3","5","t","e",{}] x)");
    QTest::newRow("v1 bad value") << WireFormat::V1Json << QByteArray(R"({"topic":})");
    QTest::newRow("v1 single quotes") << WireFormat::V1Json << QByteArray("{'topic':'t'}");
}

void tst_Codec::decodeInvalidJsonMentionsOffset()
{
    QFETCH(WireFormat, format);
    QFETCH(QByteArray, input);

    // Qt's own parser (not the code under test) tells where the error is.
    QJsonParseError reference{};
    QJsonDocument::fromJson(input, &reference);
    QVERIFY(reference.error != QJsonParseError::NoError);

    const DecodeResult result = codec::decodeText(format, input);
    QCOMPARE(result.ok, false);
    QCOMPARE(int(result.closeCode), 1007);
    QVERIFY2(result.error.contains(QString(u"offset " + QString::number(reference.offset))), qPrintable(result.error));
}

// ---------------------------------------------------------------------------------------------------------------
// Binary decoding (protocol 3).

void tst_Codec::decodeBinary_data()
{
    QTest::addColumn<WireFormat>("format");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("closeCode");
    QTest::addColumn<QJsonValue>("joinRef");
    QTest::addColumn<QJsonValue>("ref");
    QTest::addColumn<QString>("topic");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QByteArray>("payload");

    const QJsonValue none;
    const auto V2 = WireFormat::V2Json;
    // Observed from JS 1.8.16 (protocol 3): join_ref "3", ref "6", topic room:lobby, event bin, payload 01 02 03.
    const QByteArray spec = hex("00 01 01 0a 03 33 36 72 6f 6f 6d 3a 6c 6f 62 62 79 62 69 6e 01 02 03");
    QCOMPARE(spec.size(), 23);

    QTest::newRow("protocol example") << V2 << spec << true << 0 << QJsonValue(u"3"_s) << QJsonValue(u"6"_s)
                                      << u"room:lobby"_s << u"bin"_s << hex("01 02 03");
    QTest::newRow("empty payload") << V2 << hex("00 01 01 01 01 37 38 74 65") << true << 0 << QJsonValue(u"7"_s)
                                   << QJsonValue(u"8"_s) << u"t"_s << u"e"_s << QByteArray();
    QTest::newRow("payload with zero bytes and a multibyte topic")
        << V2 << hex("00 02 01 04 01 31 32 39 74 3a c3 a9 65 00 ff 00") << true << 0 << QJsonValue(u"12"_s)
        << QJsonValue(u"9"_s) << u"t:\u00e9"_s << u"e"_s << hex("00 ff 00");
    QTest::newRow("kind 1 (reply) from client") << V2 << hex("01 01 01 01 02 33 36 74 6f 6b 01") << false << 1003
                                                << none << none << QString() << QString() << QByteArray();
    QTest::newRow("kind 2 (broadcast) from client")
        << V2 << hex("02 01 01 74 65 01") << false << 1003 << none << none << QString() << QString() << QByteArray();
    QTest::newRow("kind byte only") << V2 << hex("00") << false << 1007 << none << none << QString() << QString()
                                    << QByteArray();
    QTest::newRow("header truncated after 3 bytes")
        << V2 << hex("00 01 01") << false << 1007 << none << none << QString() << QString() << QByteArray();
    QTest::newRow("header truncated after 4 bytes")
        << V2 << hex("00 01 01 0a") << false << 1007 << none << none << QString() << QString() << QByteArray();
    QTest::newRow("fields cut off") << V2 << spec.left(11) << false << 1007 << none << none << QString() << QString()
                                    << QByteArray();
    QTest::newRow("fields one byte short")
        << V2 << spec.left(19) << false << 1007 << none << none << QString() << QString() << QByteArray();
    QTest::newRow("lengths far beyond frame")
        << V2 << hex("00 ff ff ff ff 31") << false << 1007 << none << none << QString() << QString() << QByteArray();
    QTest::newRow("empty frame") << V2 << QByteArray() << false << 1007 << none << none << QString() << QString()
                                 << QByteArray();
    QTest::newRow("binary on V1") << WireFormat::V1Json << spec << false << 1003 << none << none << QString()
                                  << QString() << QByteArray();
}

void tst_Codec::decodeBinary()
{
    QFETCH(WireFormat, format);
    QFETCH(QByteArray, input);
    QFETCH(bool, ok);
    QFETCH(int, closeCode);
    QFETCH(QJsonValue, joinRef);
    QFETCH(QJsonValue, ref);
    QFETCH(QString, topic);
    QFETCH(QString, event);
    QFETCH(QByteArray, payload);

    const DecodeResult result = codec::decodeBinary(format, input);
    QCOMPARE(result.ok, ok);
    QCOMPARE(int(result.closeCode), closeCode);
    if (!ok) {
        QVERIFY(!result.error.isEmpty());
        return;
    }
    QCOMPARE(result.message.joinRef, joinRef);
    QCOMPARE(result.message.ref, ref);
    QCOMPARE(result.message.topic, topic);
    QCOMPARE(result.message.event, event);
    QCOMPARE(result.message.payload.isBinary, true);
    QCOMPARE(result.message.payload.bytes, payload);
}

// ---------------------------------------------------------------------------------------------------------------
// Binary encoding (S->C), byte-exact.

void tst_Codec::encodeBinary_data()
{
    QTest::addColumn<QString>("op"); // push | reply | broadcast
    QTest::addColumn<QJsonValue>("joinRef");
    QTest::addColumn<QJsonValue>("ref");
    QTest::addColumn<QString>("topic");
    QTest::addColumn<QString>("name"); // event, or status for replies
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QByteArray>("expected");

    const QJsonValue null(QJsonValue::Null);
    // push: [0][J][T][E] join_ref topic event payload (4-byte header, no ref)
    QTest::newRow("push") << u"push"_s << QJsonValue(u"3"_s) << null << u"room:1"_s << u"ev"_s << hex("01 02")
                          << hex("00 01 06 02 33 72 6f 6f 6d 3a 31 65 76 01 02");
    QTest::newRow("push null join_ref -> length 0") << u"push"_s << null << null << u"room:1"_s << u"ev"_s
                                                    << hex("01 02") << hex("00 00 06 02 72 6f 6f 6d 3a 31 65 76 01 02");
    QTest::newRow("push undefined join_ref -> length 0")
        << u"push"_s << QJsonValue(QJsonValue::Undefined) << null << u"t"_s << u"e"_s << hex("aa")
        << hex("00 00 01 01 74 65 aa");
    QTest::newRow("push numeric join_ref as decimal text")
        << u"push"_s << QJsonValue(12) << null << u"t"_s << u"e"_s << hex("aa") << hex("00 02 01 01 31 32 74 65 aa");
    QTest::newRow("push empty payload") << u"push"_s << QJsonValue(u"3"_s) << null << u"t"_s << u"e"_s << QByteArray()
                                        << hex("00 01 01 01 33 74 65");
    QTest::newRow("push multibyte topic counts bytes")
        << u"push"_s << QJsonValue(u"3"_s) << null << u"t:\u00e9"_s << u"e"_s << hex("00")
        << hex("00 01 04 01 33 74 3a c3 a9 65 00");
    // reply: [1][J][R][T][S] join_ref ref topic status payload (5-byte header)
    QTest::newRow("reply ok") << u"reply"_s << QJsonValue(u"3"_s) << QJsonValue(u"6"_s) << u"room:lobby"_s << u"ok"_s
                              << hex("0a 0b") << hex("01 01 01 0a 02 33 36 72 6f 6f 6d 3a 6c 6f 62 62 79 6f 6b 0a 0b");
    QTest::newRow("reply error, numeric refs") << u"reply"_s << QJsonValue(3) << QJsonValue(10) << u"t"_s << u"error"_s
                                               << hex("ff") << hex("01 01 02 01 05 33 31 30 74 65 72 72 6f 72 ff");
    QTest::newRow("reply null join_ref") << u"reply"_s << null << QJsonValue(u"4"_s) << u"t"_s << u"ok"_s
                                         << QByteArray() << hex("01 00 01 01 02 34 74 6f 6b");
    // broadcast: [2][T][E] topic event payload (3-byte header)
    QTest::newRow("broadcast") << u"broadcast"_s << null << null << u"room:1"_s << u"ev"_s << hex("ff 00")
                               << hex("02 06 02 72 6f 6f 6d 3a 31 65 76 ff 00");
    QTest::newRow("broadcast empty payload")
        << u"broadcast"_s << null << null << u"t"_s << u"e"_s << QByteArray() << hex("02 01 01 74 65");
}

void tst_Codec::encodeBinary()
{
    QFETCH(QString, op);
    QFETCH(QJsonValue, joinRef);
    QFETCH(QJsonValue, ref);
    QFETCH(QString, topic);
    QFETCH(QString, name);
    QFETCH(QByteArray, payload);
    QFETCH(QByteArray, expected);

    QString error;
    Frame frame;
    const Payload binary = Payload::fromBinary(payload);
    if (op == u"push") {
        frame = codec::encodePush(WireFormat::V2Json, joinRef, topic, name, binary, &error);
    } else if (op == u"reply") {
        frame = codec::encodeReply(WireFormat::V2Json, joinRef, ref, topic, name, binary, &error);
    } else if (op == u"broadcast") {
        frame = codec::encodeBroadcast(WireFormat::V2Json, topic, name, binary, &error);
    } else {
        QFAIL("unknown op in test data");
    }
    QVERIFY2(!frame.isNull(), qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(frame.binary, true);
    QCOMPARE(frame.data.toHex(' '), expected.toHex(' '));
}

void tst_Codec::binaryHeaderFieldLimit_data()
{
    QTest::addColumn<QString>("op");
    QTest::addColumn<QString>("field"); // which header field gets the long value
    QTest::addColumn<QString>("value");
    QTest::addColumn<bool>("accepted");

    const QString s255(255, u'a');
    const QString s256(256, u'a');
    const QString e127 = QString(127, QChar(char16_t(0xe9)));         // 254 bytes in UTF-8
    const QString e128 = QString(128, QChar(char16_t(0xe9)));         // 256 bytes in UTF-8, only 128 UTF-16 units
    const QString e127a = QString(127, QChar(char16_t(0xe9))) + u"a"; // 255 bytes
    for (const QString &op : {u"push"_s, u"reply"_s, u"broadcast"_s, u"client"_s}) {
        QStringList fields{u"topic"_s, u"event"_s};
        if (op != u"broadcast") {
            fields.append(u"join_ref"_s);
        }
        if (op == u"reply" || op == u"client") {
            fields.append(u"ref"_s);
        }
        for (const QString &field : fields) {
            const QByteArray prefix = QString(op + u' ' + field).toUtf8();
            QTest::addRow("%s 255 ascii", prefix.constData()) << op << field << s255 << true;
            QTest::addRow("%s 256 ascii", prefix.constData()) << op << field << s256 << false;
            QTest::addRow("%s 254 bytes utf8", prefix.constData()) << op << field << e127 << true;
            QTest::addRow("%s 255 bytes utf8", prefix.constData()) << op << field << e127a << true;
            QTest::addRow("%s 256 bytes utf8", prefix.constData()) << op << field << e128 << false;
        }
    }
}

void tst_Codec::binaryHeaderFieldLimit()
{
    QFETCH(QString, op);
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(bool, accepted);

    const QByteArray utf8 = value.toUtf8();
    const auto pick = [&](const QString &name, const QString &fallback) {
        return field == name ? value : fallback;
    };
    const QString joinRef = pick(u"join_ref"_s, u"3"_s);
    const QString ref = pick(u"ref"_s, u"6"_s);
    const QString topic = pick(u"topic"_s, u"t"_s);
    const QString event = pick(u"event"_s, u"e"_s);
    const QByteArray payload = hex("01 02");

    QString error;
    Frame frame;
    QByteArray expected;
    // Expected frames are assembled from the header layout in protocol 3, not by the codec.
    if (op == u"push") {
        frame = codec::encodePush(WireFormat::V2Json, joinRef, topic, event, Payload::fromBinary(payload), &error);
        expected.append(char(0))
            .append(char(joinRef.toUtf8().size()))
            .append(char(topic.toUtf8().size()))
            .append(char(event.toUtf8().size()));
        expected.append(joinRef.toUtf8()).append(topic.toUtf8()).append(event.toUtf8()).append(payload);
    } else if (op == u"reply") {
        frame =
            codec::encodeReply(WireFormat::V2Json, joinRef, ref, topic, event, Payload::fromBinary(payload), &error);
        expected.append(char(1))
            .append(char(joinRef.toUtf8().size()))
            .append(char(ref.toUtf8().size()))
            .append(char(topic.toUtf8().size()))
            .append(char(event.toUtf8().size()));
        expected.append(joinRef.toUtf8())
            .append(ref.toUtf8())
            .append(topic.toUtf8())
            .append(event.toUtf8())
            .append(payload);
    } else if (op == u"broadcast") {
        frame = codec::encodeBroadcast(WireFormat::V2Json, topic, event, Payload::fromBinary(payload), &error);
        expected.append(char(2)).append(char(topic.toUtf8().size())).append(char(event.toUtf8().size()));
        expected.append(topic.toUtf8()).append(event.toUtf8()).append(payload);
    } else {
        Message message;
        message.joinRef = joinRef;
        message.ref = ref;
        message.topic = topic;
        message.event = event;
        message.payload = Payload::fromBinary(payload);
        frame = codec::encodeClientMessage(WireFormat::V2Json, message, &error);
        expected.append(char(0))
            .append(char(joinRef.toUtf8().size()))
            .append(char(ref.toUtf8().size()))
            .append(char(topic.toUtf8().size()))
            .append(char(event.toUtf8().size()));
        expected.append(joinRef.toUtf8())
            .append(ref.toUtf8())
            .append(topic.toUtf8())
            .append(event.toUtf8())
            .append(payload);
    }

    if (accepted) {
        QVERIFY2(!frame.isNull(), qPrintable(error));
        QCOMPARE(frame.binary, true);
        QCOMPARE(frame.data, expected);
        QVERIFY(utf8.size() <= 255);
    } else {
        QVERIFY(frame.isNull());
        QVERIFY(frame.data.isEmpty());
        QVERIFY(!error.isEmpty());
        QVERIFY2(error.contains(u"255"), qPrintable(error));
    }
}

void tst_Codec::binaryPayloadToV1IsRefused_data()
{
    QTest::addColumn<QString>("op");
    QTest::newRow("push") << u"push"_s;
    QTest::newRow("reply") << u"reply"_s;
    QTest::newRow("broadcast") << u"broadcast"_s;
    QTest::newRow("client message") << u"client"_s;
}

void tst_Codec::binaryPayloadToV1IsRefused()
{
    QFETCH(QString, op);
    const Payload binary = Payload::fromBinary(hex("01 02 03"));
    QString error;
    Frame frame;
    if (op == u"push") {
        frame = codec::encodePush(WireFormat::V1Json, u"3"_s, u"t"_s, u"e"_s, binary, &error);
    } else if (op == u"reply") {
        frame = codec::encodeReply(WireFormat::V1Json, u"3"_s, u"4"_s, u"t"_s, u"ok"_s, binary, &error);
    } else if (op == u"broadcast") {
        frame = codec::encodeBroadcast(WireFormat::V1Json, u"t"_s, u"e"_s, binary, &error);
    } else {
        Message message;
        message.joinRef = u"3"_s;
        message.ref = u"4"_s;
        message.topic = u"t"_s;
        message.event = u"e"_s;
        message.payload = binary;
        frame = codec::encodeClientMessage(WireFormat::V1Json, message, &error);
    }
    QVERIFY(frame.isNull());
    QVERIFY(frame.data.isEmpty());
    QVERIFY(!error.isEmpty());
}

// ---------------------------------------------------------------------------------------------------------------
// encodeClientMessage -> decode.

void tst_Codec::clientMessageRoundTrip_data()
{
    QTest::addColumn<WireFormat>("format");
    QTest::addColumn<QJsonValue>("joinRef");
    QTest::addColumn<QJsonValue>("ref");
    QTest::addColumn<QString>("topic");
    QTest::addColumn<QString>("event");
    QTest::addColumn<bool>("binary");
    QTest::addColumn<QJsonValue>("json");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QByteArray>("expectedWire"); // JSON text (compared as JSON) or exact binary bytes

    const QJsonValue null(QJsonValue::Null);
    const QJsonObject body{{u"body"_s, u"hi"_s}};
    QTest::newRow("v2 text") << WireFormat::V2Json << QJsonValue(u"3"_s) << QJsonValue(u"5"_s) << u"room:lobby"_s
                             << u"new_msg"_s << false << QJsonValue(body) << QByteArray()
                             << QByteArray(R"(["3","5","room:lobby","new_msg",{"body":"hi"}])");
    QTest::newRow("v2 text heartbeat") << WireFormat::V2Json << null << QJsonValue(u"4"_s) << u"phoenix"_s
                                       << u"heartbeat"_s << false << QJsonValue(QJsonObject{}) << QByteArray()
                                       << QByteArray(R"([null,"4","phoenix","heartbeat",{}])");
    QTest::newRow("v2 text numeric refs")
        << WireFormat::V2Json << QJsonValue(3) << QJsonValue(5) << u"t"_s << u"e"_s << false
        << QJsonValue(QJsonObject{}) << QByteArray() << QByteArray(R"([3,5,"t","e",{}])");
    QTest::newRow("v1 text with join_ref")
        << WireFormat::V1Json << QJsonValue(u"3"_s) << QJsonValue(u"5"_s) << u"room:lobby"_s << u"new_msg"_s << false
        << QJsonValue(body) << QByteArray()
        << QByteArray(R"({"topic":"room:lobby","event":"new_msg","payload":{"body":"hi"},"ref":"5","join_ref":"3"})");
    QTest::newRow("v1 text without join_ref")
        << WireFormat::V1Json << null << QJsonValue(u"1"_s) << u"room:lobby"_s << u"phx_join"_s << false
        << QJsonValue(QJsonObject{}) << QByteArray()
        << QByteArray(R"({"topic":"room:lobby","event":"phx_join","payload":{},"ref":"1"})");
    QTest::newRow("v1 text null ref") << WireFormat::V1Json << null << null << u"phoenix"_s << u"heartbeat"_s << false
                                      << QJsonValue(QJsonObject{}) << QByteArray()
                                      << QByteArray(
                                             R"({"topic":"phoenix","event":"heartbeat","payload":{},"ref":null})");
    QTest::newRow("v2 binary (protocol example)")
        << WireFormat::V2Json << QJsonValue(u"3"_s) << QJsonValue(u"6"_s) << u"room:lobby"_s << u"bin"_s << true
        << QJsonValue() << hex("01 02 03")
        << hex("00 01 01 0a 03 33 36 72 6f 6f 6d 3a 6c 6f 62 62 79 62 69 6e 01 02 03");
    QTest::newRow("v2 binary empty payload")
        << WireFormat::V2Json << QJsonValue(u"10"_s) << QJsonValue(u"11"_s) << u"t"_s << u"e"_s << true << QJsonValue()
        << QByteArray() << hex("00 02 02 01 01 31 30 31 31 74 65");
}

void tst_Codec::clientMessageRoundTrip()
{
    QFETCH(WireFormat, format);
    QFETCH(QJsonValue, joinRef);
    QFETCH(QJsonValue, ref);
    QFETCH(QString, topic);
    QFETCH(QString, event);
    QFETCH(bool, binary);
    QFETCH(QJsonValue, json);
    QFETCH(QByteArray, bytes);
    QFETCH(QByteArray, expectedWire);

    Message message;
    message.joinRef = joinRef;
    message.ref = ref;
    message.topic = topic;
    message.event = event;
    message.payload = binary ? Payload::fromBinary(bytes) : Payload::fromJson(json);

    QString error;
    const Frame frame = codec::encodeClientMessage(format, message, &error);
    QVERIFY2(!frame.isNull(), qPrintable(error));
    QCOMPARE(frame.binary, binary);
    if (binary) {
        QCOMPARE(frame.data.toHex(' '), expectedWire.toHex(' '));
    } else {
        COMPARE_JSON(frame.data, expectedWire);
    }

    const DecodeResult decoded =
        binary ? codec::decodeBinary(format, frame.data) : codec::decodeText(format, frame.data);
    QVERIFY2(decoded.ok, qPrintable(decoded.error));
    QCOMPARE(decoded.message.joinRef, joinRef);
    QCOMPARE(decoded.message.ref, ref);
    QCOMPARE(decoded.message.topic, topic);
    QCOMPARE(decoded.message.event, event);
    QCOMPARE(decoded.message.payload.isBinary, binary);
    if (binary) {
        QCOMPARE(decoded.message.payload.bytes, bytes);
    } else {
        QCOMPARE(decoded.message.payload.json, json);
    }
}

QTEST_GUILESS_MAIN(tst_Codec)
#include "tst_codec.moc"
