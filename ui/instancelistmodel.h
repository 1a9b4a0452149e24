// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include <QAbstractTableModel>
#include <QList>

class QTimer;

namespace wsserve {

// One point of an instance's recent history, sampled every second.
struct StatsSample {
    qint64 timeMs = 0;
    double messagesInPerSecond = 0;
    double messagesOutPerSecond = 0;
    int clients = 0;
};

// The instance list: id, type, state, clients, messages/s in and out (the rates the instance measures,
// the admin API's messages_in_per_s / messages_out_per_s), restarts. A shared instance (cluster=true) on a
// node in a cluster shows its clients here and in the whole cluster, "3 (12 in cluster)", with the nodes in
// the tooltip (ServerController::clusterClients, what GET /api/cluster reports). Also keeps the last
// kHistorySeconds of per-second samples for the Stats charts. Thread: GUI thread; fed by the facade.
class InstanceListModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InstanceListModel)

public:
    enum Column {
        IdColumn = 0,
        TypeColumn,
        StateColumn,
        ClientsColumn,
        InColumn,
        OutColumn,
        RestartsColumn,
        ColumnCount
    };
    static constexpr int kHistorySeconds = 300;

    explicit InstanceListModel(ServerController &controller, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    QString idAt(int row) const;
    int rowOf(const QString &id) const;
    QList<StatsSample> history(const QString &id) const;
    static QColor stateColor(InstanceState state);

    // Takes one sample of every instance now (the 1 s timer calls it; tests may too).
    void sample();
    // Re-reads the cluster's per-node clients (the cluster timer calls it every second, the heartbeat
    // period) and repaints the Clients cells that changed.
    void refreshCluster();

Q_SIGNALS:
    void historyChanged(const QString &id);

private:
    struct Row {
        QString id;
        QList<StatsSample> history;
        ClusterClients cluster; // shared == false: a plain count
    };
    void refreshRow(const QString &id);
    // Updates the row's cluster counts from `status`; true when they changed.
    bool updateCluster(Row &row, const ClusterStatus &status);
    QString clientsText(const Row &row) const;
    QString clientsTooltip(const Row &row) const;

    ServerController &m_controller;
    QList<Row> m_rows;
    QTimer *m_sampleTimer = nullptr;
    QString m_nodeName;             // this node's, in a cluster
    bool m_clusterConnected = true; // the last status read
};

} // namespace wsserve
