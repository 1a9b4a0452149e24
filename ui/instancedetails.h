// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include <QTabWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableView;

namespace wsserve {

class ClientListModel;
class ConnectPanel;
class HistoryPanel;
class InstanceListModel;
class MessageFilterProxy;
class MessageFlowModel;
class StatsChart;

// The tabs about one instance: Clients (with Kick), Messages (live flow: filter, pause, clear, export,
// detail pane), Stats (charts), Supervisor log, Connect. Thread: GUI thread.
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

    // Kicks the selected client (Clients tab); false when none is selected.
    bool kickSelected(const QString &reason);
    // Writes the rows the Messages view shows, in order, as JSON Lines. Returns rows written, -1 on error.
    qsizetype exportShown(const QString &path, QString *error) const;
    void setMessageFilter(int field, const QString &text);
    void setPaused(bool paused);

private:
    QWidget *buildClientsTab();
    QWidget *buildMessagesTab();
    QWidget *buildStatsTab();
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
    QList<StatsChart *> m_charts;
    ConnectPanel *m_connect = nullptr;
    HistoryPanel *m_history = nullptr;
    bool m_followTail = true;
};

} // namespace wsserve
