// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Issue #20's front end: the window on a node of a cluster. A real redis-server on a loopback port, the
// window's own node and a second wsserve process, real clients on both: the instance list shows a shared
// instance's clients here and in the cluster (the nodes in the tooltip), the status bar the nodes, and both
// follow when the other node's clients leave and when that node is killed. Offscreen, real event loops.

#include "clusterprocesses.h"
#include "instancelistmodel.h"
#include "phoenixtestclient.h"
#include "uitestwindow.h"

#include <QLabel>
#include <QStatusBar>

#include <algorithm>
#include <memory>
#include <vector>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {
// A node silent for 3 heartbeats of 1 s is gone (ClusterLink); the list reads the cluster every second.
constexpr int kNodeGoneMs = 10000;
} // namespace

class tst_UiCluster : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<QSettings> m_settings;
    RedisServer m_redis;
    UiTestWindow m_ui;

    QString cell(const QString &id, int column, int role = Qt::DisplayRole) const
    {
        const InstanceListModel *model = m_ui.window->instances();
        return model->index(model->rowOf(id), column).data(role).toString();
    }

    QString statusText() const
    {
        // The status line is the bar's normal (not permanent) label.
        for (const QLabel *label : m_ui.window->statusBar()->findChildren<QLabel *>()) {
            if (label->text().contains(u"Listening on"_s)) {
                return label->text();
            }
        }
        return {};
    }

    // Opens `count` real clients on `url` (counted by the instance as soon as they are connected).
    static bool connectClients(std::vector<std::unique_ptr<PhoenixTestClient>> &clients, const QUrl &url, int count)
    {
        for (int i = 0; i < count; ++i) {
            clients.push_back(std::make_unique<PhoenixTestClient>());
            if (!clients.back()->open(url)) {
                return false;
            }
        }
        return true;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!RedisServer::installed()) {
            QSKIP("redis-server is not installed (scripts/deps.sh installs it)");
        }
        QVERIFY2(m_redis.start(), qPrintable(m_redis.error()));
        m_settings = UiTestWindow::freshSettings(m_dir);
        UiTestWindow::Options options;
        options.cluster = m_redis.url();
        options.nodeName = u"hall-a"_s;
        m_ui.open(*m_settings, options);
    }

    void cleanupTestCase() { m_ui.close(); }

    void instanceListShowsClientsHereAndInCluster()
    {
        m_ui.create(u"solo"_s, u"echo"_s);
        m_ui.create(u"lobby"_s, u"chat"_s, {{u"cluster"_s, true}});
        ClusterNodeProcess other;
        QString error;
        QVERIFY2(other.start(m_redis.url(), u"hall-b"_s, {u"lobby:chat:cluster=true"_s}, &error), qPrintable(error));

        std::vector<std::unique_ptr<PhoenixTestClient>> here;
        std::vector<std::unique_ptr<PhoenixTestClient>> there;
        QVERIFY(connectClients(here, m_ui.url(u"lobby"_s), 2));
        QVERIFY(connectClients(here, m_ui.url(u"solo"_s), 1));
        QVERIFY(connectClients(there, other.url(u"lobby"_s), 3));

        const int clients = InstanceListModel::ClientsColumn;
        QTRY_COMPARE_WITH_TIMEOUT(cell(u"lobby"_s, clients), u"2 (5 in cluster)"_s, kNodeGoneMs);
        const QString tooltip = cell(u"lobby"_s, clients, Qt::ToolTipRole);
        QVERIFY2(tooltip.contains(u"2 clients here, 5 in the whole cluster"_s), qPrintable(tooltip));
        QVERIFY2(tooltip.contains(u"hall-a (this node): 2"_s), qPrintable(tooltip));
        QVERIFY2(tooltip.contains(u"hall-b: 3"_s), qPrintable(tooltip));
        // An instance that is not shared looks as on a node alone: a plain count, no tooltip.
        const QModelIndex solo = m_ui.window->instances()->index(m_ui.window->instances()->rowOf(u"solo"_s), clients);
        QTRY_COMPARE(solo.data().toInt(), 1);
        QCOMPARE(solo.data().typeId(), QMetaType::Int);
        QVERIFY(solo.data(Qt::ToolTipRole).isNull());
        // The status bar counts the clients of each node's shared instances.
        QTRY_VERIFY2_WITH_TIMEOUT(statusText().contains(u"cluster: connected, nodes hall-a (2), hall-b (3)"_s),
                                  qPrintable(statusText()), kNodeGoneMs);
        m_ui.window->selectInstance(u"lobby"_s);
        UiTestWindow::shot(m_ui.window.get(), u"cluster"_s);

        // Clients leave the other node: the list follows with its next heartbeat, and repaints the cell.
        QSignalSpy changed(m_ui.window->instances(), &QAbstractItemModel::dataChanged);
        there.pop_back();
        there.pop_back();
        QTRY_COMPARE_WITH_TIMEOUT(cell(u"lobby"_s, clients), u"2 (3 in cluster)"_s, kNodeGoneMs);
        QVERIFY(std::any_of(changed.cbegin(), changed.cend(), [&](const QList<QVariant> &args) {
            const auto from = args.at(0).toModelIndex();
            const auto to = args.at(1).toModelIndex();
            return from.column() <= clients && to.column() >= clients &&
                   from.row() <= m_ui.window->instances()->rowOf(u"lobby"_s) &&
                   to.row() >= m_ui.window->instances()->rowOf(u"lobby"_s);
        }));
        QVERIFY(cell(u"lobby"_s, clients, Qt::ToolTipRole).contains(u"hall-b: 1"_s));
        QTRY_VERIFY2_WITH_TIMEOUT(statusText().contains(u"nodes hall-a (2), hall-b (1)"_s), qPrintable(statusText()),
                                  kNodeGoneMs);

        // A client leaves here: the count here and the cluster's drop together.
        here.front().reset();
        QTRY_COMPARE_WITH_TIMEOUT(cell(u"lobby"_s, clients), u"1 (2 in cluster)"_s, kNodeGoneMs);

        // The other node dies: within 3 missed heartbeats it leaves the list and the status bar.
        other.kill();
        QTRY_COMPARE_WITH_TIMEOUT(cell(u"lobby"_s, clients), u"1 (1 in cluster)"_s, kNodeGoneMs);
        QVERIFY(!cell(u"lobby"_s, clients, Qt::ToolTipRole).contains(u"hall-b"_s));
        QTRY_VERIFY2_WITH_TIMEOUT(statusText().endsWith(u"cluster: connected, nodes hall-a (1)"_s),
                                  qPrintable(statusText()), kNodeGoneMs);

        // It comes back (a new boot under the same name): counted again.
        ClusterNodeProcess back;
        QVERIFY2(back.start(m_redis.url(), u"hall-b"_s, {u"lobby:chat:cluster=true"_s}, &error), qPrintable(error));
        QVERIFY(connectClients(there, back.url(u"lobby"_s), 1));
        QTRY_COMPARE_WITH_TIMEOUT(cell(u"lobby"_s, clients), u"1 (2 in cluster)"_s, kNodeGoneMs);
        QTRY_VERIFY2_WITH_TIMEOUT(statusText().contains(u"nodes hall-a (1), hall-b (1)"_s), qPrintable(statusText()),
                                  kNodeGoneMs);
    }

    void redisLostShowsDisconnected()
    {
        const int clients = InstanceListModel::ClientsColumn;
        PhoenixTestClient client;
        QVERIFY(client.open(m_ui.url(u"lobby"_s)));
        m_redis.stop();
        // Local clients are still counted; the other nodes' are not known while Redis is away.
        QTRY_COMPARE_WITH_TIMEOUT(cell(u"lobby"_s, clients), u"1 (cluster disconnected)"_s, kNodeGoneMs);
        QVERIFY(cell(u"lobby"_s, clients, Qt::ToolTipRole).contains(u"disconnected"_s));
        QTRY_VERIFY2_WITH_TIMEOUT(statusText().contains(u"cluster: disconnected"_s), qPrintable(statusText()),
                                  kNodeGoneMs);
    }
};

QTEST_MAIN(tst_UiCluster)
#include "tst_ui_cluster.moc"
