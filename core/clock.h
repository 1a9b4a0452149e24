// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QDateTime>

namespace wsserve {

// Wall-clock milliseconds since the epoch: the one time base of timestamps shown to people (connected
// since, message times), liveness stamps and restart windows.
inline qint64 nowMs()
{
    return QDateTime::currentMSecsSinceEpoch();
}

} // namespace wsserve
