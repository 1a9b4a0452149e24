// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QtGlobal>

#include <algorithm>

namespace wsserve::net {

// A token bucket: `rate` tokens a second, holding at most twice that (the burst a client may send at
// once). One per client for max_messages_per_second. Thread: a value.
class TokenBucket
{
public:
    // Takes a token at nowMs (a monotonic clock); false when the bucket is empty. rate <= 0: no limit.
    bool take(qint64 nowMs, qint64 rate)
    {
        if (rate <= 0) {
            return true;
        }
        const double capacity = 2.0 * static_cast<double>(rate);
        m_tokens = m_refillMs == 0 ? capacity
                                   : std::min(capacity, m_tokens + static_cast<double>(nowMs - m_refillMs) *
                                                                       static_cast<double>(rate) / 1000.0);
        m_refillMs = nowMs == 0 ? 1 : nowMs;
        if (m_tokens < 1.0) {
            return false;
        }
        m_tokens -= 1.0;
        return true;
    }

private:
    double m_tokens = 0;
    qint64 m_refillMs = 0; // 0: never used (full)
};

} // namespace wsserve::net
