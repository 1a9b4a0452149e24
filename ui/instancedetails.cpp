// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instancedetails.h"

#include "clientlistmodel.h"
#include "connectionlogmodel.h"
#include "connectpanel.h"
#include "feedback.h"
#include "historypanel.h"
#include "instancelistmodel.h"
#include "kickdialog.h"
#include "messageflowmodel.h"
#include "statschart.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace wsserve {

InstanceDetails::InstanceDetails(ServerController &controller, InstanceListModel &instances, QWidget *parent)
    : QTabWidget(parent)
    , m_controller(controller)
    , m_instances(instances)
{
    m_clients = new ClientListModel(controller, this);
    m_messages = new MessageFlowModel(controller, this);
    m_filter = new MessageFilterProxy(this);
    m_filter->setSourceModel(m_messages);
    m_connections = new ConnectionLogModel(controller, this);
    addTab(buildClientsTab(), tr("Clients"));
    addTab(buildMessagesTab(), tr("Messages"));
    addTab(buildConnectionsTab(), tr("Connections"));
    addTab(buildStatsTab(), tr("Stats"));
    m_log = new QPlainTextEdit(this);
    m_log->setReadOnly(true);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setMaximumBlockCount(1000);
    addTab(m_log, tr("Supervisor log"));
    m_connect = new ConnectPanel(m_controller, this);
    addTab(m_connect, tr("Connect"));
    m_history = new HistoryPanel(m_controller, this);
    addTab(m_history, tr("History"));

    connect(&m_controller, &ServerController::supervisorEvent, this, [this](const SupervisorEvent &event) {
        if (event.instanceId == m_instanceId) {
            appendLog(event);
        }
    });
    connect(&m_instances, &InstanceListModel::historyChanged, this, [this](const QString &id) {
        if (id == m_instanceId) {
            refreshCharts();
        }
    });
    connect(&m_controller, &ServerController::listening, m_connect, &ConnectPanel::setEndpoint);
    if (m_controller.isListening()) {
        m_connect->setEndpoint(m_controller.listenAddress(), m_controller.listenPort());
    }
    setInstance(QString());
}

QWidget *InstanceDetails::buildClientsTab()
{
    auto *page = new QWidget(this);
    m_clientsTab = page;
    auto *layout = new QVBoxLayout(page);
    m_clientView = new QTableView(page);
    m_clientView->setModel(m_clients);
    m_clientView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_clientView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_clientView->verticalHeader()->hide();
    m_clientView->setAlternatingRowColors(true);
    m_clientView->setWordWrap(false);
    // Every column fits in the details pane of a 1 180 px window (no horizontal scrolling for bytes).
    QHeaderView *header = m_clientView->horizontalHeader();
    header->setSectionResizeMode(ClientListModel::TopicsColumn, QHeaderView::Stretch);
    const QList<std::pair<int, int>> widths{
        {ClientListModel::NameColumn, 110},       {ClientListModel::TransportColumn, 72},
        {ClientListModel::FormatColumn, 50},      {ClientListModel::SinceColumn, 62},
        {ClientListModel::AddressColumn, 96},     {ClientListModel::MessagesInColumn, 44},
        {ClientListModel::MessagesOutColumn, 44}, {ClientListModel::BytesInColumn, 76},
        {ClientListModel::BytesOutColumn, 76}};
    for (const auto &[column, width] : widths) {
        m_clientView->setColumnWidth(column, width);
    }
    layout->addWidget(m_clientView);
    addEmptyHint(page, m_clients,
                 tr("Nobody is connected. Players connect to the address on the Connect tab; refused attempts "
                    "show on the Connections tab."));
    auto *buttons = new QHBoxLayout;
    auto *kick = new QPushButton(tr("Kick…"), page);
    m_kick = kick;
    kick->setEnabled(false);
    kick->setToolTip(tr("Close the selected client's socket (close code 1008) with a reason, and block its address "
                        "for a while if you want"));
    const auto updateKick = [this] {
        m_kick->setEnabled(m_clientView->selectionModel()->hasSelection());
    };
    connect(m_clientView->selectionModel(), &QItemSelectionModel::selectionChanged, this, updateKick);
    connect(m_clients, &QAbstractItemModel::modelReset, this, updateKick);
    connect(kick, &QPushButton::clicked, this, [this] {
        if (!m_clientView->selectionModel()->hasSelection()) {
            QMessageBox::information(this, tr("Kick"), tr("Select a client first."));
            return;
        }
        const ClientInfo *client = m_clients->clientAt(m_clientView->selectionModel()->currentIndex().row());
        KickDialog dialog(client ? ClientListModel::displayName(*client) : QString(),
                          client ? client->remoteAddress : QString(), this);
        if (dialog.exec() == QDialog::Accepted) {
            kickSelected(dialog.reason(), dialog.blockMinutes());
        }
    });
    buttons->addStretch(1);
    buttons->addWidget(kick);
    layout->addLayout(buttons);
    return page;
}

QWidget *InstanceDetails::buildMessagesTab()
{
    auto *page = new QWidget(this);
    m_messagesTab = page;
    auto *layout = new QVBoxLayout(page);
    auto *bar = new QHBoxLayout;
    m_filterField = new QComboBox(page);
    m_filterField->addItem(tr("Anything"), static_cast<int>(MessageFilterProxy::Field::All));
    m_filterField->addItem(tr("Topic"), static_cast<int>(MessageFilterProxy::Field::Topic));
    m_filterField->addItem(tr("Event"), static_cast<int>(MessageFilterProxy::Field::Event));
    m_filterField->addItem(tr("Client (name or id)"), static_cast<int>(MessageFilterProxy::Field::Client));
    m_filterField->addItem(tr("Payload"), static_cast<int>(MessageFilterProxy::Field::Payload));
    m_filterText = new QLineEdit(page);
    m_filterText->setPlaceholderText(tr("Filter…"));
    m_filterText->setClearButtonEnabled(true);
    const auto applyFilter = [this] {
        m_filter->setFilter(static_cast<MessageFilterProxy::Field>(m_filterField->currentData().toInt()),
                            m_filterText->text());
    };
    connect(m_filterText, &QLineEdit::textChanged, this, applyFilter);
    connect(m_filterField, &QComboBox::currentIndexChanged, this, applyFilter);
    m_pause = new QPushButton(tr("Pause"), page);
    m_pause->setCheckable(true);
    connect(m_pause, &QPushButton::toggled, this, [this](bool paused) {
        m_messages->setPaused(paused);
        m_pause->setText(paused ? tr("Resume") : tr("Pause"));
    });
    auto *clear = new QPushButton(tr("Clear"), page);
    connect(clear, &QPushButton::clicked, m_messages, &MessageFlowModel::clear);
    m_pause->setToolTip(tr("Stop adding rows; what arrives meanwhile is counted and shown as a gap on Resume"));
    auto *exportButton = new QPushButton(tr("Export…"), page);
    exportButton->setToolTip(tr("Save the rows shown (filter applied) as JSON Lines"));
    connect(exportButton, &QPushButton::clicked, this, [this, exportButton] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export messages"), u"%1-messages.jsonl"_s.arg(m_instanceId), tr("JSON Lines (*.jsonl)"));
        if (path.isEmpty()) {
            return;
        }
        QString error;
        const qsizetype written = exportShown(path, &error);
        if (written < 0) {
            QMessageBox::warning(this, tr("Export failed"), error);
            return;
        }
        showDone(exportButton, tr("Exported ✓"),
                 written == 1 ? tr("Exported 1 message to %1").arg(path)
                              : tr("Exported %1 messages to %2").arg(written).arg(path));
    });
    bar->addWidget(m_filterField);
    bar->addWidget(m_filterText, 1);
    bar->addWidget(m_pause);
    bar->addWidget(clear);
    bar->addWidget(exportButton);
    layout->addLayout(bar);
    m_sampling = new QLabel(page);
    m_sampling->setStyleSheet(u"color: #b26a00;"_s);
    m_sampling->hide();
    layout->addWidget(m_sampling);
    connect(m_messages, &MessageFlowModel::samplingChanged, this, [this](bool sampling, quint64 dropped) {
        m_sampling->setVisible(sampling);
        m_sampling->setText(
            tr("High message rate: showing a sample (%1 frames left out in the last 100 ms).").arg(dropped));
    });

    auto *split = new QSplitter(Qt::Vertical, page);
    m_messageView = new QTableView(split);
    m_messageView->setModel(m_filter);
    m_messageView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_messageView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_messageView->verticalHeader()->hide();
    m_messageView->verticalHeader()->setDefaultSectionSize(m_messageView->fontMetrics().height() + 6);
    m_messageView->horizontalHeader()->setStretchLastSection(true);
    m_messageView->setWordWrap(false);
    m_messageView->setColumnWidth(MessageFlowModel::TimeColumn, 100);
    m_messageView->setColumnWidth(MessageFlowModel::DirectionColumn, 56);
    m_messageView->setColumnWidth(MessageFlowModel::ClientColumn, 70);
    m_messageView->setColumnWidth(MessageFlowModel::SizeColumn, 60);
    m_payload = new QPlainTextEdit(split);
    m_payload->setReadOnly(true);
    m_payload->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_payload->setPlaceholderText(tr("Select a message to see its whole payload."));
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    layout->addWidget(split, 1);
    addEmptyHint(page, m_filter,
                 tr("No messages yet. Frames in and out of this instance appear here live (filtered by the box "
                    "above); use the Send bar below to talk to the room."));
    layout->addLayout(buildSendBar(page));
    // The payload pane follows the selection: a new current row, rows trimmed or cleared, a new filter.
    connect(m_messageView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &InstanceDetails::showPayload);
    connect(m_filter, &QAbstractItemModel::modelReset, this, &InstanceDetails::showPayload);
    connect(m_filter, &QAbstractItemModel::rowsRemoved, this, &InstanceDetails::showPayload);
    connect(m_filter, &QAbstractItemModel::layoutChanged, this, &InstanceDetails::showPayload);
    // Auto-scroll follows new rows only while the view is at the bottom; scrolling up stops it.
    QScrollBar *scroll = m_messageView->verticalScrollBar();
    connect(scroll, &QScrollBar::valueChanged, this,
            [this, scroll](int value) { m_followTail = value >= scroll->maximum() - 2; });
    connect(m_filter, &QAbstractItemModel::rowsInserted, this, [this] {
        if (m_followTail) {
            m_messageView->scrollToBottom();
        }
    });
    return page;
}

QLayout *InstanceDetails::buildSendBar(QWidget *page)
{
    auto *outer = new QVBoxLayout;
    auto *bar = new QHBoxLayout;
    m_sendTopic = new QLineEdit(page);
    m_sendTopic->setPlaceholderText(tr("topic, e.g. room:lobby"));
    m_sendEvent = new QLineEdit(page);
    m_sendEvent->setPlaceholderText(tr("event"));
    m_sendEvent->setText(u"announcement"_s);
    m_sendPayload = new QLineEdit(page);
    m_sendPayload->setPlaceholderText(tr(R"(JSON object payload, e.g. {"body": "pizza is here"})"));
    m_sendTarget = new QComboBox(page);
    m_sendTarget->addItem(tr("Broadcast to all"), static_cast<int>(SendTarget::Broadcast));
    m_sendTarget->addItem(tr("Push to selected client"), static_cast<int>(SendTarget::SelectedClient));
    m_sendTarget->setToolTip(tr("Push goes to the client selected on the Clients tab, on its channel for the topic"));
    m_send = new QPushButton(tr("Send"), page);
    m_send->setToolTip(tr("The same call as the admin API's broadcast"));
    m_sendEvent->setMinimumWidth(120);
    auto *sendLabel = new QLabel(tr("<b>Send</b> to topic:"), page);
    bar->addWidget(sendLabel);
    bar->addWidget(m_sendTopic, 2);
    bar->addWidget(new QLabel(tr("event:"), page));
    bar->addWidget(m_sendEvent, 1);
    bar->addWidget(m_sendTarget);
    bar->addWidget(m_send);
    auto *payloadRow = new QHBoxLayout;
    auto *payloadLabel = new QLabel(tr("payload:"), page);
    payloadLabel->setMinimumWidth(sendLabel->sizeHint().width());
    payloadLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    payloadRow->addWidget(payloadLabel);
    payloadRow->addWidget(m_sendPayload, 1);
    outer->addLayout(bar);
    outer->addLayout(payloadRow);
    m_sendStatus = new QLabel(page);
    m_sendStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    outer->addWidget(m_sendStatus);
    for (QLineEdit *edit : {m_sendTopic, m_sendEvent, m_sendPayload}) {
        connect(edit, &QLineEdit::textChanged, this, &InstanceDetails::validateSend);
        connect(edit, &QLineEdit::returnPressed, this, [this] {
            if (m_send->isEnabled()) {
                sendNow();
            }
        });
    }
    connect(m_sendTarget, &QComboBox::currentIndexChanged, this, &InstanceDetails::validateSend);
    connect(m_send, &QPushButton::clicked, this, &InstanceDetails::sendNow);
    // Selecting a message offers its topic.
    connect(m_messageView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid() && m_sendTopic->text().isEmpty()) {
                    m_sendTopic->setText(
                        m_filter->index(current.row(), MessageFlowModel::TopicColumn).data().toString());
                }
            });
    validateSend();
    return outer;
}

void InstanceDetails::validateSend()
{
    QString problem;
    const QString payload = m_sendPayload->text().trimmed();
    if (!payload.isEmpty()) {
        QJsonParseError error{};
        const QJsonDocument document = QJsonDocument::fromJson(payload.toUtf8(), &error);
        if (error.error != QJsonParseError::NoError) {
            problem = tr("Payload is not JSON: %1 at character %2").arg(error.errorString()).arg(error.offset);
        } else if (!document.isObject()) {
            problem = tr(R"(Payload must be a JSON object, like {"body": "hi"})");
        }
    }
    if (problem.isEmpty() && m_sendTopic->text().trimmed().isEmpty()) {
        problem = tr("Enter a topic (the channel players joined, e.g. room:lobby)");
    } else if (problem.isEmpty() && m_sendEvent->text().trimmed().isEmpty()) {
        problem = tr("Enter an event name");
    }
    m_sendPayload->setStyleSheet(problem.startsWith(tr("Payload")) ? u"border: 1px solid #c0392b;"_s : QString());
    m_send->setEnabled(problem.isEmpty());
    m_sendStatus->setStyleSheet(problem.isEmpty() ? QString() : u"color: #6b6b6b;"_s);
    m_sendStatus->setText(problem);
}

bool InstanceDetails::sendNow()
{
    validateSend();
    if (!m_send->isEnabled()) {
        return false;
    }
    const QString topic = m_sendTopic->text().trimmed();
    const QString event = m_sendEvent->text().trimmed();
    const QString text = m_sendPayload->text().trimmed();
    const QJsonObject payload = text.isEmpty() ? QJsonObject{} : QJsonDocument::fromJson(text.toUtf8()).object();
    CommandResult result;
    QString done;
    if (static_cast<SendTarget>(m_sendTarget->currentData().toInt()) == SendTarget::SelectedClient) {
        const ClientInfo *client = m_clients->clientAt(m_clientView->selectionModel()->currentIndex().row());
        if (!client || !m_clientView->selectionModel()->hasSelection()) {
            m_sendStatus->setStyleSheet(u"color: #c0392b;"_s);
            m_sendStatus->setText(tr("Select a client on the Clients tab first."));
            return false;
        }
        result = m_controller.pushToClient(m_instanceId, client->id, topic, event, payload);
        done = tr("Pushed %1 to %2 on %3 (delivered if it joined that topic)")
                   .arg(event, ClientListModel::displayName(*client), topic);
    } else {
        result = m_controller.broadcast(m_instanceId, topic, event, payload);
        done = tr("Broadcast %1 to everyone on %2").arg(event, topic);
    }
    m_sendStatus->setStyleSheet(result ? u"color: #2e7d32;"_s : u"color: #c0392b;"_s);
    m_sendStatus->setText(result ? done : result.message);
    return bool(result);
}

QWidget *InstanceDetails::buildConnectionsTab()
{
    auto *page = new QWidget(this);
    m_connectionsTab = page;
    auto *layout = new QVBoxLayout(page);
    auto *bar = new QHBoxLayout;
    m_allInstances = new QCheckBox(tr("All instances"), page);
    m_allInstances->setToolTip(tr("Also show the other instances and refused requests that named no instance"));
    connect(m_allInstances, &QCheckBox::toggled, m_connections, &ConnectionLogModel::setAllInstances);
    m_connectionsDropped = new QLabel(page);
    m_connectionsDropped->setStyleSheet(u"color: #b26a00;"_s);
    connect(m_connections, &ConnectionLogModel::droppedChanged, this, [this](quint64 dropped) {
        m_connectionsDropped->setText(tr("%1 entries left out during floods").arg(dropped));
    });
    auto *copy = new QPushButton(tr("Copy"), page);
    copy->setToolTip(tr("Copy the selected entry (or all shown) as text, to paste into a chat with a friend"));
    bar->addWidget(m_allInstances);
    bar->addWidget(m_connectionsDropped, 1);
    bar->addWidget(copy);
    layout->addLayout(bar);
    m_connectionView = new QTableView(page);
    m_connectionView->setModel(m_connections);
    m_connectionView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_connectionView->verticalHeader()->hide();
    m_connectionView->verticalHeader()->setDefaultSectionSize(m_connectionView->fontMetrics().height() + 6);
    m_connectionView->horizontalHeader()->setStretchLastSection(true);
    m_connectionView->setWordWrap(false);
    const QList<std::pair<int, int>> widths{
        {ConnectionLogModel::TimeColumn, 90},    {ConnectionLogModel::InstanceColumn, 64},
        {ConnectionLogModel::WhatColumn, 90},    {ConnectionLogModel::ClientColumn, 90},
        {ConnectionLogModel::AddressColumn, 84}, {ConnectionLogModel::CodeColumn, 76}};
    for (const auto &[column, width] : widths) {
        m_connectionView->setColumnWidth(column, width);
    }
    layout->addWidget(m_connectionView, 1);
    addEmptyHint(page, m_connections,
                 tr("No connection attempts yet. Every connect, disconnect (with its close code), refusal (with "
                    "the HTTP status and reason: wrong origin, full, stopped, unknown id) and kick shows here."));
    connect(m_connections, &QAbstractItemModel::rowsInserted, this, [this] { m_connectionView->scrollToBottom(); });
    connect(copy, &QPushButton::clicked, this, [this, copy] {
        QStringList lines;
        const QModelIndexList selected = m_connectionView->selectionModel()->selectedRows();
        if (selected.isEmpty()) {
            for (int row = 0; row < m_connections->rowCount(); ++row) {
                lines.append(m_connections->rowText(row));
            }
        } else {
            for (const QModelIndex &index : selected) {
                lines.append(m_connections->rowText(index.row()));
            }
        }
        copyWithFeedback(copy, lines.join(u'\n'),
                         tr("Copied %n connection log entries", nullptr, static_cast<int>(lines.size())));
    });
    return page;
}

void InstanceDetails::addEmptyHint(QWidget *page, QAbstractItemModel *model, const QString &text)
{
    auto *hint = new QLabel(text, page);
    hint->setWordWrap(true);
    hint->setAlignment(Qt::AlignCenter);
    hint->setStyleSheet(u"color: #6b6b6b; padding: 12px;"_s);
    page->layout()->addWidget(hint);
    const auto update = [hint, model] {
        hint->setVisible(model->rowCount() == 0);
    };
    connect(model, &QAbstractItemModel::rowsInserted, hint, update);
    connect(model, &QAbstractItemModel::rowsRemoved, hint, update);
    connect(model, &QAbstractItemModel::modelReset, hint, update);
    connect(model, &QAbstractItemModel::layoutChanged, hint, update);
    update();
}

QWidget *InstanceDetails::buildStatsTab()
{
    auto *page = new QWidget(this);
    auto *layout = new QVBoxLayout(page);
    m_charts = {new StatsChart(StatsChart::Series::MessagesIn, tr("Messages in /s"), QColor(0x2e, 0x9e, 0x4f), page),
                new StatsChart(StatsChart::Series::MessagesOut, tr("Messages out /s"), QColor(0x2a, 0x6f, 0xc9), page),
                new StatsChart(StatsChart::Series::Clients, tr("Connected clients"), QColor(0x8e, 0x44, 0xad), page)};
    for (StatsChart *chart : std::as_const(m_charts)) {
        layout->addWidget(chart, 1);
    }
    return page;
}

void InstanceDetails::setInstance(const QString &id)
{
    m_instanceId = id;
    m_clients->setInstance(id);
    m_messages->setInstance(id);
    m_connect->setInstance(id);
    m_history->setInstance(id);
    m_connections->setInstance(id);
    m_payload->clear();
    m_sampling->hide();
    reloadLog();
    refreshCharts();
    setEnabled(!id.isEmpty());
}

bool InstanceDetails::kickSelected(const QString &reason, int blockMinutes)
{
    const QModelIndex current = m_clientView->selectionModel()->currentIndex();
    const quint64 clientId = m_clients->clientIdAt(current.row());
    if (!current.isValid() || clientId == 0) {
        return false;
    }
    const ClientInfo *client = m_clients->clientAt(current.row());
    const QString who = client ? ClientListModel::displayName(*client) : QString::number(clientId);
    const CommandResult result = m_controller.kickClient(m_instanceId, clientId, reason, blockMinutes);
    if (!result) {
        QMessageBox::warning(this, tr("Kick failed"), result.message);
        return false;
    }
    showDone(m_kick, tr("Kicked ✓"),
             blockMinutes > 0 ? tr("Kicked %1; %2").arg(who, result.message) : tr("Kicked %1").arg(who));
    return true;
}

qsizetype InstanceDetails::exportShown(const QString &path, QString *error) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return -1;
    }
    qsizetype written = 0;
    for (int row = 0; row < m_filter->rowCount(); ++row) {
        const int source = m_filter->mapToSource(m_filter->index(row, 0)).row();
        if (!m_messages->isMarker(source)) {
            file.write(MessageFlowModel::toJsonLine(m_messages->eventAt(source)));
            ++written;
        }
    }
    return written;
}

void InstanceDetails::setMessageFilter(int field, const QString &text)
{
    m_filterField->setCurrentIndex(m_filterField->findData(field));
    m_filterText->setText(text);
}

void InstanceDetails::setPaused(bool paused)
{
    m_pause->setChecked(paused);
}

void InstanceDetails::appendLog(const SupervisorEvent &event)
{
    m_log->appendPlainText(u"%1  %2  %3"_s.arg(event.time.toString(u"yyyy-MM-dd HH:mm:ss.zzz"_s),
                                               instanceStateName(event.state).leftJustified(10), event.message));
}

void InstanceDetails::reloadLog()
{
    m_log->clear();
    for (const SupervisorEvent &event : m_controller.supervisorLog()) {
        if (event.instanceId == m_instanceId) {
            appendLog(event);
        }
    }
}

void InstanceDetails::refreshCharts()
{
    const QList<StatsSample> samples = m_instances.history(m_instanceId);
    for (StatsChart *chart : std::as_const(m_charts)) {
        chart->setSamples(samples);
    }
}

void InstanceDetails::showPayload()
{
    const QModelIndex current = m_messageView->selectionModel()->currentIndex();
    const int source = current.isValid() ? m_filter->mapToSource(current).row() : -1;
    if (source < 0 || m_messages->isMarker(source)) {
        m_payload->clear();
        return;
    }
    const MessageEvent &event = m_messages->eventAt(source);
    m_payload->setPlainText(
        u"%1 %2 %3  %4 bytes\n\n"_s.arg(event.outgoing ? u"→"_s : u"←"_s, event.topic, event.event).arg(event.size) +
        MessageFlowModel::payloadDetail(event));
}

} // namespace wsserve
