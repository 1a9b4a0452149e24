// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "scriptwatchdog.h"

#include <QJSEngine>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace wsserve::script {

namespace {

qint64 steadyNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

constexpr auto kCheckInterval = std::chrono::milliseconds(20);

// Engines to watch; the checking thread sleeps on `wake` while there are none.
struct Watch {
    std::mutex mutex;
    std::condition_variable wake;
    std::unordered_set<ScriptWatchdog::Registration *> engines;
    std::thread thread;
    bool quit = false;

    ~Watch()
    {
        {
            std::lock_guard lock(mutex);
            quit = true;
        }
        wake.notify_all();
        if (thread.joinable()) {
            thread.join();
        }
    }
};

Watch &watch()
{
    static Watch instance;
    return instance;
}

} // namespace

ScriptWatchdog::Registration::Registration(QJSEngine *engine)
    : m_engine(engine)
{
    Watch &w = watch();
    std::lock_guard lock(w.mutex);
    w.engines.insert(this);
    if (!w.thread.joinable()) {
        w.thread = std::thread([&w] {
            std::unique_lock held(w.mutex);
            while (!w.quit) {
                if (w.engines.empty()) {
                    w.wake.wait(held);
                    continue;
                }
                w.wake.wait_for(held, kCheckInterval);
                held.unlock();
                check();
                held.lock();
            }
        });
    }
    w.wake.notify_all();
}

ScriptWatchdog::Registration::~Registration()
{
    Watch &w = watch();
    std::lock_guard lock(w.mutex);
    w.engines.erase(this);
}

void ScriptWatchdog::Registration::arm(int timeoutMs)
{
    if (m_depth++ > 0) {
        return;
    }
    Watch &w = watch();
    std::lock_guard lock(w.mutex);
    m_deadlineNs = steadyNs() + qint64(timeoutMs) * 1000 * 1000;
}

bool ScriptWatchdog::Registration::disarm()
{
    if (--m_depth > 0) {
        return false;
    }
    Watch &w = watch();
    std::lock_guard lock(w.mutex);
    m_deadlineNs = 0;
    const bool fired = m_fired;
    if (fired) {
        m_engine->setInterrupted(false);
        m_fired = false;
    }
    return fired;
}

void ScriptWatchdog::Registration::check()
{
    Watch &w = watch();
    std::lock_guard lock(w.mutex);
    const qint64 now = steadyNs();
    for (Registration *engine : w.engines) {
        if (engine->m_deadlineNs != 0 && now > engine->m_deadlineNs && !engine->m_fired) {
            engine->m_fired = true;
            engine->m_engine->setInterrupted(true);
        }
    }
}

} // namespace wsserve::script
