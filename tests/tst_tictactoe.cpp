// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for the built-in `tictactoe` type through the BehaviourHarness, against its header comment:
// run twice, against the C++ type and against its JavaScript twin examples/types/tictactoe.js.
// topics game:<name>, roles X / O / spectator, the state shape, move validation with its messages, a win
// and a draw, reset rules, a seat freed when a player leaves, spectators listed (bounded) as they come and
// go, and the game kept while anyone (a spectator too) is there and dropped with its last member. No sockets.

#include "behaviours/builtins.h"
#include "harnesstools.h"
#include "instance/behaviourharness.h"

#include <QJsonArray>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;
using Frame = BehaviourHarness::Frame;
using Reply = BehaviourHarness::Reply;

namespace {

const QString kGame = u"game:1"_s;

bool g_scripted = false; // which run: the C++ type or the script

BehaviourType typeUnderTest()
{
    return g_scripted ? sourceScriptType(u"examples/types/tictactoe.js"_s) : builtinType(u"tictactoe"_s);
}

// X, O and a spectator joined to kGame, in that order.
struct Table {
    explicit Table(const QVariantMap &options = {})
        : harness(typeUnderTest(), options)
    {
        x = harness.connect();
        o = harness.connect();
        spectator = harness.connect();
        harness.join(x, kGame, {{u"name"_s, u"xena"_s}});
        harness.join(o, kGame, {{u"name"_s, u"otto"_s}});
        harness.join(spectator, kGame);
    }
    BehaviourHarness harness;
    quint64 x = 0;
    quint64 o = 0;
    quint64 spectator = 0;
    Reply move(quint64 who, const QJsonValue &cell)
    {
        return harness.push(who, kGame, u"move"_s, QJsonObject{{u"cell"_s, cell}});
    }
    // Plays cells alternately X, O, X... and returns the last reply.
    Reply play(const QList<int> &cells)
    {
        Reply last;
        for (qsizetype i = 0; i < cells.size(); ++i) {
            last = move(i % 2 == 0 ? x : o, cells.at(i));
            if (!last.isOk()) {
                break;
            }
        }
        return last;
    }
};

QJsonArray emptyBoard()
{
    QJsonArray board;
    for (int i = 0; i < 9; ++i) {
        board.append(QJsonValue::Null);
    }
    return board;
}

} // namespace

class tst_TicTacToe : public QObject
{
    Q_OBJECT

private slots:
    void onlyGameTopics();
    void rolesAndJoinReply();
    void playerJoinBroadcastsState();
    void spectatorsAreListed();
    void spectatorNamesAreBounded();
    void moveValidation_data();
    void moveValidation();
    void spectatorsCannotMove();
    void waitingForASecondPlayer();
    void notYourTurnAndCellTaken();
    void aWin();
    void aDraw();
    void resetRules();
    void unknownEvent();
    void seatFreedWhenAPlayerLeaves();
    void gameKeptWhileASpectatorStays();
    void gameDroppedWithItsLastMember();
    void gamesAreSeparatePerTopic();
    void moveClockAwardsTheGameToTheOtherPlayer();
    void moveClockStopsWhenASeatIsFree();
    void duplicateJoinKeepsTheGame();
};

void tst_TicTacToe::onlyGameTopics()
{
    BehaviourHarness harness(typeUnderTest());
    const quint64 a = harness.connect();
    QCOMPARE(harness.join(a, u"room:1"_s).reason(), u"unmatched topic"_s);
    QCOMPARE(harness.join(a, u"game:"_s).reason(), u"unmatched topic"_s);
    QVERIFY(harness.join(a, u"game:x"_s).isOk());
}

void tst_TicTacToe::rolesAndJoinReply()
{
    BehaviourHarness harness(typeUnderTest());
    const quint64 x = harness.connect();
    const Reply first = harness.join(x, kGame, {{u"name"_s, u"xena"_s}});
    QVERIFY(first.isOk());
    QCOMPARE(first.json().value(u"role"_s).toString(), u"X"_s);
    const QJsonObject expectedState{
        {u"board"_s, emptyBoard()},
        {u"turn"_s, u"X"_s},
        {u"winner"_s, QJsonValue::Null},
        {u"players"_s, QJsonObject{{u"X"_s, QJsonObject{{u"client_id"_s, QString::number(x)}, {u"name"_s, u"xena"_s}}},
                                   {u"O"_s, QJsonValue::Null}}},
        {u"moves"_s, 0},
        {u"move_timeout_ms"_s, 0},
        {u"timed_out"_s, QJsonValue::Null},
        {u"spectators"_s, QJsonArray{}},
        {u"spectator_count"_s, 0},
    };
    QCOMPARE(first.json().value(u"state"_s).toObject(), expectedState);

    const quint64 o = harness.connect();
    const Reply second = harness.join(o, kGame);
    QCOMPARE(second.json().value(u"role"_s).toString(), u"O"_s);
    QCOMPARE(second.json()[u"state"_s][u"players"_s][u"O"_s][u"name"_s].toString(), u"client-%1"_s.arg(o));

    for (int i = 0; i < 2; ++i) {
        const Reply spectator = harness.join(harness.connect(), kGame);
        QCOMPARE(spectator.json().value(u"role"_s).toString(), u"spectator"_s);
    }
    QCOMPARE(harness.members(kGame).size(), 4);
    QCOMPARE(harness.members(kGame).at(0).assigns.value(u"role"_s).toString(), u"X"_s);
}

void tst_TicTacToe::playerJoinBroadcastsState()
{
    BehaviourHarness harness(typeUnderTest());
    const quint64 x = harness.connect();
    harness.join(x, kGame);
    harness.takeReceived(x);
    const quint64 o = harness.connect();
    harness.join(o, kGame, {{u"name"_s, u"otto"_s}});
    const std::optional<Frame> state = harness.lastReceived(x, kGame, u"state"_s);
    QVERIFY2(state.has_value(), "a player joining broadcasts the state");
    QCOMPARE(state->json()[u"players"_s][u"O"_s][u"name"_s].toString(), u"otto"_s);
    QCOMPARE(harness.received(o).size(), 1); // its join reply carries the state; no broadcast to itself

    harness.takeReceived(x);
    harness.join(harness.connect(), kGame, {{u"name"_s, u"sam"_s}});
    const QList<Frame> seen = harness.takeReceived(x);
    QCOMPARE(seen.size(), 1);
    QCOMPARE(seen.first().event, u"state"_s);
    QCOMPARE(seen.first().json()[u"spectators"_s].toArray(), QJsonArray{u"sam"_s});
    QCOMPARE(seen.first().json()[u"moves"_s].toInt(), 0); // nothing else changed
}

void tst_TicTacToe::spectatorsAreListed()
{
    Table table; // its spectator joined without a name
    const QString first = u"client-%1"_s.arg(table.spectator);
    QCOMPARE(table.harness.lastReceived(table.x, kGame, u"state"_s)->json()[u"spectators"_s].toArray(),
             QJsonArray{first});
    const quint64 sam = table.harness.connect();
    const Reply joined = table.harness.join(sam, kGame, {{u"name"_s, u"sam"_s}});
    QCOMPARE(joined.json()[u"role"_s].toString(), u"spectator"_s);
    QCOMPARE(joined.json()[u"state"_s][u"spectators"_s].toArray(), (QJsonArray{first, u"sam"_s}));
    QCOMPARE(joined.json()[u"state"_s][u"spectator_count"_s].toInt(), 2);
    for (const quint64 member : {table.x, table.o, table.spectator}) {
        const QJsonObject state = table.harness.lastReceived(member, kGame, u"state"_s)->json().toObject();
        QCOMPARE(state.value(u"spectators"_s).toArray(), (QJsonArray{first, u"sam"_s}));
    }
    // Moves carry the list too; a rejoin is listed once.
    QCOMPARE(table.move(table.x, 4).json()[u"spectator_count"_s].toInt(), 2);
    QVERIFY(table.harness.join(sam, kGame, {{u"name"_s, u"sam"_s}}).isOk());
    QCOMPARE(table.harness.lastReceived(table.x, kGame, u"state"_s)->json()[u"spectator_count"_s].toInt(), 2);

    // A spectator leaving (phx_leave or a disconnect) is broadcast to the others, seats untouched.
    table.harness.takeReceived(sam);
    QVERIFY(table.harness.leave(table.spectator, kGame).isOk());
    const QJsonObject afterLeave = table.harness.lastReceived(sam, kGame, u"state"_s)->json().toObject();
    QCOMPARE(afterLeave.value(u"spectators"_s).toArray(), QJsonArray{u"sam"_s});
    QCOMPARE(afterLeave.value(u"spectator_count"_s).toInt(), 1);
    QCOMPARE(afterLeave[u"players"_s][u"O"_s][u"name"_s].toString(), u"otto"_s);
    QCOMPARE(afterLeave.value(u"moves"_s).toInt(), 1);
    table.harness.disconnect(sam);
    const QJsonObject afterDisconnect = table.harness.lastReceived(table.o, kGame, u"state"_s)->json().toObject();
    QCOMPARE(afterDisconnect.value(u"spectators"_s).toArray(), QJsonArray{});
    QCOMPARE(afterDisconnect.value(u"spectator_count"_s).toInt(), 0);
    // A player leaving is not a spectator leaving.
    QVERIFY(table.harness.leave(table.o, kGame).isOk());
    QCOMPARE(table.harness.lastReceived(table.x, kGame, u"state"_s)->json()[u"spectator_count"_s].toInt(), 0);
}

void tst_TicTacToe::spectatorNamesAreBounded()
{
    Table table;
    for (int i = 0; i < 59; ++i) {
        table.harness.join(table.harness.connect(), kGame, {{u"name"_s, u"fan%1"_s.arg(i)}});
    }
    const QJsonObject state = table.harness.lastReceived(table.x, kGame, u"state"_s)->json().toObject();
    QCOMPARE(state.value(u"spectator_count"_s).toInt(), 60);
    const QJsonArray names = state.value(u"spectators"_s).toArray();
    QCOMPARE(names.size(), 50); // the first 50, in join order
    QCOMPARE(names.at(0).toString(), u"client-%1"_s.arg(table.spectator));
    QCOMPARE(names.at(49).toString(), u"fan48"_s);
}

void tst_TicTacToe::moveValidation_data()
{
    QTest::addColumn<QJsonValue>("cell");
    QTest::newRow("negative") << QJsonValue(-1);
    QTest::newRow("nine") << QJsonValue(9);
    QTest::newRow("fraction") << QJsonValue(1.5);
    QTest::newRow("string") << QJsonValue(u"4"_s);
    QTest::newRow("missing") << QJsonValue(QJsonValue::Undefined);
    QTest::newRow("null") << QJsonValue(QJsonValue::Null);
}

void tst_TicTacToe::moveValidation()
{
    QFETCH(QJsonValue, cell);
    Table table;
    const Reply reply =
        cell.isUndefined() ? table.harness.push(table.x, kGame, u"move"_s, QJsonObject{}) : table.move(table.x, cell);
    QCOMPARE(reply.status, u"error"_s);
    QCOMPARE(reply.reason(), u"cell must be a whole number from 0 to 8"_s);
    QVERIFY2(table.move(table.x, 8).isOk(), "a refused move does not use the turn; cell 8 is valid");
}

void tst_TicTacToe::spectatorsCannotMove()
{
    Table table;
    QCOMPARE(table.move(table.spectator, 0).reason(), u"spectators cannot move"_s);
}

void tst_TicTacToe::waitingForASecondPlayer()
{
    BehaviourHarness harness(typeUnderTest());
    const quint64 x = harness.connect();
    harness.join(x, kGame);
    QCOMPARE(harness.push(x, kGame, u"move"_s, QJsonObject{{u"cell"_s, 0}}).reason(), u"waiting for a second player"_s);
}

void tst_TicTacToe::notYourTurnAndCellTaken()
{
    Table table;
    QCOMPARE(table.move(table.o, 0).reason(), u"not your turn"_s);
    QVERIFY(table.move(table.x, 4).isOk());
    QCOMPARE(table.move(table.x, 0).reason(), u"not your turn"_s);
    QCOMPARE(table.move(table.o, 4).reason(), u"cell 4 is taken"_s);
    const Reply ok = table.move(table.o, 0);
    QVERIFY(ok.isOk());
    QCOMPARE(ok.json()[u"moves"_s].toInt(), 2);
    QCOMPARE(ok.json()[u"turn"_s].toString(), u"X"_s);
}

void tst_TicTacToe::aWin()
{
    Table table;
    table.harness.takeReceived(table.spectator);
    const Reply last = table.play({0, 3, 1, 4, 2}); // X takes the top row
    QVERIFY(last.isOk());
    const QJsonObject state = last.json();
    QCOMPARE(state.value(u"winner"_s).toString(), u"X"_s);
    QVERIFY2(state.value(u"turn"_s).isNull(), "no turn once the game is over");
    QCOMPARE(state.value(u"moves"_s).toInt(), 5);
    QCOMPARE(state.value(u"board"_s).toArray().at(2).toString(), u"X"_s);
    QCOMPARE(state.value(u"board"_s).toArray().at(4).toString(), u"O"_s);

    // Every member, the spectator and the mover included, got each state.
    QCOMPARE(table.harness.takeReceived(table.spectator).size(), 5);
    QCOMPARE(table.harness.lastReceived(table.x, kGame, u"state"_s)->json().toObject(), state);

    QCOMPARE(table.move(table.o, 8).reason(), u"game over"_s);
    QCOMPARE(table.move(table.x, 8).reason(), u"game over"_s);
}

void tst_TicTacToe::aDraw()
{
    Table table;
    const Reply last = table.play({0, 1, 2, 4, 3, 5, 7, 6, 8});
    QVERIFY2(last.isOk(), qPrintable(last.reason()));
    QCOMPARE(last.json().value(u"winner"_s).toString(), u"draw"_s);
    QCOMPARE(last.json().value(u"moves"_s).toInt(), 9);
    QVERIFY(last.json().value(u"turn"_s).isNull());
}

void tst_TicTacToe::resetRules()
{
    Table table;
    QCOMPARE(table.harness.push(table.spectator, kGame, u"reset"_s).reason(), u"spectators cannot reset the game"_s);
    table.play({0, 3});
    QCOMPARE(table.harness.push(table.o, kGame, u"reset"_s).reason(), u"the game is still running"_s);
    table.play({1, 4, 2}); // continues: X, O, X from X's turn
    QCOMPARE(table.harness.lastReceived(table.x, kGame, u"state"_s)->json()[u"winner"_s].toString(), u"X"_s);

    table.harness.takeReceived(table.spectator);
    QVERIFY(table.harness.push(table.o, kGame, u"reset"_s).isOk());
    const QList<Frame> frames = table.harness.takeReceived(table.spectator);
    QCOMPARE(frames.size(), 1);
    const QJsonObject state = frames.first().json().toObject();
    QCOMPARE(state.value(u"board"_s).toArray(), emptyBoard());
    QCOMPARE(state.value(u"turn"_s).toString(), u"X"_s);
    QVERIFY(state.value(u"winner"_s).isNull());
    QCOMPARE(state.value(u"moves"_s).toInt(), 0);
    QVERIFY2(!state.value(u"players"_s)[u"O"_s].isNull(), "a reset keeps the players");
    QVERIFY(table.move(table.x, 0).isOk());
}

void tst_TicTacToe::unknownEvent()
{
    Table table;
    QCOMPARE(table.harness.push(table.x, kGame, u"castle"_s).reason(),
             u"unknown event 'castle' (expected move or reset)"_s);
}

void tst_TicTacToe::seatFreedWhenAPlayerLeaves()
{
    Table table;
    table.play({4});
    table.harness.takeReceived(table.x);
    table.harness.takeReceived(table.spectator);

    table.harness.leave(table.o, kGame);
    const std::optional<Frame> state = table.harness.lastReceived(table.spectator, kGame, u"state"_s);
    QVERIFY2(state.has_value(), "a player leaving broadcasts the state");
    QVERIFY(state->json()[u"players"_s][u"O"_s].isNull());
    QVERIFY(table.harness.lastReceived(table.x, kGame, u"state"_s).has_value());
    QCOMPARE(table.move(table.x, 0).reason(), u"waiting for a second player"_s);

    // The spectator does not move up; the next joiner takes the free seat, in the running game.
    QCOMPARE(table.move(table.spectator, 0).reason(), u"spectators cannot move"_s);
    const quint64 newcomer = table.harness.connect();
    const Reply joined = table.harness.join(newcomer, kGame, {{u"name"_s, u"nina"_s}});
    QCOMPARE(joined.json().value(u"role"_s).toString(), u"O"_s);
    QCOMPARE(joined.json()[u"state"_s][u"moves"_s].toInt(), 1);
    QVERIFY(table.move(newcomer, 0).isOk());

    // A disconnect frees a seat as well.
    table.harness.disconnect(table.x);
    const Reply rejoined = table.harness.join(table.harness.connect(), kGame);
    QCOMPARE(rejoined.json().value(u"role"_s).toString(), u"X"_s);
}

void tst_TicTacToe::gameKeptWhileASpectatorStays()
{
    Table table;
    table.play({0, 4});
    table.harness.leave(table.x, kGame);
    table.harness.disconnect(table.o);
    QCOMPARE(table.harness.members(kGame).size(), 1);

    const Reply joined = table.harness.join(table.harness.connect(), kGame);
    QCOMPARE(joined.json().value(u"role"_s).toString(), u"X"_s);
    QCOMPARE(joined.json()[u"state"_s][u"moves"_s].toInt(), 2);
    QCOMPARE(joined.json()[u"state"_s][u"board"_s][4].toString(), u"O"_s);
}

void tst_TicTacToe::gameDroppedWithItsLastMember()
{
    Table table;
    table.play({0, 4, 8});
    table.harness.leave(table.x, kGame);
    table.harness.leave(table.o, kGame);
    table.harness.leave(table.spectator, kGame);
    QVERIFY(table.harness.members(kGame).isEmpty());

    const Reply fresh = table.harness.join(table.spectator, kGame);
    QCOMPARE(fresh.json().value(u"role"_s).toString(), u"X"_s);
    QCOMPARE(fresh.json()[u"state"_s][u"moves"_s].toInt(), 0);
    QCOMPARE(fresh.json()[u"state"_s][u"board"_s].toArray(), emptyBoard());
}

void tst_TicTacToe::gamesAreSeparatePerTopic()
{
    Table table;
    table.play({0});
    const quint64 other = table.harness.connect();
    const Reply joined = table.harness.join(other, u"game:2"_s);
    QCOMPARE(joined.json().value(u"role"_s).toString(), u"X"_s);
    QCOMPARE(joined.json()[u"state"_s][u"moves"_s].toInt(), 0);
    QVERIFY2(table.harness.lastReceived(table.spectator, u"game:2"_s, u"state"_s) == std::nullopt,
             "another game's state is not sent here");
}

void tst_TicTacToe::moveClockAwardsTheGameToTheOtherPlayer()
{
    Table table({{u"move_timeout_ms"_s, 1000}});
    QVERIFY2(table.harness.isValid(), qPrintable(table.harness.error()));
    QVERIFY(table.move(table.x, 4).isOk()); // X moved: O's clock starts now
    table.harness.advance(999);
    QVERIFY(table.harness.lastReceived(table.spectator, kGame, u"state"_s)->json()[u"winner"_s].isNull());
    table.harness.advance(1);
    const QJsonObject state = table.harness.lastReceived(table.spectator, kGame, u"state"_s)->json().toObject();
    QCOMPARE(state.value(u"winner"_s).toString(), u"X"_s);
    QCOMPARE(state.value(u"timed_out"_s).toString(), u"O"_s);
    QCOMPARE(state.value(u"move_timeout_ms"_s).toInt(), 1000);
    QCOMPARE(table.move(table.o, 0).reason(), u"game over"_s);
    // Each move restarts the clock; a reset starts a new one for X.
    QVERIFY(table.harness.push(table.x, kGame, u"reset"_s).isOk());
    table.harness.advance(600);
    QVERIFY(table.move(table.x, 0).isOk());
    table.harness.advance(600);
    QVERIFY2(table.move(table.o, 1).isOk(), "O had its own 1000 ms");
    table.harness.advance(1000);
    QCOMPARE(table.harness.lastReceived(table.o, kGame, u"state"_s)->json()[u"timed_out"_s].toString(), u"X"_s);
}

void tst_TicTacToe::moveClockStopsWhenASeatIsFree()
{
    Table table({{u"move_timeout_ms"_s, 1000}});
    QVERIFY(table.harness.leave(table.o, kGame).isOk());
    table.harness.advance(5000);
    const QJsonObject state = table.harness.lastReceived(table.x, kGame, u"state"_s)->json().toObject();
    QVERIFY2(state.value(u"winner"_s).isNull(), "nobody wins against an empty seat");
    QVERIFY(state.value(u"timed_out"_s).isNull());
}

void tst_TicTacToe::duplicateJoinKeepsTheGame()
{
    // A client that rejoins its own game (a reconnecting page) keeps it: the topic does not end in between.
    BehaviourHarness harness(typeUnderTest());
    const quint64 x = harness.connect();
    QVERIFY(harness.join(x, kGame).isOk());
    const quint64 o = harness.connect();
    QVERIFY(harness.join(o, kGame).isOk());
    QVERIFY(harness.push(x, kGame, u"move"_s, QJsonObject{{u"cell"_s, 0}}).isOk());
    QVERIFY(harness.leave(o, kGame).isOk());
    const Reply again = harness.join(x, kGame);
    QVERIFY(again.isOk());
    QCOMPARE(again.json()[u"state"_s][u"moves"_s].toInt(), 1);
    QCOMPARE(again.json()[u"role"_s].toString(), u"X"_s);
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    tst_TicTacToe test;
    const int cpp = QTest::qExec(&test, argc, argv);
    g_scripted = true;
    qInfo("--- the same tests against examples/types/tictactoe.js ---");
    const int script = QTest::qExec(&test, argc, argv);
    return cpp + script;
}
#include "tst_tictactoe.moc"
