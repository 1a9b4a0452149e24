// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "channelengine.h"
#include "net/tokenbucket.h"
#include "net/wsconnection.h"
#include "telemetry/clientinfo.h"

#include <QHash>

#include <map>
#include <memory>

namespace wsserve {

// A long-poll session (/socket/<id>/longpoll): no socket of its own; what the engine sends waits in the
// outbox for the next poll (a GET held until messages come or the poll window ends).
struct LongPollState {
    QString sessionId;
    QString token;            // signed; what the client sends back
    QList<QByteArray> outbox; // encoded text messages
    qint64 outboxBytes = 0;
    std::shared_ptr<net::TakenConnection> pendingPoll; // the GET waiting for messages, if any
    qint64 pollSinceMs = 0;
};

// A connected client of an instance: what the engine knows of it, its socket, and its counters.
struct InstanceClient : EngineClient {
    InstanceClient(qintptr fd, qint64 maxMessageBytes, QByteArray buffered)
        : conn(fd, maxMessageBytes, std::move(buffered))
    {}

    net::WsConnection conn;
    qint64 connectedAtMs = 0; // wall clock, for people
    qint64 lastActivityMs = 0;
    bool closing = false;     // our close frame is queued (or the peer's was answered)
    bool wantWrite = false;   // the kernel buffer was full: waiting to be writable
    bool shutDown = false;    // the close frame went out, and our side of the TCP connection with it
    bool dirty = false;       // frames queued since the last flush
    bool rateLimited = false; // went over the rate: closed, and its further input is discarded
    bool readStopped = false; // closed for abuse: not read any more (its kernel buffers fill up)
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
    net::TokenBucket rate; // max_messages_per_second
    qint64 closingSinceMs = 0;
    quint16 closeCode = 0; // the first close code sent or received (the connection log); 0: none (1006)
    QString closeReason;
    std::unique_ptr<LongPollState> longPoll; // set for long-poll sessions (conn has no descriptor then)
};

// The one owner of an instance's clients, found by id (hot paths), by descriptor (socket events) and
// walked in id order (client lists built a chunk at a time survive clients coming and going).
// Thread: the instance thread.
class ClientSet
{
public:
    ClientSet() = default;
    ~ClientSet() { qDeleteAll(m_byId); }
    ClientSet(const ClientSet &) = delete;
    ClientSet &operator=(const ClientSet &) = delete;

    void add(InstanceClient *client)
    {
        m_byId.insert(client->id, client);
        if (!client->longPoll) {
            m_byFd.insert(client->conn.fd(), client);
        }
        m_ordered.emplace(client->id, client);
    }
    // Forgets the client and hands it back to be deleted.
    InstanceClient *take(quint64 id)
    {
        InstanceClient *client = m_byId.take(id);
        if (client && !client->longPoll) {
            m_byFd.remove(client->conn.fd());
        }
        if (client) {
            m_ordered.erase(id);
        }
        return client;
    }
    InstanceClient *find(quint64 id) const { return m_byId.value(id); }
    InstanceClient *byDescriptor(qintptr fd) const { return m_byFd.value(fd); }
    qsizetype size() const { return m_byId.size(); }
    bool isEmpty() const { return m_byId.isEmpty(); }
    QList<quint64> ids() const { return m_byId.keys(); }
    QList<InstanceClient *> all() const { return m_byId.values(); }
    // In id order, from the first id >= `from`.
    std::map<quint64, InstanceClient *>::const_iterator from(quint64 id) const { return m_ordered.lower_bound(id); }
    std::map<quint64, InstanceClient *>::const_iterator end() const { return m_ordered.cend(); }

private:
    QHash<quint64, InstanceClient *> m_byId; // owns them
    QHash<qintptr, InstanceClient *> m_byFd;
    std::map<quint64, InstanceClient *> m_ordered;
};

// Builds the client list that front ends show, a chunk at a time in id order: with 20 000 clients one
// pass took ~14 ms of the instance thread, and that stall was the heartbeat p99.
class ClientSnapshotBuilder
{
public:
    bool inProgress() const { return m_active; }
    void begin(qsizetype expected)
    {
        m_active = true;
        m_cursor = 0;
        m_list = ClientList();
        m_list.reserve(expected);
    }
    // Adds up to `budget` clients; returns the finished list once every client is in it.
    std::optional<ClientList> advance(const ClientSet &clients, int budget);

private:
    ClientList m_list;
    quint64 m_cursor = 0;
    bool m_active = false;
};

} // namespace wsserve
