// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Issue #14, the rest of it: kick and block an address (the window and the admin API), one rate for the
// window and the admin API, the create dialog's ranges, feedback for Copy/Export, live presence.
// Offscreen, against a real core, with real clients.

#include "clientlistmodel.h"
#include "connectionlogmodel.h"
#include "connectpanel.h"
#include "createinstancedialog.h"
#include "instancedetails.h"
#include "instancelistmodel.h"
#include "instancepropertiesdialog.h"
#include "kickdialog.h"
#include "messageflowmodel.h"
#include "phoenixtestclient.h"
#include "telemetry/ratemeter.h"
#include "uitestwindow.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QElapsedTimer>
#include <QFile>
#include <QFileDialog>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>

#include <atomic>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

class tst_UiControls : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::unique_ptr<QSettings> m_settings;
    UiTestWindow m_ui;
    std::atomic<qint64> m_skewMs{0}; // how far the blocks' clock runs ahead of the real one

    // A WebSocket upgrade from another local address (QWebSocket cannot pick its own); true on 101.
    bool connectFrom(QTcpSocket &socket, const QHostAddress &from, const QString &id)
    {
        if (!socket.bind(from)) {
            return false;
        }
        socket.connectToHost(QHostAddress::LocalHost, m_ui.controller->listenPort());
        if (!socket.waitForConnected(5000)) {
            return false;
        }
        socket.write(m_ui.upgradeHead(id));
        QByteArray head;
        (void)QTest::qWaitFor([&] { return (head += socket.readAll()).contains("\r\n\r\n"); }, 10000);
        return head.startsWith("HTTP/1.1 101");
    }

    quint64 clientFrom(const QString &id, const QString &address) const
    {
        for (const ClientInfo &client : m_ui.controller->clients(id)) {
            if (client.remoteAddress == address) {
                return client.id;
            }
        }
        return 0;
    }

private slots:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_settings = UiTestWindow::freshSettings(m_dir);
        m_skewMs = 0;
        m_ui.open(*m_settings, {.admin = true, .clock = [this] {
                                    return nowMs() + m_skewMs.load();
                                }});
    }
    void cleanup()
    {
        m_ui.close();
        m_settings.reset();
    }

    // Scope 1: "kick and block this address for N minutes", enforced where upgrades are accepted.
    void kickAndBlockRefusesTheAddressUntilItExpires()
    {
        m_ui.create(u"night"_s, u"chat"_s);
        InstanceDetails *details = m_ui.window->details();
        ConnectionLogModel *log = details->connectionLog();
        using C = ConnectionLogModel::Column;
        const QHostAddress other(u"127.0.0.2"_s);
        const quint16 port = m_ui.controller->listenPort();
        QTcpSocket guest;
        QVERIFY(connectFrom(guest, other, u"night"_s));
        ClientListModel *clients = details->clients();
        QTRY_COMPARE(clients->rowCount(), 1);
        QCOMPARE(clients->clientAt(0)->remoteAddress, u"127.0.0.2"_s);
        details->clientView()->selectionModel()->setCurrentIndex(
            clients->index(0, 0), QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        QTimer::singleShot(0, this, [] {
            QTRY_VERIFY(qobject_cast<KickDialog *>(QApplication::activeModalWidget()));
            auto *dialog = qobject_cast<KickDialog *>(QApplication::activeModalWidget());
            QCOMPARE(dialog->kickButton()->text(), u"Kick"_s);
            QVERIFY(dialog->blockBox()->text().contains(u"127.0.0.2"_s));
            dialog->blockBox()->setChecked(true);
            QCOMPARE(dialog->kickButton()->text(), u"Kick and block"_s);
            dialog->minutesBox()->setCurrentIndex(dialog->minutesBox()->findData(15));
            dialog->reasonEdit()->setText(u"cheating"_s);
            UiTestWindow::shot(dialog, u"kick"_s);
            dialog->kickButton()->click();
        });
        details->kickButton()->click();
        QTRY_VERIFY(UiTestWindow::logHas(log, {{C::WhatColumn, u"kicked"_s}, {C::ReasonColumn, u"cheating"_s}}));
        QVERIFY2(m_ui.window->statusBar()->currentMessage().contains(u"127.0.0.2 blocked on 'night' until"_s),
                 qPrintable(m_ui.window->statusBar()->currentMessage()));

        // Refused with 403 and the reason, in the answer and in the connection log.
        QByteArray answer;
        QCOMPARE(httpStatus(port, m_ui.upgradeHead(u"night"_s), 10000, &answer, other), 403);
        QVERIFY2(answer.contains("address blocked by host until "), answer.constData());
        QTRY_VERIFY(UiTestWindow::logHas(log, {{C::WhatColumn, u"refused"_s},
                                               {C::AddressColumn, u"127.0.0.2"_s},
                                               {C::CodeColumn, u"HTTP 403"_s},
                                               {C::ReasonColumn, u"address blocked by host until "_s}}));
        details->setCurrentWidget(details->connectionsTab());
        UiTestWindow::shot(m_ui.window.get(), u"connections-blocked"_s);
        // Every other address still connects.
        PhoenixTestClient friendly;
        QVERIFY(friendly.open(m_ui.url(u"night"_s)));
        int status = 0;
        const QJsonArray blocks = m_ui.adminRequest("GET", u"/api/instances/night/blocks"_s, &status).array();
        QCOMPARE(status, 200);
        QCOMPARE(blocks.size(), 1);
        QCOMPARE(blocks.at(0)["address"_L1].toString(), u"127.0.0.2"_s);

        // Fifteen minutes later (the blocks' clock moved on) the address is welcome again.
        m_skewMs += 14 * 60 * 1000;
        QCOMPARE(httpStatus(port, m_ui.upgradeHead(u"night"_s), 10000, nullptr, other), 403);
        m_skewMs += 60 * 1000 + 1000;
        QCOMPARE(httpStatus(port, m_ui.upgradeHead(u"night"_s), 10000, nullptr, other), 101);
        QVERIFY(m_ui.controller->blockedAddresses(u"night"_s).isEmpty());

        // The admin API: DELETE .../clients/ID?block_minutes=N, bad values named, blocks listed and lifted.
        QTcpSocket again;
        QVERIFY(connectFrom(again, other, u"night"_s));
        QTRY_VERIFY(clientFrom(u"night"_s, u"127.0.0.2"_s) != 0);
        const QString kick = u"/api/instances/night/clients/%1"_s.arg(clientFrom(u"night"_s, u"127.0.0.2"_s));
        for (const QString &bad : {u"abc"_s, u"-1"_s, u"99999"_s}) {
            const QJsonObject error = m_ui.adminRequest("DELETE", kick + u"?block_minutes="_s + bad, &status).object();
            QCOMPARE(status, 400);
            QCOMPARE(error["field"_L1].toString(), u"block_minutes"_s);
        }
        const QJsonObject kicked =
            m_ui.adminRequest("DELETE", kick + u"?reason=spam&block_minutes=5"_s, &status).object();
        QCOMPARE(status, 200);
        QVERIFY(kicked["blocked"_L1].toString().contains(u"127.0.0.2"_s));
        QCOMPARE(httpStatus(port, m_ui.upgradeHead(u"night"_s), 10000, nullptr, other), 403);
        // A restart does not lift it.
        QVERIFY(m_ui.controller->restartInstance(u"night"_s));
        QTRY_COMPARE(m_ui.controller->instance(u"night"_s).state, InstanceState::Running);
        QCOMPARE(httpStatus(port, m_ui.upgradeHead(u"night"_s), 10000, nullptr, other), 403);
        m_ui.adminRequest("DELETE", u"/api/instances/night/blocks/127.0.0.2"_s, &status);
        QCOMPARE(status, 200);
        m_ui.adminRequest("DELETE", u"/api/instances/night/blocks/127.0.0.2"_s, &status);
        QCOMPARE(status, 404);
        QCOMPARE(httpStatus(port, m_ui.upgradeHead(u"night"_s), 10000, nullptr, other), 101);
    }

    // The rate meter: growth between the samples a window apart, over the time between them.
    void rateMeterMeasuresOverItsWindow()
    {
        RateMeter meter;
        quint64 in = 0;
        for (qint64 ms = 0; ms <= 3000; ms += 100) {
            meter.add(ms, in, in * 2);
            in += 50; // 500 a second
        }
        QCOMPARE(meter.inPerSecond(), 500.0);
        QCOMPARE(meter.outPerSecond(), 1000.0);
        const quint64 late = in - 50 + 175; // 350 ms after the 3000 ms sample
        meter.add(3350, late, late * 2);    // a late tick: still 500 a second
        QCOMPARE(meter.inPerSecond(), 500.0);
        for (qint64 ms = 3450; ms <= 5000; ms += 100) {
            meter.add(ms, late, late * 2); // traffic stopped
        }
        QCOMPARE(meter.inPerSecond(), 0.0);
    }

    // Scope 6: In/s and Out/s are the instance's own rates, the admin API's messages_in_per_s.
    void ratesInTheWindowAreTheAdminApis()
    {
        m_ui.create(u"pace"_s, u"echo"_s);
        PhoenixTestClient client;
        QVERIFY(client.open(m_ui.url(u"pace"_s)));
        const QString ref = client.join(u"t"_s);
        QVERIFY(client.waitForReply(u"t"_s, ref));
        QTimer pacer; // about 100 pushes a second, each answered: the same rate out
        int sent = 0;
        connect(&pacer, &QTimer::timeout, this,
                [&] { client.sendV2(ref, QString::number(++sent), u"t"_s, u"ping"_s, QJsonObject{}); });
        pacer.start(10);
        const auto stats = [this] {
            return m_ui.controller->instance(u"pace"_s).stats;
        };
        QTRY_VERIFY_WITH_TIMEOUT(stats().messagesInPerSecond > 20 && stats().messagesOutPerSecond > 20, 10000);

        // One source of truth: the window shows the value the facade (and so the admin API) has.
        InstanceListModel *model = m_ui.window->instances();
        const int row = model->rowOf(u"pace"_s);
        InstanceStats now = stats();
        QCOMPARE(model->index(row, InstanceListModel::InColumn).data().toString(),
                 QString::number(now.messagesInPerSecond, 'f', 0));
        QCOMPARE(model->index(row, InstanceListModel::OutColumn).data().toString(),
                 QString::number(now.messagesOutPerSecond, 'f', 0));
        model->sample();
        QCOMPARE(model->history(u"pace"_s).constLast().messagesInPerSecond, stats().messagesInPerSecond);

        // The admin API's rate, and the counters it reports over two seconds, agree with the window's.
        int status = 0;
        const auto admin = [&] {
            return m_ui.adminRequest("GET", u"/api/instances/pace"_s, &status).object();
        };
        QElapsedTimer span;
        const qint64 firstCount = admin()["messages_in"_L1].toInteger();
        span.start();
        QVERIFY(QTest::qWaitFor([&] { return span.elapsed() >= 2000; }, 5000)); // traffic keeps flowing meanwhile
        const QJsonObject later = admin();
        const double elapsedS = static_cast<double>(span.elapsed()) / 1000.0;
        QCOMPARE(status, 200);
        const double apiRate = later["messages_in_per_s"_L1].toDouble();
        const double shown = model->index(row, InstanceListModel::InColumn).data().toString().toDouble();
        const double counted = static_cast<double>(later["messages_in"_L1].toInteger() - firstCount) / elapsedS;
        QVERIFY2(std::abs(apiRate - shown) <= std::max(2.0, 0.05 * apiRate),
                 qPrintable(u"admin %1/s, window %2/s"_s.arg(apiRate).arg(shown)));
        QVERIFY2(std::abs(apiRate - counted) <= 0.2 * counted,
                 qPrintable(u"admin %1/s, counters %2/s"_s.arg(apiRate).arg(counted)));
        pacer.stop();
        QTRY_COMPARE_WITH_TIMEOUT(stats().messagesInPerSecond, 0.0, 5000); // no stale rate once traffic stops
        QCOMPARE(model->index(row, InstanceListModel::InColumn).data().toString(), u"0"_s);
    }

    // Scope 4: the create dialog validates options as Properties does: range shown, nothing rewritten.
    void createDialogRefusesOutOfRangeWithTheRange()
    {
        CreateInstanceDialog dialog(*m_ui.controller, m_ui.window.get());
        dialog.idEdit()->setText(u"ranged"_s);
        QPushButton *ok = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
        auto *maxClients = qobject_cast<QLineEdit *>(dialog.optionEditor(u"max_clients"_s));
        QVERIFY(maxClients);
        const QString range = u"1 – "_s + groupedNumber(1000000);
        QCOMPARE(dialog.optionHint(u"max_clients"_s)->text(), range);
        QVERIFY(ok->isEnabled());
        for (const QString &typed : {u"-5"_s, u"99999999999"_s}) {
            maxClients->setText(typed);
            QCOMPARE(maxClients->text(), typed); // never rewritten
            QVERIFY(dialog.optionHint(u"max_clients"_s)->text().contains(u"out of range (allowed: %1)"_s.arg(range)));
            QVERIFY(!ok->isEnabled());
            dialog.accept();
            UiTestWindow::shot(&dialog, u"new-instance"_s);
            QVERIFY2(dialog.errorLabel()->text().startsWith(u"Max clients: "_s) &&
                         dialog.errorLabel()->text().contains(range),
                     qPrintable(dialog.errorLabel()->text()));
            QVERIFY(!m_ui.controller->instanceIds().contains(u"ranged"_s));
        }
        maxClients->setText(u"12x"_s);
        QVERIFY(dialog.optionHint(u"max_clients"_s)->text().contains(u"not a whole number"_s));
        // The same form in Properties says the same thing for the same input.
        maxClients->setText(u"7"_s);
        QVERIFY(ok->isEnabled());
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QTRY_COMPARE(m_ui.controller->instance(u"ranged"_s).state, InstanceState::Running);
        QCOMPARE(m_ui.controller->instance(u"ranged"_s).config.intOption(u"max_clients"_s), 7);
        CreateInstanceDialog second(*m_ui.controller, m_ui.window.get());
        InstancePropertiesDialog properties(*m_ui.controller, u"ranged"_s, m_ui.window.get());
        qobject_cast<QLineEdit *>(second.optionEditor(u"max_clients"_s))->setText(u"-5"_s);
        qobject_cast<QLineEdit *>(properties.optionEditor(u"max_clients"_s))->setText(u"-5"_s);
        QCOMPARE(second.optionHint(u"max_clients"_s)->text(), properties.optionHint(u"max_clients"_s)->text());
        UiTestWindow::shot(&properties, u"properties"_s);
    }

    // Scope 6: Copy and Export say they did something.
    void copyAndExportGiveFeedback()
    {
        m_ui.create(u"share"_s, u"echo"_s);
        InstanceDetails *details = m_ui.window->details();
        ConnectPanel *panel = details->connectPanel();
        details->setCurrentWidget(panel);
        QPushButton *copySnippet = panel->copySnippetButton();
        copySnippet->click();
        QCOMPARE(QGuiApplication::clipboard()->text(), panel->snippet());
        QCOMPARE(copySnippet->text(), u"Copied ✓"_s);
        QCOMPARE(m_ui.window->statusBar()->currentMessage(), u"Copied connect snippet"_s);
        // Shown, not hidden behind the status line (a permanent widget would cover it).
        const QList<QLabel *> statusLabels = m_ui.window->statusBar()->findChildren<QLabel *>();
        QVERIFY(
            std::none_of(statusLabels.cbegin(), statusLabels.cend(), [](QLabel *label) { return label->isVisible(); }));
        QTRY_COMPARE_WITH_TIMEOUT(copySnippet->text(), u"Copy snippet"_s, 5000);
        if (auto *copyUrl = panel->findChild<QPushButton *>(u"copyUrl"_s)) { // only with a LAN address
            copyUrl->click();
            QVERIFY(m_ui.window->statusBar()->currentMessage().startsWith(u"Copied ws://"_s));
        }

        // Connections: Copy.
        details->setCurrentWidget(details->connectionsTab());
        QPushButton *copyLog = nullptr;
        for (QPushButton *button : details->connectionsTab()->findChildren<QPushButton *>()) {
            copyLog = button->text() == u"Copy" ? button : copyLog;
        }
        QVERIFY(copyLog);
        copyLog->click();
        QVERIFY(m_ui.window->statusBar()->currentMessage().startsWith(u"Copied "_s));
        QVERIFY(m_ui.window->statusBar()->currentMessage().endsWith(u"connection log entries"_s) ||
                m_ui.window->statusBar()->currentMessage().endsWith(u"connection log entry"_s));
        QCOMPARE(copyLog->text(), u"Copied ✓"_s);

        // Messages: Export… through its file dialog.
        PhoenixTestClient client;
        QVERIFY(client.open(m_ui.url(u"share"_s)));
        QVERIFY(client.waitForReply(u"t"_s, client.join(u"t"_s)));
        QTRY_VERIFY(details->messages()->rowCount() >= 2);
        details->setCurrentWidget(details->messagesTab());
        QPushButton *exportButton = nullptr;
        for (QPushButton *button : details->messagesTab()->findChildren<QPushButton *>()) {
            exportButton = button->text() == u"Export…" ? button : exportButton;
        }
        QVERIFY(exportButton);
        const QString path = m_dir.filePath(u"exported.jsonl"_s);
        QTimer::singleShot(0, this, [path] {
            QTRY_VERIFY(qobject_cast<QFileDialog *>(QApplication::activeModalWidget()));
            auto *dialog = qobject_cast<QFileDialog *>(QApplication::activeModalWidget());
            dialog->selectFile(path);
            static_cast<QDialog *>(dialog)->accept(); // QFileDialog::accept() is protected, QDialog's is not
        });
        exportButton->click();
        QVERIFY(QFile::exists(path));
        QCOMPARE(exportButton->text(), u"Exported ✓"_s);
        QVERIFY2(m_ui.window->statusBar()->currentMessage().startsWith(u"Exported "_s) &&
                     m_ui.window->statusBar()->currentMessage().endsWith(path),
                 qPrintable(m_ui.window->statusBar()->currentMessage()));
    }

    // Scope 4: presence is one of the options that apply live.
    void presenceChangesLive()
    {
        m_ui.create(u"room"_s, u"chat"_s);
        const auto joinAndShout = [this](PhoenixTestClient &client, const QString &name) {
            if (!client.open(m_ui.url(u"room"_s))) {
                return false;
            }
            const QString ref = client.join(u"room:1"_s, QJsonObject{{u"name"_s, name}});
            if (!client.waitForReply(u"room:1"_s, ref)) {
                return false;
            }
            // Frames arrive in order: once the shout is answered, a presence_state would have come.
            client.sendV2(ref, u"99"_s, u"room:1"_s, u"shout"_s, QJsonObject{});
            return client.waitForReply(u"room:1"_s, u"99"_s).has_value();
        };
        const auto sawPresence = [](const PhoenixTestClient &client) {
            return std::any_of(client.frames().cbegin(), client.frames().cend(),
                               [](const ReceivedFrame &frame) { return frame.event() == u"presence_state"; });
        };
        PhoenixTestClient ann;
        QVERIFY(joinAndShout(ann, u"ann"_s));
        QVERIFY(sawPresence(ann));

        InstancePropertiesDialog dialog(*m_ui.controller, u"room"_s, m_ui.window.get());
        qobject_cast<QCheckBox *>(dialog.optionEditor(u"presence"_s))->setChecked(false);
        QVERIFY(dialog.apply(false));
        QVERIFY2(dialog.statusLabel()->text().contains(u"Applied now: presence"_s),
                 qPrintable(dialog.statusLabel()->text()));

        PhoenixTestClient ben;
        QVERIFY(joinAndShout(ben, u"ben"_s));
        QVERIFY(!sawPresence(ben));
        QCOMPARE(m_ui.controller->instance(u"room"_s).restarts, 0);

        int status = 0;
        const QJsonObject reply =
            m_ui.adminRequest("PATCH", u"/api/instances/room"_s, &status, R"({"options": {"presence": true}})")
                .object();
        QCOMPARE(status, 200);
        QCOMPARE(reply["applied_live"_L1].toArray(), QJsonArray({u"presence"_s}));
        PhoenixTestClient cat;
        QVERIFY(joinAndShout(cat, u"cat"_s));
        QVERIFY(sawPresence(cat));
        QVERIFY(ann.isConnected() && ben.isConnected());
    }
};

QTEST_MAIN(tst_UiControls)
#include "tst_ui_controls.moc"
