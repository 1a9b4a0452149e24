// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "clientlistmodel.h"

#include <QDateTime>
#include <QLocale>

namespace wsserve {

ClientListModel::ClientListModel(ServerController &controller, QObject *parent)
    : QAbstractTableModel(parent)
    , m_controller(controller)
{
    connect(&m_controller, &ServerController::instanceClientsChanged, this,
            [this](const QString &id, const ClientList &clients) {
                if (id == m_instanceId) {
                    update(clients);
                }
            });
}

void ClientListModel::setInstance(const QString &id)
{
    beginResetModel();
    m_instanceId = id;
    m_clients = id.isEmpty() ? ClientList{} : m_controller.clients(id);
    endResetModel();
}

void ClientListModel::update(const ClientList &clients)
{
    const bool sameRows = clients.size() == m_clients.size() &&
                          std::equal(clients.cbegin(), clients.cend(), m_clients.cbegin(),
                                     [](const ClientInfo &a, const ClientInfo &b) { return a.id == b.id; });
    if (sameRows) {
        // Same clients: update the cells in place so the selection survives.
        m_clients = clients;
        if (!m_clients.isEmpty()) {
            emit dataChanged(index(0, 0), index(static_cast<int>(m_clients.size()) - 1, ColumnCount - 1));
        }
        return;
    }
    beginResetModel();
    m_clients = clients;
    endResetModel();
}

quint64 ClientListModel::clientIdAt(int row) const
{
    return row >= 0 && row < m_clients.size() ? m_clients.at(row).id : 0;
}

int ClientListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_clients.size());
}

int ClientListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ClientListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_clients.size()) {
        return {};
    }
    const ClientInfo &client = m_clients.at(index.row());
    if (role == Qt::TextAlignmentRole && index.column() >= MessagesInColumn) {
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    }
    if (role != Qt::DisplayRole) {
        return {};
    }
    const QLocale locale;
    switch (index.column()) {
    case IdColumn:
        return QString::number(client.id);
    case AddressColumn:
        return client.remoteAddress;
    case SinceColumn:
        return QDateTime::fromMSecsSinceEpoch(client.connectedAtMs).toString(QStringLiteral("HH:mm:ss"));
    case FormatColumn:
        return client.longPoll ? wireFormatName(client.format) + QStringLiteral(" long-poll")
                               : wireFormatName(client.format);
    case TopicsColumn:
        return client.topics.join(QStringLiteral(", "));
    case MessagesInColumn:
        return locale.toString(client.messagesIn);
    case MessagesOutColumn:
        return locale.toString(client.messagesOut);
    case BytesInColumn:
        return locale.formattedDataSize(static_cast<qint64>(client.bytesIn));
    case BytesOutColumn:
        return locale.formattedDataSize(static_cast<qint64>(client.bytesOut));
    default:
        return {};
    }
}

QVariant ClientListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
    case IdColumn:
        return tr("Client");
    case AddressColumn:
        return tr("Address");
    case SinceColumn:
        return tr("Since");
    case FormatColumn:
        return tr("Format");
    case TopicsColumn:
        return tr("Topics");
    case MessagesInColumn:
        return tr("Msgs in");
    case MessagesOutColumn:
        return tr("Msgs out");
    case BytesInColumn:
        return tr("Bytes in");
    case BytesOutColumn:
        return tr("Bytes out");
    default:
        return {};
    }
}

} // namespace wsserve
