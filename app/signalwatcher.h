// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QObject>

class QSocketNotifier;

namespace wsserve {

// Turns SIGINT/SIGTERM (console Ctrl+C/close on Windows) into a Qt signal on the main thread. On Unix the
// handler only writes a byte to a socketpair; a QSocketNotifier reads it, so no Qt code runs in the
// signal handler. Thread: main thread; one instance per process.
class SignalWatcher final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SignalWatcher)

public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

Q_SIGNALS:
    void terminationRequested(int signalNumber);

private:
    QSocketNotifier *m_notifier = nullptr;
};

} // namespace wsserve
