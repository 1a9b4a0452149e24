// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Proves that tsanqthandoff.cpp removes only the false positives: run with the shim preloaded, TSan must
// report exactly one data race, on `g_racy` (written by the worker after its last post to the main
// thread, read by the main thread), and none on `g_handedOver` (handed over through a queued call, which
// Qt orders). scripts/reliability runs it after the tsan tests and checks both.
#include <QCoreApplication>
#include <QList>
#include <QThread>
#include <QTimer>

#include <cstdio>

namespace {
int g_racy = 0;
QList<int> g_handedOver;
} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QThread worker;
    worker.start();
    auto *context = new QObject; // deleted in its own thread when the worker finishes
    context->moveToThread(&worker);
    QObject::connect(&worker, &QThread::finished, context, &QObject::deleteLater);
    QMetaObject::invokeMethod(
        context,
        [&app] {
            const QList<int> data{1, 2, 3};
            QMetaObject::invokeMethod(
                &app, [data] { g_handedOver = data; }, Qt::QueuedConnection);
            // The wait is the point: the write must land after every release the post may still make
            // (wake-ups), or the annotations would order it before the read and hide the real race.
            QThread::msleep(50);
            g_racy = 42; // TSAN-SELFTEST-RACE: after the last post, so nothing orders it before the read
        },
        Qt::QueuedConnection);
    QTimer::singleShot(300, &app, [&app] {
        std::printf("tsan selftest: racy=%d handedOver=%lld\n", g_racy, static_cast<long long>(g_handedOver.size()));
        app.quit();
    });
    const int status = QCoreApplication::exec();
    worker.quit();
    worker.wait();
    return status;
}
