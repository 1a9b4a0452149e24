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

    // The instances saved at the last exit, in their saved running/stopped state, for the app's start
    // routine (app/serverstart.h) to create.
    QList<InstanceSpec> savedInstances() const;
    // Called once the app started serving: shows `problems` in the status bar and the admin API's URL
    // (empty: none) next to the listening address, selects the instance selected last time, and from
    // then on saves the instances as they change.
    void finishStart(const QStringList &problems, const QString &adminUrl);

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
    QAction *propertiesAction() const { return m_properties; }
    QLabel *firstRunHint() const { return m_firstRun; }
    // Asks before disconnecting players (Stop, Restart, Quit) unless the user ticked "Don't ask again"
    // (setting confirm/disconnectClients). True: go ahead.
    bool confirmDisconnect(const QString &what, int clients);
    // SIGINT/SIGTERM: closes without asking anything.
    void closeWithoutAsking();

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildActions();
    // File menu: the first types folder in the desktop's file manager; copy a .js type into it.
    void openTypesFolder();
    void loadTypeFromFile();
    void updateActions();
    void updateStatus();
    void runCommand(const QString &what, const std::function<CommandResult(const QString &)> &command);
    void scheduleSave();

    ServerController &m_controller;
    QSettings &m_settings;
    InstanceListModel *m_instances = nullptr;
    InstanceDetails *m_details = nullptr;
    QTableView *m_view = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_status = nullptr;
    QTimer *m_saveTimer = nullptr;
    QString m_adminUrl;
    QAction *m_new = nullptr;
    QAction *m_start = nullptr;
    QAction *m_stop = nullptr;
    QAction *m_restart = nullptr;
    QAction *m_remove = nullptr;
    QAction *m_properties = nullptr;
    QLabel *m_firstRun = nullptr;
    bool m_closing = false;
    bool m_noQuestions = false;
    bool m_restoring = true; // until finishStart(): creating the saved instances is not a change to save
};

} // namespace wsserve
