// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "timertable.h"

#include <algorithm>

namespace wsserve {

TimerId TimerTable::add(qint64 nowMs, int intervalMs, bool repeat, const QString &topic, TimerCallback callback)
{
    const int interval = std::max(intervalMs, repeat ? 1 : 0);
    const TimerId id = m_nextId++;
    m_timers.emplace(id, Timer{nowMs + interval, interval, repeat, topic, std::move(callback)});
    return id;
}

bool TimerTable::cancel(TimerId id)
{
    return m_timers.erase(id) > 0;
}

int TimerTable::cancelTopic(const QString &topic)
{
    int cancelled = 0;
    for (auto it = m_timers.begin(); it != m_timers.end();) {
        if (!it->second.topic.isEmpty() && it->second.topic == topic) {
            it = m_timers.erase(it);
            ++cancelled;
        } else {
            ++it;
        }
    }
    return cancelled;
}

std::optional<qint64> TimerTable::nextDueMs() const
{
    std::optional<qint64> earliest;
    for (const auto &[id, timer] : m_timers) {
        if (!earliest || timer.dueMs < *earliest) {
            earliest = timer.dueMs;
        }
    }
    return earliest;
}

std::optional<TimerTable::Due> TimerTable::takeNextDue(qint64 nowMs)
{
    auto earliest = m_timers.end();
    for (auto it = m_timers.begin(); it != m_timers.end(); ++it) {
        if (it->second.dueMs <= nowMs && (earliest == m_timers.end() || it->second.dueMs < earliest->second.dueMs)) {
            earliest = it;
        }
    }
    if (earliest == m_timers.end()) {
        return std::nullopt;
    }
    Due due{earliest->first, earliest->second.topic, earliest->second.callback};
    if (earliest->second.repeat) {
        Timer &timer = earliest->second;
        timer.dueMs += timer.intervalMs;
        if (timer.dueMs <= nowMs) {
            timer.dueMs = nowMs + timer.intervalMs; // late by more than an interval: no catch-up burst
        }
    } else {
        m_timers.erase(earliest);
    }
    return due;
}

} // namespace wsserve
