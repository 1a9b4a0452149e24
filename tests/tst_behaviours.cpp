// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for the built-in instance types echo, chat, relay and chaos through the BehaviourHarness
// (each type taken from builtinBehaviourTypes(), as the app registers it), checked against what their
// header comments promise. tictactoe has its own file (tst_tictactoe.cpp). No sockets.

#include "behaviours/builtins.h"
#include "harnesstools.h"
#include "instance/behaviourharness.h"

#include <QJsonArray>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;
using Frame = BehaviourHarness::Frame;

namespace {

const QString kRoom = u"room:1"_s;

QJsonArray metas(const QJsonValue &presence, const QString &key)
{
    return presence[key][u"metas"_s].toArray();
}

} // namespace

class tst_Behaviours : public QObject
{
    Q_OBJECT

private slots:
    void allBuiltinsAreListed();

    void echoRepliesWithThePayload();
    void echoBinaryInBinaryOut();

    void chatJoinReplyAndGeneratedName();
    void chatNameValidation();
    void chatBroadcastsToEveryoneIncludingSender();
    void chatPresenceStateAfterJoin();
    void chatPresenceDiffOnJoinAndLeave();
    void chatPresenceUpdate();
    void chatPresenceOff();

    void relaySkipsTheSender();
    void relayBinary();

    void chaosCrash();
    void chaosFail();
    void chaosStall();
    void chaosStop();
    void chaosWhoami();
    void chaosJoinCrash();
    void chaosEchoesOtherEvents();
};

void tst_Behaviours::allBuiltinsAreListed()
{
    QStringList names;
    for (const BehaviourType &type : builtinBehaviourTypes()) {
        names.append(type.name);
        QVERIFY2(!type.description.isEmpty(), qPrintable(type.name + u" has no description"_s));
        BehaviourHarness harness(type);
        QVERIFY2(harness.isValid(), qPrintable(type.name + u": "_s + harness.error()));
    }
    QCOMPARE(names, (QStringList{u"echo"_s, u"chat"_s, u"relay"_s, u"tictactoe"_s, u"chaos"_s, u"realtime"_s}));
    QCOMPARE(builtinRegistry().names(), names);
}

void tst_Behaviours::echoRepliesWithThePayload()
{
    BehaviourHarness echo(builtinType(u"echo"_s));
    const quint64 a = echo.connect();
    QVERIFY(echo.join(a, u"anything:at-all"_s).isOk());
    const QJsonObject payload{{u"x"_s, 1}, {u"nested"_s, QJsonObject{{u"y"_s, QJsonArray{1, u"two"_s}}}}};
    const BehaviourHarness::Reply reply = echo.push(a, u"anything:at-all"_s, u"whatever"_s, payload);
    QVERIFY(reply.isOk());
    QCOMPARE(reply.json(), payload);
    // Non-object JSON comes back as it went.
    QCOMPARE(echo.push(a, u"anything:at-all"_s, u"n"_s, 42).response.json, QJsonValue(42));
    QCOMPARE(echo.received(a).size(), 3); // the join reply and two replies: nothing broadcast
}

void tst_Behaviours::echoBinaryInBinaryOut()
{
    BehaviourHarness echo(builtinType(u"echo"_s));
    const quint64 a = echo.connect();
    echo.join(a, kRoom);
    const QByteArray bytes("\x00\xff\x10payload", 10);
    const BehaviourHarness::Reply reply = echo.pushBinary(a, kRoom, u"bin"_s, bytes);
    QVERIFY(reply.isOk());
    QVERIFY2(reply.response.isBinary, "a binary push is answered in binary");
    QCOMPARE(reply.response.bytes, bytes);
}

void tst_Behaviours::chatJoinReplyAndGeneratedName()
{
    BehaviourHarness chat(builtinType(u"chat"_s));
    const quint64 a = chat.connect();
    const BehaviourHarness::Reply named = chat.join(a, kRoom, {{u"name"_s, u"  ann  "_s}});
    QVERIFY(named.isOk());
    QCOMPARE(named.json(), (QJsonObject{{u"name"_s, u"ann"_s}, {u"client_id"_s, QString::number(a)}}));

    const quint64 b = chat.connect();
    const BehaviourHarness::Reply anonymous = chat.join(b, kRoom);
    QCOMPARE(anonymous.json().value(u"name"_s).toString(), u"client-%1"_s.arg(b));
    QCOMPARE(chat.members(kRoom).at(1).assigns.value(u"name"_s).toString(), u"client-%1"_s.arg(b));
}

void tst_Behaviours::chatNameValidation()
{
    BehaviourHarness chat(builtinType(u"chat"_s));
    const quint64 a = chat.connect();
    const BehaviourHarness::Reply tooLong = chat.join(a, kRoom, {{u"name"_s, QString(65, u'n')}});
    QCOMPARE(tooLong.status, u"error"_s);
    QCOMPARE(tooLong.reason(), u"name is longer than 64 characters"_s);
    QVERIFY(chat.members(kRoom).isEmpty());
    QVERIFY2(chat.join(a, kRoom, {{u"name"_s, QString(64, u'n')}}).isOk(), "64 characters is the limit");
    // Surrounding spaces do not count.
    const quint64 b = chat.connect();
    QVERIFY(chat.join(b, kRoom, {{u"name"_s, QString(u"  "_s + QString(64, u'm') + u"  "_s)}}).isOk());
}

void tst_Behaviours::chatBroadcastsToEveryoneIncludingSender()
{
    BehaviourHarness chat(builtinType(u"chat"_s), {{u"presence"_s, false}});
    const quint64 a = chat.connect();
    const quint64 b = chat.connect();
    const quint64 other = chat.connect();
    chat.join(a, kRoom);
    chat.join(b, kRoom);
    chat.join(other, u"room:2"_s);
    chat.takeReceived(a);
    chat.takeReceived(b);
    chat.takeReceived(other);

    const QJsonObject message{{u"body"_s, u"hi"_s}};
    const BehaviourHarness::Reply reply = chat.push(a, kRoom, u"new_msg"_s, message);
    QVERIFY(reply.isOk());
    QVERIFY(reply.json().isEmpty());
    for (const quint64 id : {a, b}) {
        const std::optional<Frame> got = chat.lastReceived(id, kRoom, u"new_msg"_s);
        QVERIFY2(got.has_value(), qPrintable(u"client %1 missed the broadcast"_s.arg(id)));
        QCOMPARE(got->kind, Frame::Kind::Broadcast);
        QCOMPARE(got->json().toObject(), message);
    }
    QCOMPARE(summary(chat.takeReceived(a)), (QStringList{u"broadcast new_msg"_s, u"reply ok"_s}));
    QVERIFY2(chat.takeReceived(other).isEmpty(), "another topic hears nothing");
}

void tst_Behaviours::chatPresenceStateAfterJoin()
{
    BehaviourHarness chat(builtinType(u"chat"_s));
    const quint64 a = chat.connect();
    chat.join(a, kRoom, {{u"name"_s, u"ann"_s}});
    QCOMPARE(summary(chat.takeReceived(a)),
             (QStringList{u"reply ok"_s, u"broadcast presence_diff"_s, u"push presence_state"_s}));

    const quint64 b = chat.connect();
    chat.join(b, kRoom, {{u"name"_s, u"bob"_s}});
    const std::optional<Frame> state = chat.lastReceived(b, kRoom, u"presence_state"_s);
    QVERIFY(state.has_value());
    QCOMPARE(state->kind, Frame::Kind::Push);
    const QJsonObject list = state->json().toObject();
    QCOMPARE(list.keys(), (QStringList{u"ann"_s, u"bob"_s}));
    const QJsonObject bobMeta = metas(list, u"bob"_s).first().toObject();
    QCOMPARE(bobMeta.value(u"client_id"_s).toString(), QString::number(b));
    QVERIFY2(bobMeta.contains(u"online_at"_s) && bobMeta.contains(u"phx_ref"_s),
             "a chat meta carries online_at and phx_ref");
    QCOMPARE(list, chat.presence(kRoom));
    // The member already there gets the diff only: presence_state goes to the joining channel.
    QCOMPARE(summary(chat.takeReceived(a)), QStringList{u"broadcast presence_diff"_s});
}

void tst_Behaviours::chatPresenceDiffOnJoinAndLeave()
{
    BehaviourHarness chat(builtinType(u"chat"_s));
    const quint64 a = chat.connect();
    const quint64 b = chat.connect();
    chat.join(a, kRoom, {{u"name"_s, u"ann"_s}});
    chat.takeReceived(a);

    chat.join(b, kRoom, {{u"name"_s, u"bob"_s}});
    QList<Frame> frames = chat.takeReceived(a);
    QCOMPARE(summary(frames), QStringList{u"broadcast presence_diff"_s});
    QCOMPARE(frames.first().json()[u"joins"_s].toObject().keys(), QStringList{u"bob"_s});
    QVERIFY(frames.first().json()[u"leaves"_s].toObject().isEmpty());

    chat.leave(b, kRoom);
    frames = chat.takeReceived(a);
    QCOMPARE(summary(frames), QStringList{u"broadcast presence_diff"_s});
    QCOMPARE(frames.first().json()[u"leaves"_s].toObject().keys(), QStringList{u"bob"_s});
    QVERIFY(frames.first().json()[u"joins"_s].toObject().isEmpty());
    QCOMPARE(chat.presence(kRoom).keys(), QStringList{u"ann"_s});

    // Two connections with one name: two metas under one key; a disconnect removes one.
    const quint64 c = chat.connect();
    chat.join(b, kRoom, {{u"name"_s, u"ann"_s}});
    chat.join(c, kRoom, {{u"name"_s, u"cy"_s}});
    QCOMPARE(metas(chat.presence(kRoom), u"ann"_s).size(), 2);
    chat.takeReceived(c);
    chat.disconnect(b);
    QCOMPARE(metas(chat.presence(kRoom), u"ann"_s).size(), 1);
    QCOMPARE(summary(chat.takeReceived(c)), QStringList{u"broadcast presence_diff"_s});
}

void tst_Behaviours::chatPresenceUpdate()
{
    BehaviourHarness chat(builtinType(u"chat"_s));
    const quint64 a = chat.connect();
    const quint64 b = chat.connect();
    chat.join(a, kRoom, {{u"name"_s, u"ann"_s}});
    chat.join(b, kRoom, {{u"name"_s, u"bob"_s}});
    const QString oldRef = metas(chat.presence(kRoom), u"ann"_s).first()[u"phx_ref"_s].toString();
    chat.takeReceived(b);

    QVERIFY(chat.push(a, kRoom, u"presence_update"_s, QJsonObject{{u"status"_s, u"away"_s}}).isOk());
    const QList<Frame> frames = chat.takeReceived(b);
    QCOMPARE(summary(frames), QStringList{u"broadcast presence_diff"_s});
    const QJsonObject joined = metas(frames.first().json()[u"joins"_s], u"ann"_s).first().toObject();
    QCOMPARE(joined.value(u"status"_s).toString(), u"away"_s);
    QCOMPARE(joined.value(u"client_id"_s).toString(), QString::number(a)); // the server keeps client_id
    QCOMPARE(joined.value(u"phx_ref_prev"_s).toString(), oldRef);
    QCOMPARE(metas(frames.first().json()[u"leaves"_s], u"ann"_s).first()[u"phx_ref"_s].toString(), oldRef);
    QVERIFY2(!chat.lastReceived(b, kRoom, u"presence_update"_s).has_value(), "presence_update is not relayed");
}

void tst_Behaviours::chatPresenceOff()
{
    BehaviourHarness chat(builtinType(u"chat"_s), {{u"presence"_s, false}});
    QVERIFY2(chat.isValid(), qPrintable(chat.error()));
    const quint64 a = chat.connect();
    const quint64 b = chat.connect();
    chat.join(a, kRoom, {{u"name"_s, u"ann"_s}});
    chat.join(b, kRoom, {{u"name"_s, u"bob"_s}});
    chat.leave(b, kRoom);
    QCOMPARE(summary(chat.received(a)), QStringList{u"reply ok"_s});
    QVERIFY(chat.presence(kRoom).isEmpty());
    // Without presence, presence_update is an event like any other: broadcast.
    QVERIFY(chat.push(a, kRoom, u"presence_update"_s, QJsonObject{{u"status"_s, u"away"_s}}).isOk());
    QVERIFY(chat.lastReceived(a, kRoom, u"presence_update"_s).has_value());
    QVERIFY(chat.presence(kRoom).isEmpty());

    BehaviourHarness invalid(builtinType(u"chat"_s), {{u"presence"_s, u"sometimes"_s}});
    QVERIFY2(!invalid.isValid() && invalid.error().contains(u"presence"_s), qPrintable(invalid.error()));
}

void tst_Behaviours::relaySkipsTheSender()
{
    BehaviourHarness relay(builtinType(u"relay"_s));
    const quint64 a = relay.connect();
    const quint64 b = relay.connect();
    const quint64 c = relay.connect();
    for (const quint64 id : {a, b, c}) {
        relay.join(id, kRoom);
    }
    for (const quint64 id : {a, b, c}) {
        relay.takeReceived(id);
    }
    const QJsonObject position{{u"x"_s, 3}, {u"y"_s, 4}};
    QVERIFY(relay.push(a, kRoom, u"pos"_s, position).isOk());
    QCOMPARE(summary(relay.takeReceived(a)), QStringList{u"reply ok"_s});
    for (const quint64 id : {b, c}) {
        const QList<Frame> frames = relay.takeReceived(id);
        QCOMPARE(summary(frames), QStringList{u"broadcast pos"_s});
        QCOMPARE(frames.first().json().toObject(), position);
    }
}

void tst_Behaviours::relayBinary()
{
    BehaviourHarness relay(builtinType(u"relay"_s), {{u"presence"_s, false}});
    const quint64 a = relay.connect();
    const quint64 b = relay.connect();
    relay.join(a, kRoom);
    relay.join(b, kRoom);
    relay.takeReceived(a);
    relay.takeReceived(b);
    const QByteArray bytes("\x01\x02\x03\x00\x04", 5);
    QVERIFY(relay.pushBinary(b, kRoom, u"frame"_s, bytes).isOk());
    const QList<Frame> frames = relay.takeReceived(a);
    QCOMPARE(summary(frames), QStringList{u"broadcast frame"_s});
    QVERIFY(frames.first().payload.isBinary);
    QCOMPARE(frames.first().payload.bytes, bytes);
    QCOMPARE(summary(relay.takeReceived(b)), QStringList{u"reply ok"_s});
}

void tst_Behaviours::chaosCrash()
{
    BehaviourHarness chaos(builtinType(u"chaos"_s));
    const quint64 a = chaos.connect();
    chaos.join(a, kRoom);
    chaos.takeReceived(a);
    QVERIFY(!chaos.push(a, kRoom, u"crash"_s).received);
    const QList<Frame> frames = chaos.takeReceived(a);
    QCOMPARE(summary(frames), QStringList{u"control phx_error"_s});
    QCOMPARE(frames.first().json()[u"reason"_s].toString(), u"channel_crash"_s);
    QCOMPARE(chaos.crashes(), 1);
    QVERIFY(chaos.members(kRoom).isEmpty());
    QVERIFY2(chaos.join(a, kRoom).isOk(), "the client may rejoin after a crash");
}

void tst_Behaviours::chaosFail()
{
    BehaviourHarness chaos(builtinType(u"chaos"_s));
    const quint64 a = chaos.connect();
    chaos.join(a, kRoom);
    QVERIFY(chaos.push(a, kRoom, u"fail"_s, QJsonObject{{u"reason"_s, u"disk on fire"_s}}).isOk());
    QCOMPARE(chaos.faults(), QStringList{u"disk on fire"_s});
    QVERIFY(chaos.push(a, kRoom, u"fail"_s).isOk());
    QCOMPARE(chaos.faults().last(), u"chaos: fail requested"_s);
    QCOMPARE(chaos.crashes(), 0);
}

void tst_Behaviours::chaosStall()
{
    BehaviourHarness chaos(builtinType(u"chaos"_s));
    const quint64 a = chaos.connect();
    chaos.join(a, kRoom);
    QCOMPARE(chaos.push(a, kRoom, u"stall"_s, QJsonObject{{u"ms"_s, 5}}).json(), (QJsonObject{{u"stalled_ms"_s, 5}}));
    QCOMPARE(chaos.push(a, kRoom, u"stall"_s, QJsonObject{{u"ms"_s, 999999}}).json().value(u"stalled_ms"_s).toInt(),
             60000);
    QCOMPARE(chaos.push(a, kRoom, u"stall"_s).json().value(u"stalled_ms"_s).toInt(), 1000);
    QCOMPARE(chaos.faults(), (QStringList{u"stall 5 ms"_s, u"stall 60000 ms"_s, u"stall 1000 ms"_s}));
}

void tst_Behaviours::chaosStop()
{
    BehaviourHarness chaos(builtinType(u"chaos"_s));
    const quint64 a = chaos.connect();
    chaos.join(a, kRoom);
    chaos.takeReceived(a);
    QVERIFY(chaos.push(a, kRoom, u"stop"_s).isOk());
    QCOMPARE(summary(chaos.takeReceived(a)), (QStringList{u"reply ok"_s, u"control phx_close"_s}));
    QVERIFY(chaos.members(kRoom).isEmpty());
    QCOMPARE(chaos.crashes(), 0);
}

void tst_Behaviours::chaosWhoami()
{
    BehaviourHarness chaos(builtinType(u"chaos"_s));
    const quint64 a = chaos.connect({{u"user"_s, u"ann"_s}}, u"tok-123"_s);
    chaos.join(a, kRoom);
    const QJsonObject who = chaos.push(a, kRoom, u"whoami"_s).json();
    QCOMPARE(who.value(u"client_id"_s).toString(), QString::number(a));
    QCOMPARE(who.value(u"params"_s).toObject(), (QJsonObject{{u"user"_s, u"ann"_s}, {u"vsn"_s, u"2.0.0"_s}}));
    QCOMPARE(who.value(u"auth_token"_s).toString(), u"tok-123"_s);
    QCOMPARE(who.value(u"remote_address"_s).toString(), u"127.0.0.1"_s);
    QCOMPARE(who.value(u"wire_format"_s).toString(), u"V2"_s);
}

void tst_Behaviours::chaosJoinCrash()
{
    BehaviourHarness chaos(builtinType(u"chaos"_s));
    const quint64 a = chaos.connect();
    const BehaviourHarness::Reply reply = chaos.join(a, kRoom, {{u"crash"_s, true}});
    QCOMPARE(reply.status, u"error"_s);
    QCOMPARE(reply.reason(), u"join crashed"_s);
    QCOMPARE(chaos.crashes(), 1);
    QVERIFY(chaos.members(kRoom).isEmpty());
    QVERIFY(chaos.join(a, kRoom, {{u"crash"_s, false}}).isOk());
}

void tst_Behaviours::chaosEchoesOtherEvents()
{
    BehaviourHarness chaos(builtinType(u"chaos"_s));
    const quint64 a = chaos.connect();
    chaos.join(a, kRoom);
    const QJsonObject payload{{u"anything"_s, u"else"_s}};
    QCOMPARE(chaos.push(a, kRoom, u"ping"_s, payload).json(), payload);
    const BehaviourHarness::Reply binary = chaos.pushBinary(a, kRoom, u"ping"_s, QByteArray("\x07", 1));
    QVERIFY(binary.isOk() && binary.response.isBinary);
    QCOMPARE(binary.response.bytes, QByteArray("\x07", 1));
}

QTEST_GUILESS_MAIN(tst_Behaviours)
#include "tst_behaviours.moc"
