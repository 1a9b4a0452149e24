// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Issue #14, the window a LAN host needs: names in the Clients table, the connection log, the Send bar,
// Properties (and PATCH /api/instances/ID), honest views. Offscreen, against a real core, with real clients.

#include "clientlistmodel.h"
#include "connectionlogmodel.h"
#include "connectpanel.h"
#include "createinstancedialog.h"
#include "instancedetails.h"
#include "instancelistmodel.h"
#include "instancepropertiesdialog.h"
#include "mainwindow.h"
#include "messageflowmodel.h"
#include "phoenixtestclient.h"
#include "uitestwindow.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

class tst_UiHost : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<QSettings> m_settings;
    UiTestWindow m_ui;

    QUrl url(const QString &id, const QString &query = {}) const { return m_ui.url(id, query); }
    QByteArray upgradeHead(const QString &id, const QByteArray &extra = {}) const
    {
        return m_ui.upgradeHead(id, extra);
    }
    void create(const QString &id, const QString &type, const QVariantMap &options = {})
    {
        m_ui.create(id, type, options);
    }
    static bool logHas(const ConnectionLogModel *log, const QList<std::pair<int, QString>> &cells)
    {
        return UiTestWindow::logHas(log, cells);
    }

    // The rows of a model's column, as shown.
    static QStringList column(const QAbstractItemModel *model, int column)
    {
        QStringList cells;
        for (int row = 0; row < model->rowCount(); ++row) {
            cells.append(model->index(row, column).data().toString());
        }
        return cells;
    }

    // Answers the next modal message box: ticks "Don't ask again" when asked, then presses `button`.
    void answerNextQuestion(QMessageBox::StandardButton button, bool dontAskAgain)
    {
        QTimer::singleShot(0, this, [button, dontAskAgain] {
            QTRY_VERIFY(qobject_cast<QMessageBox *>(QApplication::activeModalWidget()));
            auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
            if (box->checkBox()) {
                box->checkBox()->setChecked(dontAskAgain);
            }
            box->button(button)->click();
        });
    }

    QJsonObject patch(const QString &path, const QByteArray &body, int *status)
    {
        return m_ui.adminRequest("PATCH", path, status, body).object();
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_settings = UiTestWindow::freshSettings(m_dir);
        m_ui.open(*m_settings, {.admin = true});
    }
    void cleanup()
    {
        m_ui.close();
        m_settings.reset();
    }

    // Scope 1: people, not numbers; ids never name two people.
    void clientsShowNamesAndIdsNeverRepeat()
    {
        create(u"lobby"_s, u"chat"_s);
        InstanceDetails *details = m_ui.window->details();
        PhoenixTestClient alice;
        PhoenixTestClient carol;
        QVERIFY(alice.open(url(u"lobby"_s)));
        QVERIFY(carol.open(url(u"lobby"_s, u"&name=carol"_s))); // a socket param, no join
        const QString aliceRef = alice.join(u"room:1"_s, QJsonObject{{u"name"_s, u"alice"_s}});
        QVERIFY(alice.waitForReply(u"room:1"_s, aliceRef));
        ClientListModel *clients = details->clients();
        QTRY_COMPARE(clients->rowCount(), 2);
        QTRY_VERIFY(column(clients, ClientListModel::NameColumn).contains(u"alice"_s));
        QVERIFY(column(clients, ClientListModel::NameColumn).contains(u"carol"_s));
        QCOMPARE(column(clients, ClientListModel::TransportColumn), QStringList({u"websocket"_s, u"websocket"_s}));
        QCOMPARE(clients->headerData(ClientListModel::NameColumn, Qt::Horizontal).toString(), u"Name"_s);

        // Messages: the Client column says "alice", and filtering by the name finds her frames only.
        alice.sendV2(aliceRef, u"5"_s, u"room:1"_s, u"shout"_s, QJsonObject{{u"body"_s, u"hi"_s}});
        QVERIFY(alice.waitForReply(u"room:1"_s, u"5"_s));
        details->setMessageFilter(static_cast<int>(MessageFilterProxy::Field::Client), u"ALI"_s);
        QAbstractItemModel *shown = details->messageView()->model();
        QTRY_VERIFY(column(shown, MessageFlowModel::EventColumn).contains(u"shout"_s));
        const QStringList names = column(shown, MessageFlowModel::ClientColumn);
        QVERIFY(std::all_of(names.cbegin(), names.cend(), [](const QString &cell) { return cell == u"alice"; }));
        details->setMessageFilter(static_cast<int>(MessageFilterProxy::Field::Client), u"bob"_s);
        QCOMPARE(shown->rowCount(), 0);

        // After a restart the new clients get new ids.
        quint64 highest = 0;
        for (int row = 0; row < clients->rowCount(); ++row) {
            highest = std::max(highest, clients->clientIdAt(row));
        }
        QVERIFY(m_ui.controller->restartInstance(u"lobby"_s));
        QVERIFY(alice.waitForDisconnected());
        QTRY_COMPARE(m_ui.controller->instance(u"lobby"_s).state, InstanceState::Running);
        PhoenixTestClient again;
        QVERIFY(again.open(url(u"lobby"_s)));
        QTRY_COMPARE(clients->rowCount(), 1);
        QVERIFY(clients->clientIdAt(0) > highest);
        QCOMPARE(clients->index(0, ClientListModel::NameColumn).data().toString(),
                 u"client %1"_s.arg(clients->clientIdAt(0)));
    }

    // Scope 2: "my friend can't connect" has an answer in the window.
    void connectionLogExplainsRefusals()
    {
        create(u"party"_s, u"chat"_s, {{u"max_clients"_s, 1}});
        InstanceDetails *details = m_ui.window->details();
        ConnectionLogModel *log = details->connectionLog();
        using C = ConnectionLogModel::Column;
        PhoenixTestClient dave;
        QVERIFY(dave.open(url(u"party"_s, u"&name=dave"_s)));
        QTRY_VERIFY(logHas(log, {{C::WhatColumn, u"connected"_s}, {C::ClientColumn, u"dave"_s}}));

        const quint16 port = m_ui.controller->listenPort();
        QCOMPARE(httpStatus(port, upgradeHead(u"party"_s)), 503); // full
        QTRY_VERIFY(logHas(log, {{C::WhatColumn, u"refused"_s},
                                 {C::CodeColumn, u"HTTP 503"_s},
                                 {C::ReasonColumn, u"full (max_clients 1)"_s}}));
        QTRY_COMPARE(m_ui.controller->clients(u"party"_s).size(), 1);
        QVERIFY(m_ui.controller->kickClient(u"party"_s, m_ui.controller->clients(u"party"_s).value(0).id, u"bye"_s));
        QVERIFY(dave.waitForDisconnected());
        QTRY_VERIFY(logHas(log, {{C::WhatColumn, u"kicked"_s}, {C::CodeColumn, u"close 1008"_s}}));
        QTRY_VERIFY(logHas(log, {{C::WhatColumn, u"disconnected"_s}, {C::ClientColumn, u"dave"_s}}));

        QCOMPARE(httpStatus(port, upgradeHead(u"party"_s, "Origin: http://evil.example\r\n")), 403);
        QTRY_VERIFY(logHas(log, {{C::CodeColumn, u"HTTP 403"_s}, {C::ReasonColumn, u"evil.example"_s}}));
        // A client that closes normally: its close code.
        PhoenixTestClient erin;
        QVERIFY(erin.open(url(u"party"_s)));
        erin.socket().close();
        QTRY_VERIFY(logHas(log, {{C::WhatColumn, u"disconnected"_s}, {C::CodeColumn, u"close 1000"_s}}));

        // A wrong id names no running instance: only "All instances" shows it.
        QCOMPARE(httpStatus(port, upgradeHead(u"partty"_s)), 404);
        QCOMPARE(httpStatus(port, "GET /socket/party/websocket HTTP/1.1\r\nHost: x\r\n\r\n"), 426);
        QTRY_VERIFY(logHas(log, {{C::CodeColumn, u"HTTP 426"_s}}));
        QVERIFY(!logHas(log, {{C::CodeColumn, u"HTTP 404"_s}}));
        details->allInstancesBox()->setChecked(true);
        QTRY_VERIFY(logHas(log, {{C::CodeColumn, u"HTTP 404"_s}, {C::ReasonColumn, u"no instance 'partty'"_s}}));

        // Restarts are in the log too.
        QVERIFY(m_ui.controller->restartInstance(u"party"_s));
        QTRY_VERIFY(logHas(log, {{C::WhatColumn, u"restarting"_s}}));
        QCOMPARE(details->connectionView()->model(), log);
    }

    // Scope 3: talk to the room.
    void sendBarBroadcastsAndPushes()
    {
        create(u"night"_s, u"chat"_s);
        InstanceDetails *details = m_ui.window->details();
        PhoenixTestClient alice;
        QVERIFY(alice.open(url(u"night"_s)));
        QVERIFY(alice.waitForReply(u"room:1"_s, alice.join(u"room:1"_s, QJsonObject{{u"name"_s, u"alice"_s}})));
        details->sendTopic()->setText(u"room:1"_s);
        details->sendEvent()->setText(u"announcement"_s);
        details->sendPayload()->setText(u"{bad"_s);
        QVERIFY(!details->sendButton()->isEnabled());
        QVERIFY(details->sendStatus()->text().contains(u"not JSON"_s));
        details->sendPayload()->setText(u"[1]"_s);
        QVERIFY(details->sendStatus()->text().contains(u"JSON object"_s));
        details->sendPayload()->setText(uR"({"body": "pizza is here"})"_s);
        QVERIFY(details->sendButton()->isEnabled());
        details->sendButton()->click();
        const auto announced =
            alice.waitFor([](const ReceivedFrame &frame) { return frame.event() == u"announcement"; });
        QVERIFY(announced);
        QCOMPARE(announced->payload()["body"_L1].toString(), u"pizza is here"_s);

        // Push to the selected client only.
        QTRY_COMPARE(details->clients()->rowCount(), 1);
        details->clientView()->selectionModel()->setCurrentIndex(
            details->clients()->index(0, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        QVERIFY(details->kickButton()->isEnabled());
        details->sendTarget()->setCurrentIndex(
            details->sendTarget()->findData(static_cast<int>(InstanceDetails::SendTarget::SelectedClient)));
        details->sendEvent()->setText(u"whisper"_s);
        QVERIFY(details->sendNow());
        QVERIFY(details->sendStatus()->text().contains(u"alice"_s));
        QVERIFY(alice.waitFor([](const ReceivedFrame &frame) { return frame.event() == u"whisper"; }));
        // Nothing selected: the Send bar says so, Kick is disabled.
        details->clientView()->clearSelection();
        QVERIFY(!details->kickButton()->isEnabled());
        QVERIFY(!details->sendNow());
        QVERIFY(details->sendStatus()->text().contains(u"Select a client"_s));
    }

    // Scope 4: Properties and PATCH: limits live, ranges shown, bad input named, never rewritten.
    void propertiesEditLimitsLive()
    {
        create(u"quiz"_s, u"chat"_s, {{u"max_clients"_s, 5}});
        PhoenixTestClient one;
        PhoenixTestClient two;
        QVERIFY(one.open(url(u"quiz"_s)) && two.open(url(u"quiz"_s)));
        InstancePropertiesDialog dialog(*m_ui.controller, u"quiz"_s, m_ui.window.get());
        auto *maxClients = qobject_cast<QLineEdit *>(dialog.optionEditor(u"max_clients"_s));
        QVERIFY(maxClients);
        QCOMPARE(maxClients->text(), u"5"_s);
        QVERIFY(dialog.optionHint(u"max_clients"_s)->text().contains(u"1 – "_s + groupedNumber(1000000)));
        QCOMPARE(groupedNumber(1000000), u"1\u00A0000\u00A0000"_s);
        maxClients->setText(u"-5"_s);
        QVERIFY(dialog.optionHint(u"max_clients"_s)->text().contains(u"out of range"_s));
        QVERIFY(!dialog.applyButton()->isEnabled());
        maxClients->setText(u"99999999999"_s);
        QVERIFY(!dialog.applyButton()->isEnabled());
        QCOMPARE(maxClients->text(), u"99999999999"_s); // never rewritten
        maxClients->setText(u"2"_s);
        QVERIFY(dialog.applyButton()->isEnabled());
        QVERIFY(dialog.apply(false));
        QVERIFY(dialog.statusLabel()->text().contains(u"Applied now: max_clients"_s));
        QCOMPARE(m_ui.controller->instance(u"quiz"_s).config.options.value(u"max_clients"_s).toInt(), 2);
        QCOMPARE(m_ui.controller->instance(u"quiz"_s).restarts, 0);
        QTRY_COMPARE(httpStatus(m_ui.controller->listenPort(), upgradeHead(u"quiz"_s)), 503); // the new limit, live
        QVERIFY(one.isConnected() && two.isConnected());

        // check_origin: the bad entry is named.
        qobject_cast<QLineEdit *>(dialog.optionEditor(u"check_origin"_s))->setText(u"not an origin!!"_s);
        QVERIFY(!dialog.apply(false));
        QVERIFY2(dialog.statusLabel()->text().contains(u"'origin!!'"_s), qPrintable(dialog.statusLabel()->text()));
        qobject_cast<QLineEdit *>(dialog.optionEditor(u"check_origin"_s))->setText(u"host"_s);
        // An option that is not live waits for a restart, and says so.
        qobject_cast<QLineEdit *>(dialog.optionEditor(u"max_channels"_s))->setText(u"50"_s);
        QVERIFY(dialog.apply(false));
        QVERIFY(dialog.statusLabel()->text().contains(u"After a restart: max_channels"_s));
        QCOMPARE(m_ui.controller->instance(u"quiz"_s).restarts, 0);

        // The admin API: the same call, the same rules.
        int status = 0;
        QJsonObject reply = patch(u"/api/instances/quiz"_s, R"({"options": {"max_clients": 0}})", &status);
        QCOMPARE(status, 400);
        QCOMPARE(reply.value(u"field"_s).toString(), u"options.max_clients"_s);
        reply = patch(u"/api/instances/quiz"_s, R"({"options": {"max_clients": 3}})", &status);
        QCOMPARE(status, 200);
        QCOMPARE(reply.value(u"options"_s).toObject().value(u"max_clients"_s).toInt(), 3);
        QCOMPARE(reply.value(u"applied_live"_s).toArray(), QJsonArray({u"max_clients"_s}));
        patch(u"/api/instances/quiz"_s, R"({"id": "other"})", &status);
        QCOMPARE(status, 400);
        patch(u"/api/instances/nope"_s, R"({"options": {}})", &status);
        QCOMPARE(status, 404);
        PhoenixTestClient three;
        QVERIFY(three.open(url(u"quiz"_s)));
    }

    // Scope 6: pause gap, payload pane, empty states, confirmations, first run, column sizes.
    void pauseShowsTheGapAndThePaneFollows()
    {
        create(u"echoes"_s, u"echo"_s);
        InstanceDetails *details = m_ui.window->details();
        PhoenixTestClient client;
        QVERIFY(client.open(url(u"echoes"_s)));
        const QString ref = client.join(u"t"_s);
        QVERIFY(client.waitForReply(u"t"_s, ref));
        MessageFlowModel *messages = details->messages();
        QTRY_VERIFY(messages->rowCount() >= 2);
        QTableView *view = details->messageView();
        view->selectionModel()->setCurrentIndex(view->model()->index(0, 0), QItemSelectionModel::SelectCurrent);
        QVERIFY(!details->payloadPane()->toPlainText().isEmpty());
        messages->clear();
        QVERIFY(details->payloadPane()->toPlainText().isEmpty()); // no stale payload

        details->setPaused(true);
        for (int i = 0; i < 3; ++i) {
            client.sendV2(ref, QString::number(10 + i), u"t"_s, u"ping"_s, QJsonObject{});
        }
        QVERIFY(client.waitForReply(u"t"_s, u"12"_s));
        QTRY_VERIFY(messages->skippedWhilePaused() >= 6);
        const quint64 skipped = messages->skippedWhilePaused();
        details->setPaused(false);
        QCOMPARE(messages->rowCount(), 1);
        QVERIFY(messages->isMarker(0));
        QCOMPARE(messages->index(0, MessageFlowModel::PayloadColumn).data().toString(),
                 u"— %1 messages not shown while paused —"_s.arg(skipped));
    }

    void emptyStatesAndFirstRun()
    {
        QVERIFY(m_ui.window->firstRunHint()->isVisible());
        QVERIFY(m_ui.window->firstRunHint()->text().contains(u"Create an instance to start hosting"_s));
        // New instance: chat by default; afterwards the Connect tab shows.
        QTimer::singleShot(0, this, [] {
            QTRY_VERIFY(qobject_cast<CreateInstanceDialog *>(QApplication::activeModalWidget()));
            auto *dialog = qobject_cast<CreateInstanceDialog *>(QApplication::activeModalWidget());
            QCOMPARE(dialog->typeBox()->currentData().toString(), u"chat"_s);
            dialog->idEdit()->setText(u"first"_s);
            dialog->accept();
        });
        m_ui.window->newAction()->trigger();
        QTRY_COMPARE(m_ui.controller->instance(u"first"_s).state, InstanceState::Running);
        QCOMPARE(m_ui.window->details()->currentWidget(),
                 static_cast<QWidget *>(m_ui.window->details()->connectPanel()));
        QVERIFY(!m_ui.window->firstRunHint()->isVisible());
        // Empty views say what will appear there.
        const auto hintShown = [](QWidget *tab, const QString &text) {
            const QList<QLabel *> labels = tab->findChildren<QLabel *>();
            return std::any_of(labels.cbegin(), labels.cend(),
                               [&text](QLabel *label) { return !label->isHidden() && label->text().startsWith(text); });
        };
        QVERIFY(hintShown(m_ui.window->details()->clientsTab(), u"Nobody is connected"_s));
        QVERIFY(hintShown(m_ui.window->details()->messagesTab(), u"No messages yet"_s));
        // The connection log already has the instance's start; a fresh instance's empty log has its line.
        QVERIFY(!hintShown(m_ui.window->details()->connectionsTab(), u"No connection attempts yet"_s));
        QVERIFY(!m_ui.window->details()->kickButton()->isEnabled());
    }

    void stopWithPlayersAsksFirst()
    {
        m_settings->setValue(u"confirm/disconnectClients"_s, true);
        create(u"game"_s, u"echo"_s);
        PhoenixTestClient player;
        QVERIFY(player.open(url(u"game"_s)));
        QTRY_COMPARE(m_ui.controller->instance(u"game"_s).stats.clients, 1);
        answerNextQuestion(QMessageBox::Cancel, false);
        m_ui.window->stopAction()->trigger();
        QCOMPARE(m_ui.controller->instance(u"game"_s).state, InstanceState::Running);
        answerNextQuestion(QMessageBox::Yes, true); // and don't ask again
        m_ui.window->restartAction()->trigger();
        QVERIFY(player.waitForDisconnected());
        QCOMPARE(m_settings->value(u"confirm/disconnectClients"_s).toBool(), false);
        QTRY_COMPARE(m_ui.controller->instance(u"game"_s).state, InstanceState::Running);
        PhoenixTestClient back;
        QVERIFY(back.open(url(u"game"_s)));
        QTRY_COMPARE(m_ui.controller->instance(u"game"_s).stats.clients, 1);
        m_ui.window->stopAction()->trigger(); // no question any more
        QTRY_COMPARE(m_ui.controller->instance(u"game"_s).state, InstanceState::Stopped);
    }

    // Scope 5: the Connect tab's snippet matches the type, and its Node variant runs and joins.
    void connectSnippetsJoinForEveryType()
    {
        const QString node = QStandardPaths::findExecutable(u"node"_s);
        const QString modules = QStringLiteral(WSSERVE_CONFORMANCE_DIR) + u"/node_modules"_s;
        if (node.isEmpty() || !QFile::exists(modules + u"/phoenix/package.json"_s)) {
            QSKIP("node or tests/conformance/node_modules missing (run npm ci in tests/conformance)");
        }
        const QStringList types{u"echo"_s, u"chat"_s, u"relay"_s, u"tictactoe"_s, u"chaos"_s};
        for (const QString &type : types) {
            create(u"t-"_s + type, type);
            ConnectPanel *panel = m_ui.window->details()->connectPanel();
            const QString browser = panel->snippet(ConnectPanel::SnippetKind::Browser);
            QVERIFY(browser.contains(u"import { Socket } from \"phoenix\""_s));
            QVERIFY(!browser.contains(u"transport"_s));
            QVERIFY(browser.contains(u"checked with phoenix 1.8.16"_s));
            const QString url = u"ws://127.0.0.1:%1/socket/t-%2"_s.arg(m_ui.controller->listenPort()).arg(type);
            const QString script = ConnectPanel::snippetFor(type, url, ConnectPanel::SnippetKind::Node);
            QVERIFY(script.contains(u"transport: WebSocket"_s));
            QCOMPARE(panel->snippet(ConnectPanel::SnippetKind::Node).contains(u"tictactoe"_s), type == u"tictactoe");
            QFile file(m_dir.filePath(u"snippet-%1.js"_s.arg(type)));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(script.toUtf8());
            file.close();
            QProcess process;
            QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
            environment.insert(u"NODE_PATH"_s, modules);
            process.setProcessEnvironment(environment);
            process.start(node, {file.fileName()});
            QVERIFY(process.waitForStarted());
            QByteArray output;
            const QString topic = type == u"tictactoe" ? u"game:1"_s
                                  : type == u"echo"    ? u"echo:test"_s
                                  : type == u"chaos"   ? u"chaos:test"_s
                                                       : u"room:lobby"_s;
            QTRY_VERIFY2_WITH_TIMEOUT(
                (output += process.readAllStandardOutput()).contains(QByteArray("joined " + topic.toUtf8())),
                qPrintable(type + u": "_s + QString::fromUtf8(output + process.readAllStandardError())), 20000);
            process.kill();
            process.waitForFinished();
        }
    }

    void clientColumnsFitTheDefaultWindow()
    {
        QCOMPARE(m_ui.window->width(), 1180);
        create(u"wide"_s, u"chat"_s);
        InstanceDetails *details = m_ui.window->details();
        details->setCurrentWidget(details->clientsTab());
        PhoenixTestClient client;
        QVERIFY(client.open(url(u"wide"_s, u"&name=someone-with-a-long-name"_s)));
        QTRY_COMPARE(details->clients()->rowCount(), 1);
        QTRY_COMPARE(details->clientView()->horizontalScrollBar()->maximum(), 0);
        QVERIFY(!details->clientView()->isColumnHidden(ClientListModel::BytesOutColumn));
    }
};

QTEST_MAIN(tst_UiHost)
#include "tst_ui_host.moc"
