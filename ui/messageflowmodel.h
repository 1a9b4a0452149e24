// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "clientnames.h"
#include "servercontroller.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

namespace wsserve {

// The live message flow of one instance (the Messages tab): a ring of at most kMaxRows frames, fed in
// batches; pause keeps the rows still (and counts what it skipped); the batches' own sampling is
// reported through samplingChanged(). Thread: GUI thread.
class MessageFlowModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MessageFlowModel)

public:
    enum Column {
        TimeColumn = 0,
        DirectionColumn,
        ClientColumn,
        TopicColumn,
        EventColumn,
        SizeColumn,
        PayloadColumn,
        ColumnCount
    };
    static constexpr int kMaxRows = 10000;

    explicit MessageFlowModel(ServerController &controller, QObject *parent = nullptr);
    ~MessageFlowModel() override;

    // Watches this instance (turns its flow on, and the previous one's off); empty stops watching.
    void setInstance(const QString &id);
    QString instanceId() const { return m_instanceId; }

    void setPaused(bool paused);
    bool isPaused() const { return m_paused; }
    quint64 skippedWhilePaused() const { return m_skippedWhilePaused; }
    void clear();
    // Adds a batch as if the instance had sent it (the facade's signal calls this).
    void addBatch(const MessageBatch &batch);

    const MessageEvent &eventAt(int row) const { return m_rows.at(row).event; }
    // A "N messages not shown while paused" row (added on resume); not a frame, never exported.
    bool isMarker(int row) const { return row >= 0 && row < m_rows.size() && m_rows.at(row).marker; }
    // The client's name as the instance last published it ("client <id>" when it gave none).
    QString clientName(quint64 clientId) const;
    // The frame's payload: pretty-printed JSON for text frames, a hex dump for binary ones.
    static QString payloadDetail(const MessageEvent &event);
    // One JSON Lines record for export.
    static QByteArray toJsonLine(const MessageEvent &event);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    // `dropped` frames of the last batch were left out by the instance (high rate): the view says so.
    void samplingChanged(bool sampling, quint64 dropped);

private:
    struct Row {
        MessageEvent event;
        QString preview;
        bool marker = false;
    };
    void appendRows(QList<Row> rows);
    static QString previewOf(const MessageEvent &event);

    ServerController &m_controller;
    QString m_instanceId;
    QList<Row> m_rows;
    bool m_paused = false;
    bool m_sampling = false;
    quint64 m_skippedWhilePaused = 0;
    ClientNames m_names{50000};
};

// Filters the message flow by free text in one field (or all of them).
class MessageFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    enum class Field { Invalid = 0, All, Topic, Event, Client, Payload };
    using QSortFilterProxyModel::QSortFilterProxyModel;

    void setFilter(Field field, const QString &text);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    Field m_field = Field::All;
    QString m_text;
};

} // namespace wsserve
