// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for the Supabase Realtime binary kinds (../shared/docs/supabase-realtime.md): kind 3 (user
// broadcast push, client to server) decoding with its close codes, kind 4 (user broadcast) encoding byte for
// byte, the JSON form for V1 clients, and that kind 3 stays refused (1003) unless the type asks for it.

#include "protocol/codec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

namespace {
QByteArray hex(const char *spaced)
{
    return QByteArray::fromHex(QByteArray(spaced));
}

// What realtime-js 2.109 sends for send({type: "broadcast", event: "ev", payload: {"a": 1}}) on
// realtime:room with join_ref "6" and ref "7" (the example of supabase-realtime.md).
QByteArray docExample()
{
    return hex("03 01 01 0d 02 00 01") + "67realtime:roomev{\"a\":1}";
}
} // namespace

class tst_UserCodec : public QObject
{
    Q_OBJECT

private slots:
    void decodesTheDocumentedExample();
    void rawPayloadKeepsItsBytes();
    void metadataIsKept();
    void refusedUnlessTheTypeAsks();
    void malformed_data();
    void malformed();
    void encodesKind4ByteForByte();
    void v1GetsTheJsonForm();
    void clientEncoderRoundTrips();
};

void tst_UserCodec::decodesTheDocumentedExample()
{
    const DecodeResult result = codec::decodeBinary(WireFormat::V2Json, docExample(), true);
    QVERIFY2(result.ok, qPrintable(result.error));
    QCOMPARE(result.message.joinRef, QJsonValue(u"6"_s));
    QCOMPARE(result.message.ref, QJsonValue(u"7"_s));
    QCOMPARE(result.message.topic, u"realtime:room"_s);
    QCOMPARE(result.message.event, u"broadcast"_s);
    const auto &broadcast = result.message.payload.userBroadcast;
    QVERIFY(broadcast);
    QCOMPARE(broadcast->event, u"ev"_s);
    QVERIFY(broadcast->json);
    QCOMPARE(broadcast->payload, QByteArray("{\"a\":1}"));
    QCOMPARE(
        result.message.payload.json.toObject(),
        (QJsonObject{{u"type"_s, u"broadcast"_s}, {u"event"_s, u"ev"_s}, {u"payload"_s, QJsonObject{{u"a"_s, 1}}}}));
    QCOMPARE(result.message.payload.sizeHint(), 7);
}

void tst_UserCodec::rawPayloadKeepsItsBytes()
{
    const QByteArray frame = hex("03 00 00 01 01 00 00") + "te" + hex("00 ff 7b 0a");
    const DecodeResult result = codec::decodeBinary(WireFormat::V2Json, frame, true);
    QVERIFY2(result.ok, qPrintable(result.error));
    QCOMPARE(result.message.joinRef, QJsonValue(QJsonValue::Null));
    QCOMPARE(result.message.ref, QJsonValue(QJsonValue::Null));
    QVERIFY(!result.message.payload.userBroadcast->json);
    QCOMPARE(result.message.payload.userBroadcast->payload, hex("00 ff 7b 0a"));
    QCOMPARE(result.message.payload.json.toObject().value(u"payload"_s), QJsonValue(QJsonValue::Null));
}

void tst_UserCodec::metadataIsKept()
{
    const QByteArray meta = "{\"persist\":true}";
    const QByteArray frame = hex("03 00 00 01 01") + char(meta.size()) + hex("01") + "te" + meta + "[1,2]";
    const DecodeResult result = codec::decodeBinary(WireFormat::V2Json, frame, true);
    QVERIFY2(result.ok, qPrintable(result.error));
    QCOMPARE(result.message.payload.userBroadcast->meta, meta);
    QCOMPARE(result.message.payload.json.toObject().value(u"meta"_s).toObject().value(u"persist"_s), QJsonValue(true));
    QCOMPARE(result.message.payload.json.toObject().value(u"payload"_s).toArray(), (QJsonArray{1, 2}));
}

void tst_UserCodec::refusedUnlessTheTypeAsks()
{
    const DecodeResult result = codec::decodeBinary(WireFormat::V2Json, docExample());
    QVERIFY(!result.ok);
    QCOMPARE(result.closeCode, 1003);
    // Kind 4 is server-to-client only, whatever the type.
    const DecodeResult kind4 = codec::decodeBinary(WireFormat::V2Json, hex("04 01 01 00 01") + "te{}", true);
    QVERIFY(!kind4.ok);
    QCOMPARE(kind4.closeCode, 1003);
    QCOMPARE(codec::decodeBinary(WireFormat::V1Json, docExample(), true).closeCode, 1003);
}

void tst_UserCodec::malformed_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<QString>("reason");
    QTest::newRow("kind only") << hex("03") << u"shorter than its 7-byte header"_s;
    QTest::newRow("6-byte header") << hex("03 00 00 00 00 00") << u"shorter than its 7-byte header"_s;
    QTest::newRow("lengths past the frame") << hex("03 01 01 c8 02 00 01 31 32") << u"exceed the frame size"_s;
    QTest::newRow("one byte short") << docExample().left(19) << u"exceed the frame size"_s;
    QTest::newRow("encoding 2") << hex("03 00 00 01 01 00 02") + "te{}" << u"encoding 2"_s;
    QTest::newRow("invalid JSON payload") << hex("03 00 00 01 01 00 01") + "te{\"a\":" << u"not valid JSON"_s;
    QTest::newRow("empty JSON payload") << hex("03 00 00 01 01 00 01") + "te" << u"not valid JSON"_s;
    QTest::newRow("two JSON values") << hex("03 00 00 01 01 00 01") + "te1,2" << u"not valid JSON"_s;
    QTest::newRow("metadata not an object") << hex("03 00 00 01 01 03 01") + "te[1]{}" << u"metadata"_s;
}

void tst_UserCodec::malformed()
{
    QFETCH(QByteArray, frame);
    QFETCH(QString, reason);
    const DecodeResult result = codec::decodeBinary(WireFormat::V2Json, frame, true);
    QVERIFY(!result.ok);
    QCOMPARE(result.closeCode, 1007);
    QVERIFY2(result.error.contains(reason), qPrintable(result.error));
}

void tst_UserCodec::encodesKind4ByteForByte()
{
    const DecodeResult in = codec::decodeBinary(WireFormat::V2Json, docExample(), true);
    QVERIFY(in.ok);
    // u8 4 | topicLen eventLen metaLen encoding | topic | event | meta | payload (supabase-realtime.md).
    const QByteArray expected = hex("04 0d 02 00 01") + "realtime:roomev{\"a\":1}";
    for (const Frame &frame :
         {codec::encodeBroadcast(WireFormat::V2Json, u"realtime:room"_s, u"broadcast"_s, in.message.payload),
          codec::encodePush(WireFormat::V2Json, u"9"_s, u"realtime:room"_s, u"broadcast"_s, in.message.payload)}) {
        QVERIFY(frame.binary);
        QCOMPARE(frame.data, expected);
    }
    UserBroadcast raw{u"blob"_s, "{\"persist\":true}", hex("00 01 ff"), false};
    const Frame rawFrame = codec::encodeUserBroadcast(u"realtime:r"_s, raw);
    QCOMPARE(rawFrame.data, hex("04 0a 04 10 00") + "realtime:rblob{\"persist\":true}" + hex("00 01 ff"));
    QString error;
    raw.event = QString(256, u'e');
    QVERIFY(codec::encodeUserBroadcast(u"realtime:r"_s, raw, &error).isNull());
    QVERIFY2(error.contains(u"255"_s), qPrintable(error));
}

void tst_UserCodec::v1GetsTheJsonForm()
{
    const DecodeResult in = codec::decodeBinary(WireFormat::V2Json, docExample(), true);
    const Frame frame =
        codec::encodeBroadcast(WireFormat::V1Json, u"realtime:room"_s, u"broadcast"_s, in.message.payload);
    QVERIFY(!frame.binary);
    QCOMPARE(QJsonDocument::fromJson(frame.data).object(), (QJsonObject{{u"topic"_s, u"realtime:room"_s},
                                                                        {u"event"_s, u"broadcast"_s},
                                                                        {u"ref"_s, QJsonValue::Null},
                                                                        {u"payload"_s, in.message.payload.json}}));
    // A raw payload cannot travel as V1 JSON: refused with a reason, never sent as something else.
    const DecodeResult raw = codec::decodeBinary(WireFormat::V2Json, hex("03 00 00 01 01 00 00 74 65 00"), true);
    QString error;
    QVERIFY(codec::encodeBroadcast(WireFormat::V1Json, u"t"_s, u"broadcast"_s, raw.message.payload, &error).isNull());
    QVERIFY(!error.isEmpty());
}

void tst_UserCodec::clientEncoderRoundTrips()
{
    const DecodeResult in = codec::decodeBinary(WireFormat::V2Json, docExample(), true);
    const Frame frame = codec::encodeClientMessage(WireFormat::V2Json, in.message);
    QCOMPARE(frame.data, docExample());
}

QTEST_GUILESS_MAIN(tst_UserCodec)
#include "tst_usercodec.moc"
