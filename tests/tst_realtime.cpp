// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The `realtime` type (Supabase Realtime broadcast + presence) through BehaviourHarness: the join config
// (self, ack, presence key and enabled, "true" strings), the join reply, broadcasts in both forms, the ack
// rule, presence track/update/untrack with presence_state, refusals, and the REST API.

#include "harnesstools.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {
const QString kTopic = u"realtime:room"_s;

QJsonObject config(const QJsonObject &broadcast, const QJsonObject &presence = {})
{
    return QJsonObject{{u"config"_s, QJsonObject{{u"broadcast"_s, broadcast},
                                                 {u"presence"_s, presence},
                                                 {u"postgres_changes"_s, QJsonArray{}},
                                                 {u"private"_s, false}}}};
}

Payload userBroadcast(const QString &event, const QByteArray &json)
{
    UserBroadcast broadcast{event, {}, json, true};
    return Payload::fromUserBroadcast(broadcast, QJsonObject{{u"type"_s, u"broadcast"_s},
                                                             {u"event"_s, event},
                                                             {u"payload"_s, QJsonDocument::fromJson(json).object()}});
}

QList<BehaviourHarness::Frame> broadcastsOf(const QList<BehaviourHarness::Frame> &frames)
{
    QList<BehaviourHarness::Frame> list;
    for (const auto &frame : frames) {
        if (frame.event == u"broadcast") {
            list.append(frame);
        }
    }
    return list;
}
} // namespace

class tst_Realtime : public QObject
{
    Q_OBJECT

private slots:
    void joinReplyAndTopics();
    void selfAndAck();
    void jsonFormIsRelayedAsItCame();
    void presence();
    void presenceWithoutEnabledStillGetsAState();
    void badEventsAreAnsweredInJson();
    void restBroadcast();
};

void tst_Realtime::joinReplyAndTopics()
{
    BehaviourHarness rt(builtinType(u"realtime"_s));
    QVERIFY2(rt.isValid(), qPrintable(rt.error()));
    const quint64 a = rt.connect();
    const auto joined = rt.join(a, kTopic, config({}));
    QVERIFY(joined.isOk());
    QCOMPARE(joined.json(), (QJsonObject{{u"postgres_changes"_s, QJsonArray{}}}));
    QCOMPARE(rt.join(a, u"room:lobby"_s).reason(), u"unmatched topic"_s);
    const auto pg =
        rt.join(a, u"realtime:db"_s,
                QJsonObject{{u"config"_s,
                             QJsonObject{{u"postgres_changes"_s, QJsonArray{QJsonObject{{u"event"_s, u"*"_s}}}}}}});
    QVERIFY(pg.reason().contains(u"postgres_changes"_s));
    QVERIFY(rt.behaviour().acceptsUserBroadcasts());
}

void tst_Realtime::selfAndAck()
{
    BehaviourHarness rt(builtinType(u"realtime"_s));
    const quint64 quiet = rt.connect(); // self false, ack false (the defaults)
    const quint64 loud = rt.connect();  // self true, ack true, as strings
    QVERIFY(rt.join(quiet, kTopic, config({})).isOk());
    QVERIFY(rt.join(loud, kTopic, config({{u"self"_s, u"true"_s}, {u"ack"_s, u"true"_s}})).isOk());
    rt.takeReceived(quiet);
    rt.takeReceived(loud);

    // No ack: no reply at all; the sender does not hear itself.
    QVERIFY(!rt.pushPayload(quiet, kTopic, u"broadcast"_s, userBroadcast(u"move"_s, "{\"x\":1}")).received);
    QCOMPARE(broadcastsOf(rt.takeReceived(quiet)).size(), 0);
    const auto atLoud = broadcastsOf(rt.takeReceived(loud));
    QCOMPARE(atLoud.size(), 1);
    QVERIFY(atLoud.first().payload.userBroadcast);
    QCOMPARE(atLoud.first().payload.userBroadcast->payload, QByteArray("{\"x\":1}")); // byte for byte

    // Ack: replied ok {}; self: the sender hears itself too.
    const auto reply = rt.pushPayload(loud, kTopic, u"broadcast"_s, userBroadcast(u"move"_s, "{\"x\":2}"));
    QVERIFY(reply.isOk());
    QCOMPARE(reply.json(), QJsonObject{});
    QCOMPARE(broadcastsOf(rt.takeReceived(loud)).size(), 1);
    QCOMPARE(broadcastsOf(rt.takeReceived(quiet)).size(), 1);
}

void tst_Realtime::jsonFormIsRelayedAsItCame()
{
    BehaviourHarness rt(builtinType(u"realtime"_s));
    const quint64 a = rt.connect();
    const quint64 b = rt.connect();
    QVERIFY(rt.join(a, kTopic, config({{u"ack"_s, true}})).isOk());
    QVERIFY(rt.join(b, kTopic, config({})).isOk());
    const QJsonObject message{
        {u"type"_s, u"broadcast"_s}, {u"event"_s, u"chat"_s}, {u"payload"_s, QJsonObject{{u"t"_s, u"hi"_s}}}};
    QVERIFY(rt.push(a, kTopic, u"broadcast"_s, message).isOk());
    const auto got = rt.lastReceived(b, kTopic, u"broadcast"_s);
    QVERIFY(got);
    QVERIFY(!got->payload.userBroadcast);
    QCOMPARE(got->json().toObject(), message);
    // A broadcast without an event name is refused in JSON.
    QVERIFY(rt.push(a, kTopic, u"broadcast"_s, QJsonObject{{u"type"_s, u"broadcast"_s}}).reason().contains(u"event"_s));
}

void tst_Realtime::presence()
{
    BehaviourHarness rt(builtinType(u"realtime"_s));
    const quint64 a = rt.connect();
    const quint64 b = rt.connect();
    QVERIFY(rt.join(a, kTopic, config({}, {{u"key"_s, u"alice"_s}, {u"enabled"_s, true}})).isOk());
    const auto state = rt.lastReceived(a, kTopic, u"presence_state"_s);
    QVERIFY2(state, qPrintable(summary(rt.received(a)).join(u", ")));
    QCOMPARE(state->json().toObject(), QJsonObject{});
    QVERIFY(rt.join(b, kTopic, config({}, {{u"enabled"_s, true}})).isOk()); // no key: a generated one
    const QJsonObject track{
        {u"type"_s, u"presence"_s}, {u"event"_s, u"track"_s}, {u"payload"_s, QJsonObject{{u"s"_s, 1}}}};
    QVERIFY(rt.push(a, kTopic, u"presence"_s, track).isOk());
    QVERIFY(rt.push(b, kTopic, u"presence"_s, track).isOk());
    QJsonObject list = rt.presence(kTopic);
    QCOMPARE(list.size(), 2);
    QVERIFY(list.contains(u"alice"_s));
    const QJsonObject meta = list.value(u"alice"_s).toObject().value(u"metas"_s).toArray().first().toObject();
    QCOMPARE(meta.value(u"s"_s), QJsonValue(1)); // the payload itself, plus phx_ref
    QVERIFY(!meta.value(u"phx_ref"_s).toString().isEmpty());
    QCOMPARE(meta.size(), 2);

    // The same payload again: nothing sent; another: a leave, then a join.
    rt.takeReceived(b);
    QVERIFY(rt.push(a, kTopic, u"presence"_s, track).isOk());
    QCOMPARE(summary(rt.takeReceived(b)), QStringList());
    QJsonObject changed = track;
    changed.insert(u"payload"_s, QJsonObject{{u"s"_s, 2}});
    QVERIFY(rt.push(a, kTopic, u"presence"_s, changed).isOk());
    const auto diffs = rt.takeReceived(b);
    QCOMPARE(summary(diffs), (QStringList{u"broadcast presence_diff"_s, u"broadcast presence_diff"_s}));
    QVERIFY(diffs.at(0).json().toObject().value(u"leaves"_s).toObject().contains(u"alice"_s));
    QVERIFY(diffs.at(1).json().toObject().value(u"joins"_s).toObject().contains(u"alice"_s));

    QVERIFY(
        rt.push(a, kTopic, u"presence"_s, QJsonObject{{u"type"_s, u"presence"_s}, {u"event"_s, u"untrack"_s}}).isOk());
    QCOMPARE(rt.presence(kTopic).size(), 1);
    rt.disconnect(b);
    QCOMPARE(rt.presence(kTopic).size(), 0);
}

void tst_Realtime::presenceWithoutEnabledStillGetsAState()
{
    BehaviourHarness rt(builtinType(u"realtime"_s));
    const quint64 a = rt.connect();
    QVERIFY(rt.join(a, kTopic, config({})).isOk());
    QVERIFY(!rt.lastReceived(a, kTopic, u"presence_state"_s));
    rt.takeReceived(a);
    const QJsonObject track{{u"type"_s, u"presence"_s}, {u"event"_s, u"track"_s}, {u"payload"_s, QJsonObject{}}};
    QVERIFY(rt.push(a, kTopic, u"presence"_s, track).isOk());
    // The state first (the client applies no diff before it), then the diff with the join.
    QCOMPARE(summary(rt.takeReceived(a)),
             (QStringList{u"push presence_state"_s, u"broadcast presence_diff"_s, u"reply ok"_s}));
}

void tst_Realtime::badEventsAreAnsweredInJson()
{
    BehaviourHarness rt(builtinType(u"realtime"_s));
    const quint64 a = rt.connect();
    QVERIFY(rt.join(a, kTopic, config({})).isOk());
    QVERIFY(rt.pushBinary(a, kTopic, u"move"_s, "\x01\x02").reason().contains(u"binary"_s));
    QVERIFY(rt.push(a, kTopic, u"shout"_s).reason().contains(u"unknown event"_s));
    QVERIFY(rt.push(a, kTopic, u"presence"_s, QJsonObject{{u"event"_s, u"dance"_s}}).reason().contains(u"dance"_s));
    QVERIFY(rt.push(a, kTopic, u"access_token"_s, QJsonObject{{u"access_token"_s, u"t"_s}}).isOk());
    QCOMPARE(rt.push(a, u"realtime:other"_s, u"broadcast"_s).reason(), u"unmatched topic"_s);
}

void tst_Realtime::restBroadcast()
{
    BehaviourHarness rt(builtinType(u"realtime"_s));
    const quint64 a = rt.connect();
    QVERIFY(rt.join(a, kTopic, config({})).isOk());
    rt.takeReceived(a);
    HttpCall call;
    call.method = u"POST"_s;
    call.path = u"/broadcast"_s;
    call.contentType = "application/json";
    call.body =
        R"({"messages":[{"topic":"room","event":"e1","payload":{"n":1},"private":false},{"topic":"elsewhere","event":"e2","payload":{}}]})";
    QCOMPARE(rt.http(call).status, 202);
    const auto got = rt.takeReceived(a);
    QCOMPARE(summary(got), QStringList{u"broadcast broadcast"_s});
    QCOMPARE(got.first().json().toObject().value(u"event"_s), QJsonValue(u"e1"_s));

    call.path = u"/broadcast/room/events/raw"_s;
    call.contentType = "application/octet-stream";
    call.body = QByteArray("\x00\xff", 2);
    QCOMPARE(rt.http(call).status, 202);
    const auto raw = rt.takeReceived(a);
    QCOMPARE(raw.size(), 1);
    QCOMPARE(raw.first().payload.userBroadcast->payload, call.body);
    QVERIFY(!raw.first().payload.userBroadcast->json);

    for (const QByteArray &bad :
         {QByteArray("{}"), QByteArray(R"({"messages":[{"topic":1,"event":"e"}]})"), QByteArray("nope")}) {
        call.path = u"/broadcast"_s;
        call.body = bad;
        const HttpAnswer answer = rt.http(call);
        QCOMPARE(answer.status, 400);
        QVERIFY(QJsonDocument::fromJson(answer.body).object().contains(u"error"_s));
    }
    call.contentType = "application/json";
    call.path = u"/broadcast/room/events/x"_s;
    call.body = "{not json";
    QCOMPARE(rt.http(call).status, 400);
    call.path = u"/other"_s;
    QCOMPARE(rt.http(call).status, 404);
    call.method = u"GET"_s;
    QCOMPARE(rt.http(call).status, 405);
    QCOMPARE(rt.takeReceived(a).size(), 0);
}

QTEST_GUILESS_MAIN(tst_Realtime)
#include "tst_realtime.moc"
