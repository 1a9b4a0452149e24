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

const ClientInfo *ClientListModel::clientAt(int row) const
{
    return row >= 0 && row < m_clients.size() ? &m_clients.at(row) : nullptr;
}

QString ClientListModel::displayName(const QString &name, quint64 id)
{
    return name.isEmpty() ? tr("client %1").arg(id) : name;
}

QString ClientListModel::displayName(const ClientInfo &client)
{
    return displayName(client.name, client.id);
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
    if (role == Qt::ToolTipRole) {
        return tr("Client id %1 from %2, connected %3; %4 messages in, %5 out")
            .arg(client.id)
            .arg(client.remoteAddress,
                 QDateTime::fromMSecsSinceEpoch(client.connectedAtMs).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")))
            .arg(client.messagesIn)
            .arg(client.messagesOut);
    }
    if (role != Qt::DisplayRole) {
        return {};
    }
    const QLocale locale;
    switch (index.column()) {
    case NameColumn:
        return displayName(client);
    case TransportColumn:
        return client.transport;
    case AddressColumn:
        return client.remoteAddress;
    case SinceColumn:
        return QDateTime::fromMSecsSinceEpoch(client.connectedAtMs).toString(QStringLiteral("HH:mm:ss"));
    case FormatColumn:
        return wireFormatName(client.format); // the Transport column says long-poll
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
    case NameColumn:
        return tr("Name");
    case TransportColumn:
        return tr("Transport");
    case AddressColumn:
        return tr("Address");
    case SinceColumn:
        return tr("Since");
    case FormatColumn:
        return tr("Format");
    case TopicsColumn:
        return tr("Topics");
    case MessagesInColumn:
        return tr("In");
    case MessagesOutColumn:
        return tr("Out");
    case BytesInColumn:
        return tr("Bytes in");
    case BytesOutColumn:
        return tr("Bytes out");
    default:
        return {};
    }
}

} // namespace wsserve
