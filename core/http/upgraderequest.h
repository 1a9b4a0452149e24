// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "protocol/message.h"

#include <QJsonObject>
#include <QString>

namespace wsserve {

// What the endpoint learned from a request head it routed to an instance. Thread: a value.
struct UpgradeRequest {
    QString instanceId;
    WireFormat format = WireFormat::Invalid;
    QJsonObject params; // decoded query, vsn included
    QString authToken;  // decoded from the phoenix auth-token subprotocol, if offered
    QString remoteAddress;
    quint16 remotePort = 0;
    QString origin;                  // the Origin header (browsers only); empty when none was sent
    QString host;                    // the Host header
    QByteArray acceptKey;            // Sec-WebSocket-Accept for the client's key
    bool phoenixSubprotocol = false; // the client offered the "phoenix" subprotocol
};

// The 101 answer to a validated upgrade. The JS client's auth-token subprotocol offer is answered with
// "phoenix" (phoenix-protocol.md 1.4).
inline QByteArray switchingProtocolsResponse(const UpgradeRequest &request)
{
    return QByteArrayLiteral("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: ") +
           request.acceptKey + "\r\n" +
           (request.phoenixSubprotocol ? QByteArrayLiteral("Sec-WebSocket-Protocol: phoenix\r\n") : QByteArray()) +
           "\r\n";
}

} // namespace wsserve
