// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests of the cluster's plain parts: RemotePresence (other nodes' presence: diffs, state snapshots
// that replace, dropped nodes, merging into presence_state), the --cluster URL and node names, and the
// registry's refusal of cluster=true for types that are not cluster-safe. The nodes themselves, with a
// real redis-server, are tested by tests/conformance/cluster.test.js.

#include "behaviours/builtins.h"
#include "cluster/clustersettings.h"
#include "config/serverconfig.h"
#include "instance/remotepresence.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

namespace {

QJsonObject meta(const QString &ref)
{
    return QJsonObject{{u"phx_ref"_s, ref}};
}

QJsonObject keyed(const QString &key, const QJsonArray &metas)
{
    return QJsonObject{{key, QJsonObject{{u"metas"_s, metas}}}};
}

QJsonObject diff(const QJsonObject &joins, const QJsonObject &leaves)
{
    return QJsonObject{{u"joins"_s, joins}, {u"leaves"_s, leaves}};
}

QByteArray text(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

} // namespace

class tst_Cluster : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void diffsBuildAndMerge()
    {
        RemotePresence remote;
        remote.applyDiff(u"b"_s, u"t"_s, diff(keyed(u"bob"_s, {meta(u"1"_s)}), {}));
        remote.applyDiff(u"c"_s, u"t"_s, diff(keyed(u"bob"_s, {meta(u"2"_s)}), {}));
        remote.applyDiff(u"c"_s, u"t"_s, diff(keyed(u"carol"_s, {meta(u"3"_s)}), {}));
        QJsonObject list = keyed(u"alice"_s, {meta(u"0"_s)}); // this node's own
        remote.mergeInto(u"t"_s, &list);
        QCOMPARE(list.value(u"alice"_s).toObject().value(u"metas"_s).toArray().size(), 1);
        QCOMPARE(list.value(u"bob"_s).toObject().value(u"metas"_s).toArray().size(), 2); // one per node
        QCOMPARE(list.value(u"carol"_s).toObject().value(u"metas"_s).toArray().size(), 1);
        QJsonObject other;
        remote.mergeInto(u"elsewhere"_s, &other);
        QVERIFY(other.isEmpty());

        // An update (new meta in joins, old in leaves) and a leave.
        remote.applyDiff(u"b"_s, u"t"_s, diff(keyed(u"bob"_s, {meta(u"1b"_s)}), keyed(u"bob"_s, {meta(u"1"_s)})));
        remote.applyDiff(u"c"_s, u"t"_s, diff({}, keyed(u"carol"_s, {meta(u"3"_s)})));
        QJsonObject after;
        remote.mergeInto(u"t"_s, &after);
        QCOMPARE(after.keys(), QStringList({u"bob"_s}));
        QCOMPARE(after.value(u"bob"_s).toObject().value(u"metas"_s).toArray().size(), 2);
        // A leave of an unknown ref changes nothing.
        remote.applyDiff(u"c"_s, u"t"_s, diff({}, keyed(u"bob"_s, {meta(u"nope"_s)})));
        QJsonObject same;
        remote.mergeInto(u"t"_s, &same);
        QCOMPARE(text(same), text(after));
    }

    void stateReplacesAndDropLeaves()
    {
        RemotePresence remote;
        remote.applyDiff(u"b"_s, u"t"_s, diff(keyed(u"bob"_s, {meta(u"1"_s)}), {}));
        remote.applyDiff(u"b"_s, u"u"_s, diff(keyed(u"bea"_s, {meta(u"2"_s)}), {}));
        // B comes back with bob still there (same ref) and a new member; bea is gone.
        QJsonObject topicT = keyed(u"bob"_s, {meta(u"1"_s)});
        topicT.insert(u"ben"_s, QJsonObject{{u"metas"_s, QJsonArray{meta(u"9"_s)}}});
        const QJsonObject state{{u"t"_s, topicT}};
        const QHash<QString, QJsonObject> diffs = remote.replace(u"b"_s, state);
        QCOMPARE(diffs.size(), 2);
        QCOMPARE(text(diffs.value(u"t"_s)), text(diff(keyed(u"ben"_s, {meta(u"9"_s)}), {})));
        QCOMPARE(text(diffs.value(u"u"_s)), text(diff({}, keyed(u"bea"_s, {meta(u"2"_s)}))));
        // The same state again: nothing changes, no diff, no duplicate metas.
        QVERIFY(remote.replace(u"b"_s, state).isEmpty());
        QJsonObject list;
        remote.mergeInto(u"t"_s, &list);
        QCOMPARE(list.value(u"bob"_s).toObject().value(u"metas"_s).toArray().size(), 1);

        const QHash<QString, QJsonObject> gone = remote.dropNode(u"b"_s);
        QCOMPARE(gone.size(), 1);
        QCOMPARE(gone.value(u"t"_s).value(u"leaves"_s).toObject().keys(), QStringList({u"ben"_s, u"bob"_s}));
        QCOMPARE(remote.nodeCount(), 0);
        QVERIFY(remote.dropNode(u"b"_s).isEmpty());
    }

    void clusterUrls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("expected"); // url() or "error:<part of the message>"
        QTest::newRow("host and port") << u"redis://127.0.0.1:6380"_s << u"redis://127.0.0.1:6380/0"_s;
        QTest::newRow("default port, db") << u"redis://redis.lan/3"_s << u"redis://redis.lan:6379/3"_s;
        QTest::newRow("ipv6") << u"redis://[::1]:7000/1"_s << u"redis://[::1]:7000/1"_s;
        QTest::newRow("scheme") << u"http://h:1"_s << u"error:is not valid"_s;
        QTest::newRow("password") << u"redis://:pw@h:1"_s << u"error:must not carry"_s;
        QTest::newRow("no host") << u"redis://:1"_s << u"error:"_s;
        QTest::newRow("bad db") << u"redis://h:1/x"_s << u"error:database must be a number"_s;
        QTest::newRow("query") << u"redis://h:1/0?x=1"_s << u"error:query"_s;
    }

    void clusterUrls()
    {
        QFETCH(QString, url);
        QFETCH(QString, expected);
        ClusterSettings settings;
        QString error;
        const bool ok = parseClusterUrl(url, &settings, &error);
        if (expected.startsWith(u"error:")) {
            QVERIFY2(!ok, qPrintable(settings.url()));
            QVERIFY2(error.contains(expected.mid(6)), qPrintable(error));
        } else {
            QVERIFY2(ok, qPrintable(error));
            QCOMPARE(settings.url(), expected);
        }
    }

    void nodeNames()
    {
        QVERIFY(validateNodeName(u"host-1.lan:4000"_s).isEmpty());
        QVERIFY(!validateNodeName(QString()).isEmpty());
        QVERIFY(!validateNodeName(u"two words"_s).isEmpty());
        QVERIFY(!validateNodeName(QString(65, u'a')).isEmpty());
    }

    void configFileKeys()
    {
        ServerConfig config;
        QString error;
        QVERIFY2(parseServerConfigJson(R"({"cluster": "redis://r:1/2", "cluster_password": "pw", "node_name": "n1"})",
                                       &config, &error),
                 qPrintable(error));
        QCOMPARE(config.cluster, u"redis://r:1/2"_s);
        QCOMPARE(config.clusterPassword, u"pw"_s);
        QCOMPARE(config.nodeName, u"n1"_s);
        QVERIFY(!parseServerConfigJson(R"({"cluster": 5})", &config, &error));
        QCOMPARE(error, u"'cluster' must be a string"_s);
        // The environment wins over the file.
        qputenv("WSSERVE_REDIS_PASSWORD", "from-env");
        QCOMPARE(clusterPasswordFromEnvironment(u"pw"_s), u"from-env"_s);
        qunsetenv("WSSERVE_REDIS_PASSWORD");
        qunsetenv("REDISCLI_AUTH");
        QCOMPARE(clusterPasswordFromEnvironment(u"pw"_s), u"pw"_s);
    }

    void onlyClusterSafeTypes()
    {
        const BehaviourRegistry registry = builtinRegistry();
        InstanceConfig config;
        QString error;
        for (const QString &type : {u"echo"_s, u"chat"_s, u"relay"_s}) {
            QVERIFY2(registry.makeConfig(u"x"_s, type, {{u"cluster"_s, u"true"_s}}, &config, &error),
                     qPrintable(error));
            QVERIFY(registry.find(type)->clusterSafe);
        }
        for (const QString &type : {u"tictactoe"_s, u"chaos"_s, u"realtime"_s}) {
            QVERIFY(!registry.makeConfig(u"x"_s, type, {{u"cluster"_s, true}}, &config, &error));
            QVERIFY2(error.contains(u"cannot take cluster=true (cluster-safe types: echo, chat, relay)"),
                     qPrintable(error));
            QVERIFY2(registry.makeConfig(u"x"_s, type, {{u"cluster"_s, false}}, &config, &error), qPrintable(error));
        }
    }
};

QTEST_GUILESS_MAIN(tst_Cluster)
#include "tst_cluster.moc"
