// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "message.h"

#include <QByteArray>
#include <QString>

namespace wsserve {

// An encoded WebSocket frame: text or binary opcode plus its bytes.
struct Frame {
    QByteArray data;
    bool binary = false;
    bool isNull() const { return data.isEmpty(); }
};

// The outcome of decoding one client frame. On failure `closeCode` is the WebSocket close code the
// connection must be closed with (1007 invalid data, 1003 unsupported data) and `error` says why.
struct DecodeResult {
    bool ok = false;
    Message message;
    quint16 closeCode = 0;
    QString error;
};

// Pure encoders/decoders for the three Phoenix wire formats (phoenix-protocol.md sections 2-3).
// Thread: any; no state.
namespace codec {

inline constexpr int kMaxBinaryHeaderField = 255;

DecodeResult decodeText(WireFormat format, const QByteArray &data);
// Kind 0 (push) always; kind 3 (a Supabase user broadcast push, supabase-realtime.md) only when
// `userBroadcasts` (the instance's type serves Supabase clients): it decodes to event "broadcast" with a
// UserBroadcast payload. Every other kind closes with 1003, as Phoenix does.
DecodeResult decodeBinary(WireFormat format, const QByteArray &data, bool userBroadcasts = false);

// S->C encoders. A null Frame means the message cannot be expressed in that format (a binary
// payload for a V1 client, or a binary header field over 255 bytes); `error` then says why.
// `buffer` (pushes, replies, broadcasts): storage a text frame is written into when nobody else holds it, typically
// the data of the caller's previous frame, so that a stream of them allocates nothing.
Frame encodePush(WireFormat format, const Ref &joinRef, const QString &topic, const QString &event,
                 const Payload &payload, QString *error = nullptr, QByteArray buffer = {});
Frame encodeReply(WireFormat format, const Ref &joinRef, const Ref &ref, const QString &topic, const QString &status,
                  const Payload &response, QString *error = nullptr, QByteArray buffer = {});
Frame encodeBroadcast(WireFormat format, const QString &topic, const QString &event, const Payload &payload,
                      QString *error = nullptr, QByteArray buffer = {});
// phx_close / phx_error: join_ref and ref both carry the channel's join reference.
Frame encodeChannelControl(WireFormat format, const Ref &joinRef, const QString &topic, const QString &event,
                           const QJsonObject &payload);

// A Supabase user broadcast as the kind 4 frame realtime-js decodes (no refs); null with *error when a
// field is over 255 bytes.
Frame encodeUserBroadcast(const QString &topic, const UserBroadcast &broadcast, QString *error = nullptr);

// C->S encoders, used by tests and the load generator to speak as a client would (a user broadcast
// payload is written as realtime-js writes it: kind 3).
Frame encodeClientMessage(WireFormat format, const Message &message, QString *error = nullptr);

} // namespace codec
} // namespace wsserve
