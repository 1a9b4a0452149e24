// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "connectionlogmodel.h"

#include "clientlistmodel.h"

#include <QColor>
#include <QDateTime>

using namespace Qt::StringLiterals;

namespace wsserve {

namespace {
template <typename T> void trimFront(QList<T> &list, qsizetype max)
{
    if (list.size() > max) {
        list.remove(0, list.size() - max);
    }
}
} // namespace

ConnectionLogModel::ConnectionLogModel(ServerController &controller, QObject *parent)
    : QAbstractTableModel(parent)
    , m_controller(controller)
{
    for (const ConnectionEvent &event : m_controller.connectionLog()) {
        m_allRows.append(Row{event, false, {}});
    }
    m_dropped = m_controller.connectionEventsDropped();
    connect(&m_controller, &ServerController::connectionEvents, this,
            [this](const QList<ConnectionEvent> &events, quint64 dropped) {
                QList<Row> rows;
                rows.reserve(events.size());
                for (const ConnectionEvent &event : events) {
                    rows.append(Row{event, false, {}});
                }
                append(rows);
                if (dropped > 0) {
                    m_dropped += dropped;
                    emit droppedChanged(m_dropped);
                }
            });
    connect(&m_controller, &ServerController::instanceClientsChanged, this,
            [this](const QString &, const ClientList &clients) {
                if (m_names.learn(clients) && !m_rows.isEmpty()) {
                    emit dataChanged(index(0, ClientColumn), index(static_cast<int>(m_rows.size()) - 1, ClientColumn));
                }
            });
    connect(&m_controller, &ServerController::supervisorEvent, this, [this](const SupervisorEvent &event) {
        Row row;
        row.lifecycle = true;
        row.event.timeMs = event.time.toMSecsSinceEpoch();
        row.event.instanceId = event.instanceId;
        row.event.reason = event.message;
        row.state = instanceStateName(event.state);
        append({row});
    });
}

void ConnectionLogModel::setInstance(const QString &id)
{
    m_instanceId = id;
    reload();
}

void ConnectionLogModel::setAllInstances(bool all)
{
    m_all = all;
    reload();
}

bool ConnectionLogModel::accepts(const Row &row) const
{
    return m_all || (!m_instanceId.isEmpty() && row.event.instanceId == m_instanceId);
}

void ConnectionLogModel::reload()
{
    beginResetModel();
    m_rows.clear();
    for (const Row &row : std::as_const(m_allRows)) {
        if (accepts(row)) {
            m_rows.append(row);
        }
    }
    endResetModel();
}

void ConnectionLogModel::append(const QList<Row> &rows)
{
    m_allRows.append(rows);
    trimFront(m_allRows, kMaxRows);
    QList<Row> shown;
    for (const Row &row : rows) {
        if (accepts(row)) {
            shown.append(row);
        }
    }
    if (shown.isEmpty()) {
        return;
    }
    if (const qsizetype overflow = m_rows.size() + shown.size() - kMaxRows; overflow > 0) {
        beginRemoveRows({}, 0, static_cast<int>(std::min(overflow, m_rows.size())) - 1);
        m_rows.remove(0, std::min(overflow, m_rows.size()));
        endRemoveRows();
    }
    trimFront(shown, kMaxRows);
    const int first = static_cast<int>(m_rows.size());
    beginInsertRows({}, first, first + static_cast<int>(shown.size()) - 1);
    m_rows.append(shown);
    endInsertRows();
}

QString ConnectionLogModel::rowText(int row) const
{
    QStringList cells;
    for (int column = 0; column < ColumnCount; ++column) {
        cells.append(index(row, column).data().toString());
    }
    return cells.join(u'\t');
}

int ConnectionLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int ConnectionLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ConnectionLogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size()) {
        return {};
    }
    const Row &row = m_rows.at(index.row());
    const ConnectionEvent &event = row.event;
    using Kind = ConnectionEvent::Kind;
    if (role == Qt::ForegroundRole && index.column() == WhatColumn) {
        if (row.lifecycle) {
            return QColor(0x6b, 0x6b, 0x6b);
        }
        switch (event.kind) {
        case Kind::Connected:
            return QColor(0x2e, 0x9e, 0x4f);
        case Kind::Refused:
        case Kind::Kicked:
            return QColor(0xc0, 0x39, 0x2b);
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole && index.column() == ReasonColumn) {
        return event.reason;
    }
    if (role != Qt::DisplayRole) {
        return {};
    }
    switch (index.column()) {
    case TimeColumn:
        return QDateTime::fromMSecsSinceEpoch(event.timeMs).toString(u"HH:mm:ss.zzz"_s);
    case InstanceColumn:
        return event.instanceId.isEmpty() ? tr("(none)") : event.instanceId;
    case WhatColumn:
        if (row.lifecycle) {
            return row.state.toLower();
        }
        switch (event.kind) {
        case Kind::Connected:
            return tr("connected");
        case Kind::Disconnected:
            return tr("disconnected");
        case Kind::Refused:
            return tr("refused");
        case Kind::Kicked:
            return tr("kicked");
        case Kind::Invalid:
            break;
        }
        return {};
    case ClientColumn:
        return event.clientId == 0
                   ? QString()
                   : ClientListModel::displayName(m_names.name(event.clientId, event.name), event.clientId);
    case AddressColumn:
        return event.address;
    case CodeColumn:
        if (row.lifecycle || event.kind == Kind::Connected || event.code == 0) {
            return QString();
        }
        return event.kind == Kind::Refused ? tr("HTTP %1").arg(event.code) : tr("close %1").arg(event.code);
    case ReasonColumn:
        return event.reason;
    default:
        return {};
    }
}

QVariant ConnectionLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case InstanceColumn:
        return tr("Instance");
    case WhatColumn:
        return tr("What");
    case ClientColumn:
        return tr("Client");
    case AddressColumn:
        return tr("Address");
    case CodeColumn:
        return tr("Code");
    case ReasonColumn:
        return tr("Reason");
    default:
        return {};
    }
}

} // namespace wsserve
