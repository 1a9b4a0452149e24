// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for the instance-wide half of the SDK (InstanceContext in behaviour.h) through the
// BehaviourHarness and its virtual clock: after/every at the right times, topic timers cancelled when the
// topic empties (and refused for a topic without members), instance timers surviving, cancelTimer, a
// throwing timer counted as a crash; pushTo, kick, members, broadcasts from outside a channel, connect
// refusals, the max_channels / max_topic_bytes limits and option validation. No sockets, no sleeps.

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

Payload json(const QJsonObject &object)
{
    return Payload::fromJson(object);
}

} // namespace

class tst_SdkInstance : public QObject
{
    Q_OBJECT

private slots:
    void afterFiresOnceAtItsTime();
    void everyFiresEveryInterval();
    void timersFireInDueOrder();
    void timerStartedByATimer();
    void timerCanBroadcastToATopic();
    void topicTimersCancelledWhenTopicEmpties();
    void topicTimerForATopicWithoutMembersIsRefused();
    void instanceTimersSurviveTopics();
    void cancelTimer();
    void badDelayIsRefused();
    void throwingTimerCountsAsACrash();
    void throwingInstanceStartedMakesHarnessInvalid();

    void pushToJoinedAndUnjoinedClients();
    void kickClosesTheClientWithTheReason();
    void membersListsClientIdsAndAssigns();
    void broadcastFromTheInstance();
    void connectRefusal();
    void maxChannels();
    void maxTopicBytes();
    void badOptionMakesHarnessInvalid_data();
    void badOptionMakesHarnessInvalid();
    void typeOptionsReachTheConfig();
};

void tst_SdkInstance::afterFiresOnceAtItsTime()
{
    auto hooks = std::make_shared<ProbeHooks>();
    QList<qint64> firedAt;
    BehaviourHarness *harness = nullptr;
    TimerId id = 0;
    hooks->instanceStarted = [&](InstanceContext &instance) {
        id = instance.after(100, [&](InstanceContext &) { firedAt.append(harness->now()); });
    };
    BehaviourHarness h(probeType(hooks));
    harness = &h;
    QVERIFY2(id != 0, "after() in instanceStarted must start a timer");
    h.advance(99);
    QVERIFY2(firedAt.isEmpty(), "nothing fires before its time");
    h.advance(1);
    QCOMPARE(firedAt, QList<qint64>{100});
    h.advance(1000);
    QCOMPARE(firedAt, QList<qint64>{100});
    QVERIFY2(!h.instance().cancelTimer(id), "a one-shot timer that ran cannot be cancelled");
    QCOMPARE(h.now(), 1100);
}

void tst_SdkInstance::everyFiresEveryInterval()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    QList<qint64> firedAt;
    harness.instance().every(50, [&](InstanceContext &) { firedAt.append(harness.now()); });
    harness.advance(49);
    QVERIFY(firedAt.isEmpty());
    harness.advance(111); // to 160: 50, 100, 150, each at its own virtual time
    QCOMPARE(firedAt, (QList<qint64>{50, 100, 150}));
    harness.advance(40);
    QCOMPARE(firedAt, (QList<qint64>{50, 100, 150, 200}));
}

void tst_SdkInstance::timersFireInDueOrder()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    QStringList order;
    InstanceContext &instance = harness.instance();
    instance.after(30, [&](InstanceContext &) { order.append(u"c30"_s); });
    instance.after(10, [&](InstanceContext &) { order.append(u"a10"_s); });
    instance.every(20, [&](InstanceContext &) { order.append(u"e%1"_s.arg(harness.now())); });
    instance.after(20, [&](InstanceContext &) { order.append(u"b20"_s); }); // same time: started later, runs later
    harness.advance(45);
    QCOMPARE(order, (QStringList{u"a10"_s, u"e20"_s, u"b20"_s, u"c30"_s, u"e40"_s}));
}

void tst_SdkInstance::timerStartedByATimer()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    QList<qint64> firedAt;
    harness.instance().after(10, [&](InstanceContext &instance) {
        firedAt.append(harness.now());
        instance.after(10, [&](InstanceContext &) { firedAt.append(harness.now()); });
        instance.after(0, [&](InstanceContext &) { firedAt.append(harness.now()); });
    });
    harness.advance(100);
    QCOMPARE(firedAt, (QList<qint64>{10, 10, 20}));
}

void tst_SdkInstance::timerCanBroadcastToATopic()
{
    auto hooks = std::make_shared<ProbeHooks>();
    int ticks = 0;
    hooks->topicStarted = [&](InstanceContext &instance, const QString &topic) {
        instance.every(
            1000,
            [&, topic](InstanceContext &ctx) {
                ctx.broadcast(topic, u"tick"_s, json({{u"n"_s, ++ticks}}));
            },
            topic);
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    harness.join(a, kRoom);
    harness.takeReceived(a);
    harness.advance(2500);
    const QList<Frame> frames = harness.takeReceived(a);
    QCOMPARE(frames.size(), 2);
    QCOMPARE(frames.at(0).event, u"tick"_s);
    QCOMPARE(frames.at(0).kind, Frame::Kind::Broadcast);
    QCOMPARE(frames.at(1).json()[u"n"_s].toInt(), 2);
}

void tst_SdkInstance::topicTimersCancelledWhenTopicEmpties()
{
    auto hooks = std::make_shared<ProbeHooks>();
    int fired = 0;
    TimerId topicTimer = 0;
    bool cancelInTopicEmpty = true;
    hooks->afterJoin = [&](ChannelContext &c) {
        if (topicTimer == 0) {
            topicTimer = c.instance().every(
                100, [&](InstanceContext &) { ++fired; }, c.topic());
        }
    };
    hooks->topicEmpty = [&](InstanceContext &instance, const QString &) {
        cancelInTopicEmpty = instance.cancelTimer(topicTimer);
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    const quint64 b = harness.connect();
    harness.join(a, kRoom);
    harness.join(b, kRoom);
    QVERIFY(topicTimer != 0);
    harness.advance(100);
    QCOMPARE(fired, 1);

    harness.leave(a, kRoom); // b is still there: the timer keeps running
    harness.advance(100);
    QCOMPARE(fired, 2);

    harness.disconnect(b); // the last member: the topic's timers go
    QVERIFY2(!cancelInTopicEmpty, "topicEmpty runs after the topic's timers are cancelled");
    harness.advance(1000);
    QCOMPARE(fired, 2);
    QVERIFY(!harness.instance().cancelTimer(topicTimer));
}

void tst_SdkInstance::topicTimerForATopicWithoutMembersIsRefused()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    bool fired = false;
    const TimerId id = harness.instance().after(
        10, [&](InstanceContext &) { fired = true; }, u"nobody"_s);
    QCOMPARE(id, TimerId(0));
    QCOMPARE(harness.warnings().size(), 1);
    QVERIFY2(harness.warnings().first().contains(u"nobody"_s) && harness.warnings().first().contains(u"after"_s),
             qPrintable(harness.warnings().first()));
    harness.advance(100);
    QVERIFY(!fired);

    // In topicEmpty the topic has no members any more: a timer for it is refused there too.
    TimerId inTopicEmpty = 1;
    hooks->topicEmpty = [&](InstanceContext &instance, const QString &topic) {
        inTopicEmpty = instance.after(
            10, [](InstanceContext &) {}, topic);
    };
    const quint64 a = harness.connect();
    harness.join(a, kRoom);
    harness.leave(a, kRoom);
    QCOMPARE(inTopicEmpty, TimerId(0));
}

void tst_SdkInstance::instanceTimersSurviveTopics()
{
    auto hooks = std::make_shared<ProbeHooks>();
    int instanceTicks = 0;
    hooks->instanceStarted = [&](InstanceContext &instance) {
        instance.every(100, [&](InstanceContext &) { ++instanceTicks; });
    };
    hooks->topicStarted = [&](InstanceContext &instance, const QString &topic) {
        instance.every(
            100, [](InstanceContext &) {}, topic);
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    harness.join(a, kRoom);
    harness.advance(100);
    harness.leave(a, kRoom);
    harness.disconnect(a);
    harness.advance(300);
    QCOMPARE(instanceTicks, 4);
}

void tst_SdkInstance::cancelTimer()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    InstanceContext &instance = harness.instance();
    int fired = 0;
    const TimerId once = instance.after(10, [&](InstanceContext &) { ++fired; });
    const TimerId repeating = instance.every(10, [&](InstanceContext &) { fired += 100; });
    QVERIFY(once != 0 && repeating != 0 && once != repeating);
    QVERIFY2(instance.cancelTimer(once), "a pending timer cancels");
    QVERIFY2(!instance.cancelTimer(once), "a cancelled timer does not cancel twice");
    harness.advance(25);
    QCOMPARE(fired, 200);
    QVERIFY(instance.cancelTimer(repeating));
    harness.advance(100);
    QCOMPARE(fired, 200);
    QVERIFY(!instance.cancelTimer(0));

    // A repeating timer may cancel itself from its own callback.
    int selfTicks = 0;
    TimerId self = 0;
    self = instance.every(10, [&](InstanceContext &ctx) {
        if (++selfTicks == 3) {
            QVERIFY(ctx.cancelTimer(self));
        }
    });
    harness.advance(100);
    QCOMPARE(selfTicks, 3);
}

void tst_SdkInstance::badDelayIsRefused()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    QCOMPARE(harness.instance().after(-1, [](InstanceContext &) {}), TimerId(0));
    QCOMPARE(harness.instance().after(10, TimerCallback{}), TimerId(0));
    QCOMPARE(harness.instance().every(-1, [](InstanceContext &) {}), TimerId(0)); // not a 1 ms timer
    QCOMPARE(harness.instance().every(10, TimerCallback{}), TimerId(0));
    QCOMPARE(harness.warnings().size(), 4);
    QVERIFY2(harness.warnings().first().contains(u"after"_s), qPrintable(harness.warnings().first()));
    QVERIFY2(harness.warnings().at(2).contains(u"every"_s), qPrintable(harness.warnings().at(2)));

    // every(0) is accepted and runs at most once per millisecond.
    int ticks = 0;
    QVERIFY(harness.instance().every(0, [&](InstanceContext &) { ++ticks; }) != 0);
    harness.advance(5);
    QCOMPARE(ticks, 5);
}

void tst_SdkInstance::throwingTimerCountsAsACrash()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    int after = 0;
    harness.instance().after(10, [](InstanceContext &) { throw std::runtime_error("timer boom"); });
    harness.instance().after(20, [&](InstanceContext &) { ++after; });
    harness.advance(30);
    QCOMPARE(harness.crashes(), 1);
    QVERIFY2(harness.warnings().join(u'\n').contains(u"timer boom"_s), qPrintable(harness.warnings().join(u'\n')));
    QCOMPARE(after, 1); // the other timers still run
}

void tst_SdkInstance::throwingInstanceStartedMakesHarnessInvalid()
{
    auto hooks = std::make_shared<ProbeHooks>();
    hooks->instanceStarted = [](InstanceContext &) {
        throw std::runtime_error("cannot start");
    };
    BehaviourHarness harness(probeType(hooks));
    QVERIFY(!harness.isValid());
    QVERIFY2(harness.error().contains(u"cannot start"_s), qPrintable(harness.error()));
}

void tst_SdkInstance::pushToJoinedAndUnjoinedClients()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    const quint64 b = harness.connect();
    harness.join(a, kRoom);
    harness.join(b, u"other"_s);
    harness.takeReceived(a);
    harness.takeReceived(b);

    QVERIFY2(harness.instance().pushTo(a, kRoom, u"dm"_s, json({{u"hi"_s, 1}})), "a joined client gets it");
    const QList<Frame> frames = harness.takeReceived(a);
    QCOMPARE(frames.size(), 1);
    QCOMPARE(frames.first().kind, Frame::Kind::Push);
    QCOMPARE(frames.first().topic, kRoom);
    QCOMPARE(frames.first().event, u"dm"_s);
    QCOMPARE(frames.first().json()[u"hi"_s].toInt(), 1);

    QVERIFY2(!harness.instance().pushTo(b, kRoom, u"dm"_s, json({})), "b has not joined room");
    QVERIFY2(!harness.instance().pushTo(999, kRoom, u"dm"_s, json({})), "no such client");
    QVERIFY(harness.takeReceived(b).isEmpty());

    // From a channel callback to another client.
    hooks->handleIn = [&](ChannelContext &c, const QString &, const Payload &payload) {
        const bool sent =
            c.instance().pushTo(payload.json[u"to"_s].toString().toULongLong(), c.topic(), u"dm"_s, payload);
        c.replyOk(QJsonObject{{u"sent"_s, sent}});
    };
    harness.join(b, kRoom);
    harness.takeReceived(b);
    QVERIFY(harness.push(a, kRoom, u"send"_s, QJsonObject{{u"to"_s, QString::number(b)}}).json()[u"sent"_s].toBool());
    QCOMPARE(harness.takeReceived(b).size(), 1);
}

void tst_SdkInstance::kickClosesTheClientWithTheReason()
{
    auto hooks = std::make_shared<ProbeHooks>();
    hooks->handleIn = [](ChannelContext &c, const QString &event, const Payload &payload) {
        if (event == u"kick") {
            c.instance().kick(payload.json[u"who"_s].toString().toULongLong(), u"banned"_s);
        }
        c.replyOk();
    };
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    const quint64 b = harness.connect();
    harness.join(a, kRoom);
    harness.join(b, kRoom);
    hooks->log.clear();
    QVERIFY(harness.push(a, kRoom, u"kick"_s, QJsonObject{{u"who"_s, QString::number(b)}}).isOk());
    QVERIFY(harness.isClosed(b));
    QCOMPARE(harness.closeReason(b), u"banned"_s);
    QVERIFY(!harness.isClosed(a));
    // As on a socket, the kicked client's channels leave once the callback that kicked it returned.
    QCOMPARE(hooks->log, (QStringList{u"handleIn room %1 kick"_s.arg(a), u"leave room %1 Disconnected"_s.arg(b)}));
    QCOMPARE(harness.members(kRoom).size(), 1);
    // A closed client is not heard any more and gets nothing more.
    QVERIFY2(!harness.push(b, kRoom, u"x"_s).received, "a closed client's messages are not handled");
    harness.takeReceived(b);
    harness.push(a, kRoom, u"x"_s);
    hooks->afterJoin = [](ChannelContext &c) {
        c.broadcast(u"news"_s, Payload::fromJson(QJsonObject{}));
    };
    harness.join(harness.connect(), kRoom);
    QVERIFY(harness.takeReceived(b).isEmpty());

    // Nothing is left to leave when the connection finally goes.
    hooks->log.clear();
    harness.disconnect(b);
    QVERIFY(hooks->log.isEmpty());

    // Kicking an unknown client does nothing.
    harness.instance().kick(999, u"nobody"_s);
    QVERIFY(harness.warnings().isEmpty());
}

void tst_SdkInstance::membersListsClientIdsAndAssigns()
{
    auto hooks = std::make_shared<ProbeHooks>();
    hooks->join = [](ChannelContext &c, const QJsonValue &params) {
        c.assigns().insert(u"name"_s, params[u"name"_s].toString());
        return JoinResult::accept();
    };
    BehaviourHarness harness(probeType(hooks));
    QVERIFY(harness.members(kRoom).isEmpty());
    const quint64 a = harness.connect();
    const quint64 b = harness.connect();
    const quint64 c = harness.connect();
    harness.join(c, kRoom, {{u"name"_s, u"cy"_s}});
    harness.join(a, kRoom, {{u"name"_s, u"ann"_s}});
    harness.join(b, u"other"_s, {{u"name"_s, u"bo"_s}});

    const QList<Member> members = harness.instance().members(kRoom);
    QCOMPARE(members.size(), 2);
    QCOMPARE(members.at(0).clientId, a); // by client id
    QCOMPARE(members.at(0).assigns.value(u"name"_s).toString(), u"ann"_s);
    QCOMPARE(members.at(1).clientId, c);
    QCOMPARE(members.at(1).assigns.value(u"name"_s).toString(), u"cy"_s);

    harness.leave(a, kRoom);
    QCOMPARE(harness.members(kRoom).size(), 1);
    QCOMPARE(harness.members(kRoom).first().clientId, c);
    harness.disconnect(c);
    QVERIFY(harness.members(kRoom).isEmpty());
    QCOMPARE(harness.members(u"other"_s).size(), 1);
}

void tst_SdkInstance::broadcastFromTheInstance()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks));
    const quint64 a = harness.connect();
    const quint64 b = harness.connect();
    harness.join(a, kRoom);
    harness.join(b, kRoom);
    harness.takeReceived(a);
    harness.takeReceived(b);
    harness.instance().broadcast(kRoom, u"news"_s, Payload::fromBinary("\x01\x02"));
    for (const quint64 id : {a, b}) {
        const QList<Frame> frames = harness.takeReceived(id);
        QCOMPARE(frames.size(), 1);
        QCOMPARE(frames.first().kind, Frame::Kind::Broadcast);
        QVERIFY(frames.first().payload.isBinary);
        QCOMPARE(frames.first().payload.bytes, QByteArray("\x01\x02"));
    }
    harness.instance().broadcast(u"empty"_s, u"news"_s, json({})); // nobody there: nothing, no error
    QVERIFY(harness.warnings().isEmpty());
}

void tst_SdkInstance::connectRefusal()
{
    class Picky final : public IBehaviour
    {
    public:
        std::optional<QString> connect(const ConnectInfo &info) override
        {
            if (info.authToken != u"letmein") {
                return u"bad token"_s;
            }
            return std::nullopt;
        }
        JoinResult join(ChannelContext &, const QJsonValue &) override { return JoinResult::accept(); }
        void handleIn(ChannelContext &, const QString &, const Payload &) override {}
    };
    const BehaviourType type{u"picky"_s, u"token check"_s, {}, [](const InstanceConfig &) {
                                 return std::make_unique<Picky>();
                             }};
    BehaviourHarness harness(type);
    QCOMPARE(harness.connect({}, u"wrong"_s), quint64(0));
    QCOMPARE(harness.refusal(), u"bad token"_s);
    const quint64 a = harness.connect({}, u"letmein"_s);
    QVERIFY(a != 0);
    QVERIFY(harness.refusal().isEmpty());
}

void tst_SdkInstance::maxChannels()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks), {{u"max_channels"_s, 2}});
    QVERIFY2(harness.isValid(), qPrintable(harness.error()));
    const quint64 a = harness.connect();
    QVERIFY(harness.join(a, u"t1"_s).isOk());
    QVERIFY(harness.join(a, u"t2"_s).isOk());
    const BehaviourHarness::Reply refused = harness.join(a, u"t3"_s);
    QCOMPARE(refused.status, u"error"_s);
    QCOMPARE(refused.reason(), u"too many channels joined"_s);
    QVERIFY2(!hooks->log.contains(u"join t3 %1"_s.arg(a)), "the type never sees a join over the limit");
    QVERIFY2(harness.join(a, u"t2"_s).isOk(), "a rejoin at the limit is a duplicate, not a new channel");
    harness.leave(a, u"t1"_s);
    QVERIFY(harness.join(a, u"t3"_s).isOk());
    // The limit is per connection.
    const quint64 b = harness.connect();
    QVERIFY(harness.join(b, u"t1"_s).isOk());
}

void tst_SdkInstance::maxTopicBytes()
{
    auto hooks = std::make_shared<ProbeHooks>();
    BehaviourHarness harness(probeType(hooks), {{u"max_topic_bytes"_s, 10}});
    QVERIFY2(harness.isValid(), qPrintable(harness.error()));
    const quint64 a = harness.connect();
    QVERIFY(harness.join(a, u"0123456789"_s).isOk());
    QCOMPARE(harness.join(a, u"0123456789a"_s).reason(), u"topic over 10 bytes (max_topic_bytes)"_s);
    // Bytes, not characters: five 2-byte characters fit, six do not.
    QVERIFY(harness.join(a, u"ééééé"_s).isOk());
    QCOMPARE(harness.join(a, u"éééééé"_s).status, u"error"_s);
    QCOMPARE(harness.push(a, u"0123456789"_s, u"a-long-event"_s).reason(),
             u"event name over 10 bytes (max_topic_bytes)"_s);
    QVERIFY(harness.push(a, u"0123456789"_s, u"short"_s).isOk());
    QCOMPARE(hooks->log.filter(u"0123456789a"_s).size(), 0);
}

void tst_SdkInstance::badOptionMakesHarnessInvalid_data()
{
    QTest::addColumn<QVariantMap>("options");
    QTest::addColumn<QString>("named");
    QTest::newRow("unknown option") << QVariantMap{{u"bogus"_s, 1}} << u"bogus"_s;
    QTest::newRow("type option out of range") << QVariantMap{{u"size"_s, 99}} << u"size"_s;
    QTest::newRow("type option not a number") << QVariantMap{{u"size"_s, u"big"_s}} << u"size"_s;
    QTest::newRow("common option out of range") << QVariantMap{{u"max_channels"_s, 0}} << u"max_channels"_s;
    QTest::newRow("bool option") << QVariantMap{{u"fancy"_s, u"maybe"_s}} << u"fancy"_s;
}

void tst_SdkInstance::badOptionMakesHarnessInvalid()
{
    QFETCH(QVariantMap, options);
    QFETCH(QString, named);
    auto hooks = std::make_shared<ProbeHooks>();
    const QList<OptionSpec> specs{
        {u"size"_s, OptionSpec::Kind::Int, 3, u"board size"_s, 1, 10},
        {u"fancy"_s, OptionSpec::Kind::Bool, false, u"fancy mode"_s, 0, 0},
    };
    BehaviourHarness harness(probeType(hooks, specs), options);
    QVERIFY2(!harness.isValid(), "a bad option must make the harness invalid");
    QVERIFY2(harness.error().contains(named), qPrintable(u"the error must name %1: "_s.arg(named) + harness.error()));
    QVERIFY2(hooks->log.isEmpty(), "no behaviour is created from a bad config");
    // Calls on an invalid harness are refused, not a crash.
    const quint64 a = harness.connect();
    QCOMPARE(harness.join(a, kRoom).status, u"error"_s);
}

void tst_SdkInstance::typeOptionsReachTheConfig()
{
    auto hooks = std::make_shared<ProbeHooks>();
    QVariantMap seen;
    hooks->instanceStarted = [&](InstanceContext &instance) {
        seen = instance.config().options;
    };
    const QList<OptionSpec> specs{{u"size"_s, OptionSpec::Kind::Int, 3, u"board size"_s, 1, 10}};
    BehaviourHarness defaults(probeType(hooks, specs));
    QVERIFY2(defaults.isValid(), qPrintable(defaults.error()));
    QCOMPARE(seen.value(u"size"_s).toInt(), 3);
    QCOMPARE(seen.value(u"max_channels"_s).toInt(), 100); // common options are filled in too
    QCOMPARE(defaults.instance().instanceId(), u"test"_s);

    BehaviourHarness given(probeType(hooks, specs), {{u"size"_s, u"7"_s}}, u"mine"_s);
    QVERIFY2(given.isValid(), qPrintable(given.error()));
    QCOMPARE(seen.value(u"size"_s).toInt(), 7); // strings convert as on the command line
    QCOMPARE(given.instance().config().id, u"mine"_s);
}

QTEST_GUILESS_MAIN(tst_SdkInstance)
#include "tst_sdk_instance.moc"
