// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "protocol/message.h"

#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace wsserve {

// One connected socket as front ends see it. Thread: a value; published by the instance in batches.
struct ClientInfo {
    quint64 id = 0; // unique for the process lifetime (never reused, not even after a restart)
    // The name people know it by: its presence key, else the `name` join parameter, else the JWT `name`
    // or `sub` claim, else the `name` socket parameter; empty when it gave none.
    QString name;
    QString transport = QStringLiteral("websocket");
    QString remoteAddress;
    qint64 connectedAtMs = 0; // ms since the epoch
    WireFormat format = WireFormat::Invalid;
    bool longPoll = false; // the long-poll transport (/longpoll), not a WebSocket
    QStringList topics;
    quint64 messagesIn = 0;
    quint64 messagesOut = 0;
    quint64 bytesIn = 0;
    quint64 bytesOut = 0;
};

using ClientList = QList<ClientInfo>;

} // namespace wsserve

Q_DECLARE_METATYPE(wsserve::ClientInfo)
Q_DECLARE_METATYPE(wsserve::ClientList)
