// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include <QAbstractTableModel>

namespace wsserve {

// The connected clients of one instance (the Clients tab), from the instance's published client list.
// Thread: GUI thread.
class ClientListModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClientListModel)

public:
    enum Column {
        NameColumn = 0, // the name (presence key, `name` param, JWT name/sub), else "client <id>"
        TopicsColumn,
        TransportColumn,
        FormatColumn,
        SinceColumn,
        AddressColumn,
        MessagesInColumn,
        MessagesOutColumn,
        BytesInColumn,
        BytesOutColumn,
        ColumnCount
    };

    explicit ClientListModel(ServerController &controller, QObject *parent = nullptr);

    void setInstance(const QString &id);
    QString instanceId() const { return m_instanceId; }
    quint64 clientIdAt(int row) const;
    const ClientInfo *clientAt(int row) const;
    // What the window calls a client: its name, else "client <id>".
    static QString displayName(const ClientInfo &client);
    static QString displayName(const QString &name, quint64 id);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void update(const ClientList &clients);

    ServerController &m_controller;
    QString m_instanceId;
    ClientList m_clients;
};

} // namespace wsserve
