// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QDateTime>

#include <functional>

namespace wsserve {

// Wall-clock milliseconds since the epoch: the one time base of timestamps shown to people (connected
// since, message times), liveness stamps and restart windows.
inline qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

// A wall clock that can be replaced where expiry is tested (address blocks): nowMs() unless a test gives
// its own. It may be called from any thread, so a replacement must be thread-safe.
using WallClock = std::function<qint64()>;

} // namespace wsserve
