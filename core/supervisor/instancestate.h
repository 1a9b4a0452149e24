// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QDateTime>
#include <QMetaType>
#include <QString>

namespace wsserve {

// Lifecycle of an instance as the supervisor sees it.
enum class InstanceState { Invalid = 0, Starting, Running, Stopping, Restarting, Failed, Stopped };

QString instanceStateName(InstanceState state);

// One entry of the supervisor log: a crash, restart or state change, with its reason.
struct SupervisorEvent {
    QDateTime time;
    QString instanceId;
    InstanceState state = InstanceState::Invalid;
    QString message;
};

} // namespace wsserve

Q_DECLARE_METATYPE(wsserve::InstanceState)
Q_DECLARE_METATYPE(wsserve::SupervisorEvent)
