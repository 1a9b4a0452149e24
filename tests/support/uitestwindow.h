// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// The window the GUI tests drive (tst_ui_*): a real ServerController, MainWindow and ServerStart on
// 127.0.0.1 with ports the system picks, and the few helpers every GUI test needs. Header-only: the test
// support library does not link the widgets. Thread: the test's thread.

#include "connectionlogmodel.h"
#include "mainwindow.h"
#include "rawhttp.h"
#include "serverstart.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

namespace wsserve::test {

class UiTestWindow
{
public:
    struct Options {
        bool admin = false;        // serve the admin API too (adminUrl())
        bool restoreSaved = false; // start the instances saved in the settings, as the app does
        WallClock clock;           // the facade's wall clock for address blocks (nowMs() when empty)
        QString cluster;           // join the nodes meeting at this Redis URL (--cluster) under nodeName
        QString nodeName = QStringLiteral("window");
    };

    // Settings of the running test function's own (in `dir`), with the "clients are connected" question off.
    static std::unique_ptr<QSettings> freshSettings(const QTemporaryDir &dir)
    {
        auto settings = std::make_unique<QSettings>(
            dir.filePath(QStringLiteral("wsserve-%1.ini").arg(QLatin1String(QTest::currentTestFunction()))),
            QSettings::IniFormat);
        settings->setValue(QStringLiteral("confirm/disconnectClients"), false);
        return settings;
    }

    // With WSSERVE_SCREENSHOTS=DIR (docs/window, under xvfb-run with QT_QPA_PLATFORM=xcb), saves what
    // `widget` shows as DIR/name.png: how the README's screenshots are refreshed.
    static void shot(QWidget *widget, const QString &name)
    {
        const QString dir = qEnvironmentVariable("WSSERVE_SCREENSHOTS");
        if (dir.isEmpty()) {
            return;
        }
        widget->show();
        QVERIFY(QTest::qWaitForWindowExposed(widget));
        // Laid out as a person would see it: pending layout requests (a changed label, a shown scroll bar).
        for (int round = 0; round < 3; ++round) {
            QCoreApplication::sendPostedEvents();
            QCoreApplication::processEvents();
        }
        QVERIFY(widget->grab().save(dir + u'/' + name + QStringLiteral(".png")));
    }

    // Opens the window; QVERIFY-style failures are reported through QTest and leave it unopened.
    void open(QSettings &settings, const Options &options)
    {
        controller = std::make_unique<ServerController>();
        if (options.clock) {
            controller->setWallClock(options.clock);
        }
        if (!options.cluster.isEmpty()) { // as app/main.cpp: before the window and the first instance
            ClusterSettings cluster;
            QString error;
            QVERIFY2(parseClusterUrl(options.cluster, &cluster, &error), qPrintable(error));
            cluster.nodeName = options.nodeName;
            QVERIFY2(checkClusterReachable(cluster, &error), qPrintable(error));
            controller->joinCluster(cluster);
        }
        window = std::make_unique<MainWindow>(*controller, settings);
        ServerConfig config;
        config.bind = QHostAddress::LocalHost;
        config.port = 0;
        config.adminPort = 0;
        config.adminEnabled = options.admin;
        QSignalSpy listening(controller.get(), &ServerController::listening);
        serving = std::make_unique<ServerStart>(*controller);
        const QStringList problems =
            serving->start(config, ServerStart::Mode::BestEffort,
                           options.restoreSaved ? window->savedInstances() : QList<InstanceSpec>{});
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u", ")));
        adminUrl = serving->adminUrl();
        window->finishStart(problems, adminUrl);
        QVERIFY(listening.wait(10000) || controller->isListening());
        window->show();
    }

    // Saves the window's state, closes every client and stops; safe to call twice.
    void close()
    {
        if (!window) {
            return;
        }
        window->saveState();
        window.reset();
        serving.reset();
        QSignalSpy done(controller.get(), &ServerController::shutdownComplete);
        controller->shutdown();
        QVERIFY(done.wait(10000));
        controller.reset();
    }

    QUrl url(const QString &id, const QString &query = {}) const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1/socket/%2/websocket?vsn=2.0.0%3")
                        .arg(controller->listenPort())
                        .arg(id, query));
    }

    // A valid upgrade head for the instance, with `extra` header lines (each ending in \r\n).
    QByteArray upgradeHead(const QString &id, const QByteArray &extra = {}) const
    {
        QByteArray head = test::upgradeHead("/socket/" + id.toUtf8() + "/websocket?vsn=2.0.0",
                                            "127.0.0.1:" + QByteArray::number(controller->listenPort()));
        head.insert(head.size() - 2, extra);
        return head;
    }

    // Creates and starts an instance through the facade and selects it in the window.
    void create(const QString &id, const QString &type, const QVariantMap &options = {})
    {
        QVERIFY(controller->createInstance(id, type, options, true));
        QTRY_COMPARE(controller->instance(id).state, InstanceState::Running);
        window->selectInstance(id);
    }

    // One admin API request (Options::admin); the status in `status` (0 when no answer), the JSON body returned.
    QJsonDocument adminRequest(const QByteArray &method, const QString &path, int *status,
                               const QByteArray &body = {}) const
    {
        QNetworkAccessManager network;
        QNetworkRequest request(QUrl(adminUrl + path));
        if (!body.isEmpty()) {
            request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        }
        QNetworkReply *reply = network.sendCustomRequest(request, method, body);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        if (!reply->isFinished()) {
            finished.wait(15000);
        }
        *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonDocument document = QJsonDocument::fromJson(reply->readAll());
        reply->deleteLater();
        return document;
    }

    // True when some row of the connection log has all these cells (column -> text it contains).
    static bool logHas(const ConnectionLogModel *log, const QList<std::pair<int, QString>> &cells)
    {
        for (int row = 0; row < log->rowCount(); ++row) {
            if (std::all_of(cells.cbegin(), cells.cend(), [&](const auto &cell) {
                    return log->index(row, cell.first).data().toString().contains(cell.second);
                })) {
                return true;
            }
        }
        return false;
    }

    std::unique_ptr<ServerController> controller;
    std::unique_ptr<MainWindow> window;
    std::unique_ptr<ServerStart> serving;
    QString adminUrl;
};

} // namespace wsserve::test
