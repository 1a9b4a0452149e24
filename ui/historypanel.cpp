// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "historypanel.h"

#include "servercontroller.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

namespace wsserve {

namespace {
QTableWidget *makeTable(const QStringList &headers, QWidget *parent)
{
    auto *table = new QTableWidget(0, static_cast<int>(headers.size()), parent);
    table->setHorizontalHeaderLabels(headers);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setSelectionMode(QAbstractItemView::SingleSelection);
    table->verticalHeader()->hide();
    table->horizontalHeader()->setStretchLastSection(true);
    return table;
}

QString payloadText(const Payload &payload)
{
    if (payload.isBinary) {
        return QObject::tr("(binary, %n bytes)", nullptr, static_cast<int>(payload.bytes.size()));
    }
    const QJsonValue &json = payload.json;
    if (json.isObject() || json.isArray()) {
        return QString::fromUtf8(json.isObject() ? QJsonDocument(json.toObject()).toJson(QJsonDocument::Compact)
                                                 : QJsonDocument(json.toArray()).toJson(QJsonDocument::Compact));
    }
    return json.toVariant().toString();
}
} // namespace

HistoryPanel::HistoryPanel(ServerController &controller, QWidget *parent)
    : QWidget(parent)
    , m_controller(controller)
{
    auto *layout = new QVBoxLayout(this);
    m_where = new QLabel(this);
    m_where->setWordWrap(true);
    m_where->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_warning = new QLabel(this);
    m_warning->setWordWrap(true);
    m_warning->setStyleSheet(QStringLiteral("color: #b00020; font-weight: bold;"));
    m_warning->hide();
    m_topics = makeTable({tr("Topic"), tr("Messages"), tr("Last seq")}, this);
    m_messages = makeTable({tr("Seq"), tr("Time"), tr("Event"), tr("Payload")}, this);
    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_topics);
    splitter->addWidget(m_messages);
    auto *buttons = new QHBoxLayout;
    auto *refreshButton = new QPushButton(tr("Refresh"), this);
    m_clearTopic = new QPushButton(tr("Clear topic"), this);
    m_clearAll = new QPushButton(tr("Clear all"), this);
    buttons->addWidget(refreshButton);
    buttons->addStretch();
    buttons->addWidget(m_clearTopic);
    buttons->addWidget(m_clearAll);
    layout->addWidget(m_where);
    layout->addWidget(m_warning);
    layout->addWidget(splitter, 1);
    layout->addLayout(buttons);

    connect(refreshButton, &QPushButton::clicked, this, &HistoryPanel::refresh);
    connect(m_topics, &QTableWidget::itemSelectionChanged, this, &HistoryPanel::refreshMessages);
    connect(m_clearTopic, &QPushButton::clicked, this, [this] {
        if (const QString topic = selectedTopic(); !topic.isEmpty()) {
            m_controller.clearHistory(m_instanceId, topic);
            refresh();
        }
    });
    connect(m_clearAll, &QPushButton::clicked, this, [this] {
        m_controller.clearHistory(m_instanceId, QString());
        refresh();
    });
    m_timer = new QTimer(this);
    m_timer->setInterval(1000);
    connect(m_timer, &QTimer::timeout, this, &HistoryPanel::refresh);
}

void HistoryPanel::setInstance(const QString &id)
{
    m_instanceId = id;
    m_topics->clearSelection();
    refresh();
}

QString HistoryPanel::selectedTopic() const
{
    const QList<QTableWidgetItem *> selected = m_topics->selectedItems();
    return selected.isEmpty() ? QString() : m_topics->item(selected.first()->row(), 0)->text();
}

void HistoryPanel::refresh()
{
    const std::shared_ptr<Store> store = m_controller.store();
    m_where->setText(store->persistent() ? tr("Kept in %1").arg(store->path())
                                         : tr("Kept in memory only (no data folder)."));
    const StoreStats stats = store->stats();
    m_warning->setVisible(stats.paused);
    m_warning->setText(tr("History is paused: the data folder cannot be written (%1). Live traffic goes on; "
                          "%2 messages were not stored.")
                           .arg(stats.error)
                           .arg(stats.droppedUnwritten));
    const QString selected = selectedTopic();
    const QList<StoredTopic> topics =
        m_instanceId.isEmpty() ? QList<StoredTopic>() : m_controller.historyTopics(m_instanceId);
    const QSignalBlocker blocker(m_topics);
    m_topics->setRowCount(static_cast<int>(topics.size()));
    int selectRow = -1;
    for (int row = 0; row < topics.size(); ++row) {
        const StoredTopic &topic = topics.at(row);
        m_topics->setItem(row, 0, new QTableWidgetItem(topic.topic));
        m_topics->setItem(row, 1, new QTableWidgetItem(QString::number(topic.count)));
        m_topics->setItem(row, 2, new QTableWidgetItem(QString::number(topic.lastSeq)));
        if (topic.topic == selected) {
            selectRow = row;
        }
    }
    if (selectRow >= 0) {
        m_topics->selectRow(selectRow);
    } else {
        m_topics->clearSelection();
    }
    m_clearAll->setEnabled(!topics.isEmpty());
    refreshMessages();
}

void HistoryPanel::refreshMessages()
{
    const QString topic = selectedTopic();
    m_clearTopic->setEnabled(!topic.isEmpty());
    QList<StoredMessage> messages;
    if (!topic.isEmpty()) {
        m_controller.history(m_instanceId, topic, 0, kShownMessages, &messages);
    }
    m_messages->setRowCount(static_cast<int>(messages.size()));
    for (int row = 0; row < messages.size(); ++row) {
        const StoredMessage &message = messages.at(row);
        m_messages->setItem(row, 0, new QTableWidgetItem(QString::number(message.seq)));
        m_messages->setItem(
            row, 1,
            new QTableWidgetItem(
                QDateTime::fromMSecsSinceEpoch(message.timeMs).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"))));
        m_messages->setItem(row, 2, new QTableWidgetItem(message.event));
        m_messages->setItem(row, 3, new QTableWidgetItem(payloadText(message.payload)));
    }
}

void HistoryPanel::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
    m_timer->start();
}

void HistoryPanel::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    m_timer->stop();
}

} // namespace wsserve
