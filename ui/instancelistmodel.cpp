// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instancelistmodel.h"

#include "clock.h"

#include <QColor>
#include <QDateTime>
#include <QTimer>

using namespace Qt::StringLiterals;

namespace wsserve {

InstanceListModel::InstanceListModel(ServerController &controller, QObject *parent)
    : QAbstractTableModel(parent)
    , m_controller(controller)
{
    for (const QString &id : m_controller.instanceIds()) {
        m_rows.append(Row{id, {}, {}});
    }
    connect(&m_controller, &ServerController::instanceAdded, this, [this](const QString &id) {
        if (rowOf(id) >= 0) {
            return;
        }
        beginInsertRows({}, static_cast<int>(m_rows.size()), static_cast<int>(m_rows.size()));
        m_rows.append(Row{id, {}, {}});
        if (!m_nodeName.isEmpty()) {
            updateCluster(m_rows.last(), m_controller.clusterStatus());
        }
        endInsertRows();
    });
    connect(&m_controller, &ServerController::instanceRemoved, this, [this](const QString &id) {
        const int row = rowOf(id);
        if (row < 0) {
            return;
        }
        beginRemoveRows({}, row, row);
        m_rows.removeAt(row);
        endRemoveRows();
    });
    connect(&m_controller, &ServerController::instanceStateChanged, this,
            [this](const QString &id) { refreshRow(id); });
    connect(&m_controller, &ServerController::instanceStatsChanged, this,
            [this](const QString &id) { refreshRow(id); });
    m_sampleTimer = new QTimer(this);
    m_sampleTimer->setInterval(1000);
    connect(m_sampleTimer, &QTimer::timeout, this, &InstanceListModel::sample);
    m_sampleTimer->start();
    if (const ClusterStatus status = m_controller.clusterStatus(); status.enabled) {
        // Other nodes' counts come with their heartbeats (every second) and nodes leave without any instance
        // event here: read them at the heartbeat's pace, as the status bar does.
        m_nodeName = status.node;
        auto *clusterTimer = new QTimer(this);
        clusterTimer->setInterval(1000);
        connect(clusterTimer, &QTimer::timeout, this, &InstanceListModel::refreshCluster);
        clusterTimer->start();
        refreshCluster();
    }
}

int InstanceListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int InstanceListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QColor InstanceListModel::stateColor(InstanceState state)
{
    switch (state) {
    case InstanceState::Running:
        return QColor(0x2e, 0x9e, 0x4f);
    case InstanceState::Starting:
    case InstanceState::Restarting:
    case InstanceState::Stopping:
        return QColor(0xd0, 0x8c, 0x10);
    case InstanceState::Failed:
        return QColor(0xd0, 0x32, 0x32);
    case InstanceState::Stopped:
    case InstanceState::Invalid:
        break;
    }
    return QColor(0x80, 0x80, 0x80);
}

QVariant InstanceListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size()) {
        return {};
    }
    const Row &row = m_rows.at(index.row());
    const InstanceInfo info = m_controller.instance(row.id);
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case IdColumn:
            return row.id;
        case TypeColumn:
            return info.config.type;
        case StateColumn:
            return instanceStateName(info.state);
        case ClientsColumn:
            if (row.cluster.shared) {
                return clientsText(row);
            }
            return info.stats.clients;
        case InColumn: // the rate the instance measured: what the admin API reports as messages_in_per_s
            return QString::number(info.stats.messagesInPerSecond, 'f', 0);
        case OutColumn:
            return QString::number(info.stats.messagesOutPerSecond, 'f', 0);
        case RestartsColumn:
            return info.restarts;
        default:
            return {};
        }
    }
    if (role == Qt::ForegroundRole && index.column() == StateColumn) {
        return stateColor(info.state);
    }
    if (role == Qt::TextAlignmentRole && index.column() >= ClientsColumn) {
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role == Qt::ToolTipRole && index.column() == ClientsColumn && row.cluster.shared) {
        return clientsTooltip(row);
    }
    if (role == Qt::ToolTipRole && index.column() == StateColumn) {
        const QList<SupervisorEvent> log = m_controller.supervisorLog();
        for (auto it = log.crbegin(); it != log.crend(); ++it) {
            if (it->instanceId == row.id) {
                return it->message;
            }
        }
    }
    return {};
}

QVariant InstanceListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
    case IdColumn:
        return tr("Instance");
    case TypeColumn:
        return tr("Type");
    case StateColumn:
        return tr("State");
    case ClientsColumn:
        return tr("Clients");
    case InColumn:
        return tr("In/s");
    case OutColumn:
        return tr("Out/s");
    case RestartsColumn:
        return tr("Restarts");
    default:
        return {};
    }
}

QString InstanceListModel::idAt(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows.at(row).id : QString();
}

int InstanceListModel::rowOf(const QString &id) const
{
    for (int row = 0; row < m_rows.size(); ++row) {
        if (m_rows.at(row).id == id) {
            return row;
        }
    }
    return -1;
}

QList<StatsSample> InstanceListModel::history(const QString &id) const
{
    const int row = rowOf(id);
    return row >= 0 ? m_rows.at(row).history : QList<StatsSample>{};
}

void InstanceListModel::refreshRow(const QString &id)
{
    const int row = rowOf(id);
    if (row >= 0) {
        if (!m_nodeName.isEmpty()) { // the count here changed: so did the cluster's
            updateCluster(m_rows[row], m_controller.clusterStatus());
        }
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }
}

bool InstanceListModel::updateCluster(Row &row, const ClusterStatus &status)
{
    ClusterClients clients = ServerController::clusterClients(status, row.id, m_controller.instance(row.id));
    if (clients == row.cluster) {
        return false;
    }
    row.cluster = std::move(clients);
    return true;
}

void InstanceListModel::refreshCluster()
{
    const ClusterStatus status = m_controller.clusterStatus();
    const bool connectionChanged = status.connected != m_clusterConnected;
    m_clusterConnected = status.connected;
    for (int i = 0; i < m_rows.size(); ++i) {
        Row &row = m_rows[i];
        if (updateCluster(row, status) || (connectionChanged && row.cluster.shared)) {
            emit dataChanged(index(i, ClientsColumn), index(i, ClientsColumn));
        }
    }
}

QString InstanceListModel::clientsText(const Row &row) const
{
    return m_clusterConnected ? tr("%1 (%2 in cluster)").arg(row.cluster.here).arg(row.cluster.cluster)
                              : tr("%1 (cluster disconnected)").arg(row.cluster.here);
}

QString InstanceListModel::clientsTooltip(const Row &row) const
{
    QStringList lines{m_clusterConnected
                          ? tr("Shared with the cluster: %1 clients here, %2 in the whole cluster")
                                .arg(row.cluster.here)
                                .arg(row.cluster.cluster)
                          : tr("Shared with the cluster, which is disconnected: other nodes' clients are not known")};
    for (const auto &[node, clients] : row.cluster.nodes) {
        lines.append(node == m_nodeName ? tr("%1 (this node): %2").arg(node).arg(clients)
                                        : tr("%1: %2").arg(node).arg(clients));
    }
    return lines.join(u'\n');
}

void InstanceListModel::sample()
{
    const qint64 now = nowMs();
    for (Row &row : m_rows) {
        const InstanceStats stats = m_controller.instance(row.id).stats;
        // One source of truth: the rates the instance measured, never a second estimate made here.
        row.history.append(StatsSample{now, stats.messagesInPerSecond, stats.messagesOutPerSecond, stats.clients});
        while (row.history.size() > kHistorySeconds) {
            row.history.removeFirst();
        }
        emit historyChanged(row.id);
    }
    if (!m_rows.isEmpty()) {
        emit dataChanged(index(0, InColumn), index(static_cast<int>(m_rows.size()) - 1, OutColumn));
    }
}

} // namespace wsserve
