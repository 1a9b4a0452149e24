// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "mainwindow.h"

#include "connectpanel.h"
#include "createinstancedialog.h"
#include "instancedetails.h"
#include "instancelistmodel.h"
#include "instancepropertiesdialog.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QToolBar>
#include <QUrl>

using namespace Qt::StringLiterals;

namespace wsserve {

namespace {
const QString kInstancesKey = u"instances"_s;
} // namespace

MainWindow::MainWindow(ServerController &controller, QSettings &settings, QWidget *parent)
    : QMainWindow(parent)
    , m_controller(controller)
    , m_settings(settings)
{
    setWindowTitle(u"wsserve"_s);
    m_instances = new InstanceListModel(controller, this);
    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_view = new QTableView(m_splitter);
    m_view->setModel(m_instances);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    // First run: an empty list says what to do.
    m_firstRun = new QLabel(tr("Create an instance to start hosting:\nFile ▸ New instance… (Ctrl+N)"), m_view);
    m_firstRun->setAlignment(Qt::AlignCenter);
    m_firstRun->setStyleSheet(u"color: #6b6b6b; padding: 24px;"_s);
    m_firstRun->setGeometry(0, 40, 420, 120);
    const auto updateFirstRun = [this] {
        m_firstRun->setVisible(m_instances->rowCount() == 0);
    };
    connect(m_instances, &QAbstractItemModel::rowsInserted, this, updateFirstRun);
    connect(m_instances, &QAbstractItemModel::rowsRemoved, this, updateFirstRun);
    connect(m_instances, &QAbstractItemModel::modelReset, this, updateFirstRun);
    m_details = new InstanceDetails(controller, *m_instances, m_splitter);
    m_splitter->addWidget(m_view);
    m_splitter->addWidget(m_details);
    m_splitter->setStretchFactor(0, 2);
    m_splitter->setStretchFactor(1, 3);
    setCentralWidget(m_splitter);

    m_status = new QLabel(this);
    statusBar()->addPermanentWidget(m_status, 1);
    buildActions();

    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] {
        m_details->setInstance(selectedInstance());
        updateActions();
        scheduleSave();
    });
    connect(m_view, &QTableView::doubleClicked, this, [this] {
        m_details->setCurrentIndex(0);
        m_details->setFocus();
    });
    connect(m_view, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        QMenu menu(this);
        menu.addActions({m_new, m_start, m_stop, m_restart, m_properties, m_remove});
        menu.exec(m_view->viewport()->mapToGlobal(pos));
    });
    connect(&m_controller, &ServerController::instanceStateChanged, this, [this] {
        updateActions();
        updateStatus();
        scheduleSave();
    });
    connect(&m_controller, &ServerController::instanceAdded, this, [this] {
        updateStatus();
        scheduleSave();
    });
    connect(&m_controller, &ServerController::instanceRemoved, this, [this] {
        updateActions();
        updateStatus();
        scheduleSave();
    });
    connect(&m_controller, &ServerController::listening, this, &MainWindow::updateStatus);
    if (m_controller.clusterStatus().enabled) { // nodes come and go without any instance event
        auto *clusterTick = new QTimer(this);
        connect(clusterTick, &QTimer::timeout, this, &MainWindow::updateStatus);
        clusterTick->start(1000);
    }
    connect(&m_controller, &ServerController::instanceStatsChanged, this, &MainWindow::updateStatus);
    connect(&m_controller, &ServerController::listenFailed, this, [this](const QString &error) {
        m_status->setText(error);
        QMessageBox::critical(this, tr("wsserve cannot listen"),
                              tr("%1\n\nStart wsserve with another --port, or stop the program using it.").arg(error));
    });
    m_saveTimer = new QTimer(this);
    m_saveTimer->setSingleShot(true);
    m_saveTimer->setInterval(300);
    connect(m_saveTimer, &QTimer::timeout, this, &MainWindow::saveState);

    m_settings.beginGroup(u"window"_s);
    if (!restoreGeometry(m_settings.value(u"geometry"_s).toByteArray())) {
        resize(1180, 720);
    }
    if (!m_splitter->restoreState(m_settings.value(u"splitter"_s).toByteArray())) {
        m_splitter->setSizes({440, 740});
    }
    m_details->setCurrentIndex(m_settings.value(u"tab"_s, 0).toInt());
    m_settings.endGroup();
    updateActions();
    updateStatus();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildActions()
{
    m_new = new QAction(style()->standardIcon(QStyle::SP_FileDialogNewFolder), tr("&New instance…"), this);
    m_new->setShortcut(QKeySequence::New);
    m_start = new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Start"), this);
    m_stop = new QAction(style()->standardIcon(QStyle::SP_MediaStop), tr("S&top"), this);
    m_restart = new QAction(style()->standardIcon(QStyle::SP_BrowserReload), tr("&Restart"), this);
    m_remove = new QAction(style()->standardIcon(QStyle::SP_TrashIcon), tr("Re&move…"), this);
    m_remove->setShortcut(QKeySequence::Delete);
    m_properties = new QAction(style()->standardIcon(QStyle::SP_FileDialogDetailedView), tr("&Properties…"), this);
    m_properties->setToolTip(tr("View and change the instance's options; limits apply at once"));
    connect(m_new, &QAction::triggered, this, [this] {
        CreateInstanceDialog dialog(m_controller, this);
        if (dialog.exec() == QDialog::Accepted) {
            selectInstance(dialog.createdId());
            m_details->setCurrentWidget(m_details->connectPanel()); // what to hand the players next
        }
    });
    connect(m_properties, &QAction::triggered, this, [this] {
        const QString id = selectedInstance();
        if (id.isEmpty()) {
            return;
        }
        InstancePropertiesDialog dialog(m_controller, id, this);
        dialog.exec();
        scheduleSave();
    });
    connect(m_start, &QAction::triggered, this,
            [this] { runCommand(tr("Start"), [this](const QString &id) { return m_controller.startInstance(id); }); });
    connect(m_stop, &QAction::triggered, this, [this] {
        if (confirmDisconnect(tr("Stop"), m_controller.instance(selectedInstance()).stats.clients)) {
            runCommand(tr("Stop"), [this](const QString &id) { return m_controller.stopInstance(id); });
        }
    });
    connect(m_restart, &QAction::triggered, this, [this] {
        if (confirmDisconnect(tr("Restart"), m_controller.instance(selectedInstance()).stats.clients)) {
            runCommand(tr("Restart"), [this](const QString &id) { return m_controller.restartInstance(id); });
        }
    });
    connect(m_remove, &QAction::triggered, this, [this] {
        const QString id = selectedInstance();
        if (id.isEmpty() ||
            QMessageBox::question(this, tr("Remove instance"),
                                  tr("Remove '%1'? Its clients are disconnected and it is forgotten.").arg(id)) !=
                QMessageBox::Yes) {
            return;
        }
        runCommand(tr("Remove"), [this](const QString &target) { return m_controller.removeInstance(target); });
    });

    QToolBar *toolbar = addToolBar(tr("Instances"));
    toolbar->setObjectName(u"instancesToolbar"_s);
    toolbar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolbar->addActions({m_new, m_start, m_stop, m_restart, m_properties, m_remove});

    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_new);
    file->addSeparator();
    file->addAction(tr("Open &types folder"), this, &MainWindow::openTypesFolder);
    file->addAction(tr("&Load type from file…"), this, &MainWindow::loadTypeFromFile);
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);
    QMenu *instance = menuBar()->addMenu(tr("&Instance"));
    instance->addActions({m_start, m_stop, m_restart, m_properties, m_remove});
    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About wsserve"), this, [this] {
        QMessageBox::about(this, tr("About wsserve"),
                           tr("<h3>wsserve %1</h3><p>Hosts real-time WebSocket servers on your network. Clients "
                              "speak the Phoenix Channels protocol, so every Phoenix client library works.</p>"
                              "<p>Qt %2</p>")
                               .arg(QCoreApplication::applicationVersion(), QString::fromLatin1(qVersion())));
    });
}

void MainWindow::closeWithoutAsking()
{
    m_noQuestions = true;
    close();
}

bool MainWindow::confirmDisconnect(const QString &what, int clients)
{
    const QString key = u"confirm/disconnectClients"_s;
    if (clients <= 0 || !m_settings.value(key, true).toBool()) {
        return true;
    }
    QMessageBox box(QMessageBox::Question, tr("%1 with players connected?").arg(what),
                    (clients == 1 ? tr("1 client is connected.") : tr("%1 clients are connected.").arg(clients)) +
                        u' ' +
                        tr("%1 disconnects them (close code 1012 or 1001; Phoenix clients reconnect by themselves "
                           "once the server is back).")
                            .arg(what),
                    QMessageBox::Yes | QMessageBox::Cancel, this);
    box.setObjectName(u"confirmDisconnect"_s);
    box.button(QMessageBox::Yes)->setText(what);
    auto *dontAsk = new QCheckBox(tr("Don't ask again"), &box);
    box.setCheckBox(dontAsk);
    if (box.exec() != QMessageBox::Yes) {
        return false;
    }
    if (dontAsk->isChecked()) {
        m_settings.setValue(key, false);
    }
    return true;
}

QString MainWindow::selectedInstance() const
{
    const QModelIndex current = m_view->selectionModel()->currentIndex();
    return current.isValid() ? m_instances->idAt(current.row()) : QString();
}

void MainWindow::selectInstance(const QString &id)
{
    const int row = m_instances->rowOf(id);
    if (row >= 0) {
        m_view->selectionModel()->setCurrentIndex(m_instances->index(row, 0),
                                                  QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    }
}

void MainWindow::runCommand(const QString &what, const std::function<CommandResult(const QString &)> &command)
{
    const QString id = selectedInstance();
    if (id.isEmpty()) {
        return;
    }
    if (const CommandResult result = command(id); !result) {
        QMessageBox::warning(this, tr("%1 failed").arg(what), result.message);
    }
}

void MainWindow::updateActions()
{
    const QString id = selectedInstance();
    const InstanceState state = id.isEmpty() ? InstanceState::Invalid : m_controller.instance(id).state;
    m_start->setEnabled(state == InstanceState::Stopped || state == InstanceState::Failed ||
                        state == InstanceState::Restarting);
    m_stop->setEnabled(state == InstanceState::Running || state == InstanceState::Starting ||
                       state == InstanceState::Restarting || state == InstanceState::Failed);
    m_restart->setEnabled(state == InstanceState::Running || state == InstanceState::Stopped ||
                          state == InstanceState::Failed);
    m_remove->setEnabled(!id.isEmpty() && state != InstanceState::Stopping);
    m_properties->setEnabled(!id.isEmpty());
}

void MainWindow::updateStatus()
{
    if (!m_controller.isListening()) {
        return;
    }
    int running = 0;
    int clients = 0;
    for (const QString &id : m_controller.instanceIds()) {
        const InstanceInfo info = m_controller.instance(id);
        running += info.state == InstanceState::Running ? 1 : 0;
        clients += info.stats.clients;
    }
    QString text = tr("Listening on ws://%1:%2  ·  %3 of %4 instances running  ·  %5 clients")
                       .arg(urlHost(m_controller.listenAddress()))
                       .arg(m_controller.listenPort())
                       .arg(running)
                       .arg(m_controller.instanceIds().size())
                       .arg(clients);
    if (!m_adminUrl.isEmpty()) {
        text += tr("  ·  admin API on %1").arg(m_adminUrl);
    }
    if (const ClusterStatus cluster = m_controller.clusterStatus(); cluster.enabled) {
        QStringList nodes; // name (clients on its shared instances)
        for (const ClusterNode &node : cluster.nodes) {
            int nodeClients = 0;
            for (const int count : node.clients) {
                nodeClients += count;
            }
            nodes.append(tr("%1 (%2)").arg(node.name).arg(nodeClients));
        }
        text += cluster.connected ? tr("  ·  cluster: connected, nodes %1").arg(nodes.join(u", "))
                                  : tr("  ·  cluster: disconnected (%1)").arg(cluster.lastError);
    }
    m_status->setText(text);
}

QList<InstanceSpec> MainWindow::savedInstances() const
{
    QList<InstanceSpec> saved;
    const int count = m_settings.beginReadArray(kInstancesKey);
    for (int i = 0; i < count; ++i) {
        m_settings.setArrayIndex(i);
        const QVariantMap options =
            QJsonDocument::fromJson(m_settings.value(u"options"_s).toString().toUtf8()).object().toVariantMap();
        saved.append(InstanceSpec{m_settings.value(u"id"_s).toString(), m_settings.value(u"type"_s).toString(), options,
                                  m_settings.value(u"running"_s).toBool()});
    }
    m_settings.endArray();
    return saved;
}

void MainWindow::finishStart(const QStringList &problems, const QString &adminUrl)
{
    m_restoring = false;
    m_adminUrl = adminUrl;
    updateStatus();
    // Back where the user was: the instance selected last time, else the first one.
    const QString last = m_settings.value(u"window/selected"_s).toString();
    selectInstance(m_instances->rowOf(last) >= 0 ? last : m_instances->idAt(0));
    if (!problems.isEmpty()) {
        statusBar()->showMessage(problems.join(u"  ·  "_s), 15000);
    }
}

void MainWindow::scheduleSave()
{
    if (!m_closing && !m_restoring) {
        m_saveTimer->start();
    }
}

void MainWindow::saveState()
{
    m_settings.beginGroup(u"window"_s);
    m_settings.setValue(u"geometry"_s, saveGeometry());
    m_settings.setValue(u"splitter"_s, m_splitter->saveState());
    m_settings.setValue(u"tab"_s, m_details->currentIndex());
    m_settings.setValue(u"selected"_s, selectedInstance());
    m_settings.endGroup();
    m_settings.beginWriteArray(kInstancesKey);
    int index = 0;
    for (const QString &id : m_controller.instanceIds()) {
        const InstanceInfo info = m_controller.instance(id);
        m_settings.setArrayIndex(index++);
        m_settings.setValue(u"id"_s, id);
        m_settings.setValue(u"type"_s, info.config.type);
        // JSON, so the settings file stays readable and editable by a person.
        m_settings.setValue(
            u"options"_s,
            QString::fromUtf8(
                QJsonDocument(QJsonObject::fromVariantMap(info.config.options)).toJson(QJsonDocument::Compact)));
        // Instances come back the way the user left them: running ones start again.
        const bool running = info.state == InstanceState::Running || info.state == InstanceState::Starting ||
                             info.state == InstanceState::Restarting;
        m_settings.setValue(u"running"_s, running);
    }
    m_settings.endArray();
    m_settings.sync();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_closing) {
        event->accept();
        return;
    }
    int clients = 0;
    for (const QString &id : m_controller.instanceIds()) {
        clients += m_controller.instance(id).stats.clients;
    }
    if (!m_noQuestions && !confirmDisconnect(tr("Quit"), clients)) {
        event->ignore();
        return;
    }
    // Save first: stopping the instances for the exit must not be remembered as "stopped".
    saveState();
    m_closing = true;
    m_saveTimer->stop();
    event->ignore();
    statusBar()->showMessage(tr("Closing every client with 1012 and stopping…"));
    connect(
        &m_controller, &ServerController::shutdownComplete, this, [this] { close(); }, Qt::SingleShotConnection);
    m_controller.shutdown();
}

void MainWindow::openTypesFolder()
{
    const QStringList folders = m_controller.typeDirectories();
    if (folders.isEmpty()) {
        return;
    }
    QDir().mkpath(folders.first());
    if (!QDesktopServices::openUrl(QUrl::fromLocalFile(folders.first()))) {
        QMessageBox::information(this, tr("Types folder"),
                                 tr("JavaScript types are read from:\n%1").arg(folders.join(u'\n')));
    }
}

void MainWindow::loadTypeFromFile()
{
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Load a JavaScript type"), QString(), tr("JavaScript types (*.js)"));
    if (path.isEmpty()) {
        return;
    }
    const CommandResult result = m_controller.installTypeFile(path);
    if (result.isOk()) {
        statusBar()->showMessage(tr("Type '%1' loaded; it is in the create dialog").arg(result.message), 8000);
    } else {
        QMessageBox::warning(this, tr("Load type"), tr("The type does not load:\n%1").arg(result.message));
    }
}

} // namespace wsserve
