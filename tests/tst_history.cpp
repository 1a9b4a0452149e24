// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// History and replay on join, and state that survives a restart, through the BehaviourHarness (the very
// channel engine the instance runs): the join reply's {"history": {"count": K}}, the K messages pushed
// after the reply and before live traffic, the limits of the join parameter, presence not stored, and a
// tic-tac-toe game continued by a second "instance" on the same store.

#include "harnesstools.h"
#include "store/store.h"

#include <QJsonArray>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;
using Frame = BehaviourHarness::Frame;

namespace {

const QString kRoom = u"room:1"_s;

QJsonObject limit(int n)
{
    return QJsonObject{{u"history"_s, QJsonObject{{u"limit"_s, n}}}};
}

int numberOf(const Frame &frame)
{
    return frame.payload.json.toObject().value(u"n"_s).toInt();
}

} // namespace

class tst_History : public QObject
{
    Q_OBJECT

private slots:
    void lateJoinerGetsTheLastMessagesThenLiveOnes()
    {
        BehaviourHarness harness(builtinType(u"chat"_s), {{u"history"_s, 5}, {u"presence"_s, true}});
        QVERIFY2(harness.isValid(), qPrintable(harness.error()));
        const quint64 talker = harness.connect();
        QVERIFY(harness.join(talker, kRoom).isOk());
        for (int n = 1; n <= 8; ++n) {
            QVERIFY(harness.push(talker, kRoom, u"shout"_s, QJsonObject{{u"n"_s, n}}).isOk());
        }
        const quint64 late = harness.connect();
        const BehaviourHarness::Reply reply = harness.join(late, kRoom, limit(3));
        QVERIFY(reply.isOk());
        QCOMPARE(reply.json().value(u"history"_s).toObject().value(u"count"_s).toInt(), 3);
        QVERIFY(harness.push(talker, kRoom, u"shout"_s, QJsonObject{{u"n"_s, 9}}).isOk());
        const QList<Frame> frames = harness.takeReceived(late);
        QStringList got = summary(frames);
        // Reply, the 3 newest stored (in order, as the original events), then what chat pushes, then live.
        QCOMPARE(got.mid(0, 4), (QStringList{u"reply ok"_s, u"push shout"_s, u"push shout"_s, u"push shout"_s}));
        QCOMPARE(numberOf(frames.at(1)), 6);
        QCOMPARE(numberOf(frames.at(3)), 8);
        QCOMPARE(frames.last().event, u"shout"_s);
        QCOMPARE(numberOf(frames.last()), 9);
        QList<int> shouts;
        for (const Frame &frame : frames) {
            if (frame.event == u"shout"_s) {
                shouts.append(numberOf(frame));
            }
        }
        QCOMPARE(shouts, (QList<int>{6, 7, 8, 9})); // no gap, no duplicate
        // presence_diff is not history: a second late joiner asking for everything gets only shouts.
        const quint64 later = harness.connect();
        const BehaviourHarness::Reply all = harness.join(later, kRoom, {{u"history"_s, QJsonObject{{u"since"_s, 0}}}});
        QCOMPARE(all.json().value(u"history"_s).toObject().value(u"count"_s).toInt(), 5); // history=5 kept
    }

    void withoutTheParamNothingChanges()
    {
        BehaviourHarness harness(builtinType(u"chat"_s), {{u"history"_s, 5}, {u"presence"_s, false}});
        const quint64 talker = harness.connect();
        harness.join(talker, kRoom);
        harness.push(talker, kRoom, u"shout"_s, QJsonObject{{u"n"_s, 1}});
        const quint64 late = harness.connect();
        const BehaviourHarness::Reply reply = harness.join(late, kRoom);
        QVERIFY(!reply.json().contains(u"history"_s));
        QCOMPARE(summary(harness.takeReceived(late)), QStringList{u"reply ok"_s});
    }

    void historyOffAnswersCountZero()
    {
        BehaviourHarness harness(builtinType(u"chat"_s), {{u"presence"_s, false}});
        const quint64 talker = harness.connect();
        harness.join(talker, kRoom);
        harness.push(talker, kRoom, u"shout"_s, QJsonObject{{u"n"_s, 1}});
        const quint64 late = harness.connect();
        const BehaviourHarness::Reply reply = harness.join(late, kRoom, limit(5));
        QCOMPARE(reply.json().value(u"history"_s).toObject().value(u"count"_s).toInt(), 0);
        QCOMPARE(summary(harness.takeReceived(late)), QStringList{u"reply ok"_s});
    }

    void sinceSelectsByTime()
    {
        BehaviourHarness harness(builtinType(u"chat"_s), {{u"history"_s, 100}});
        const quint64 talker = harness.connect();
        harness.join(talker, kRoom);
        harness.push(talker, kRoom, u"shout"_s, QJsonObject{{u"n"_s, 1}});
        const qint64 future = QDateTime::currentMSecsSinceEpoch() + 3600 * 1000;
        const quint64 late = harness.connect();
        const BehaviourHarness::Reply reply =
            harness.join(late, kRoom, {{u"history"_s, QJsonObject{{u"since"_s, double(future)}, {u"limit"_s, 10}}}});
        QCOMPARE(reply.json().value(u"history"_s).toObject().value(u"count"_s).toInt(), 0);
    }

    void badRequestsAreRefusedBeforeTheTypeSeesThem_data()
    {
        QTest::addColumn<QJsonValue>("history");
        QTest::addColumn<QString>("reason");
        QTest::newRow("not an object") << QJsonValue(5) << u"history must be an object"_s;
        QTest::newRow("empty") << QJsonValue(QJsonObject{}) << u"history needs limit, since or both"_s;
        QTest::newRow("limit 0") << QJsonValue(QJsonObject{{u"limit"_s, 0}}) << u"history.limit must be"_s;
        QTest::newRow("limit too big") << QJsonValue(QJsonObject{{u"limit"_s, 10001}}) << u"history.limit must be"_s;
        QTest::newRow("limit fraction") << QJsonValue(QJsonObject{{u"limit"_s, 1.5}}) << u"history.limit must be"_s;
        QTest::newRow("limit text") << QJsonValue(QJsonObject{{u"limit"_s, u"5"_s}}) << u"history.limit must be"_s;
        QTest::newRow("since negative") << QJsonValue(QJsonObject{{u"since"_s, -1}}) << u"history.since must be"_s;
    }
    void badRequestsAreRefusedBeforeTheTypeSeesThem()
    {
        QFETCH(QJsonValue, history);
        QFETCH(QString, reason);
        BehaviourHarness harness(builtinType(u"tictactoe"_s), {{u"history"_s, 10}});
        const quint64 client = harness.connect();
        const BehaviourHarness::Reply reply = harness.join(client, u"game:1"_s, {{u"history"_s, history}});
        QVERIFY(!reply.isOk());
        QVERIFY2(reply.reason().startsWith(reason), qPrintable(reply.reason()));
        QVERIFY(harness.members(u"game:1"_s).isEmpty());
        // The seat was not taken: the next joiner is X.
        const quint64 next = harness.connect();
        QCOMPARE(harness.join(next, u"game:1"_s).json().value(u"role"_s).toString(), u"X"_s);
    }

    void storageIsPerInstanceAndRefusesBadKeys()
    {
        auto store = Store::inMemory();
        BehaviourHarness a(builtinType(u"echo"_s), {}, u"a"_s, store);
        BehaviourHarness b(builtinType(u"echo"_s), {}, u"b"_s, store);
        QVERIFY(a.instance().storage().setValue(u"k"_s, 1));
        QVERIFY(b.instance().storage().value(u"k"_s).isUndefined());
        QCOMPARE(a.instance().storage().keys(), QStringList{u"k"_s});
        QVERIFY(!a.instance().storage().setValue(QString(), 1));
        QCOMPARE(a.warnings().size(), 1);
        QVERIFY(a.warnings().first().contains(u"storage().setValue refused"_s));
        QVERIFY(a.instance().storage().remove(u"k"_s));
        QVERIFY(a.instance().storage().keys().isEmpty());
    }

    void ticTacToeGameSurvivesARestart()
    {
        auto store = Store::inMemory();
        const QString game = u"game:kept"_s;
        {
            BehaviourHarness first(builtinType(u"tictactoe"_s), {}, u"ttt"_s, store);
            const quint64 x = first.connect();
            const quint64 o = first.connect();
            QCOMPARE(first.join(x, game, {{u"name"_s, u"xena"_s}}).json().value(u"role"_s).toString(), u"X"_s);
            QCOMPARE(first.join(o, game, {{u"name"_s, u"otto"_s}}).json().value(u"role"_s).toString(), u"O"_s);
            QVERIFY(first.push(x, game, u"move"_s, QJsonObject{{u"cell"_s, 4}}).isOk());
            QVERIFY(first.push(o, game, u"move"_s, QJsonObject{{u"cell"_s, 0}}).isOk());
        } // the instance stops (no leave callbacks while stopping): the game stays in storage
        BehaviourHarness second(builtinType(u"tictactoe"_s), {}, u"ttt"_s, store);
        const quint64 stranger = second.connect();
        const quint64 o = second.connect();
        const quint64 x = second.connect();
        // Seats wait for their names: a stranger spectates, otto gets O back even though X is free.
        QCOMPARE(second.join(stranger, game, {{u"name"_s, u"eve"_s}}).json().value(u"role"_s).toString(),
                 u"spectator"_s);
        const BehaviourHarness::Reply otto = second.join(o, game, {{u"name"_s, u"otto"_s}});
        QCOMPARE(otto.json().value(u"role"_s).toString(), u"O"_s);
        const QJsonObject state = otto.json().value(u"state"_s).toObject();
        QCOMPARE(state.value(u"moves"_s).toInt(), 2);
        QCOMPARE(state.value(u"board"_s).toArray().at(4).toString(), u"X"_s);
        QCOMPARE(state.value(u"board"_s).toArray().at(0).toString(), u"O"_s);
        QCOMPARE(state.value(u"turn"_s).toString(), u"X"_s);
        QCOMPARE(second.join(x, game, {{u"name"_s, u"xena"_s}}).json().value(u"role"_s).toString(), u"X"_s);
        QVERIFY(second.push(x, game, u"move"_s, QJsonObject{{u"cell"_s, 8}}).isOk());
        // Everybody leaves: the game is over and forgotten.
        second.leave(x, game);
        second.leave(o, game);
        second.leave(stranger, game);
        QVERIFY(store->keys(u"ttt"_s).isEmpty());
    }
};

QTEST_GUILESS_MAIN(tst_History)
#include "tst_history.moc"
