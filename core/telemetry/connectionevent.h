// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QList>
#include <QMetaType>
#include <QString>

namespace wsserve {

// One entry of the connection log: what happened to a connection attempt or a connected client, for a
// host finding out why a friend cannot connect. Thread: a value; the endpoint and the instances publish
// them in bounded batches (ConnectionEventBatch).
struct ConnectionEvent {
    enum class Kind { Invalid = 0, Connected, Disconnected, Refused, Kicked };

    qint64 timeMs = 0; // ms since the epoch
    Kind kind = Kind::Invalid;
    QString instanceId; // empty when the request named none (a bad path)
    quint64 clientId = 0;
    QString name; // the client's name when known (presence key, `name` param, JWT name/sub)
    QString address;
    int code = 0;   // Refused: the HTTP status; Disconnected/Kicked: the WebSocket close code
    QString reason; // the reason the server gave (the HTTP body, or the close reason)
};

// What the endpoint or an instance collects between two publications (every 100-250 ms): at most
// kMaxEvents entries, the rest only counted, so a flood of refused attempts costs a counter increment.
struct ConnectionEventBatch {
    static constexpr int kMaxEvents = 100;

    QList<ConnectionEvent> events;
    quint64 dropped = 0;

    bool isEmpty() const { return events.isEmpty() && dropped == 0; }
    void record(ConnectionEvent event)
    {
        if (events.size() >= kMaxEvents) {
            ++dropped;
            return;
        }
        events.append(std::move(event));
    }
};

QString connectionEventKindName(ConnectionEvent::Kind kind);

} // namespace wsserve

Q_DECLARE_METATYPE(wsserve::ConnectionEvent)
Q_DECLARE_METATYPE(wsserve::ConnectionEventBatch)
