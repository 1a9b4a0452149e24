// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// GUI responsiveness under load (issue: "at 50 000 messages/s through one instance the window still repaints
// and reacts to clicks within 100 ms"). Runs the real MainWindow (offscreen by default) with the Messages
// tab of a busy echo instance on screen, drives the instance from a load thread of QWebSocket clients,
// and measures on the GUI thread, first idle (the baseline) and then under load, in the same run:
//   - event latency: how late a 5 ms timer fires (what a click waits for before it is handled),
//   - click latency: a synthetic mouse click on the tab bar, posted, until its handler ran,
//   - paint time: a synchronous repaint of the whole window.
// Prints one machine-readable line; no pass/fail thresholds (targets live in docs, not in tests).

#include "instancedetails.h"
#include "mainwindow.h"
#include "servercontroller.h"
#include "serverstart.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QMouseEvent>
#include <QSettings>
#include <QTabBar>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QWebSocket>

#include <algorithm>
#include <atomic>
#include <cstdio>

using namespace wsserve;
using namespace Qt::StringLiterals;

namespace {

struct Samples {
    QList<double> values;
    double percentile(double p) const
    {
        if (values.isEmpty()) {
            return 0;
        }
        QList<double> sorted = values;
        std::sort(sorted.begin(), sorted.end());
        return sorted.at(std::min<qsizetype>(sorted.size() - 1, static_cast<qsizetype>(p * sorted.size())));
    }
    double max() const { return values.isEmpty() ? 0 : *std::max_element(values.begin(), values.end()); }
};

struct Measurement {
    Samples timerLateMs;
    Samples clickMs;
    Samples paintMs;
};

// Clients in their own thread, each keeping `inFlight` pushes outstanding on one channel.
class LoadGenerator final : public QObject
{
public:
    LoadGenerator(QUrl url, int clients, int inFlight)
        : m_url(std::move(url))
        , m_clients(clients)
        , m_inFlight(inFlight)
    {}
    std::atomic<quint64> replies{0};
    std::atomic<int> ready{0};
    std::atomic<bool> running{false};

    void start()
    {
        for (int i = 0; i < m_clients; ++i) {
            auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
            connect(socket, &QWebSocket::connected, this,
                    [this, socket] { socket->sendTextMessage(uR"(["1","1","load","phx_join",{}])"_s); });
            connect(socket, &QWebSocket::textMessageReceived, this, [this, socket](const QString &text) {
                if (text.startsWith(uR"(["1","1","load")"_s)) {
                    ++ready;
                }
                if (!text.contains(u"phx_reply"_s)) {
                    return;
                }
                ++replies;
                if (running.load() || text.startsWith(uR"(["1","1",)"_s)) {
                    const int burst = text.startsWith(uR"(["1","1",)"_s) ? m_inFlight : 1;
                    for (int k = 0; k < burst && running.load(); ++k) {
                        socket->sendTextMessage(uR"(["1","2","load","tick",{"x":1234567}])"_s);
                    }
                }
            });
            socket->open(m_url);
            m_sockets.append(socket);
        }
    }
    void kick()
    {
        running = true;
        for (QWebSocket *socket : std::as_const(m_sockets)) {
            for (int k = 0; k < m_inFlight; ++k) {
                socket->sendTextMessage(uR"(["1","2","load","tick",{"x":1234567}])"_s);
            }
        }
    }

private:
    QUrl m_url;
    int m_clients = 0;
    int m_inFlight = 0;
    QList<QWebSocket *> m_sockets;
};

// Runs the three probes on the GUI thread for `seconds`.
Measurement measure(MainWindow &window, double seconds)
{
    Measurement result;
    QTabBar *tabs = window.details()->findChild<QTabBar *>();
    int clicksHandled = 0;
    QElapsedTimer clickClock;
    QObject scope; // disconnects the probe when this function returns
    QObject::connect(tabs, &QTabBar::tabBarClicked, &scope, [&] {
        result.clickMs.values.append(static_cast<double>(clickClock.nsecsElapsed()) / 1e6);
        ++clicksHandled;
    });
    QElapsedTimer tick;
    tick.start();
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(5);
    QObject::connect(&timer, &QTimer::timeout, &timer, [&] {
        result.timerLateMs.values.append(std::max(0.0, static_cast<double>(tick.nsecsElapsed()) / 1e6 - 5.0));
        tick.restart();
    });
    timer.start();
    QElapsedTimer total;
    total.start();
    int round = 0;
    while (total.elapsed() < seconds * 1000) {
        QElapsedTimer pause;
        pause.start();
        while (pause.elapsed() < 100) {
            QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
        }
        // A click on the Messages tab, posted like the window system would, timed until handled.
        const QPoint at = tabs->tabRect(1).center();
        clickClock.start();
        QCoreApplication::postEvent(tabs, new QMouseEvent(QEvent::MouseButtonPress, at, tabs->mapToGlobal(at),
                                                          Qt::LeftButton, Qt::LeftButton, Qt::NoModifier));
        QCoreApplication::postEvent(tabs, new QMouseEvent(QEvent::MouseButtonRelease, at, tabs->mapToGlobal(at),
                                                          Qt::LeftButton, Qt::NoButton, Qt::NoModifier));
        if (++round % 3 == 0) {
            QElapsedTimer paint;
            paint.start();
            window.repaint();
            result.paintMs.values.append(static_cast<double>(paint.nsecsElapsed()) / 1e6);
        }
    }
    timer.stop();
    // Let the last posted click arrive while `scope` still listens.
    QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    return result;
}

} // namespace

int main(int argc, char *argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(u"GUI responsiveness of wsserve under message load"_s);
    parser.addHelpOption();
    const QCommandLineOption secondsOption(u"seconds"_s, u"Seconds per phase (idle, then loaded)."_s, u"s"_s, u"10"_s);
    const QCommandLineOption clientsOption(u"clients"_s, u"Load clients."_s, u"n"_s, u"50"_s);
    const QCommandLineOption inFlightOption(u"in-flight"_s, u"Pushes in flight per client."_s, u"k"_s, u"16"_s);
    parser.addOptions({secondsOption, clientsOption, inFlightOption});
    parser.process(app);
    const double seconds = parser.value(secondsOption).toDouble();

    QTemporaryDir dir;
    QSettings settings(dir.filePath(u"bench.ini"_s), QSettings::IniFormat);
    ServerController controller;
    MainWindow window(controller, settings);
    ServerConfig config;
    config.bind = QHostAddress::LocalHost;
    config.port = 0;
    config.adminEnabled = false;
    config.instances = {InstanceSpec{u"load"_s, u"echo"_s, {{u"max_messages_per_second"_s, 0}}, true}};
    ServerStart serving(controller);
    window.finishStart(serving.start(config, ServerStart::Mode::BestEffort, window.savedInstances()), {});
    window.resize(1180, 720);
    window.show();
    while (!controller.isListening() || controller.instance(u"load"_s).state != InstanceState::Running) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
    window.selectInstance(u"load"_s);
    window.details()->setCurrentIndex(1); // Messages: the busiest view

    const Measurement idle = measure(window, seconds);

    QThread loadThread;
    loadThread.setObjectName(u"load"_s);
    auto *load =
        new LoadGenerator(QUrl(u"ws://127.0.0.1:%1/socket/load/websocket?vsn=2.0.0"_s.arg(controller.listenPort())),
                          parser.value(clientsOption).toInt(), parser.value(inFlightOption).toInt());
    load->moveToThread(&loadThread);
    QObject::connect(&loadThread, &QThread::finished, load, &QObject::deleteLater);
    loadThread.start();
    QMetaObject::invokeMethod(
        load, [load] { load->start(); }, Qt::QueuedConnection);
    while (load->ready.load() < parser.value(clientsOption).toInt()) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
    QMetaObject::invokeMethod(
        load, [load] { load->kick(); }, Qt::QueuedConnection);
    const quint64 before = load->replies.load();
    QElapsedTimer loadClock;
    loadClock.start();
    const Measurement loaded = measure(window, seconds);
    const double rate = static_cast<double>(load->replies.load() - before) / (loadClock.elapsed() / 1000.0);
    load->running = false;
    loadThread.quit();
    loadThread.wait();

    const auto ratio = [](double a, double b) {
        return b > 0 ? a / b : 0.0;
    };
    std::printf("guilatency: rate_msgs_in_per_s=%.0f seconds=%.0f "
                "timer_late_p99_ms idle=%.2f loaded=%.2f ratio=%.1f max_loaded=%.1f "
                "click_p99_ms idle=%.2f loaded=%.2f ratio=%.1f max_loaded=%.1f clicks=%lld "
                "paint_p99_ms idle=%.2f loaded=%.2f ratio=%.1f\n",
                rate, seconds, idle.timerLateMs.percentile(0.99), loaded.timerLateMs.percentile(0.99),
                ratio(loaded.timerLateMs.percentile(0.99), idle.timerLateMs.percentile(0.99)), loaded.timerLateMs.max(),
                idle.clickMs.percentile(0.99), loaded.clickMs.percentile(0.99),
                ratio(loaded.clickMs.percentile(0.99), idle.clickMs.percentile(0.99)), loaded.clickMs.max(),
                static_cast<long long>(loaded.clickMs.values.size()), idle.paintMs.percentile(0.99),
                loaded.paintMs.percentile(0.99), ratio(loaded.paintMs.percentile(0.99), idle.paintMs.percentile(0.99)));
    QEventLoop wait;
    QObject::connect(&controller, &ServerController::shutdownComplete, &wait, &QEventLoop::quit);
    controller.shutdown();
    wait.exec();
    return 0;
}
