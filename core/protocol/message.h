// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

namespace wsserve {

// Which Phoenix serializer a connection speaks; chosen by the `vsn` query parameter.
enum class WireFormat { Invalid = 0, V1Json, V2Json };

QString wireFormatName(WireFormat format);

// A message payload: a JSON value (text frames) or raw bytes (V2 binary frames).
struct Payload {
    QJsonValue json = QJsonObject{};
    QByteArray bytes;
    bool isBinary = false;

    static Payload fromJson(const QJsonValue &value) { return Payload{value, {}, false}; }
    static Payload fromBinary(const QByteArray &data) { return Payload{QJsonValue(), data, true}; }
    // Size on the wire of the payload part, for telemetry.
    qsizetype sizeHint() const;
};

// One logical Phoenix message. Refs keep their decoded JSON type so they are echoed unchanged.
struct Message {
    QJsonValue joinRef = QJsonValue::Null;
    QJsonValue ref = QJsonValue::Null;
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
