// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "protocol/message.h"

#include <QJsonObject>
#include <QString>

namespace wsserve {

// What an instance is asked for: a WebSocket upgrade, a long-poll request (/socket/<id>/longpoll) or a
// call to the type's HTTP API (/socket/<id>/api/...).
enum class RequestKind { Invalid = 0, WebSocket, LongPoll, Api };

// What the endpoint learned from a request head it routed to an instance. Thread: a value.
struct UpgradeRequest {
    RequestKind kind = RequestKind::WebSocket;
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
    // LongPoll and Api requests (read whole by the endpoint, body included):
    QByteArray method;       // GET or POST
    QString apiPath;         // Api: the percent-decoded path after /api ("/broadcast")
    QByteArray contentType;  // lower case, without parameters
    QByteArray body;         // at most kMaxHttpBodyBytes
    QString bearerToken;     // Authorization: Bearer ...
    QString longPollSession; // X-Phoenix-LongPoll-Token header, else the `token` query parameter
};

// The largest body the endpoint reads for a long-poll or API request (Phoenix caps at ~8 MB); the
// instance then applies its max_frame_bytes to each message.
inline constexpr qsizetype kMaxHttpBodyBytes = 8 * 1024 * 1024;

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
