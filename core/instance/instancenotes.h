// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QString>

namespace wsserve {

// Lines a type wants in the instance's supervisor log, which the window shows (script types' console
// output). Kept off the public SDK like FaultInjection: reached with
// dynamic_cast<InstanceNotes *>(&instance). The instance rate-limits them. Thread: the instance thread.
class InstanceNotes
{
public:
    virtual ~InstanceNotes() = default;
    virtual void note(const QString &line) = 0;
};

} // namespace wsserve
