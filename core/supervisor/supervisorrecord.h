// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// What the supervisor keeps per instance; private to core/supervisor (supervisor.cpp and
// supervisorcommands.cpp).

#include "instance/addressblocks.h"
#include "supervisor.h"

#include <QList>
#include <QString>

#include <memory>

class QThread;
class QTimer;

namespace wsserve {

class Instance;
class InstanceShared;

struct Supervisor::Record {
    InstanceConfig config;
    InstanceState state = InstanceState::Stopped;
    Instance *instance = nullptr;
    QThread *thread = nullptr;
    std::shared_ptr<InstanceShared> shared;
    std::shared_ptr<AddressBlocks> blocks; // for the instance's whole life, across restarts
    AfterStop afterStop = AfterStop::Invalid;
    QString pendingReason;
    QList<qint64> failureTimesMs;
    int restarts = 0;
    InstanceStats stats;
    ClientList clients;
    qint64 runningSinceMs = 0;
    qint64 stopRequestedMs = 0; // when teardown() asked the instance to stop
    bool messageFlow = false;
    QTimer *backoffTimer = nullptr;
};

} // namespace wsserve
