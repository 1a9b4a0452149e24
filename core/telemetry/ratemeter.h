// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QList>
#include <QtGlobal>

namespace wsserve {

// Per-second rates of two counters over a trailing window, from (time, count) samples taken where the
// counting happens (the instance thread's statistics tick). The rate is the counters' growth between the
// newest sample and the oldest one within the window, divided by the time between those two samples, so
// a late tick does not distort it: what the window shows equals what a reader of the counters over the
// same span computes. Thread: a value, used by one thread.
class RateMeter
{
public:
    static constexpr qint64 kWindowMs = 1000;

    void add(qint64 timeMs, quint64 in, quint64 out)
    {
        m_samples.append(Sample{timeMs, in, out});
        // Keep the newest sample at or before the window's start, so the span covers the whole window.
        while (m_samples.size() > 2 && m_samples.at(1).timeMs <= timeMs - kWindowMs) {
            m_samples.removeFirst();
        }
    }
    double inPerSecond() const { return rate(&Sample::in); }
    double outPerSecond() const { return rate(&Sample::out); }

private:
    struct Sample {
        qint64 timeMs = 0;
        quint64 in = 0;
        quint64 out = 0;
    };
    double rate(quint64 Sample::*counter) const
    {
        if (m_samples.size() < 2) {
            return 0;
        }
        const Sample &first = m_samples.constFirst();
        const Sample &last = m_samples.constLast();
        const qint64 spanMs = last.timeMs - first.timeMs;
        if (spanMs <= 0 || last.*counter < first.*counter) {
            return 0;
        }
        return static_cast<double>(last.*counter - first.*counter) * 1000.0 / static_cast<double>(spanMs);
    }

    QList<Sample> m_samples;
};

} // namespace wsserve
