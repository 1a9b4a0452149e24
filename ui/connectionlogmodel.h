// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "clientnames.h"
#include "servercontroller.h"

#include <QAbstractTableModel>

namespace wsserve {

// The connection log (the Connections tab): connects, disconnects with their close code, refused attempts
// with the HTTP status and the reason sent, kicks, and the supervisor's lifecycle events (restarts), of one
// instance or of all of them. Fed by the facade's batched connectionEvents(); at most kMaxRows rows.
// Thread: GUI thread.
class ConnectionLogModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionLogModel)

public:
    enum Column {
        TimeColumn = 0,
        InstanceColumn,
        WhatColumn,
        ClientColumn,
        AddressColumn,
        CodeColumn,
        ReasonColumn,
        ColumnCount
    };
    static constexpr int kMaxRows = 5000;

    explicit ConnectionLogModel(ServerController &controller, QObject *parent = nullptr);

    // Shows one instance's entries (and refusals that name no instance are left out); empty: every instance.
    void setInstance(const QString &id);
    QString instanceId() const { return m_instanceId; }
    void setAllInstances(bool all);
    bool allInstances() const { return m_all; }
    // Entries left out by floods (the endpoint and instances keep at most 100 per batch).
    quint64 dropped() const { return m_dropped; }
    // The row's text, tab-separated, for Copy.
    QString rowText(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void droppedChanged(quint64 dropped);

private:
    struct Row {
        ConnectionEvent event;
        bool lifecycle = false; // a supervisor event (state change, restart); `reason` holds its message
        QString state;
    };
    bool accepts(const Row &row) const;
    void reload();
    void append(const QList<Row> &rows);

    ServerController &m_controller;
    QString m_instanceId;
    bool m_all = false;
    QList<Row> m_allRows; // every entry since start, bounded
    QList<Row> m_rows;    // the ones shown
    quint64 m_dropped = 0;
    // Names learnt after the connect (a join's `name`, a presence key): shown for every row of that client.
    ClientNames m_names{kMaxRows * 4};
};

} // namespace wsserve
