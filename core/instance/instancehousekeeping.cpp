// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Instance: the periodic work of the instance thread: the sweep (idle clients, unanswered close
// handshakes, expired tokens, long-poll sessions), the bounded client-list snapshots and the stats tick.
#include "instance.h"

#include "clock.h"
#include "cluster/clusterlink.h"
#include "http/httpresponse.h"
#include "logging.h"
#include "net/wsconnection.h"

#include <QDateTime>

#include <limits>

namespace wsserve {

namespace {
constexpr qint64 kCloseHandshakeMs = 5000; // how long a closing client has to answer the close frame
} // namespace

void Instance::sweep()
{
    m_shared->touch(wsserve::nowMs()); // the watchdog reads wall-clock time
    const qint64 now = nowMs();
    const qint64 idleMs = m_limits.idleTimeoutMs;
    QList<Client *> idle;
    QList<quint64> unanswered;
    for (Client *client : m_clients.all()) {
        // A long-poll client waiting in a poll is not idle (the poll is answered within 10 s anyway).
        const bool polling = client->longPoll && client->longPoll->pendingPoll;
        if (!client->closing && !polling && now - client->lastActivityMs > idleMs) {
            idle.append(client);
        } else if (client->closing && now - client->closingSinceMs > kCloseHandshakeMs) {
            unanswered.append(client->id); // the peer never answered the close frame (or never read it)
        }
    }
    for (const quint64 id : std::as_const(unanswered)) {
        removeClient(id);
    }
    sweepLongPoll(now);
    if (m_engine && m_engine->authRequired()) {
        // A token that expired (past the leeway) while connected, with no fresh one through access_token.
        const qint64 deadline = QDateTime::currentSecsSinceEpoch() - m_config.intOption(options::kJwtLeewayS);
        for (Client *client : m_clients.all()) {
            if (!client->closing && client->info.tokenExpiresAt > 0 && client->info.tokenExpiresAt < deadline) {
                qCInfo(lcInstance).noquote() << logTag(m_config.id) << "client" << client->id << "(sub"
                                             << printableText(client->info.subject) << ") token expired; closing";
                closeClientImpl(*client, ws::closecode::kPolicyViolation, QStringLiteral("token expired"));
            }
        }
    }
    for (Client *client : std::as_const(idle)) {
        qCInfo(lcInstance).noquote() << logTag(m_config.id) << "client" << client->id << "idle for" << idleMs
                                     << "ms; closing";
        closeClientImpl(*client, ws::closecode::kGoingAway, QStringLiteral("idle timeout"));
    }
}

void Instance::advanceClientSnapshot()
{
    constexpr int kClientListEveryTicks = 5;
    constexpr int kClientsPerTick = 2000;
    if (!m_snapshot.inProgress()) {
        if (!m_clientsDirty || (++m_statsTicks % kClientListEveryTicks != 0 && !m_stopping)) {
            return;
        }
        m_clientsDirty = false;
        m_snapshot.begin(m_clients.size());
    }
    if (std::optional<ClientList> list =
            m_snapshot.advance(m_clients, m_stopping ? std::numeric_limits<int>::max() : kClientsPerTick)) {
        emit clientsChanged(*list);
    }
}

void Instance::publishStats()
{
    if (!m_flow.isEmpty()) {
        emit messageFlow(m_flow);
        m_flow = MessageBatch{};
    }
    if (!m_connectionLog.isEmpty()) {
        emit connectionEvents(std::exchange(m_connectionLog, ConnectionEventBatch{}));
    }
    if (m_engine) {
        m_clientsDirty = m_engine->takeChannelsChanged() || m_clientsDirty;
        m_stats.channels = static_cast<int>(m_engine->channelCount());
        m_stats.joinsTotal = m_engine->joinsTotal();
    }
    advanceClientSnapshot();
    m_stats.clients = static_cast<int>(m_clients.size());
    m_rates.add(m_clock.elapsed(), m_stats.messagesIn, m_stats.messagesOut);
    m_stats.messagesInPerSecond = m_rates.inPerSecond();
    m_stats.messagesOutPerSecond = m_rates.outPerSecond();
    if (m_stats == m_publishedStats) {
        return;
    }
    if (m_cluster && m_stats.clients != m_publishedStats.clients) {
        m_cluster->setClients(m_config.id, m_stats.clients); // the other nodes learn it with the heartbeat
    }
    m_publishedStats = m_stats;
    emit statsChanged(m_stats);
}

} // namespace wsserve
