// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// GUI models and widgets against a real running core with real clients (QT_QPA_PLATFORM=offscreen).

#include "behaviours/builtins.h"
#include "clientlistmodel.h"
#include "connectpanel.h"
#include "createinstancedialog.h"
#include "instancedetails.h"
#include "instancelistmodel.h"
#include "mainwindow.h"
#include "messageflowmodel.h"
#include "phoenixtestclient.h"
#include "playertokendialog.h"
#include "serverstart.h"

#include <QAbstractItemView>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

class tst_UiIntegration : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<QSettings> m_settings;
    std::unique_ptr<ServerController> m_controller;
    std::unique_ptr<MainWindow> m_window;
    std::unique_ptr<ServerStart> m_serving;

    void openWindow()
    {
        m_controller = std::make_unique<ServerController>();
        m_window = std::make_unique<MainWindow>(*m_controller, *m_settings);
        ServerConfig config;
        config.bind = QHostAddress::LocalHost;
        config.port = 0;
        config.adminEnabled = false;
        QSignalSpy listening(m_controller.get(), &ServerController::listening);
        m_serving = std::make_unique<ServerStart>(*m_controller);
        const QStringList problems =
            m_serving->start(config, ServerStart::Mode::BestEffort, m_window->savedInstances());
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u", ")));
        m_window->finishStart(problems, m_serving->adminUrl());
        QVERIFY(listening.wait(10000) || m_controller->isListening());
        m_window->show();
    }

    void closeWindow()
    {
        if (!m_window) {
            return;
        }
        m_window->saveState();
        m_window.reset();
        m_serving.reset();
        QSignalSpy done(m_controller.get(), &ServerController::shutdownComplete);
        m_controller->shutdown();
        QVERIFY(done.wait(10000));
        m_controller.reset();
    }

    QUrl url(const QString &id) const
    {
        return QUrl(u"ws://127.0.0.1:%1/socket/%2/websocket?vsn=2.0.0"_s.arg(m_controller->listenPort()).arg(id));
    }

    // Creates an instance the way a user does: through the dialog.
    void createThroughDialog(const QString &id, const QString &type, int maxClients)
    {
        CreateInstanceDialog dialog(*m_controller, m_window.get());
        dialog.idEdit()->setText(id);
        dialog.typeBox()->setCurrentIndex(dialog.typeBox()->findData(type));
        qobject_cast<QSpinBox *>(dialog.optionEditor(u"max_clients"_s))->setValue(maxClients);
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QTRY_COMPARE(m_controller->instance(id).state, InstanceState::Running);
        m_window->selectInstance(id);
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_settings = std::make_unique<QSettings>(
            m_dir.filePath(u"wsserve-%1.ini"_s.arg(QLatin1String(QTest::currentTestFunction()))), QSettings::IniFormat);
        m_settings->setValue(u"confirm/disconnectClients"_s, false); // tst_ui_host covers the question
        openWindow();
    }
    void cleanup()
    {
        closeWindow();
        m_settings.reset();
    }

    void dialogValidatesAndCreates()
    {
        CreateInstanceDialog dialog(*m_controller, m_window.get());
        QPushButton *ok = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        dialog.idEdit()->setText(u"bad id!"_s);
        QVERIFY(!ok->isEnabled());
        const QList<QLabel *> labels = dialog.findChildren<QLabel *>();
        QVERIFY(std::any_of(labels.begin(), labels.end(),
                            [](QLabel *label) { return label->text().contains(u"may only contain"_s); }));
        dialog.idEdit()->setText(u"quiz"_s);
        QVERIFY(ok->isEnabled());
        // Every type is offered with its description; chat shows its presence option, defaults filled in.
        QCOMPARE(dialog.typeBox()->count(), int(builtinRegistry().names().size()));
        dialog.typeBox()->setCurrentIndex(dialog.typeBox()->findData(u"chat"_s));
        QVERIFY(qobject_cast<QCheckBox *>(dialog.optionEditor(u"presence"_s))->isChecked());
        QCOMPARE(qobject_cast<QSpinBox *>(dialog.optionEditor(u"max_frame_bytes"_s))->value(), 1048576);
        qobject_cast<QCheckBox *>(dialog.optionEditor(u"presence"_s))->setChecked(false);
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QTRY_COMPARE(m_controller->instance(u"quiz"_s).state, InstanceState::Running);
        QCOMPARE(m_controller->instance(u"quiz"_s).config.options.value(u"presence"_s).toBool(), false);
        QCOMPARE(m_window->instances()->rowCount(), 1);
        QCOMPARE(m_window->instances()->index(0, InstanceListModel::StateColumn).data().toString(), u"Running"_s);

        // A taken id is refused with the reason, and the dialog stays open.
        CreateInstanceDialog again(*m_controller, m_window.get());
        again.idEdit()->setText(u"quiz"_s);
        QVERIFY(!again.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->isEnabled());
        again.accept(); // forced: the facade refuses, the dialog shows why
        QVERIFY(again.result() != int(QDialog::Accepted));
        QVERIFY(again.errorLabel()->text().contains(u"already taken"_s));
    }

    void scriptTypesInTheDialog()
    {
        // A types folder with a working type and one that does not load.
        QTemporaryDir types;
        QVERIFY(QFile::copy(QStringLiteral(WSSERVE_SOURCE_DIR "/examples/types/counter.js"),
                            types.filePath(u"counter.js"_s)));
        QFile broken(types.filePath(u"broken.js"_s));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("export default {\n  join() {},\n};\n");
        broken.close();
        m_controller->setTypeDirectories({types.path()});

        CreateInstanceDialog dialog(*m_controller, m_window.get());
        QPushButton *ok = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        dialog.idEdit()->setText(u"clicks"_s);
        const int counter = dialog.typeBox()->findData(u"counter"_s);
        QVERIFY(counter >= 0);
        QVERIFY(dialog.typeBox()->itemText(counter).contains(u"JavaScript"_s));
        dialog.typeBox()->setCurrentIndex(dialog.typeBox()->findData(u"broken"_s));
        QVERIFY(!ok->isEnabled());
        const QList<QLabel *> labels = dialog.findChildren<QLabel *>();
        QVERIFY(std::any_of(labels.begin(), labels.end(), [&](QLabel *label) {
            return label->text().contains(u"does not load"_s) &&
                   label->text().contains(u"missing callback 'handleIn'"_s);
        }));
        dialog.typeBox()->setCurrentIndex(counter);
        QVERIFY(ok->isEnabled());
        QCOMPARE(qobject_cast<QSpinBox *>(dialog.optionEditor(u"step"_s))->value(), 1);
        qobject_cast<QSpinBox *>(dialog.optionEditor(u"step"_s))->setValue(7);
        dialog.accept();
        QTRY_COMPARE(m_controller->instance(u"clicks"_s).state, InstanceState::Running);
        QCOMPARE(m_controller->instance(u"clicks"_s).config.options.value(u"step"_s).toInt(), 7);

        // "Load type from file…" copies a file into the folder and loads it.
        const CommandResult installed =
            m_controller->installTypeFile(QStringLiteral(WSSERVE_SOURCE_DIR "/examples/types/quiz.js"));
        QVERIFY2(installed.isOk(), qPrintable(installed.message));
        QCOMPARE(installed.message, u"quiz"_s);
        QVERIFY(QFile::exists(types.filePath(u"quiz.js"_s)));
        CreateInstanceDialog again(*m_controller, m_window.get());
        QVERIFY(again.typeBox()->findData(u"quiz"_s) >= 0);
        m_controller->setTypeDirectories({});
    }

    void clientsMessagesPauseFilterExportKick()
    {
        createThroughDialog(u"lobby"_s, u"chat"_s, 50);
        InstanceDetails *details = m_window->details();
        QCOMPARE(details->instanceId(), u"lobby"_s);
        PhoenixTestClient alice;
        PhoenixTestClient bob;
        QVERIFY(alice.open(url(u"lobby"_s)) && bob.open(url(u"lobby"_s)));
        const QString aliceRef = alice.join(u"room:1"_s, QJsonObject{{u"name"_s, u"alice"_s}});
        const QString bobRef = bob.join(u"room:1"_s, QJsonObject{{u"name"_s, u"bob"_s}});
        QVERIFY(alice.waitForReply(u"room:1"_s, aliceRef) && bob.waitForReply(u"room:1"_s, bobRef));

        // Clients tab: both sockets, with their topic.
        QTRY_COMPARE(details->clients()->rowCount(), 2);
        QTRY_COMPARE(details->clients()->index(0, ClientListModel::TopicsColumn).data().toString(), u"room:1"_s);
        QCOMPARE(details->clients()->index(0, ClientListModel::FormatColumn).data().toString(), u"V2"_s);

        // Messages tab: the joins, presence and a shout show up live.
        alice.sendV2(aliceRef, u"10"_s, u"room:1"_s, u"shout"_s, QJsonObject{{u"body"_s, u"hello"_s}});
        QVERIFY(alice.waitForReply(u"room:1"_s, u"10"_s));
        MessageFlowModel *messages = details->messages();
        const auto hasEvent = [messages](const QString &event, bool outgoing) {
            for (int row = 0; row < messages->rowCount(); ++row) {
                if (messages->eventAt(row).event == event && messages->eventAt(row).outgoing == outgoing) {
                    return true;
                }
            }
            return false;
        };
        QTRY_VERIFY(hasEvent(u"shout"_s, false) && hasEvent(u"shout"_s, true));
        QVERIFY(hasEvent(u"phx_join"_s, false));
        QVERIFY(hasEvent(u"presence_diff"_s, true));

        // Selecting a row shows the whole payload, pretty-printed.
        QTableView *view = details->messageView();
        for (int row = 0; row < view->model()->rowCount(); ++row) {
            if (view->model()->index(row, MessageFlowModel::EventColumn).data().toString() == u"shout" &&
                view->model()->index(row, MessageFlowModel::DirectionColumn).data().toString().startsWith(u"←")) {
                view->selectionModel()->setCurrentIndex(view->model()->index(row, 0),
                                                        QItemSelectionModel::SelectCurrent);
                break;
            }
        }
        QVERIFY(details->payloadPane()->toPlainText().contains(u"\"body\": \"hello\""_s));

        // Pause: new traffic is not added (and is counted); resume adds again.
        details->setPaused(true);
        const int pausedRows = messages->rowCount();
        alice.sendV2(aliceRef, u"11"_s, u"room:1"_s, u"shout"_s, QJsonObject{{u"body"_s, u"while paused"_s}});
        QVERIFY(alice.waitForReply(u"room:1"_s, u"11"_s));
        QTRY_VERIFY(messages->skippedWhilePaused() >= 3);
        QCOMPARE(messages->rowCount(), pausedRows);
        details->setPaused(false);
        alice.sendV2(aliceRef, u"12"_s, u"room:1"_s, u"shout"_s, QJsonObject{{u"body"_s, u"resumed"_s}});
        QTRY_VERIFY(messages->rowCount() > pausedRows);

        // Filter by event, then export exactly what is shown.
        details->setMessageFilter(static_cast<int>(MessageFilterProxy::Field::Event), u"phx_reply"_s);
        // The pause gap's marker row stays visible whatever the filter; it is not a frame to export.
        int shown = 0;
        for (int row = 0; row < view->model()->rowCount(); ++row) {
            shown +=
                details->messageFilter()->mapToSource(view->model()->index(row, 0)).row() >= 0 &&
                        !messages->isMarker(details->messageFilter()->mapToSource(view->model()->index(row, 0)).row())
                    ? 1
                    : 0;
        }
        QVERIFY(shown > 0 && shown < messages->rowCount());
        QCOMPARE(view->model()->rowCount(), shown + 1);
        const QString path = m_dir.filePath(u"export.jsonl"_s);
        QString error;
        QCOMPARE(details->exportShown(path, &error), qsizetype(shown));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = file.readAll().trimmed().split('\n');
        QCOMPARE(lines.size(), shown);
        for (const QByteArray &line : lines) {
            const QJsonObject record = QJsonDocument::fromJson(line).object();
            QCOMPARE(record.value(u"event"_s).toString(), u"phx_reply"_s);
            QCOMPARE(record.value(u"direction"_s).toString(), u"out"_s);
            QVERIFY(record.value(u"frame"_s).toString().startsWith(u"[\""_s));
        }
        details->setMessageFilter(static_cast<int>(MessageFilterProxy::Field::All), QString());

        // Kick bob from the Clients tab.
        QTableView *clientView = details->clientView();
        int bobRow = -1;
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                for (int row = 0; row < details->clients()->rowCount(); ++row) {
                    if (details->clients()->index(row, ClientListModel::NameColumn).data().toString() == u"bob") {
                        bobRow = row;
                    }
                }
                return bobRow >= 0;
            }(),
            10000);
        clientView->selectionModel()->setCurrentIndex(details->clients()->index(bobRow, 0),
                                                      QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        QVERIFY(details->kickSelected(u"bye bob"_s));
        QVERIFY(bob.waitForDisconnected());
        QCOMPARE(bob.closeCode(), 1008);
        QCOMPARE(bob.closeReason(), u"bye bob"_s);
        QTRY_COMPARE(details->clients()->rowCount(), 1);
        QVERIFY(alice.isConnected());
    }

    void restartShowsInSupervisorLog()
    {
        createThroughDialog(u"arena"_s, u"relay"_s, 10);
        PhoenixTestClient client;
        QVERIFY(client.open(url(u"arena"_s)));
        QVERIFY(m_window->restartAction()->isEnabled());
        m_window->restartAction()->trigger();
        QVERIFY(client.waitForDisconnected());
        QTRY_COMPARE(m_controller->instance(u"arena"_s).state, InstanceState::Running);
        QTRY_VERIFY(m_window->details()->supervisorLog()->toPlainText().contains(u"restart requested"_s));
        QCOMPARE(m_window->instances()->index(0, InstanceListModel::RestartsColumn).data().toInt(), 1);
        // The client comes back to the fresh instance.
        PhoenixTestClient again;
        QVERIFY(again.open(url(u"arena"_s)));
        m_window->stopAction()->trigger();
        QTRY_COMPARE(m_controller->instance(u"arena"_s).state, InstanceState::Stopped);
        QVERIFY(m_window->startAction()->isEnabled());
        QTRY_VERIFY(m_window->details()->supervisorLog()->toPlainText().contains(u"instance stopped"_s));
    }

    void instancesComeBackAfterRestartOfTheApp()
    {
        createThroughDialog(u"keep"_s, u"chat"_s, 77);
        createThroughDialog(u"paused"_s, u"echo"_s, 5);
        m_window->selectInstance(u"paused"_s);
        m_window->stopAction()->trigger();
        QTRY_COMPARE(m_controller->instance(u"paused"_s).state, InstanceState::Stopped);
        closeWindow();

        openWindow();
        QTRY_COMPARE(m_controller->instance(u"keep"_s).state, InstanceState::Running);
        QCOMPARE(m_controller->instance(u"keep"_s).config.options.value(u"max_clients"_s).toInt(), 77);
        QCOMPARE(m_controller->instance(u"keep"_s).config.type, u"chat"_s);
        QCOMPARE(m_controller->instance(u"paused"_s).state, InstanceState::Stopped);
        QCOMPARE(m_window->instances()->rowCount(), 2);
        QCOMPARE(m_window->selectedInstance(), u"paused"_s); // selection restored too
        PhoenixTestClient client;
        QVERIFY(client.open(url(u"keep"_s)));
    }

    void highRateIsSampledAndSaysSo()
    {
        createThroughDialog(u"flood"_s, u"echo"_s, 10);
        PhoenixTestClient client;
        QVERIFY(client.open(url(u"flood"_s)));
        const QString ref = client.join(u"t"_s);
        QVERIFY(client.waitForReply(u"t"_s, ref));
        for (int i = 0; i < 3000; ++i) {
            client.sendV2(ref, QString::number(100 + i), u"t"_s, u"x"_s, QJsonObject{});
        }
        QTRY_VERIFY_WITH_TIMEOUT(!m_window->details()->samplingLabel()->isHidden(), 20000);
        QVERIFY(m_window->details()->samplingLabel()->text().contains(u"sample"_s));
        QVERIFY(m_window->details()->messages()->rowCount() <= MessageFlowModel::kMaxRows);
    }

    void connectPanelOffersUrlsAndSnippet()
    {
        createThroughDialog(u"lan"_s, u"chat"_s, 10);
        const ConnectPanel *panel = m_window->details()->connectPanel();
        // Bound to 127.0.0.1 here, so no LAN URL; the snippet still names the instance.
        QVERIFY(panel->snippet().contains(u"/socket/lan"_s));
        QVERIFY(panel->snippet().contains(u"new Socket("_s));
        const QList<QHostAddress> all = ConnectPanel::lanAddresses(QHostAddress::Any);
        QVERIFY(std::none_of(all.begin(), all.end(), [](const QHostAddress &a) { return a.isLoopback(); }));
    }
    // Issue #19: with TLS the Connect tab offers wss:// URLs, the fingerprint, and the phone hint.
    void connectPanelShowsTlsUrlsAndFingerprint()
    {
        QTemporaryDir dir;
        QString cert;
        QString key;
        QString error;
        QVERIFY2(ServerController::selfSignedCertificate(dir.path(), &cert, &key, &error), qPrintable(error));
        ServerController controller;
        QVERIFY2(controller.enableTls(cert, key, &error), qPrintable(error));
        ConnectPanel panel(controller);
        panel.setInstance(u"lan"_s);
        panel.setEndpoint(QHostAddress(u"192.0.2.10"_s), 4443);
        QCOMPARE(panel.urls(), QStringList{u"wss://192.0.2.10:4443/socket/lan"_s});
        QVERIFY(panel.snippet().contains(u"wss://192.0.2.10:4443/socket/lan"_s));
        QVERIFY(!panel.tlsLabel()->isHidden());
        QVERIFY(panel.tlsLabel()->text().contains(controller.tlsFingerprint()));
        QVERIFY(panel.tlsLabel()->text().contains(u"First time on a phone: open https://192.0.2.10:4443/"_s));
    }
    // Issue #17 item 6: "Player token…" on the Connect tab of an auth=jwt instance mints a token whose URL
    // opens the instance; the instance's secret is in no widget or list of the window.
    void playerTokenDialogMintsAWorkingToken()
    {
        const QString secret = u"gui-secret-51c0"_s;
        QVERIFY(m_controller->createInstance(u"open"_s, u"echo"_s, {}, true));
        QVERIFY(m_controller->createInstance(u"quiz"_s, u"chat"_s, {{u"auth"_s, u"jwt"_s}, {u"jwt_secret"_s, secret}},
                                             true));
        QTRY_COMPARE(m_controller->instance(u"quiz"_s).state, InstanceState::Running);
        ConnectPanel *panel = m_window->details()->connectPanel();
        m_window->selectInstance(u"open"_s);
        QVERIFY(panel->playerTokenButton()->isHidden());
        QVERIFY(!panel->openPlayerTokenDialog());
        m_window->selectInstance(u"quiz"_s);
        QVERIFY(!panel->playerTokenButton()->isHidden());
        panel->playerTokenButton()->click();
        auto *dialog = panel->findChild<PlayerTokenDialog *>();
        QVERIFY(dialog);
        QTRY_VERIFY(dialog->isVisible());

        dialog->createButton()->click(); // neither name nor subject
        QVERIFY(!dialog->errorLabel()->isHidden());
        QVERIFY(dialog->token().isEmpty());
        dialog->nameEdit()->setText(u"Alice"_s);
        dialog->topicsEdit()->setText(u"room:*, lobby"_s);
        dialog->lifetimeBox()->setValue(2);
        dialog->createButton()->click();
        QVERIFY2(dialog->errorLabel()->isHidden(), qPrintable(dialog->errorLabel()->text()));
        const QString token = dialog->token();
        QCOMPARE(token.count(u'.'), 2);
        const QString tokenUrl = dialog->url();
        QCOMPARE(
            tokenUrl,
            u"ws://127.0.0.1:%1/socket/quiz/websocket?vsn=2.0.0&token=%2"_s.arg(m_controller->listenPort()).arg(token));
        QVERIFY(dialog->snippet().contains(
            u"new Socket(\"ws://127.0.0.1:%1/socket/quiz\", { params: { token } })"_s.arg(m_controller->listenPort())));
        QVERIFY(dialog->snippet().contains(token));

        PhoenixTestClient player;
        QVERIFY(player.open(QUrl(tokenUrl)));
        const auto joined = player.waitForReply(u"room:7"_s, player.join(u"room:7"_s));
        QVERIFY(joined);
        QCOMPARE(joined->payload()["response"_L1]["name"_L1].toString(), u"Alice"_s); // sub defaulted to the name
        const auto refused = player.waitForReply(u"game:1"_s, player.join(u"game:1"_s));
        QVERIFY(refused);
        QCOMPARE(refused->payload()["response"_L1]["reason"_L1].toString(), u"unauthorized"_s);

        // The secret shows nowhere in the window: no text field, label or list cell.
        QStringList shown;
        for (QLineEdit *edit : m_window->findChildren<QLineEdit *>()) {
            shown.append(edit->text());
        }
        for (QLabel *label : m_window->findChildren<QLabel *>()) {
            shown.append(label->text() + label->toolTip());
        }
        for (QPlainTextEdit *edit : m_window->findChildren<QPlainTextEdit *>()) {
            shown.append(edit->toPlainText());
        }
        for (QAbstractItemView *view : m_window->findChildren<QAbstractItemView *>()) {
            const QAbstractItemModel *model = view->model();
            for (int row = 0; model && row < model->rowCount(); ++row) {
                for (int column = 0; column < model->columnCount(); ++column) {
                    shown.append(model->index(row, column).data(Qt::DisplayRole).toString());
                    shown.append(model->index(row, column).data(Qt::ToolTipRole).toString());
                }
            }
        }
        QVERIFY(shown.join(u'\n').contains(u"quiz"_s));
        QVERIFY(!shown.join(u'\n').contains(secret));
        dialog->close();
    }
};

QTEST_MAIN(tst_UiIntegration)
#include "tst_ui_integration.moc"
