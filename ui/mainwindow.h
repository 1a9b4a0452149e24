// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "config/serverconfig.h"
#include "servercontroller.h"

#include <QMainWindow>

class QAction;
class QLabel;
class QSettings;
class QSplitter;
class QTableView;
class QTimer;

namespace wsserve {

class AdminServer;
class InstanceDetails;
class InstanceListModel;

// The desktop window: the instance list with its commands, the details tabs of the selected instance,
// and a status bar with the listening address. Restores the user's instances, window geometry and
// splitter state from QSettings, and saves them as they change. Thread: GUI thread.
class MainWindow final : public QMainWindow
{
    Q_OBJECT

public:
    MainWindow(ServerController &controller, QSettings &settings, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Restores saved instances (in their saved running/stopped state), adds the command line's, and
    // starts listening. Errors go to the status bar and the returned list.
    QStringList start(const ServerConfig &config);

    InstanceListModel *instances() const { return m_instances; }
    InstanceDetails *details() const { return m_details; }
    QTableView *instanceView() const { return m_view; }
    QString selectedInstance() const;
    void selectInstance(const QString &id);
    // Saves instances and window state now (also done on every change and on close).
    void saveState();

    QAction *newAction() const { return m_new; }
    QAction *startAction() const { return m_start; }
    QAction *stopAction() const { return m_stop; }
    QAction *restartAction() const { return m_restart; }
    QAction *removeAction() const { return m_remove; }

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    void updateActions();
    void updateStatus();
    void runCommand(const QString &what, const std::function<bool(const QString &, QString *)> &command);
    void scheduleSave();

    ServerController &m_controller;
    QSettings &m_settings;
    InstanceListModel *m_instances = nullptr;
    InstanceDetails *m_details = nullptr;
    QTableView *m_view = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_status = nullptr;
    QTimer *m_saveTimer = nullptr;
    AdminServer *m_admin = nullptr;
    QAction *m_new = nullptr;
    QAction *m_start = nullptr;
    QAction *m_stop = nullptr;
    QAction *m_restart = nullptr;
    QAction *m_remove = nullptr;
    bool m_closing = false;
    bool m_restoring = false;
};

} // namespace wsserve
