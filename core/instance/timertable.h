// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "behaviour.h"

#include <map>
#include <optional>

namespace wsserve {

// The timers a type started (InstanceContext::after/every), on a clock the owner provides: the instance
// arms one QTimer for nextDueMs(); the BehaviourHarness advances a virtual clock. A handful of timers
// per instance is the norm, so lookups are linear.
// Thread: any; not thread-safe (one instance thread uses it).
class TimerTable
{
public:
    struct Due {
        TimerId id = 0;
        QString topic;
        TimerCallback callback;
    };

    TimerId add(qint64 nowMs, int intervalMs, bool repeat, const QString &topic, TimerCallback callback);
    bool cancel(TimerId id);
    // Cancels the timers of a topic; returns how many.
    int cancelTopic(const QString &topic);
    void clear() { m_timers.clear(); }
    bool isEmpty() const { return m_timers.empty(); }
    qsizetype size() const { return static_cast<qsizetype>(m_timers.size()); }
    std::optional<qint64> nextDueMs() const;
    // The earliest timer due at nowMs, if any: a one-shot timer is removed, a repeating one rescheduled
    // (a late one runs once, not once per missed interval).
    std::optional<Due> takeNextDue(qint64 nowMs);

private:
    struct Timer {
        qint64 dueMs = 0;
        int intervalMs = 0;
        bool repeat = false;
        QString topic;
        TimerCallback callback;
    };
    std::map<TimerId, Timer> m_timers; // by id: equal due times run in the order they were started
    TimerId m_nextId = 1;
};

} // namespace wsserve
