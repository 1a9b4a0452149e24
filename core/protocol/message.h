// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "lazyjson.h"
#include "ref.h"

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <memory>

namespace wsserve {

// Which Phoenix serializer a connection speaks; chosen by the `vsn` query parameter.
enum class WireFormat { Invalid = 0, V1Json, V2Json };

QString wireFormatName(WireFormat format);

// A Supabase Realtime "user broadcast" (binary kind 3 from clients, kind 4 to them; supabase-realtime.md):
// the user's event, its metadata (JSON text or empty) and its payload bytes exactly as the sender wrote
// them: UTF-8 JSON when `json`, raw bytes (an ArrayBuffer) otherwise. Relayed byte for byte.
struct UserBroadcast {
    QString event;
    QByteArray meta;
    QByteArray payload;
    bool json = true;
};

// A message payload: a JSON value (text frames) or raw bytes (V2 binary frames). A JSON payload decoded
// from a client keeps the client's bytes and is parsed only when read (LazyJson).
struct Payload {
    LazyJson json;
    QByteArray bytes;
    bool isBinary = false;
    // Set for a Supabase user broadcast; `json` then holds its JSON form
    // {"type": "broadcast", "event", "payload"} (payload null when raw), and the encoders send kind 4 to V2
    // clients, the JSON form to V1 clients (never a raw one).
    std::shared_ptr<const UserBroadcast> userBroadcast;

    static Payload fromJson(const QJsonValue &value) { return Payload{value, {}, false, {}}; }
    static Payload fromBinary(const QByteArray &data) { return Payload{QJsonValue(), data, true, {}}; }
    // Validated JSON text: `size` bytes of `buffer` from `offset` (shared, not copied).
    static Payload fromJsonText(const QByteArray &buffer, qsizetype offset, qsizetype size)
    {
        return Payload{LazyJson::fromText(buffer, offset, size), {}, false, {}};
    }
    static Payload fromUserBroadcast(UserBroadcast broadcast, const QJsonValue &jsonForm)
    {
        return Payload{jsonForm, {}, false, std::make_shared<const UserBroadcast>(std::move(broadcast))};
    }
    // Size on the wire of the payload part, for telemetry.
    qsizetype sizeHint() const;
};

// One logical Phoenix message. Refs keep their decoded JSON type so they are echoed unchanged.
struct Message {
    Ref joinRef;
    Ref ref;
    QString topic;
    QString event;
    Payload payload;
};

namespace events {
inline const QString kJoin = QStringLiteral("phx_join");
inline const QString kLeave = QStringLiteral("phx_leave");
inline const QString kReply = QStringLiteral("phx_reply");
inline const QString kError = QStringLiteral("phx_error");
inline const QString kClose = QStringLiteral("phx_close");
inline const QString kHeartbeat = QStringLiteral("heartbeat");
inline const QString kPhoenixTopic = QStringLiteral("phoenix");
} // namespace events

} // namespace wsserve
