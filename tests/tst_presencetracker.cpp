// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for PresenceTracker as a plain class (no instance, no sockets): the presence_diff payloads
// of track/update/untrack in the Phoenix shape, phx_ref uniqueness and phx_ref_prev, several metas under
// one key in tracking order, topic bookkeeping, and unknown topic/key/ref leaving everything unchanged.

#include "instance/presencetracker.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

namespace {

QByteArray text(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// {key: {metas: [meta]}}
QJsonObject oneKey(const QString &key, const QJsonObject &meta)
{
    return QJsonObject{{key, QJsonObject{{QStringLiteral("metas"), QJsonArray{meta}}}}};
}

QJsonObject withRef(QJsonObject meta, const QString &ref)
{
    meta.insert(QStringLiteral("phx_ref"), ref);
    return meta;
}

QJsonArray metasOf(const QJsonObject &list, const QString &key)
{
    return list.value(key).toObject().value(QStringLiteral("metas")).toArray();
}

} // namespace

#define COMPARE_OBJECT(actual, expected)                                                                               \
    QVERIFY2((actual) == (expected),                                                                                   \
             QByteArray("actual:   " + text(actual) + "\nexpected: " + text(expected)).constData())

class tst_PresenceTracker : public QObject
{
    Q_OBJECT

private slots:
    void trackReturnsJoinsDiff();
    void refsAreUniquePerTrackAndUpdate();
    void updateCarriesNewMetaAndPrevRef();
    void severalMetasUnderOneKeyInTrackingOrder();
    void untrackOneOfTwoMetasKeepsKey();
    void lastUntrackRemovesKeyAndTopic();
    void unknownTopicKeyOrRefChangesNothing();
    void listShapeAndTopicsAreSeparate();
};

void tst_PresenceTracker::trackReturnsJoinsDiff()
{
    PresenceTracker tracker;
    QJsonObject diff;
    const QJsonObject meta{{QStringLiteral("status"), QStringLiteral("away")}};
    const QString ref = tracker.track(QStringLiteral("room:1"), QStringLiteral("alice"), 7, meta, &diff);
    QVERIFY2(!ref.isEmpty(), "track() must return the entry's phx_ref");

    const QJsonObject expected{{QStringLiteral("joins"), oneKey(QStringLiteral("alice"), withRef(meta, ref))},
                               {QStringLiteral("leaves"), QJsonObject{}}};
    COMPARE_OBJECT(diff, expected);
    QCOMPARE(tracker.topicCount(), 1);
    COMPARE_OBJECT(tracker.list(QStringLiteral("room:1")), oneKey(QStringLiteral("alice"), withRef(meta, ref)));
}

void tst_PresenceTracker::refsAreUniquePerTrackAndUpdate()
{
    PresenceTracker tracker;
    QSet<QString> refs;
    QJsonObject diff;
    for (int i = 0; i < 50; ++i) {
        const QString ref = tracker.track(QStringLiteral("t"), QStringLiteral("k%1").arg(i % 3), i, {}, &diff);
        QVERIFY2(!refs.contains(ref), qPrintable(QStringLiteral("track ref %1 repeated").arg(ref)));
        refs.insert(ref);
        const QString updated = tracker.update(QStringLiteral("t"), QStringLiteral("k%1").arg(i % 3), ref,
                                               QJsonObject{{QStringLiteral("n"), i}}, &diff);
        QVERIFY2(!updated.isEmpty(), "update of a tracked entry must succeed");
        QVERIFY2(!refs.contains(updated), qPrintable(QStringLiteral("update ref %1 repeated").arg(updated)));
        refs.insert(updated);
    }
    QCOMPARE(refs.size(), 100);
}

void tst_PresenceTracker::updateCarriesNewMetaAndPrevRef()
{
    PresenceTracker tracker;
    QJsonObject diff;
    const QJsonObject before{{QStringLiteral("status"), QStringLiteral("online")}};
    const QString ref = tracker.track(QStringLiteral("room"), QStringLiteral("bob"), 1, before, &diff);

    const QJsonObject after{{QStringLiteral("status"), QStringLiteral("typing")}};
    const QString newRef = tracker.update(QStringLiteral("room"), QStringLiteral("bob"), ref, after, &diff);
    QVERIFY2(!newRef.isEmpty() && newRef != ref, "update() must hand out a fresh phx_ref");

    QJsonObject newMeta = withRef(after, newRef);
    newMeta.insert(QStringLiteral("phx_ref_prev"), ref);
    const QJsonObject expected{{QStringLiteral("joins"), oneKey(QStringLiteral("bob"), newMeta)},
                               {QStringLiteral("leaves"), oneKey(QStringLiteral("bob"), withRef(before, ref))}};
    COMPARE_OBJECT(diff, expected);
    COMPARE_OBJECT(tracker.list(QStringLiteral("room")), oneKey(QStringLiteral("bob"), newMeta));

    // The old ref no longer names the entry; the new one does.
    QJsonObject untouched;
    QVERIFY2(tracker.update(QStringLiteral("room"), QStringLiteral("bob"), ref, {}, &untouched).isEmpty(),
             "the replaced ref must not match any more");
    QVERIFY(untouched.isEmpty());
    QVERIFY(tracker.untrack(QStringLiteral("room"), QStringLiteral("bob"), newRef, &diff));
}

void tst_PresenceTracker::severalMetasUnderOneKeyInTrackingOrder()
{
    PresenceTracker tracker;
    QJsonObject diff;
    QStringList refs;
    for (int i = 0; i < 3; ++i) {
        refs.append(tracker.track(QStringLiteral("room"), QStringLiteral("carol"), 10 + i,
                                  QJsonObject{{QStringLiteral("device"), i}}, &diff));
        // Each diff names only the entry just tracked.
        QCOMPARE(metasOf(diff.value(QStringLiteral("joins")).toObject(), QStringLiteral("carol")).size(), 1);
    }
    const QJsonArray metas = metasOf(tracker.list(QStringLiteral("room")), QStringLiteral("carol"));
    QCOMPARE(metas.size(), 3);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(metas.at(i).toObject().value(QStringLiteral("device")).toInt(), i);
        QCOMPARE(metas.at(i).toObject().value(QStringLiteral("phx_ref")).toString(), refs.at(i));
    }
    // An update keeps the entry in its place.
    tracker.update(QStringLiteral("room"), QStringLiteral("carol"), refs.at(0),
                   QJsonObject{{QStringLiteral("device"), 99}}, &diff);
    const QJsonArray updated = metasOf(tracker.list(QStringLiteral("room")), QStringLiteral("carol"));
    QCOMPARE(updated.at(0).toObject().value(QStringLiteral("device")).toInt(), 99);
    QCOMPARE(updated.at(1).toObject().value(QStringLiteral("device")).toInt(), 1);
}

void tst_PresenceTracker::untrackOneOfTwoMetasKeepsKey()
{
    PresenceTracker tracker;
    QJsonObject diff;
    const QJsonObject first{{QStringLiteral("device"), QStringLiteral("phone")}};
    const QJsonObject second{{QStringLiteral("device"), QStringLiteral("laptop")}};
    const QString ref1 = tracker.track(QStringLiteral("room"), QStringLiteral("dave"), 1, first, &diff);
    const QString ref2 = tracker.track(QStringLiteral("room"), QStringLiteral("dave"), 2, second, &diff);

    QVERIFY2(tracker.untrack(QStringLiteral("room"), QStringLiteral("dave"), ref1, &diff),
             "untrack of a tracked ref must succeed");
    const QJsonObject expected{{QStringLiteral("joins"), QJsonObject{}},
                               {QStringLiteral("leaves"), oneKey(QStringLiteral("dave"), withRef(first, ref1))}};
    COMPARE_OBJECT(diff, expected);
    COMPARE_OBJECT(tracker.list(QStringLiteral("room")), oneKey(QStringLiteral("dave"), withRef(second, ref2)));
    QCOMPARE(tracker.topicCount(), 1);
}

void tst_PresenceTracker::lastUntrackRemovesKeyAndTopic()
{
    PresenceTracker tracker;
    QJsonObject diff;
    const QString a = tracker.track(QStringLiteral("room"), QStringLiteral("erin"), 1, {}, &diff);
    const QString b = tracker.track(QStringLiteral("room"), QStringLiteral("frank"), 2, {}, &diff);
    QCOMPARE(tracker.topicCount(), 1);

    QVERIFY(tracker.untrack(QStringLiteral("room"), QStringLiteral("erin"), a, &diff));
    QVERIFY2(!tracker.list(QStringLiteral("room")).contains(QStringLiteral("erin")),
             "a key without metas must disappear from list()");
    QCOMPARE(tracker.topicCount(), 1);

    QVERIFY(tracker.untrack(QStringLiteral("room"), QStringLiteral("frank"), b, &diff));
    QCOMPARE(diff.value(QStringLiteral("leaves")).toObject().keys(), QStringList{QStringLiteral("frank")});
    QCOMPARE(tracker.topicCount(), 0);
    QVERIFY(tracker.list(QStringLiteral("room")).isEmpty());
}

void tst_PresenceTracker::unknownTopicKeyOrRefChangesNothing()
{
    PresenceTracker tracker;
    QJsonObject diff;
    const QString ref =
        tracker.track(QStringLiteral("room"), QStringLiteral("gina"), 1, QJsonObject{{QStringLiteral("x"), 1}}, &diff);
    const QJsonObject before = tracker.list(QStringLiteral("room"));

    const QJsonObject sentinel{{QStringLiteral("sentinel"), true}};
    struct Case {
        const char *name;
        QString topic, key, ref;
    };
    const Case cases[] = {
        {"unknown topic", QStringLiteral("other"), QStringLiteral("gina"), ref},
        {"unknown key", QStringLiteral("room"), QStringLiteral("nobody"), ref},
        {"unknown ref", QStringLiteral("room"), QStringLiteral("gina"), QStringLiteral("no-such-ref")},
        {"ref under another key", QStringLiteral("room"), QStringLiteral("GINA"), ref},
    };
    for (const Case &c : cases) {
        diff = sentinel;
        QVERIFY2(tracker.update(c.topic, c.key, c.ref, {}, &diff).isEmpty(), c.name);
        QVERIFY2(diff == sentinel, c.name);
        QVERIFY2(!tracker.untrack(c.topic, c.key, c.ref, &diff), c.name);
        QVERIFY2(diff == sentinel, c.name);
        QVERIFY2(tracker.list(QStringLiteral("room")) == before, c.name);
        QCOMPARE(tracker.topicCount(), 1);
    }
    QVERIFY(tracker.list(QStringLiteral("other")).isEmpty());
    QCOMPARE(tracker.topicCount(), 1); // list() of an unknown topic creates nothing
}

void tst_PresenceTracker::listShapeAndTopicsAreSeparate()
{
    PresenceTracker tracker;
    QJsonObject diff;
    const QString r1 = tracker.track(QStringLiteral("a"), QStringLiteral("k1"), 1, {{u"n"_s, 1}}, &diff);
    const QString r2 = tracker.track(QStringLiteral("a"), QStringLiteral("k2"), 2, {{u"n"_s, 2}}, &diff);
    const QString r3 = tracker.track(QStringLiteral("b"), QStringLiteral("k1"), 1, {{u"n"_s, 3}}, &diff);
    QCOMPARE(tracker.topicCount(), 2);

    QJsonObject expectedA = oneKey(QStringLiteral("k1"), withRef({{u"n"_s, 1}}, r1));
    expectedA.insert(QStringLiteral("k2"),
                     QJsonObject{{QStringLiteral("metas"), QJsonArray{withRef({{u"n"_s, 2}}, r2)}}});
    COMPARE_OBJECT(tracker.list(QStringLiteral("a")), expectedA);
    COMPARE_OBJECT(tracker.list(QStringLiteral("b")), oneKey(QStringLiteral("k1"), withRef({{u"n"_s, 3}}, r3)));

    // The same key on another topic is another entry: untracking it there leaves "a" alone.
    QVERIFY2(!tracker.untrack(QStringLiteral("b"), QStringLiteral("k1"), r1, &diff),
             "a ref of topic a must not untrack on topic b");
    QVERIFY(tracker.untrack(QStringLiteral("b"), QStringLiteral("k1"), r3, &diff));
    QCOMPARE(tracker.topicCount(), 1);
    COMPARE_OBJECT(tracker.list(QStringLiteral("a")), expectedA);
}

QTEST_GUILESS_MAIN(tst_PresenceTracker)
#include "tst_presencetracker.moc"
