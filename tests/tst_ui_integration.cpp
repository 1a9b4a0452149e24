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
#include "qrcodewidget.h"
#include "serverstart.h"
#include "uitestwindow.h"

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
#include <QPointer>
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
    UiTestWindow m_ui;

    void openWindow() { m_ui.open(*m_settings, {.restoreSaved = true}); }
    void closeWindow() { m_ui.close(); }
    QUrl url(const QString &id) const { return m_ui.url(id); }

    // Creates an instance the way a user does: through the dialog.
    void createThroughDialog(const QString &id, const QString &type, int maxClients)
    {
        CreateInstanceDialog dialog(*m_ui.controller, m_ui.window.get());
        dialog.idEdit()->setText(id);
        dialog.typeBox()->setCurrentIndex(dialog.typeBox()->findData(type));
        qobject_cast<QLineEdit *>(dialog.optionEditor(u"max_clients"_s))->setText(QString::number(maxClients));
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QTRY_COMPARE(m_ui.controller->instance(id).state, InstanceState::Running);
        m_ui.window->selectInstance(id);
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_settings = UiTestWindow::freshSettings(m_dir);
        openWindow();
    }
    void cleanup()
    {
        closeWindow();
        m_settings.reset();
    }

    void dialogValidatesAndCreates()
    {
        CreateInstanceDialog dialog(*m_ui.controller, m_ui.window.get());
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
        QCOMPARE(qobject_cast<QLineEdit *>(dialog.optionEditor(u"max_frame_bytes"_s))->text(), u"1048576"_s);
        qobject_cast<QCheckBox *>(dialog.optionEditor(u"presence"_s))->setChecked(false);
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QTRY_COMPARE(m_ui.controller->instance(u"quiz"_s).state, InstanceState::Running);
        QCOMPARE(m_ui.controller->instance(u"quiz"_s).config.options.value(u"presence"_s).toBool(), false);
        QCOMPARE(m_ui.window->instances()->rowCount(), 1);
        QCOMPARE(m_ui.window->instances()->index(0, InstanceListModel::StateColumn).data().toString(), u"Running"_s);

        // A taken id is refused with the reason, and the dialog stays open.
        CreateInstanceDialog again(*m_ui.controller, m_ui.window.get());
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
        m_ui.controller->setTypeDirectories({types.path()});

        CreateInstanceDialog dialog(*m_ui.controller, m_ui.window.get());
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
        QCOMPARE(qobject_cast<QLineEdit *>(dialog.optionEditor(u"step"_s))->text(), u"1"_s);
        qobject_cast<QLineEdit *>(dialog.optionEditor(u"step"_s))->setText(u"7"_s);
        dialog.accept();
        QTRY_COMPARE(m_ui.controller->instance(u"clicks"_s).state, InstanceState::Running);
        QCOMPARE(m_ui.controller->instance(u"clicks"_s).config.options.value(u"step"_s).toInt(), 7);

        // "Load type from file…" copies a file into the folder and loads it.
        const CommandResult installed =
            m_ui.controller->installTypeFile(QStringLiteral(WSSERVE_SOURCE_DIR "/examples/types/quiz.js"));
        QVERIFY2(installed.isOk(), qPrintable(installed.message));
        QCOMPARE(installed.message, u"quiz"_s);
        QVERIFY(QFile::exists(types.filePath(u"quiz.js"_s)));
        CreateInstanceDialog again(*m_ui.controller, m_ui.window.get());
        QVERIFY(again.typeBox()->findData(u"quiz"_s) >= 0);
        m_ui.controller->setTypeDirectories({});
    }

    void clientsMessagesPauseFilterExportKick()
    {
        createThroughDialog(u"lobby"_s, u"chat"_s, 50);
        InstanceDetails *details = m_ui.window->details();
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
        QVERIFY(m_ui.window->restartAction()->isEnabled());
        m_ui.window->restartAction()->trigger();
        QVERIFY(client.waitForDisconnected());
        QTRY_COMPARE(m_ui.controller->instance(u"arena"_s).state, InstanceState::Running);
        QTRY_VERIFY(m_ui.window->details()->supervisorLog()->toPlainText().contains(u"restart requested"_s));
        QCOMPARE(m_ui.window->instances()->index(0, InstanceListModel::RestartsColumn).data().toInt(), 1);
        // The client comes back to the fresh instance.
        PhoenixTestClient again;
        QVERIFY(again.open(url(u"arena"_s)));
        m_ui.window->stopAction()->trigger();
        QTRY_COMPARE(m_ui.controller->instance(u"arena"_s).state, InstanceState::Stopped);
        QVERIFY(m_ui.window->startAction()->isEnabled());
        QTRY_VERIFY(m_ui.window->details()->supervisorLog()->toPlainText().contains(u"instance stopped"_s));
    }

    void instancesComeBackAfterRestartOfTheApp()
    {
        createThroughDialog(u"keep"_s, u"chat"_s, 77);
        createThroughDialog(u"paused"_s, u"echo"_s, 5);
        m_ui.window->selectInstance(u"paused"_s);
        m_ui.window->stopAction()->trigger();
        QTRY_COMPARE(m_ui.controller->instance(u"paused"_s).state, InstanceState::Stopped);
        closeWindow();

        openWindow();
        QTRY_COMPARE(m_ui.controller->instance(u"keep"_s).state, InstanceState::Running);
        QCOMPARE(m_ui.controller->instance(u"keep"_s).config.options.value(u"max_clients"_s).toInt(), 77);
        QCOMPARE(m_ui.controller->instance(u"keep"_s).config.type, u"chat"_s);
        QCOMPARE(m_ui.controller->instance(u"paused"_s).state, InstanceState::Stopped);
        QCOMPARE(m_ui.window->instances()->rowCount(), 2);
        QCOMPARE(m_ui.window->selectedInstance(), u"paused"_s); // selection restored too
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
        QTRY_VERIFY_WITH_TIMEOUT(!m_ui.window->details()->samplingLabel()->isHidden(), 20000);
        QVERIFY(m_ui.window->details()->samplingLabel()->text().contains(u"sample"_s));
        QVERIFY(m_ui.window->details()->messages()->rowCount() <= MessageFlowModel::kMaxRows);
    }

    void connectPanelOffersUrlsAndSnippet()
    {
        createThroughDialog(u"lan"_s, u"chat"_s, 10);
        const ConnectPanel *panel = m_ui.window->details()->connectPanel();
        // Bound to 127.0.0.1 here, so no LAN URL; the snippet still names the instance.
        QVERIFY(panel->snippet().contains(u"/socket/lan"_s));
        QVERIFY(panel->snippet().contains(u"new Socket("_s));
        const QList<QHostAddress> all = ConnectPanel::lanAddresses(QHostAddress::Any);
        QVERIFY(std::none_of(all.begin(), all.end(), [](const QHostAddress &a) { return a.isLoopback(); }));
        // The instance's page with its QR code (issue 18), and "Show full screen" for a projector.
        QVERIFY(panel->pageUrl().endsWith(u"/i/lan/"_s));
        QCOMPARE(panel->qrCode()->text(), panel->pageUrl());
        QVERIFY(panel->qrCode()->isValid());
        QVERIFY(panel->fullScreenButton()->isEnabled());
        // Announcing is opt-in: off for a new instance (not toggled here: a test never announces on this
        // machine's real network; tests/discovery does it inside network namespaces).
        QVERIFY(panel->announceBox()->isEnabled());
        QVERIFY(!panel->announceBox()->isChecked());
        QWidget *full = const_cast<ConnectPanel *>(panel)->showQrFullScreen();
        QVERIFY(full);
        QCOMPARE(full->findChild<QrCodeWidget *>()->text(), panel->pageUrl());
        QPointer<QWidget> guard(full);
        QTest::keyClick(full, Qt::Key_Escape);
        QTRY_VERIFY(guard.isNull()); // closed and deleted
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
        QVERIFY(m_ui.controller->createInstance(u"open"_s, u"echo"_s, {}, true));
        QVERIFY(m_ui.controller->createInstance(u"quiz"_s, u"chat"_s,
                                                {{u"auth"_s, u"jwt"_s}, {u"jwt_secret"_s, secret}}, true));
        QTRY_COMPARE(m_ui.controller->instance(u"quiz"_s).state, InstanceState::Running);
        ConnectPanel *panel = m_ui.window->details()->connectPanel();
        m_ui.window->selectInstance(u"open"_s);
        QVERIFY(panel->playerTokenButton()->isHidden());
        QVERIFY(!panel->openPlayerTokenDialog());
        m_ui.window->selectInstance(u"quiz"_s);
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
        QCOMPARE(tokenUrl,
                 u"ws://127.0.0.1:%1/socket/quiz/websocket?vsn=2.0.0&token=%2"_s.arg(m_ui.controller->listenPort())
                     .arg(token));
        QVERIFY(
            dialog->snippet().contains(u"new Socket(\"ws://127.0.0.1:%1/socket/quiz\", { params: { token } })"_s.arg(
                m_ui.controller->listenPort())));
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
        for (QLineEdit *edit : m_ui.window->findChildren<QLineEdit *>()) {
            shown.append(edit->text());
        }
        for (QLabel *label : m_ui.window->findChildren<QLabel *>()) {
            shown.append(label->text() + label->toolTip());
        }
        for (QPlainTextEdit *edit : m_ui.window->findChildren<QPlainTextEdit *>()) {
            shown.append(edit->toPlainText());
        }
        for (QAbstractItemView *view : m_ui.window->findChildren<QAbstractItemView *>()) {
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
