// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>

namespace wsserve::test {

// RFC 6455's sample Sec-WebSocket-Key (section 1.3); its Sec-WebSocket-Accept is
// "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
inline constexpr char kSampleKey[] = "dGhlIHNhbXBsZSBub25jZQ==";

// A complete, valid WebSocket upgrade request head for `target` (e.g. "/socket/echo/websocket?vsn=2.0.0"),
// as the raw-socket tests send it. Frames to send after it: RawWebSocketClient::frame().
inline QByteArray upgradeHead(const QByteArray &target, const QByteArray &host = "127.0.0.1")
{
    return QByteArray("GET ") + target + " HTTP/1.1\r\nHost: " + host +
           "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + kSampleKey +
           "\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

} // namespace wsserve::test
