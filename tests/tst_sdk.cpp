// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for the instance-type SDK's channel rules (behaviour.h) through the BehaviourHarness, with a
// probe type whose callbacks the tests script: every row of the validity table (a misplaced call is
// ignored with a warning naming the call and the callback), one reply per message, the lifecycle order,
// crashes in join and handleIn and duplicate joins. Timers, pushTo, kick, members, the limits and option
// validation are in tst_sdk_instance.cpp. No sockets.

#include "harnesstools.h"
#include "instance/behaviourharness.h"
#include "probebehaviour.h"

#include <QTest>

#include <stdexcept>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;
using Frame = BehaviourHarness::Frame;

namespace {

const QString kRoom = u"room"_s;

// One call of the validity table made by `actor` in one callback, with an observer already on the topic.
struct Scene {
    std::shared_ptr<ProbeHooks> hooks = std::make_shared<ProbeHooks>();
    std::unique_ptr<BehaviourHarness> harness;
    quint64 observer = 0;
    quint64 actor = 0;
    BehaviourHarness::Reply reply; // to the message that ran the callback (join, push "go" or leave)
    QList<Frame> actorFrames;      // what the actor got from that message on
    QList<Frame> observerFrames;
};

std::unique_ptr<Scene> runIn(const QString &phase, const std::function<void(ChannelContext &)> &action)
{
    auto scene = std::make_unique<Scene>();
    scene->harness = std::make_unique<BehaviourHarness>(probeType(scene->hooks));
    BehaviourHarness &harness = *scene->harness;
    scene->observer = harness.connect();
    harness.join(scene->observer, kRoom);
    scene->actor = harness.connect();
    const auto mine = [actor = scene->actor, action](ChannelContext &channel) {
        if (channel.clientId() == actor) {
            action(channel);
        }
    };
    ProbeHooks &hooks = *scene->hooks;
    if (phase == u"join") {
        hooks.join = [mine](ChannelContext &channel, const QJsonValue &) {
            mine(channel);
            return JoinResult::accept();
        };
    } else if (phase == u"afterJoin") {
        hooks.afterJoin = mine;
    } else if (phase == u"handleIn") {
        hooks.handleIn = [mine](ChannelContext &channel, const QString &, const Payload &) {
            mine(channel);
        };
    } else if (phase == u"leave") {
        hooks.leave = [mine](ChannelContext &channel, LeaveReason) {
            mine(channel);
        };
    }
    harness.takeReceived(scene->observer);
    if (phase == u"join" || phase == u"afterJoin") {
        scene->reply = harness.join(scene->actor, kRoom);
    } else {
        harness.join(scene->actor, kRoom);
        harness.takeReceived(scene->actor);
        harness.takeReceived(scene->observer);
        scene->reply =
            phase == u"handleIn" ? harness.push(scene->actor, kRoom, u"go"_s) : harness.leave(scene->actor, kRoom);
    }
    scene->actorFrames = harness.takeReceived(scene->actor);
    scene->observerFrames = harness.takeReceived(scene->observer);
    return scene;
}

const QStringList kPhases{u"join"_s, u"afterJoin"_s, u"handleIn"_s, u"leave"_s};

} // namespace

class tst_Sdk : public QObject
{
    Q_OBJECT

private slots:
    void validityTable_data();
    void validityTable();
    void replyOnlyInHandleIn();
    void secondReplyIsIgnored();
    void replyErrorShape();
    void pushInJoinArrivesAfterJoinReply();
    void pushInLeaveIsDropped();
    void broadcastInJoinSkipsTheJoiningChannel();
    void broadcastFromSkipsTheSender();
    void broadcastInLeaveReachesTheOthers();
    void stopInAfterJoinClosesTheChannel();
    void stopInHandleInClosesTheChannel();
    void stopInJoinIsIgnored();
    void presenceRefusedInJoinWorksInAfterJoin();
    void presenceUntrackedOnLeave();
    void assignsLiveWithTheChannel();
    void connectInfoReachesEveryCallback();

    void lifecycleOrder();
    void topicStartedRunsBeforeTheJoinReply();
    void refusedJoinStartsNoTopic();
    void joinThatThrowsRepliesJoinCrashed();
    void handleInThatThrowsCrashesOnlyThatChannel();
    void duplicateJoinReplacesTheChannel();
    void duplicateJoinOfTheOnlyMemberKeepsTheTopic();
    void unjoinedTopicIsUnmatched();
};

void tst_Sdk::validityTable_data()
{
    QTest::addColumn<QString>("call");
    QTest::addColumn<QString>("phase");
    QTest::addColumn<bool>("valid");
    // The table in behaviour.h, row by row: join, afterJoin, handleIn, leave.
    const QList<std::pair<QString, QList<bool>>> table{
        {u"topic"_s, {true, true, true, true}},
        {u"assigns"_s, {true, true, true, true}},
        {u"reply"_s, {false, false, true, false}},
        {u"push"_s, {true, true, true, false}},
        {u"broadcast"_s, {true, true, true, true}},
        {u"broadcastFrom"_s, {true, true, true, true}},
        {u"stop"_s, {false, true, true, false}},
        {u"trackPresence"_s, {false, true, true, false}},
        {u"updatePresence"_s, {false, true, true, false}},
        {u"untrackPresence"_s, {false, true, true, false}},
        {u"instance"_s, {true, true, true, true}},
    };
    for (const auto &[call, valid] : table) {
        for (qsizetype i = 0; i < kPhases.size(); ++i) {
            QTest::addRow("%s in %s", qPrintable(call), qPrintable(kPhases.at(i)))
                << call << kPhases.at(i) << valid.at(i);
        }
    }
}

void tst_Sdk::validityTable()
{
    QFETCH(QString, call);
    QFETCH(QString, phase);
    QFETCH(bool, valid);

    const QHash<QString, std::function<void(ChannelContext &)>> calls{
        {u"topic"_s,
         [](ChannelContext &c) {
             c.assigns().insert(u"t"_s, QString(c.topic() + QString::number(c.clientId())));
         }},
        {u"assigns"_s,
         [](ChannelContext &c) {
             c.assigns().insert(u"k"_s, 1);
         }},
        {u"reply"_s,
         [](ChannelContext &c) {
             c.replyOk(QJsonObject{{u"from"_s, u"action"_s}});
         }},
        {u"push"_s,
         [](ChannelContext &c) {
             c.push(u"pushed"_s, Payload::fromJson(QJsonObject{}));
         }},
        {u"broadcast"_s,
         [](ChannelContext &c) {
             c.broadcast(u"news"_s, Payload::fromJson(QJsonObject{}));
         }},
        {u"broadcastFrom"_s,
         [](ChannelContext &c) {
             c.broadcastFrom(u"news"_s, Payload::fromJson(QJsonObject{}));
         }},
        {u"stop"_s,
         [](ChannelContext &c) {
             c.stop();
         }},
        {u"trackPresence"_s,
         [](ChannelContext &c) {
             c.trackPresence(u"key"_s, {});
         }},
        {u"updatePresence"_s,
         [](ChannelContext &c) {
             c.updatePresence({});
         }},
        {u"untrackPresence"_s,
         [](ChannelContext &c) {
             c.untrackPresence();
         }},
        {u"instance"_s,
         [](ChannelContext &c) {
             c.instance().members(c.topic());
         }},
    };
    QVERIFY2(calls.contains(call), qPrintable(u"no action for "_s + call));
    const auto scene = runIn(phase, calls.value(call));
    const QStringList warnings = scene->harness->warnings();
    if (valid) {
        QVERIFY2(warnings.isEmpty(), qPrintable(u"unexpected warnings: "_s + warnings.join(u" | ")));
        return;
    }
    QCOMPARE(warnings.size(), 1);
    const QString &warning = warnings.first();
    QVERIFY2(warning.contains(call + u"()"_s) && warning.contains(u"in "_s + phase),
             qPrintable(u"the warning must name %1() and %2: "_s.arg(call, phase) + warning));
    QCOMPARE(scene->harness->crashes(), 0);
}

void tst_Sdk::replyOnlyInHandleIn()
{
    // In join: the join's reply is the JoinResult's, whatever replyOk said.
    auto scene = runIn(u"join"_s, [](ChannelContext &c) { c.replyOk(QJsonObject{{u"from"_s, u"action"_s}}); });
    QVERIFY(scene->reply.isOk());
    QVERIFY2(scene->reply.json().isEmpty(), "replyOk in join must not answer the join");
    QCOMPARE(summary(scene->actorFrames), QStringList{u"reply ok"_s});

    // In leave: the leave is answered ok by the engine, the type's reply is dropped.
    scene = runIn(u"leave"_s, [](ChannelContext &c) { c.replyError(u"nope"_s); });
    QVERIFY2(scene->reply.isOk(), "the phx_leave reply is the engine's ok");
    QCOMPARE(summary(scene->actorFrames), (QStringList{u"reply ok"_s, u"control phx_close"_s}));
    QVERIFY2(scene->harness->warnings().value(0).contains(u"leave"_s), "the warning names the callback");

    // In handleIn it is the answer.
    scene = runIn(u"handleIn"_s, [](ChannelContext &c) { c.replyOk(QJsonObject{{u"from"_s, u"action"_s}}); });
    QVERIFY(scene->reply.isOk());
    QCOMPARE(scene->reply.json().value(u"from"_s).toString(), u"action"_s);
}

void tst_Sdk::secondReplyIsIgnored()
{
    const auto scene = runIn(u"handleIn"_s, [](ChannelContext &c) {
        c.replyOk(QJsonObject{{u"n"_s, 1}});
        c.replyError(u"too late"_s);
    });
    QVERIFY2(scene->reply.isOk(), "the first reply wins");
    QCOMPARE(scene->reply.json().value(u"n"_s).toInt(), 1);
    QCOMPARE(summary(scene->actorFrames), QStringList{u"reply ok"_s});
    QCOMPARE(scene->harness->warnings().size(), 1);
    QVERIFY2(scene->harness->warnings().first().contains(u"second reply"_s),
             qPrintable(scene->harness->warnings().first()));
}

void tst_Sdk::replyErrorShape()
{
    const auto scene = runIn(u"handleIn"_s, [](ChannelContext &c) { c.replyError(u"bad move"_s); });
    QCOMPARE(scene->reply.status, u"error"_s);
    QCOMPARE(scene->reply.json(), (QJsonObject{{u"reason"_s, u"bad move"_s}}));
    QCOMPARE(scene->reply.reason(), u"bad move"_s);
}

void tst_Sdk::pushInJoinArrivesAfterJoinReply()
{
    const auto scene = runIn(u"join"_s, [](ChannelContext &c) {
        c.push(u"first"_s, Payload::fromJson(QJsonObject{{u"n"_s, 1}}));
        c.push(u"second"_s, Payload::fromJson(QJsonObject{{u"n"_s, 2}}));
    });
    QVERIFY(scene->reply.isOk());
    QCOMPARE(summary(scene->actorFrames), (QStringList{u"reply ok"_s, u"push first"_s, u"push second"_s}));
    QCOMPARE(scene->actorFrames.at(2).json().toObject().value(u"n"_s).toInt(), 2);
    QVERIFY2(scene->observerFrames.isEmpty(), "a push goes to its channel only");

    // A refused join sends none of its pushes.
    BehaviourHarness &harness = *scene->harness;
    scene->hooks->join = [](ChannelContext &c, const QJsonValue &) {
        c.push(u"lost"_s, Payload::fromJson(QJsonObject{}));
        return JoinResult::refuse(u"no"_s);
    };
    const quint64 late = harness.connect();
    QCOMPARE(harness.join(late, kRoom).reason(), u"no"_s);
    QCOMPARE(summary(harness.received(late)), QStringList{u"reply error"_s});
}

void tst_Sdk::pushInLeaveIsDropped()
{
    const auto scene = runIn(u"leave"_s, [](ChannelContext &c) { c.push(u"bye"_s, Payload::fromJson(QJsonObject{})); });
    QVERIFY2(!summary(scene->actorFrames).contains(u"push bye"_s), "push in leave must not be sent");
}

void tst_Sdk::broadcastInJoinSkipsTheJoiningChannel()
{
    const auto scene =
        runIn(u"join"_s, [](ChannelContext &c) { c.broadcast(u"news"_s, Payload::fromJson(QJsonObject{})); });
    QCOMPARE(summary(scene->observerFrames), QStringList{u"broadcast news"_s});
    QCOMPARE(summary(scene->actorFrames), QStringList{u"reply ok"_s});
}

void tst_Sdk::broadcastFromSkipsTheSender()
{
    auto scene =
        runIn(u"handleIn"_s, [](ChannelContext &c) { c.broadcastFrom(u"news"_s, Payload::fromJson(QJsonObject{})); });
    QCOMPARE(summary(scene->observerFrames), QStringList{u"broadcast news"_s});
    QVERIFY2(scene->actorFrames.isEmpty(), qPrintable(summary(scene->actorFrames).join(u", ")));

    scene = runIn(u"handleIn"_s, [](ChannelContext &c) { c.broadcast(u"news"_s, Payload::fromJson(QJsonObject{})); });
    QCOMPARE(summary(scene->observerFrames), QStringList{u"broadcast news"_s});
    QCOMPARE(summary(scene->actorFrames), QStringList{u"broadcast news"_s});
}

void tst_Sdk::broadcastInLeaveReachesTheOthers()
{
    for (const QString &call : {u"broadcast"_s, u"broadcastFrom"_s}) {
        const auto scene = runIn(u"leave"_s, [call](ChannelContext &c) {
            const Payload payload = Payload::fromJson(QJsonObject{{u"left"_s, QString::number(c.clientId())}});
            call == u"broadcast" ? c.broadcast(u"gone"_s, payload) : c.broadcastFrom(u"gone"_s, payload);
        });
        QCOMPARE(summary(scene->observerFrames), QStringList{u"broadcast gone"_s});
        QCOMPARE(scene->observerFrames.first().json().toObject().value(u"left"_s).toString(),
                 QString::number(scene->actor));
    }
}

void tst_Sdk::stopInAfterJoinClosesTheChannel()
{
    const auto scene = runIn(u"afterJoin"_s, [](ChannelContext &c) { c.stop(); });
    QVERIFY2(scene->reply.isOk(), "the join itself succeeded");
    QCOMPARE(summary(scene->actorFrames), (QStringList{u"reply ok"_s, u"control phx_close"_s}));
    QCOMPARE(scene->harness->members(kRoom).size(), 1);
    QCOMPARE(scene->harness->members(kRoom).first().clientId, scene->observer);
    QCOMPARE(scene->hooks->log.last(), u"leave room %1 Stopped"_s.arg(scene->actor));
}

void tst_Sdk::stopInHandleInClosesTheChannel()
{
    const auto scene = runIn(u"handleIn"_s, [](ChannelContext &c) {
        c.replyOk();
        c.stop();
    });
    QVERIFY(scene->reply.isOk());
    QCOMPARE(summary(scene->actorFrames), (QStringList{u"reply ok"_s, u"control phx_close"_s}));
    QCOMPARE(scene->harness->members(kRoom).size(), 1);
    QCOMPARE(scene->hooks->log.last(), u"leave room %1 Stopped"_s.arg(scene->actor));
    // The stopped channel is gone: a later push is unmatched.
    QCOMPARE(scene->harness->push(scene->actor, kRoom, u"go"_s).reason(), u"unmatched topic"_s);
}

void tst_Sdk::stopInJoinIsIgnored()
{
    const auto scene = runIn(u"join"_s, [](ChannelContext &c) { c.stop(); });
    QVERIFY(scene->reply.isOk());
    QCOMPARE(summary(scene->actorFrames), QStringList{u"reply ok"_s});
    QCOMPARE(scene->harness->members(kRoom).size(), 2);
}

void tst_Sdk::presenceRefusedInJoinWorksInAfterJoin()
{
    auto scene = runIn(u"join"_s, [](ChannelContext &c) { c.trackPresence(u"ann"_s, {}); });
    QVERIFY(scene->reply.isOk());
    QVERIFY2(scene->harness->presence(kRoom).isEmpty(), "trackPresence in join must not track");
    QVERIFY(scene->observerFrames.isEmpty());

    scene = runIn(u"afterJoin"_s, [](ChannelContext &c) { c.trackPresence(u"ann"_s, {{u"status"_s, u"here"_s}}); });
    const QJsonObject presence = scene->harness->presence(kRoom);
    QCOMPARE(presence.keys(), QStringList{u"ann"_s});
    const QJsonObject meta = presence.value(u"ann"_s)[u"metas"_s][0].toObject();
    QCOMPARE(meta.value(u"status"_s).toString(), u"here"_s);
    QVERIFY2(!meta.value(u"phx_ref"_s).toString().isEmpty(), "the meta carries its phx_ref");
    // The diff goes to every member, the tracking channel included.
    QCOMPARE(summary(scene->observerFrames), QStringList{u"broadcast presence_diff"_s});
    QCOMPARE(summary(scene->actorFrames), (QStringList{u"reply ok"_s, u"broadcast presence_diff"_s}));
    QCOMPARE(scene->observerFrames.first().json()[u"joins"_s][u"ann"_s][u"metas"_s][0].toObject(), meta);
}

void tst_Sdk::presenceUntrackedOnLeave()
{
    auto hooks = std::make_shared<ProbeHooks>();
    hooks->afterJoin = [](ChannelContext &c) {
        c.trackPresence(u"user%1"_s.arg(c.clientId()), {});
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    const quint64 b = harness.connect();
    harness.join(a, kRoom);
    harness.join(b, kRoom);
    QCOMPARE(harness.presence(kRoom).size(), 2);
    harness.takeReceived(a);

    harness.leave(b, kRoom);
    QCOMPARE(harness.presence(kRoom).keys(), QStringList{u"user%1"_s.arg(a)});
    const std::optional<Frame> diff = harness.lastReceived(a, kRoom, u"presence_diff"_s);
    QVERIFY2(diff.has_value(), "the leave must broadcast a presence_diff");
    QVERIFY(diff->json()[u"leaves"_s].toObject().contains(u"user%1"_s.arg(b)));

    harness.disconnect(a);
    QVERIFY2(harness.presence(kRoom).isEmpty(), "a disconnect untracks too");
    QVERIFY(harness.warnings().isEmpty());
}

void tst_Sdk::assignsLiveWithTheChannel()
{
    auto hooks = std::make_shared<ProbeHooks>();
    QVariantMap seenInLeave;
    hooks->join = [](ChannelContext &c, const QJsonValue &params) {
        c.assigns().insert(u"name"_s, params[u"name"_s].toString());
        return JoinResult::accept();
    };
    hooks->handleIn = [](ChannelContext &c, const QString &, const Payload &) {
        c.assigns()[u"count"_s] = c.assigns().value(u"count"_s).toInt() + 1;
        c.replyOk(QJsonObject{{u"count"_s, c.assigns().value(u"count"_s).toInt()}});
    };
    hooks->leave = [&](ChannelContext &c, LeaveReason) {
        seenInLeave = c.assigns();
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    harness.join(a, kRoom, {{u"name"_s, u"ann"_s}});
    harness.join(a, u"other"_s, {{u"name"_s, u"elsewhere"_s}});
    harness.push(a, kRoom, u"x"_s);
    QCOMPARE(harness.push(a, kRoom, u"x"_s).json().value(u"count"_s).toInt(), 2);
    QCOMPARE(harness.push(a, u"other"_s, u"x"_s).json().value(u"count"_s).toInt(), 1); // per channel
    QCOMPARE(harness.members(kRoom).first().assigns.value(u"name"_s).toString(), u"ann"_s);

    harness.leave(a, kRoom);
    QCOMPARE(seenInLeave.value(u"count"_s).toInt(), 2);
    // A new join starts from empty assigns.
    harness.join(a, kRoom, {{u"name"_s, u"ann"_s}});
    QCOMPARE(harness.push(a, kRoom, u"x"_s).json().value(u"count"_s).toInt(), 1);
}

void tst_Sdk::connectInfoReachesEveryCallback()
{
    auto hooks = std::make_shared<ProbeHooks>();
    QStringList seen;
    const auto record = [&](ChannelContext &c) {
        seen.append(u"%1 %2 %3"_s.arg(c.connectInfo().clientId)
                        .arg(c.connectInfo().params[u"user"_s].toString(), c.connectInfo().authToken));
    };
    hooks->join = [&](ChannelContext &c, const QJsonValue &) {
        record(c);
        return JoinResult::accept();
    };
    hooks->afterJoin = record;
    hooks->handleIn = [&](ChannelContext &c, const QString &, const Payload &) {
        record(c);
    };
    hooks->leave = [&](ChannelContext &c, LeaveReason) {
        record(c);
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect({{u"user"_s, u"ann"_s}}, u"secret"_s);
    harness.join(a, kRoom);
    harness.push(a, kRoom, u"x"_s);
    harness.leave(a, kRoom);
    const QString expected = u"%1 ann secret"_s.arg(a);
    QCOMPARE(seen, (QStringList{expected, expected, expected, expected}));
}

void tst_Sdk::lifecycleOrder()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    QVERIFY2(harness.isValid(), qPrintable(harness.error()));
    QCOMPARE(hooks->log, QStringList{u"instanceStarted"_s});

    const quint64 a = harness.connect();
    const quint64 b = harness.connect();
    harness.join(a, kRoom);
    harness.join(b, kRoom);
    harness.push(b, kRoom, u"ping"_s);
    harness.leave(a, kRoom); // not the last member: no topicEmpty
    harness.disconnect(b);   // the last one: topicEmpty
    harness.join(a, kRoom);  // the topic starts again
    harness.leave(a, kRoom);
    const QStringList expected{
        u"instanceStarted"_s,
        u"join room %1"_s.arg(a),
        u"topicStarted room"_s,
        u"afterJoin room %1"_s.arg(a),
        u"join room %1"_s.arg(b),
        u"afterJoin room %1"_s.arg(b),
        u"handleIn room %1 ping"_s.arg(b),
        u"leave room %1 Left"_s.arg(a),
        u"leave room %1 Disconnected"_s.arg(b),
        u"topicEmpty room"_s,
        u"join room %1"_s.arg(a),
        u"topicStarted room"_s,
        u"afterJoin room %1"_s.arg(a),
        u"leave room %1 Left"_s.arg(a),
        u"topicEmpty room"_s,
    };
    QCOMPARE(hooks->log, expected);
}

void tst_Sdk::topicStartedRunsBeforeTheJoinReply()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    qsizetype framesAtTopicStart = -1;
    QList<Member> membersAtTopicStart;
    hooks->topicStarted = [&](InstanceContext &instance, const QString &topic) {
        framesAtTopicStart = harness.received(a).size();
        membersAtTopicStart = instance.members(topic);
    };
    QVERIFY(harness.join(a, kRoom).isOk());
    QCOMPARE(framesAtTopicStart, 0);
    QCOMPARE(membersAtTopicStart.size(), 1); // the joining channel is already a member there
    QCOMPARE(membersAtTopicStart.first().clientId, a);
}

void tst_Sdk::refusedJoinStartsNoTopic()
{
    auto hooks = std::make_shared<ProbeHooks>();
    hooks->join = [](ChannelContext &c, const QJsonValue &) {
        c.assigns().insert(u"lost"_s, true);
        return JoinResult::refuse(u"closed room"_s);
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    const BehaviourHarness::Reply reply = harness.join(a, kRoom);
    QCOMPARE(reply.status, u"error"_s);
    QCOMPARE(reply.json(), (QJsonObject{{u"reason"_s, u"closed room"_s}}));
    QCOMPARE(hooks->log, (QStringList{u"instanceStarted"_s, u"join room %1"_s.arg(a)}));
    QVERIFY(harness.members(kRoom).isEmpty());
    QCOMPARE(harness.crashes(), 0);
}

void tst_Sdk::joinThatThrowsRepliesJoinCrashed()
{
    auto hooks = std::make_shared<ProbeHooks>();
    hooks->join = [](ChannelContext &, const QJsonValue &) -> JoinResult {
        throw std::runtime_error("boom in join");
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    const BehaviourHarness::Reply reply = harness.join(a, kRoom);
    QCOMPARE(reply.status, u"error"_s);
    QCOMPARE(reply.reason(), u"join crashed"_s);
    QCOMPARE(harness.crashes(), 1);
    QVERIFY2(harness.warnings().join(u'\n').contains(u"boom in join"_s), qPrintable(harness.warnings().join(u'\n')));
    QVERIFY(harness.members(kRoom).isEmpty());
    QVERIFY2(!hooks->log.contains(u"topicStarted room"_s), "a crashed join starts no topic");
}

void tst_Sdk::handleInThatThrowsCrashesOnlyThatChannel()
{
    auto hooks = std::make_shared<ProbeHooks>();
    hooks->handleIn = [](ChannelContext &c, const QString &event, const Payload &) {
        if (event == u"boom") {
            throw std::runtime_error("boom in handleIn");
        }
        c.replyOk();
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    const quint64 b = harness.connect();
    harness.join(a, kRoom);
    harness.join(a, u"other"_s);
    harness.join(b, kRoom);
    harness.takeReceived(a);

    const BehaviourHarness::Reply reply = harness.push(a, kRoom, u"boom"_s);
    QVERIFY2(!reply.received, "a crashed handler sends no reply");
    const QList<Frame> frames = harness.takeReceived(a);
    QCOMPARE(summary(frames), QStringList{u"control phx_error"_s});
    QCOMPARE(frames.first().json().toObject(), (QJsonObject{{u"reason"_s, u"channel_crash"_s}}));
    QCOMPARE(harness.crashes(), 1);
    QCOMPARE(hooks->log.last(), u"leave room %1 Crashed"_s.arg(a));
    QCOMPARE(harness.members(kRoom).size(), 1);
    QCOMPARE(harness.members(kRoom).first().clientId, b);
    // The client's other channel and the other client are untouched.
    QVERIFY(harness.push(a, u"other"_s, u"ok"_s).isOk());
    QVERIFY(harness.push(b, kRoom, u"ok"_s).isOk());
    QVERIFY(!harness.isClosed(a));
}

void tst_Sdk::duplicateJoinReplacesTheChannel()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    const quint64 b = harness.connect();
    harness.join(b, kRoom);
    harness.join(a, kRoom, {{u"n"_s, 1}});
    harness.takeReceived(a);
    hooks->log.clear();

    QVERIFY(harness.join(a, kRoom, {{u"n"_s, 2}}).isOk());
    // Phoenix order: the old channel leaves, the new join is answered, then the old join_ref is closed.
    QCOMPARE(hooks->log, (QStringList{u"leave room %1 DuplicateJoin"_s.arg(a), u"join room %1"_s.arg(a),
                                      u"afterJoin room %1"_s.arg(a)}));
    QCOMPARE(summary(harness.takeReceived(a)), (QStringList{u"reply ok"_s, u"control phx_close"_s}));
    QCOMPARE(harness.members(kRoom).size(), 2);
    QVERIFY2(harness.push(a, kRoom, u"x"_s).isOk(), "the new channel is the live one");

    harness.takeReceived(a);

    // Refused duplicate: the old channel is gone all the same, and still closed after the reply.
    hooks->join = [](ChannelContext &, const QJsonValue &) {
        return JoinResult::refuse(u"no"_s);
    };
    QCOMPARE(harness.join(a, kRoom).reason(), u"no"_s);
    QCOMPARE(summary(harness.takeReceived(a)), (QStringList{u"reply error"_s, u"control phx_close"_s}));
    QCOMPARE(harness.members(kRoom).size(), 1);
}

void tst_Sdk::duplicateJoinOfTheOnlyMemberKeepsTheTopic()
{
    // The replacing channel inherits the topic: no topicEmpty/topicStarted in between, timers kept.
    auto hooks = std::make_shared<ProbeHooks>();
    int fired = 0;
    hooks->topicStarted = [&fired](InstanceContext &instance, const QString &topic) {
        instance.after(
            100, [&fired](InstanceContext &) { ++fired; }, topic);
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    harness.join(a, kRoom);
    const QJsonValue oldJoinRef = harness.received(a).last().joinRef;
    hooks->log.clear();
    QVERIFY(harness.join(a, kRoom).isOk());
    QCOMPARE(hooks->log, (QStringList{u"leave room %1 DuplicateJoin"_s.arg(a), u"join room %1"_s.arg(a),
                                      u"afterJoin room %1"_s.arg(a)}));
    // The old channel is closed on its own join_ref (protocol 4.7).
    const auto close = harness.lastReceived(a, kRoom, u"phx_close"_s);
    QVERIFY(close);
    QCOMPARE(close->joinRef, oldJoinRef);
    harness.advance(100);
    QCOMPARE(fired, 1);

    // A refused duplicate join of the only member does end the topic.
    hooks->join = [](ChannelContext &, const QJsonValue &) {
        return JoinResult::refuse(u"no"_s);
    };
    hooks->log.clear();
    QCOMPARE(harness.join(a, kRoom).reason(), u"no"_s);
    QCOMPARE(hooks->log,
             (QStringList{u"leave room %1 DuplicateJoin"_s.arg(a), u"join room %1"_s.arg(a), u"topicEmpty room"_s}));
    QVERIFY(harness.members(kRoom).isEmpty());
}

void tst_Sdk::unjoinedTopicIsUnmatched()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    QCOMPARE(harness.push(a, kRoom, u"x"_s).reason(), u"unmatched topic"_s);
    QVERIFY2(harness.leave(a, kRoom).isOk(), "leaving an unjoined topic is not an error (protocol 4.5)");
    QCOMPARE(hooks->log, QStringList{u"instanceStarted"_s});
}

QTEST_GUILESS_MAIN(tst_Sdk)
#include "tst_sdk.moc"
