// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The envelope-only text decoder (issue 13, design-notes "Envelope-only decoding"): the payload stays the
// client's bytes and is spliced into replies; JSON that RFC 8259 refuses is refused even where
// QJsonDocument was lenient (the bytes are now relayed as they are); limits match QJsonDocument's.
#include "protocol/codec.h"
#include "protocol/jsontext.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>
#include <QThread>

#include <atomic>
#include <vector>

using namespace wsserve;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(wsserve::WireFormat)

class tst_Envelope : public QObject
{
    Q_OBJECT

private slots:
    void payloadBytesAreSplicedUnchanged();
    void payloadParsedOnRead();
    void refusedWhereRfc8259Refuses_data();
    void refusedWhereRfc8259Refuses();
    void acceptedLikeQJsonDocument_data();
    void acceptedLikeQJsonDocument();
    void nestingLimitIsQJsonDocuments();
    void v1KeysEscapedAndRepeated();
    void stringsRoundTripThroughTheWriter();
    void rawDataInputIsCopied();
    void repliesAreWrittenIntoTheCallersBuffer();
    void refsAreCanonical();
    void concurrentFirstReads();
};

void tst_Envelope::payloadBytesAreSplicedUnchanged()
{
    // Whitespace, key order and number spelling are the client's and reach the reply untouched.
    const QByteArray payload = R"({ "b" : 1.50, "a":[ 1e2 ,"\u00e9"] })";
    const QByteArray frame = R"(["1","2","room:1","ev",)" + payload + "]";
    const DecodeResult decoded = codec::decodeText(WireFormat::V2Json, frame);
    QVERIFY2(decoded.ok, qPrintable(decoded.error));
    QVERIFY(decoded.message.payload.json.hasText());
    QCOMPARE(decoded.message.payload.json.text(), QByteArrayView(payload));
    QCOMPARE(decoded.message.payload.sizeHint(), payload.size());

    const Frame reply = codec::encodeReply(WireFormat::V2Json, decoded.message.joinRef, decoded.message.ref,
                                           decoded.message.topic, u"ok"_s, decoded.message.payload);
    QCOMPARE(reply.data, R"(["1","2","room:1","phx_reply",{"response":)" + payload + R"(,"status":"ok"}])");
    const Frame v1 = codec::encodeBroadcast(WireFormat::V1Json, u"room:1"_s, u"ev"_s, decoded.message.payload);
    QCOMPARE(v1.data, R"({"event":"ev","payload":)" + payload + R"(,"ref":null,"topic":"room:1"})");

    // A client's null payload is answered with an empty response object, as before.
    const DecodeResult nullPayload = codec::decodeText(WireFormat::V2Json, R"(["1","2","t","e",null])");
    QVERIFY(nullPayload.ok);
    const Frame nullReply = codec::encodeReply(WireFormat::V2Json, nullPayload.message.joinRef, nullPayload.message.ref,
                                               u"t"_s, u"ok"_s, nullPayload.message.payload);
    QCOMPARE(nullReply.data, R"(["1","2","t","phx_reply",{"response":{},"status":"ok"}])");
}

void tst_Envelope::payloadParsedOnRead()
{
    const DecodeResult decoded =
        codec::decodeText(WireFormat::V2Json, R"([null,"7","t","e",{"n":5,"list":[true,null],"s":"x\"y"}])");
    QVERIFY(decoded.ok);
    const LazyJson &json = decoded.message.payload.json;
    QCOMPARE(json.toObject().value(u"n"_s).toInt(), 5);
    QCOMPARE(json[u"list"_s].toArray(), (QJsonArray{true, QJsonValue::Null}));
    QCOMPARE(json[u"s"_s].toString(), u"x\"y"_s);
    QCOMPARE(decoded.message.ref, QJsonValue(u"7"_s));
    QVERIFY(decoded.message.joinRef.isNull());

    // Scalars too, without a document around them.
    const DecodeResult scalar = codec::decodeText(WireFormat::V2Json, R"([1,2,"t","e","\ud83d\ude00 ok"])");
    QVERIFY(scalar.ok);
    QCOMPARE(scalar.message.payload.json.toString(), u"\U0001F600 ok"_s);
    QCOMPARE(scalar.message.ref.toJson().toInteger(), 2);
}

void tst_Envelope::refusedWhereRfc8259Refuses_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<bool>("qtAccepts"); // QJsonDocument let these through; the spliced bytes would break JSON.parse

    QTest::newRow("fraction without digits") << QByteArray(R"(["1","2","t","e",{"a":1.}])") << true;
    QTest::newRow("fraction without integer") << QByteArray(R"(["1","2","t","e",{"a":.5}])") << true;
    QTest::newRow("unknown escape") << QByteArray(R"(["1","2","t","e",{"a":"\x"}])") << true;
    QTest::newRow("raw tab in a string") << QByteArray("[\"1\",\"2\",\"t\",\"e\",{\"a\":\"a\tb\"}]") << true;
    QTest::newRow("raw control character") << QByteArray("[\"1\",\"2\",\"t\",\"e\",\"\x01\"]") << true;
    QTest::newRow("leading zero") << QByteArray(R"(["1","2","t","e",{"a":01}])") << false;
    QTest::newRow("plus sign") << QByteArray(R"(["1","2","t","e",+1])") << false;
    QTest::newRow("overflowing number") << QByteArray(R"(["1","2","t","e",1e400])") << false;
    QTest::newRow("underflowing number") << QByteArray(R"(["1","2","t","e",1e-400])") << false;
    QTest::newRow("invalid UTF-8") << QByteArray("[\"1\",\"2\",\"t\",\"e\",\"\xC0\x80\"]") << false;
    QTest::newRow("UTF-8 surrogate") << QByteArray("[\"1\",\"2\",\"t\",\"e\",\"\xED\xA0\x80\"]") << false;
    QTest::newRow("truncated UTF-8") << QByteArray("[\"1\",\"2\",\"t\",\"e\",\"\xE2\x82") << false;
    QTest::newRow("short unicode escape") << QByteArray(R"(["1","2","t","e","\u12"])") << false;
    QTest::newRow("trailing comma") << QByteArray(R"(["1","2","t","e",{},])") << false;
    QTest::newRow("form feed as space") << QByteArray("[\"1\",\"2\",\"t\",\"e\",{}\f]") << false;
    QTest::newRow("two values") << QByteArray(R"(["1","2","t","e",{}] [])") << false;
}

void tst_Envelope::refusedWhereRfc8259Refuses()
{
    QFETCH(QByteArray, frame);
    QFETCH(bool, qtAccepts);
    QJsonParseError qtError{};
    QJsonDocument::fromJson(frame, &qtError);
    QCOMPARE(qtError.error == QJsonParseError::NoError, qtAccepts);

    const DecodeResult decoded = codec::decodeText(WireFormat::V2Json, frame);
    QVERIFY(!decoded.ok);
    QCOMPARE(int(decoded.closeCode), 1007);
    QVERIFY2(decoded.error.startsWith(u"invalid JSON at offset "_s), qPrintable(decoded.error));
}

void tst_Envelope::acceptedLikeQJsonDocument_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::newRow("byte-order mark") << QByteArray("\xEF\xBB\xBF[\"1\",\"2\",\"t\",\"e\",{}]");
    QTest::newRow("small number") << QByteArray(R"(["1","2","t","e",{"a":2.5e-300}])");
    QTest::newRow("lone surrogate escape") << QByteArray(R"(["1","2","t\ud800","e",{"a":"\udc00"}])");
    QTest::newRow("escaped NUL") << QByteArray(R"(["1","2","t","e\u0000",{}])");
    QTest::newRow("whitespace everywhere") << QByteArray(" \r\n\t[ \"1\" , 2 ,\"t\" ,\"e\", { } , 9 ] \n");
    QTest::newRow("non-characters") << QByteArray("[\"1\",\"2\",\"t\",\"e\",\"\xEF\xBF\xBF\xF4\x8F\xBF\xBF\"]");
    QTest::newRow("big integer ref") << QByteArray(R"([12345678901234567890,-0,"t","e",-1.5E+3])");
    // QJsonDocument keeps integers that fit a qint64 exact, past 2^53 too (found by fuzz_envelope in CI).
    QTest::newRow("integers past 2^53") << QByteArray(
        R"([-9007199254740993,9007199254740993,"t","e",[9223372036854775807,-9223372036854775808,1e308]])");
}

void tst_Envelope::acceptedLikeQJsonDocument()
{
    QFETCH(QByteArray, frame);
    const QJsonArray expected = QJsonDocument::fromJson(frame).array();
    QVERIFY(expected.size() >= 5);
    const DecodeResult decoded = codec::decodeText(WireFormat::V2Json, frame);
    QVERIFY2(decoded.ok, qPrintable(decoded.error));
    QCOMPARE(decoded.message.joinRef, expected.at(0));
    QCOMPARE(decoded.message.ref, expected.at(1));
    QCOMPARE(decoded.message.topic, expected.at(2).toString());
    QCOMPARE(decoded.message.event, expected.at(3).toString());
    QCOMPARE(decoded.message.payload.json.value(), expected.at(4));
}

void tst_Envelope::nestingLimitIsQJsonDocuments()
{
    // The frame's own array is one level; QJsonDocument refuses more than 1 024.
    const auto nested = [](int levels) -> QByteArray {
        return R"(["1","2","t","e",)" + QByteArray(levels - 1, '[') + QByteArray(levels - 1, ']') + "]";
    };
    QVERIFY(codec::decodeText(WireFormat::V2Json, nested(1024)).ok);
    const DecodeResult deep = codec::decodeText(WireFormat::V2Json, nested(1025));
    QVERIFY(!deep.ok);
    QCOMPARE(int(deep.closeCode), 1007);
    QJsonParseError qtError{};
    QJsonDocument::fromJson(nested(1025), &qtError);
    QCOMPARE(qtError.error, QJsonParseError::DeepNesting);
}

void tst_Envelope::v1KeysEscapedAndRepeated()
{
    // An escaped key is the same key; a repeated key's last value wins (QJsonDocument's rule).
    const DecodeResult decoded = codec::decodeText(
        WireFormat::V1Json,
        R"({"\u0074opic":"first","event":"e","payload":{"x":1},"ref":"1","topic":"second","extra":[{"ref":9}]})");
    QVERIFY2(decoded.ok, qPrintable(decoded.error));
    QCOMPARE(decoded.message.topic, u"second"_s);
    QCOMPARE(decoded.message.ref, QJsonValue(u"1"_s));
    QCOMPARE(decoded.message.payload.json.text(), QByteArrayView(R"({"x":1})"));

    const DecodeResult missing =
        codec::decodeText(WireFormat::V1Json, R"({"topic":"t","event":"e","payload":{"ref":"1"}})");
    QVERIFY(!missing.ok); // "ref" inside the payload is not the envelope's
    QVERIFY(missing.error.contains(u"'ref'"_s));
}

void tst_Envelope::stringsRoundTripThroughTheWriter()
{
    // Every BMP unit (lone surrogates included, which are written as \u escapes) survives write + read.
    QString all;
    for (char32_t unit = 1; unit < 0x10000; unit += 7) {
        all.append(QChar(static_cast<char16_t>(unit)));
    }
    all.append(u"\U0001F600\"\\/\b\f\n\r\t"_s);
    QByteArray out;
    jsontext::appendString(out, all);
    jsontext::Reader reader(out.constData(), out.size());
    jsontext::Token token;
    QVERIFY2(reader.value(&token) && reader.atEnd(), reader.error());
    QCOMPARE(jsontext::stringValue(out.constData(), token), all);
    QCOMPARE(QJsonDocument::fromJson("[" + out + "]").array().at(0).toString(), all);
}

void tst_Envelope::rawDataInputIsCopied()
{
    QByteArray storage = R"(["1","2","t","e",{"kept":true}])";
    DecodeResult decoded =
        codec::decodeText(WireFormat::V2Json, QByteArray::fromRawData(storage.data(), storage.size()));
    QVERIFY(decoded.ok);
    storage.fill('x'); // the caller's buffer goes away; the payload kept its own bytes
    QCOMPARE(decoded.message.payload.json.text(), QByteArrayView(R"({"kept":true})"));
    QVERIFY(decoded.message.payload.json[u"kept"_s].toBool());
}

void tst_Envelope::repliesAreWrittenIntoTheCallersBuffer()
{
    // The instance hands each encoder the previous frame's storage: written into when nobody else holds
    // it, left alone (a new buffer) when someone does, and the frame is the same either way.
    const Payload response =
        codec::decodeText(WireFormat::V2Json, R"(["1","2","t","e",{"body":"hi"}])").message.payload;
    const Frame fresh =
        codec::encodeReply(WireFormat::V2Json, Ref(u"1"_s), Ref(u"7"_s), u"room:1"_s, u"ok"_s, response);
    QCOMPARE(fresh.data, QByteArray(R"(["1","7","room:1","phx_reply",{"response":{"body":"hi"},"status":"ok"}])"));

    QByteArray storage(1024, 'x');
    const char *at = storage.constData();
    Frame reused = codec::encodeReply(WireFormat::V2Json, Ref(u"1"_s), Ref(u"7"_s), u"room:1"_s, u"ok"_s, response,
                                      nullptr, std::move(storage));
    QCOMPARE(reused.data, fresh.data);
    QCOMPARE(reused.data.constData(), at);

    const QByteArray held = reused.data; // the message-flow view or a long poll keeps the frame
    const Frame next = codec::encodePush(WireFormat::V1Json, Ref(u"1"_s), u"room:1"_s, u"shout"_s, response, nullptr,
                                         std::move(reused.data));
    QCOMPARE(next.data, QByteArray(R"({"event":"shout","payload":{"body":"hi"},"ref":null,"topic":"room:1"})"));
    QVERIFY(next.data.constData() != at);
    QCOMPARE(held, fresh.data);
}

void tst_Envelope::refsAreCanonical()
{
    // Equal JSON values make equal refs, however they were written: a leading BOM is dropped as
    // QJsonDocument drops it, and what is left may be short plain ASCII (fuzz_v2json found "\uFEFF6"
    // held as a QJsonValue "6", unequal to the "6" the re-encoded frame decoded to).
    QCOMPARE(Ref::fromStringUtf8("\xEF\xBB\xBF"
                                 "6"),
             Ref(u"6"_s));
    QCOMPARE(Ref::fromStringUtf8("\xEF\xBB\xBF"), Ref(u""_s));
    QCOMPARE(Ref::fromStringUtf8("caf\xC3\xA9"), Ref(QJsonValue(u"caf\u00e9"_s)));
    QCOMPARE(Ref(QJsonValue(u"12"_s)), Ref::fromStringUtf8("12"));
    QVERIFY(Ref(QJsonValue(12)) != Ref(u"12"_s)); // a number is not a string
    QVERIFY(Ref() != Ref(u""_s));                 // null is not the empty string
    const DecodeResult decoded = codec::decodeText(WireFormat::V2Json, "[\"3\",\"\xEF\xBB\xBF"
                                                                       "6\",\"t\",\"e\",{}]");
    QVERIFY(decoded.ok);
    QCOMPARE(decoded.message.ref, Ref(u"6"_s));
    QCOMPARE(decoded.message.ref.toJson(), QJsonDocument::fromJson("[\"\xEF\xBB\xBF"
                                                                   "6\"]")
                                               .array()
                                               .at(0));
}

void tst_Envelope::concurrentFirstReads()
{
    // Const reads from several threads: the first parse happens once and everyone sees the same value.
    const DecodeResult decoded = codec::decodeText(WireFormat::V2Json, R"(["1","2","t","e",{"n":[1,2,3]}])");
    QVERIFY(decoded.ok);
    const Payload shared = decoded.message.payload;
    std::atomic<int> good{0};
    std::vector<std::unique_ptr<QThread>> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back(QThread::create([&] {
            if (shared.json[u"n"_s].toArray().size() == 3) {
                ++good;
            }
        }));
        threads.back()->start();
    }
    for (auto &thread : threads) {
        QVERIFY(thread->wait(30000));
    }
    QCOMPARE(good.load(), 4);
}

QTEST_GUILESS_MAIN(tst_Envelope)
#include "tst_envelope.moc"
