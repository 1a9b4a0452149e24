// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "clock.h"

#include <QHash>
#include <QList>
#include <QMutex>
#include <QString>

#include <optional>

namespace wsserve {

// The addresses a host blocked on one instance ("kick and block this address for N minutes"), each until
// a time of the wall clock. Kept by the supervisor for the instance's whole life (a restart does not lift
// a block) and read by the instance thread for every upgrade and long-poll session it would accept.
// Thread: any; every member is thread-safe.
class AddressBlocks
{
public:
    explicit AddressBlocks(WallClock clock = nowMs)
        : m_clock(std::move(clock))
    {}

    struct Block {
        QString address;
        qint64 untilMs = 0;
    };

    // Blocks `address` (as the connection log shows it) for `minutes` from now; returns until when.
    qint64 block(const QString &address, int minutes);
    // Until when `address` is blocked; nothing once the block expired (it is then forgotten).
    std::optional<qint64> blockedUntil(const QString &address);
    // The blocks still in force, oldest expiry first.
    QList<Block> blocks();
    // Lifts a block; false when the address was not blocked.
    bool unblock(const QString &address);
    // "address blocked by host until 21:05": the reason a refused client and the connection log get.
    static QString refusalReason(qint64 untilMs);

private:
    static QString key(const QString &address);
    void expire(qint64 now);

    WallClock m_clock;
    QMutex m_mutex;
    QHash<QString, qint64> m_untilMs; // normalised address -> until
};

} // namespace wsserve
