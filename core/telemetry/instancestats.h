// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QMetaType>
#include <QtGlobal>

namespace wsserve {

// Counters one instance publishes to the main thread in batches (about every 100 ms).
// Thread: a value; crosses from the instance thread to the supervisor.
struct InstanceStats {
    int clients = 0;
    int channels = 0;
    quint64 connectionsTotal = 0;
    quint64 joinsTotal = 0;
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    quint64 broadcasts = 0;
    quint64 channelCrashes = 0;
    // Frames a second in and out over the last second, measured by the instance on its own clock when it
    // counts: the one rate the window, the admin API and the Stats graphs show (0 unless Running).
    double messagesInPerSecond = 0;
    double messagesOutPerSecond = 0;

    bool operator==(const InstanceStats &) const = default;
};

} // namespace wsserve

Q_DECLARE_METATYPE(wsserve::InstanceStats)
