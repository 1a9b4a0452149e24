// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "addressblocks.h"

#include <QHostAddress>

#include <algorithm>

namespace wsserve {

QString AddressBlocks::key(const QString &address)
{
    // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; one block covers both spellings.
    const QHostAddress host(address);
    if (host.isNull()) {
        return address;
    }
    bool isV4 = false;
    const quint32 v4 = host.toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4).toString() : host.toString();
}

void AddressBlocks::expire(qint64 now)
{
    for (auto it = m_untilMs.begin(); it != m_untilMs.end();) {
        it = it.value() <= now ? m_untilMs.erase(it) : std::next(it);
    }
}

qint64 AddressBlocks::block(const QString &address, int minutes)
{
    const qint64 until = m_clock() + qint64(minutes) * 60 * 1000;
    const QMutexLocker lock(&m_mutex);
    qint64 &entry = m_untilMs[key(address)];
    entry = std::max(entry, until);
    return entry;
}

std::optional<qint64> AddressBlocks::blockedUntil(const QString &address)
{
    const qint64 now = m_clock();
    const QMutexLocker lock(&m_mutex);
    if (m_untilMs.isEmpty()) {
        return std::nullopt; // the common case: one look at an empty table per connection
    }
    expire(now);
    const auto it = m_untilMs.constFind(key(address));
    return it == m_untilMs.cend() ? std::nullopt : std::optional<qint64>(it.value());
}

QList<AddressBlocks::Block> AddressBlocks::blocks()
{
    const qint64 now = m_clock();
    const QMutexLocker lock(&m_mutex);
    expire(now);
    QList<Block> list;
    for (auto it = m_untilMs.cbegin(); it != m_untilMs.cend(); ++it) {
        list.append(Block{it.key(), it.value()});
    }
    std::sort(list.begin(), list.end(), [](const Block &a, const Block &b) { return a.untilMs < b.untilMs; });
    return list;
}

bool AddressBlocks::unblock(const QString &address)
{
    const QMutexLocker lock(&m_mutex);
    return m_untilMs.remove(key(address)) > 0;
}

QString AddressBlocks::refusalReason(qint64 untilMs)
{
    return QStringLiteral("address blocked by host until %1")
        .arg(QDateTime::fromMSecsSinceEpoch(untilMs).toString(QStringLiteral("HH:mm")));
}

} // namespace wsserve
