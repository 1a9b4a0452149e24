// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QString>

namespace wsserve {

// Fault injection for the `chaos` type, kept off the public SDK: a type reaches it with
// dynamic_cast<FaultInjection *>(&channel.instance()). Thread: the instance thread.
class FaultInjection
{
public:
    virtual ~FaultInjection() = default;
    // Blocks the instance thread, as a hung server would (the watchdog sees it).
    virtual void stallThread(int milliseconds) = 0;
    // Reports the instance failed: the supervisor restarts it.
    virtual void failInstance(const QString &reason) = 0;
};

} // namespace wsserve
