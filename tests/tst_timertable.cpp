// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for TimerTable as a plain class on a clock the test holds: due-time order with ties broken
// by start order, one-shot removal, repeating rescheduling without a catch-up burst, cancel and
// cancelTopic (a topic's timers only), nextDueMs and clear.

#include "instance/timertable.h"

#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

namespace {

const TimerCallback kNoop = [](InstanceContext &) {
};

// Ids of the timers due at `nowMs`, in the order takeNextDue hands them out (each taken once).
QList<TimerId> drain(TimerTable &table, qint64 nowMs)
{
    QList<TimerId> ids;
    for (qsizetype guard = table.size(); guard > 0; --guard) {
        const std::optional<TimerTable::Due> due = table.takeNextDue(nowMs);
        if (!due) {
            break;
        }
        ids.append(due->id);
    }
    return ids;
}

} // namespace

class tst_TimerTable : public QObject
{
    Q_OBJECT

private slots:
    void orderedByDueTimeThenId();
    void nothingDueBeforeItsTime();
    void oneShotRemovedAfterTake();
    void dueCarriesTopicAndCallback();
    void repeatingIsRescheduledByInterval();
    void lateRepeatingRunsOnceNotABurst();
    void cancel();
    void cancelTopicOnlyCancelsThatTopic();
    void nextDueMs();
    void clear();
};

void tst_TimerTable::orderedByDueTimeThenId()
{
    TimerTable table;
    const TimerId late = table.add(0, 30, false, {}, kNoop);
    const TimerId tieA = table.add(0, 10, false, {}, kNoop);
    const TimerId early = table.add(5, 0, false, {}, kNoop); // due at 5
    const TimerId tieB = table.add(0, 10, false, u"t"_s, kNoop);
    QVERIFY2(late != 0 && tieA != 0 && early != 0 && tieB != 0, "add() must return non-zero ids");
    QVERIFY2(tieA < tieB, "ids grow in start order");

    const QList<TimerId> expected{early, tieA, tieB, late};
    QCOMPARE(drain(table, 100), expected);
    QVERIFY(table.isEmpty());
}

void tst_TimerTable::nothingDueBeforeItsTime()
{
    TimerTable table;
    table.add(100, 50, false, {}, kNoop); // due at 150
    QVERIFY2(!table.takeNextDue(149).has_value(), "a timer must not be handed out before its due time");
    QCOMPARE(table.size(), 1);
    QVERIFY2(table.takeNextDue(150).has_value(), "a timer is due exactly at now + interval");
}

void tst_TimerTable::oneShotRemovedAfterTake()
{
    TimerTable table;
    const TimerId id = table.add(0, 10, false, {}, kNoop);
    const std::optional<TimerTable::Due> due = table.takeNextDue(10);
    QVERIFY(due.has_value());
    QCOMPARE(due->id, id);
    QVERIFY2(table.isEmpty(), "a one-shot timer leaves the table when taken");
    QVERIFY(!table.takeNextDue(1000).has_value());
    QVERIFY2(!table.cancel(id), "cancel() of a one-shot timer that ran returns false");
}

void tst_TimerTable::dueCarriesTopicAndCallback()
{
    TimerTable table;
    int calls = 0;
    table.add(0, 1, false, u"room:1"_s, [&](InstanceContext &) { ++calls; });
    const std::optional<TimerTable::Due> due = table.takeNextDue(1);
    QVERIFY(due.has_value());
    QCOMPARE(due->topic, u"room:1"_s);
    QVERIFY2(static_cast<bool>(due->callback), "the due timer carries its callback");
    QCOMPARE(calls, 0); // the table hands callbacks out; it never calls them
}

void tst_TimerTable::repeatingIsRescheduledByInterval()
{
    TimerTable table;
    const TimerId id = table.add(0, 100, true, {}, kNoop);
    QCOMPARE(table.nextDueMs(), std::optional<qint64>(100));
    for (int i = 1; i <= 5; ++i) {
        const std::optional<TimerTable::Due> due = table.takeNextDue(i * 100);
        QVERIFY2(due.has_value(), qPrintable(u"tick %1 missing"_s.arg(i)));
        QCOMPARE(due->id, id);
        QCOMPARE(table.size(), 1);
        QCOMPARE(table.nextDueMs(), std::optional<qint64>((i + 1) * 100));
        QVERIFY2(!table.takeNextDue(i * 100).has_value(), "a repeating timer runs once per interval");
    }
    // A slightly late tick keeps the original cadence (next due = previous due + interval).
    QVERIFY(table.takeNextDue(630).has_value());
    QCOMPARE(table.nextDueMs(), std::optional<qint64>(700));

    // every(0) would spin: the table runs a repeating timer at least 1 ms apart.
    TimerTable zero;
    zero.add(0, 0, true, {}, kNoop);
    QCOMPARE(zero.nextDueMs(), std::optional<qint64>(1));
}

void tst_TimerTable::lateRepeatingRunsOnceNotABurst()
{
    TimerTable table;
    const TimerId id = table.add(0, 10, true, {}, kNoop);
    // Ten intervals late: handed out once, then rescheduled from now.
    QCOMPARE(drain(table, 105), QList<TimerId>{id});
    QCOMPARE(table.nextDueMs(), std::optional<qint64>(115));
    QVERIFY(!table.takeNextDue(114).has_value());
    QVERIFY(table.takeNextDue(115).has_value());
}

void tst_TimerTable::cancel()
{
    TimerTable table;
    const TimerId a = table.add(0, 10, false, {}, kNoop);
    const TimerId b = table.add(0, 20, true, {}, kNoop);
    QVERIFY2(table.cancel(a), "cancel() of a pending timer returns true");
    QVERIFY2(!table.cancel(a), "a second cancel() returns false");
    QVERIFY2(!table.cancel(0), "id 0 is never a timer");
    QVERIFY2(!table.cancel(999), "an unknown id returns false");
    QCOMPARE(drain(table, 20), QList<TimerId>{b});
    QVERIFY2(table.cancel(b), "a repeating timer stays cancellable after it ran");
    QVERIFY(table.isEmpty());
}

void tst_TimerTable::cancelTopicOnlyCancelsThatTopic()
{
    TimerTable table;
    const TimerId instanceTimer = table.add(0, 10, true, {}, kNoop);
    table.add(0, 10, false, u"room:1"_s, kNoop);
    table.add(0, 20, true, u"room:1"_s, kNoop);
    const TimerId other = table.add(0, 10, false, u"room:2"_s, kNoop);

    QCOMPARE(table.cancelTopic(u"room:1"_s), 2);
    QCOMPARE(table.size(), 2);
    QCOMPARE(table.cancelTopic(u"room:1"_s), 0);
    QCOMPARE(table.cancelTopic(u"room:404"_s), 0);
    QCOMPARE(table.cancelTopic(QString()), 0); // instance timers have no topic and are not a topic's
    QCOMPARE(drain(table, 10), (QList<TimerId>{instanceTimer, other}));
}

void tst_TimerTable::nextDueMs()
{
    TimerTable table;
    QVERIFY2(!table.nextDueMs().has_value(), "an empty table has no next due time");
    const TimerId a = table.add(1000, 500, false, {}, kNoop);
    QCOMPARE(table.nextDueMs(), std::optional<qint64>(1500));
    const TimerId b = table.add(1100, 100, false, {}, kNoop);
    QCOMPARE(table.nextDueMs(), std::optional<qint64>(1200));
    table.cancel(b);
    QCOMPARE(table.nextDueMs(), std::optional<qint64>(1500));
    table.cancel(a);
    QVERIFY(!table.nextDueMs().has_value());
}

void tst_TimerTable::clear()
{
    TimerTable table;
    const TimerId a = table.add(0, 10, false, {}, kNoop);
    table.add(0, 10, true, u"t"_s, kNoop);
    table.clear();
    QVERIFY(table.isEmpty());
    QCOMPARE(table.size(), 0);
    QVERIFY(!table.nextDueMs().has_value());
    QVERIFY(!table.takeNextDue(1000).has_value());
    QVERIFY2(!table.cancel(a), "a cleared timer is gone");
    // Ids are not reused after clear(): a stale id cannot cancel a new timer.
    const TimerId fresh = table.add(0, 10, false, {}, kNoop);
    QVERIFY2(fresh > a, "ids keep growing after clear()");
}

QTEST_GUILESS_MAIN(tst_TimerTable)
#include "tst_timertable.moc"
