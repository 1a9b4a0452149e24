// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instancedetails.h"

#include "clientlistmodel.h"
#include "connectpanel.h"
#include "historypanel.h"
#include "instancelistmodel.h"
#include "messageflowmodel.h"
#include "statschart.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
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
    addTab(buildClientsTab(), tr("Clients"));
    addTab(buildMessagesTab(), tr("Messages"));
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
    auto *layout = new QVBoxLayout(page);
    m_clientView = new QTableView(page);
    m_clientView->setModel(m_clients);
    m_clientView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_clientView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_clientView->verticalHeader()->hide();
    m_clientView->horizontalHeader()->setStretchLastSection(true);
    m_clientView->setAlternatingRowColors(true);
    layout->addWidget(m_clientView);
    auto *buttons = new QHBoxLayout;
    auto *kick = new QPushButton(tr("Kick…"), page);
    kick->setToolTip(tr("Close the selected client's socket (close code 1008) with a reason"));
    connect(kick, &QPushButton::clicked, this, [this] {
        if (!m_clientView->selectionModel()->hasSelection()) {
            QMessageBox::information(this, tr("Kick"), tr("Select a client first."));
            return;
        }
        bool ok = false;
        const QString reason = QInputDialog::getText(this, tr("Kick client"), tr("Reason shown to the client:"),
                                                     QLineEdit::Normal, tr("kicked by the host"), &ok);
        if (ok) {
            kickSelected(reason);
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
    auto *layout = new QVBoxLayout(page);
    auto *bar = new QHBoxLayout;
    m_filterField = new QComboBox(page);
    m_filterField->addItem(tr("Anything"), static_cast<int>(MessageFilterProxy::Field::All));
    m_filterField->addItem(tr("Topic"), static_cast<int>(MessageFilterProxy::Field::Topic));
    m_filterField->addItem(tr("Event"), static_cast<int>(MessageFilterProxy::Field::Event));
    m_filterField->addItem(tr("Client"), static_cast<int>(MessageFilterProxy::Field::Client));
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
    auto *exportButton = new QPushButton(tr("Export…"), page);
    exportButton->setToolTip(tr("Save the rows shown (filter applied) as JSON Lines"));
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export messages"), u"%1-messages.jsonl"_s.arg(m_instanceId), tr("JSON Lines (*.jsonl)"));
        if (path.isEmpty()) {
            return;
        }
        QString error;
        if (exportShown(path, &error) < 0) {
            QMessageBox::warning(this, tr("Export failed"), error);
        }
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
    connect(m_messageView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &InstanceDetails::showPayload);
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
    m_payload->clear();
    m_sampling->hide();
    reloadLog();
    refreshCharts();
    setEnabled(!id.isEmpty());
}

bool InstanceDetails::kickSelected(const QString &reason)
{
    const QModelIndex current = m_clientView->selectionModel()->currentIndex();
    const quint64 clientId = m_clients->clientIdAt(current.row());
    if (!current.isValid() || clientId == 0) {
        return false;
    }
    if (const CommandResult result = m_controller.kickClient(m_instanceId, clientId, reason); !result) {
        QMessageBox::warning(this, tr("Kick failed"), result.message);
        return false;
    }
    return true;
}

qsizetype InstanceDetails::exportShown(const QString &path, QString *error) const
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return -1;
    }
    for (int row = 0; row < m_filter->rowCount(); ++row) {
        const int source = m_filter->mapToSource(m_filter->index(row, 0)).row();
        file.write(MessageFlowModel::toJsonLine(m_messages->eventAt(source)));
    }
    return m_filter->rowCount();
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
    if (!current.isValid()) {
        m_payload->clear();
        return;
    }
    const MessageEvent &event = m_messages->eventAt(m_filter->mapToSource(current).row());
    m_payload->setPlainText(
        u"%1 %2 %3  %4 bytes\n\n"_s.arg(event.outgoing ? u"→"_s : u"←"_s, event.topic, event.event).arg(event.size) +
        MessageFlowModel::payloadDetail(event));
}

} // namespace wsserve
