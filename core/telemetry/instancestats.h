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

    bool operator==(const InstanceStats &) const = default;
};

} // namespace wsserve

Q_DECLARE_METATYPE(wsserve::InstanceStats)
