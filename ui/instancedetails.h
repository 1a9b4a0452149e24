// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include <QTabWidget>

class QAbstractItemModel;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableView;

namespace wsserve {

class ClientListModel;
class ConnectionLogModel;
class ConnectPanel;
class HistoryPanel;
class InstanceListModel;
class MessageFilterProxy;
class MessageFlowModel;
class StatsChart;

// The tabs about one instance: Clients (names, with Kick), Messages (live flow: filter, pause, clear, export,
// detail pane, and the Send bar), Connections (the connection log, of this instance or all), Stats
// (charts), Supervisor log, Connect. Thread: GUI thread.
class InstanceDetails final : public QTabWidget
{
    Q_OBJECT

public:
    InstanceDetails(ServerController &controller, InstanceListModel &instances, QWidget *parent = nullptr);

    void setInstance(const QString &id);
    QString instanceId() const { return m_instanceId; }

    ClientListModel *clients() const { return m_clients; }
    MessageFlowModel *messages() const { return m_messages; }
    MessageFilterProxy *messageFilter() const { return m_filter; }
    QTableView *clientView() const { return m_clientView; }
    QTableView *messageView() const { return m_messageView; }
    QPlainTextEdit *supervisorLog() const { return m_log; }
    QPlainTextEdit *payloadPane() const { return m_payload; }
    QLabel *samplingLabel() const { return m_sampling; }
    ConnectPanel *connectPanel() const { return m_connect; }
    ConnectionLogModel *connectionLog() const { return m_connections; }
    QTableView *connectionView() const { return m_connectionView; }
    QCheckBox *allInstancesBox() const { return m_allInstances; }
    QPushButton *kickButton() const { return m_kick; }
    QWidget *clientsTab() const { return m_clientsTab; }
    QWidget *messagesTab() const { return m_messagesTab; }
    QWidget *connectionsTab() const { return m_connectionsTab; }

    // The Send bar (Messages tab): topic, event, JSON payload, broadcast or push to the selected client.
    enum class SendTarget { Broadcast = 0, SelectedClient };
    QLineEdit *sendTopic() const { return m_sendTopic; }
    QLineEdit *sendEvent() const { return m_sendEvent; }
    QLineEdit *sendPayload() const { return m_sendPayload; }
    QComboBox *sendTarget() const { return m_sendTarget; }
    QPushButton *sendButton() const { return m_send; }
    QLabel *sendStatus() const { return m_sendStatus; }
    // What the Send button does; false (with the reason in sendStatus()) when nothing was sent.
    bool sendNow();

    // Kicks the selected client (Clients tab), blocking its address on this instance for blockMinutes when
    // > 0; false when none is selected or the facade refused (a message box says why).
    bool kickSelected(const QString &reason, int blockMinutes = 0);
    // Writes the rows the Messages view shows, in order, as JSON Lines. Returns rows written, -1 on error.
    qsizetype exportShown(const QString &path, QString *error) const;
    void setMessageFilter(int field, const QString &text);
    void setPaused(bool paused);

private:
    QWidget *buildClientsTab();
    QWidget *buildMessagesTab();
    QWidget *buildStatsTab();
    QWidget *buildConnectionsTab();
    QLayout *buildSendBar(QWidget *page);
    // Shows `text` over an empty view instead of a blank table.
    void addEmptyHint(QWidget *page, QAbstractItemModel *model, const QString &text);
    void validateSend();
    void appendLog(const SupervisorEvent &event);
    void reloadLog();
    void refreshCharts();
    void showPayload();

    ServerController &m_controller;
    InstanceListModel &m_instances;
    QString m_instanceId;
    ClientListModel *m_clients = nullptr;
    MessageFlowModel *m_messages = nullptr;
    MessageFilterProxy *m_filter = nullptr;
    QTableView *m_clientView = nullptr;
    QTableView *m_messageView = nullptr;
    QPlainTextEdit *m_payload = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QLabel *m_sampling = nullptr;
    QComboBox *m_filterField = nullptr;
    QLineEdit *m_filterText = nullptr;
    QPushButton *m_pause = nullptr;
    QPushButton *m_kick = nullptr;
    ConnectionLogModel *m_connections = nullptr;
    QTableView *m_connectionView = nullptr;
    QCheckBox *m_allInstances = nullptr;
    QLabel *m_connectionsDropped = nullptr;
    QWidget *m_clientsTab = nullptr;
    QWidget *m_messagesTab = nullptr;
    QWidget *m_connectionsTab = nullptr;
    QLineEdit *m_sendTopic = nullptr;
    QLineEdit *m_sendEvent = nullptr;
    QLineEdit *m_sendPayload = nullptr;
    QComboBox *m_sendTarget = nullptr;
    QPushButton *m_send = nullptr;
    QLabel *m_sendStatus = nullptr;
    QList<StatsChart *> m_charts;
    ConnectPanel *m_connect = nullptr;
    HistoryPanel *m_history = nullptr;
    bool m_followTail = true;
};

} // namespace wsserve
