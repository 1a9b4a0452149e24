// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "signalwatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>

#ifdef Q_OS_WIN
#include <windows.h>
#else
#include <csignal>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace wsserve {

namespace {
#ifdef Q_OS_WIN
SignalWatcher *g_watcher = nullptr;

BOOL WINAPI consoleHandler(DWORD type)
{
    if (type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT || type == CTRL_CLOSE_EVENT) {
        // Runs on a thread of its own (not a signal context), so a queued call is safe.
        if (SignalWatcher *watcher = g_watcher) {
            QMetaObject::invokeMethod(
                watcher, [watcher] { emit watcher->terminationRequested(2); }, Qt::QueuedConnection);
        }
        return TRUE;
    }
    return FALSE;
}
#else
int g_pipe[2] = {-1, -1};

void signalHandler(int signalNumber)
{
    const char byte = static_cast<char>(signalNumber);
    // Async-signal-safe: write() only; the result is irrelevant (a full pipe already carries a wake-up).
    [[maybe_unused]] const ssize_t written = ::write(g_pipe[0], &byte, 1);
}
#endif
} // namespace

SignalWatcher::SignalWatcher(QObject *parent)
    : QObject(parent)
{
#ifdef Q_OS_WIN
    g_watcher = this;
    SetConsoleCtrlHandler(consoleHandler, TRUE);
#else
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_pipe) != 0) {
        return;
    }
    m_notifier = new QSocketNotifier(g_pipe[1], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, [this] {
        char byte = 0;
        if (::read(g_pipe[1], &byte, 1) == 1) {
            emit terminationRequested(static_cast<int>(byte));
        }
    });
    struct sigaction action = {};
    action.sa_handler = signalHandler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
#endif
}

SignalWatcher::~SignalWatcher()
{
#ifdef Q_OS_WIN
    SetConsoleCtrlHandler(consoleHandler, FALSE);
    g_watcher = nullptr;
#else
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    delete m_notifier;
    m_notifier = nullptr;
    for (int &fd : g_pipe) {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
#endif
}

} // namespace wsserve
