// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "codec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cmath>
#include <optional>

namespace wsserve {

QString wireFormatName(WireFormat format)
{
    switch (format) {
    case WireFormat::V1Json:
        return QStringLiteral("V1");
    case WireFormat::V2Json:
        return QStringLiteral("V2");
    case WireFormat::Invalid:
        break;
    }
    return QStringLiteral("invalid");
}

qsizetype Payload::sizeHint() const
{
    if (userBroadcast) {
        return userBroadcast->payload.size();
    }
    if (isBinary) {
        return bytes.size();
    }
    if (json.isObject()) {
        return QJsonDocument(json.toObject()).toJson(QJsonDocument::Compact).size();
    }
    if (json.isArray()) {
        return QJsonDocument(json.toArray()).toJson(QJsonDocument::Compact).size();
    }
    return json.toVariant().toString().size();
}

namespace codec {
namespace {

DecodeResult failure(quint16 code, const QString &error)
{
    DecodeResult result;
    result.closeCode = code;
    result.error = error;
    return result;
}

constexpr quint16 kInvalidData = 1007;
constexpr quint16 kUnsupportedData = 1003;

bool isRefValue(const QJsonValue &value)
{
    return value.isNull() || value.isString() || value.isDouble() || value.isUndefined();
}

// Refs travel as strings in binary frames; numeric refs from text clients are written in decimal.
QByteArray refBytes(const QJsonValue &ref)
{
    if (ref.isString()) {
        return ref.toString().toUtf8();
    }
    if (ref.isDouble()) {
        const double value = ref.toDouble();
        if (std::floor(value) == value && std::fabs(value) < 9.0e15) {
            return QByteArray::number(static_cast<qint64>(value));
        }
        return QByteArray::number(value, 'g', 17);
    }
    return {};
}

QJsonValue refFromBytes(const QByteArray &bytes)
{
    if (bytes.isEmpty()) {
        return QJsonValue::Null;
    }
    return QString::fromUtf8(bytes);
}

Frame textFrame(WireFormat format, const QJsonValue &joinRef, const QJsonValue &ref, const QString &topic,
                const QString &event, const QJsonValue &payload)
{
    const QJsonValue refOrNull = ref.isUndefined() ? QJsonValue(QJsonValue::Null) : ref;
    if (format == WireFormat::V1Json) {
        // V1 server frames never carry join_ref (phoenix-protocol.md 2.2).
        QJsonObject object{{QStringLiteral("topic"), topic},
                           {QStringLiteral("event"), event},
                           {QStringLiteral("payload"), payload},
                           {QStringLiteral("ref"), refOrNull}};
        return Frame{QJsonDocument(object).toJson(QJsonDocument::Compact), false};
    }
    const QJsonValue joinRefOrNull = joinRef.isUndefined() ? QJsonValue(QJsonValue::Null) : joinRef;
    QJsonArray array{joinRefOrNull, refOrNull, topic, event, payload};
    return Frame{QJsonDocument(array).toJson(QJsonDocument::Compact), false};
}

bool appendField(QByteArray &header, QByteArray &body, const QByteArray &field, const char *name, QString *error)
{
    if (field.size() > kMaxBinaryHeaderField) {
        if (error) {
            *error = QStringLiteral("binary frame field '%1' is %2 bytes; the limit is %3")
                         .arg(QLatin1String(name))
                         .arg(field.size())
                         .arg(kMaxBinaryHeaderField);
        }
        return false;
    }
    header.append(static_cast<char>(static_cast<quint8>(field.size())));
    body.append(field);
    return true;
}

Frame binaryFrame(quint8 kind, const QList<std::pair<QByteArray, const char *>> &fields, const QByteArray &payload,
                  QString *error)
{
    QByteArray header;
    QByteArray body;
    header.reserve(1 + fields.size());
    header.append(static_cast<char>(kind));
    for (const auto &[field, name] : fields) {
        if (!appendField(header, body, field, name, error)) {
            return {};
        }
    }
    QByteArray data;
    data.reserve(header.size() + body.size() + payload.size());
    data.append(header).append(body).append(payload);
    return Frame{data, true};
}

bool refuseBinaryForV1(WireFormat format, QString *error)
{
    if (format == WireFormat::V1Json) {
        if (error) {
            *error = QStringLiteral("binary payloads cannot be sent to V1 (vsn 1.0) clients");
        }
        return true;
    }
    return false;
}

// Any JSON value, scalars included (QJsonDocument only parses arrays and objects at the top).
std::optional<QJsonValue> parseJsonValue(const QByteArray &text)
{
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson('[' + text + ']', &error);
    if (error.error != QJsonParseError::NoError || !document.isArray() || document.array().size() != 1) {
        return std::nullopt;
    }
    return document.array().at(0);
}

// Kind 3 (supabase-realtime.md): u8 3 | joinRefLen refLen topicLen eventLen metaLen encoding | fields | payload.
DecodeResult decodeUserBroadcastPush(const QByteArray &data)
{
    constexpr qsizetype kHeader = 7;
    if (data.size() < kHeader) {
        return failure(kInvalidData, QStringLiteral("user broadcast (kind 3) shorter than its 7-byte header"));
    }
    const auto size = [&](int index) {
        return static_cast<qsizetype>(static_cast<quint8>(data.at(index)));
    };
    const qsizetype fieldsEnd = kHeader + size(1) + size(2) + size(3) + size(4) + size(5);
    if (fieldsEnd > data.size()) {
        return failure(kInvalidData, QStringLiteral("user broadcast (kind 3) header lengths exceed the frame size"));
    }
    const auto encoding = static_cast<quint8>(data.at(6));
    if (encoding > 1) {
        return failure(
            kInvalidData,
            QStringLiteral("user broadcast (kind 3) payload encoding %1; expected 0 (raw) or 1 (JSON)").arg(encoding));
    }
    qsizetype offset = kHeader;
    const auto take = [&](qsizetype length) {
        QByteArray field = data.mid(offset, length);
        offset += length;
        return field;
    };
    DecodeResult result;
    result.message.joinRef = refFromBytes(take(size(1)));
    result.message.ref = refFromBytes(take(size(2)));
    result.message.topic = QString::fromUtf8(take(size(3)));
    result.message.event = QStringLiteral("broadcast");
    UserBroadcast broadcast;
    broadcast.event = QString::fromUtf8(take(size(4)));
    broadcast.meta = take(size(5));
    broadcast.payload = data.mid(offset);
    broadcast.json = encoding == 1;
    QJsonObject jsonForm{{QStringLiteral("type"), QStringLiteral("broadcast")},
                         {QStringLiteral("event"), broadcast.event},
                         {QStringLiteral("payload"), QJsonValue::Null}};
    if (!broadcast.meta.isEmpty()) {
        const std::optional<QJsonValue> meta = parseJsonValue(broadcast.meta);
        if (!meta || !meta->isObject()) {
            return failure(kInvalidData, QStringLiteral("user broadcast (kind 3) metadata is not a JSON object"));
        }
        jsonForm.insert(QStringLiteral("meta"), *meta);
    }
    if (broadcast.json) {
        const std::optional<QJsonValue> payload = parseJsonValue(broadcast.payload);
        if (!payload) {
            return failure(kInvalidData, QStringLiteral("user broadcast (kind 3) JSON payload is not valid JSON"));
        }
        jsonForm.insert(QStringLiteral("payload"), *payload);
    }
    result.message.payload = Payload::fromUserBroadcast(std::move(broadcast), jsonForm);
    result.ok = true;
    return result;
}

// A user broadcast to one recipient: kind 4 for V2; the JSON form for V1, which cannot take raw bytes.
Frame userBroadcastFrame(WireFormat format, const QString &topic, const Payload &payload, QString *error)
{
    if (format == WireFormat::V2Json) {
        return encodeUserBroadcast(topic, *payload.userBroadcast, error);
    }
    if (!payload.userBroadcast->json) {
        if (error) {
            *error = QStringLiteral("a raw (ArrayBuffer) broadcast cannot be sent to V1 (vsn 1.0) clients");
        }
        return {};
    }
    return textFrame(format, QJsonValue::Null, QJsonValue::Null, topic, QStringLiteral("broadcast"), payload.json);
}

} // namespace

Frame encodeUserBroadcast(const QString &topic, const UserBroadcast &broadcast, QString *error)
{
    Frame frame =
        binaryFrame(4, {{topic.toUtf8(), "topic"}, {broadcast.event.toUtf8(), "event"}, {broadcast.meta, "meta"}},
                    QByteArray(), error);
    if (frame.isNull()) {
        return frame;
    }
    // The encoding byte follows the three lengths (kind 4: u8 4 | topicLen eventLen metaLen encoding | ...).
    frame.data.insert(4, static_cast<char>(broadcast.json ? 1 : 0));
    frame.data.append(broadcast.payload);
    return frame;
}

DecodeResult decodeText(WireFormat format, const QByteArray &data)
{
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(data, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        return failure(
            kInvalidData,
            QStringLiteral("invalid JSON at offset %1: %2").arg(parseError.offset).arg(parseError.errorString()));
    }
    DecodeResult result;
    Message &message = result.message;
    if (format == WireFormat::V2Json) {
        if (!document.isArray()) {
            return failure(kInvalidData, QStringLiteral("V2 frame is not a JSON array"));
        }
        const QJsonArray array = document.array();
        if (array.size() < 5) {
            return failure(kInvalidData, QStringLiteral("V2 frame has %1 elements; expected 5").arg(array.size()));
        }
        message.joinRef = array.at(0);
        message.ref = array.at(1);
        if (!array.at(2).isString() || !array.at(3).isString()) {
            return failure(kInvalidData, QStringLiteral("V2 frame topic and event must be strings"));
        }
        message.topic = array.at(2).toString();
        message.event = array.at(3).toString();
        message.payload = Payload::fromJson(array.at(4));
    } else if (format == WireFormat::V1Json) {
        if (!document.isObject()) {
            return failure(kInvalidData, QStringLiteral("V1 frame is not a JSON object"));
        }
        const QJsonObject object = document.object();
        for (const char *key : {"topic", "event", "payload", "ref"}) {
            if (!object.contains(QLatin1String(key))) {
                return failure(kInvalidData,
                               QStringLiteral("V1 frame lacks the required key '%1'").arg(QLatin1String(key)));
            }
        }
        if (!object.value(QLatin1String("topic")).isString() || !object.value(QLatin1String("event")).isString()) {
            return failure(kInvalidData, QStringLiteral("V1 frame topic and event must be strings"));
        }
        message.topic = object.value(QLatin1String("topic")).toString();
        message.event = object.value(QLatin1String("event")).toString();
        message.ref = object.value(QLatin1String("ref"));
        message.joinRef = object.contains(QLatin1String("join_ref")) ? object.value(QLatin1String("join_ref"))
                                                                     : QJsonValue(QJsonValue::Null);
        message.payload = Payload::fromJson(object.value(QLatin1String("payload")));
    } else {
        return failure(kInvalidData, QStringLiteral("no wire format negotiated"));
    }
    if (!isRefValue(message.joinRef) || !isRefValue(message.ref)) {
        return failure(kInvalidData, QStringLiteral("join_ref and ref must be strings, numbers or null"));
    }
    result.ok = true;
    return result;
}

DecodeResult decodeBinary(WireFormat format, const QByteArray &data, bool userBroadcasts)
{
    if (format != WireFormat::V2Json) {
        return failure(kUnsupportedData, QStringLiteral("binary frames need vsn 2.0.0"));
    }
    if (data.isEmpty()) {
        return failure(kInvalidData, QStringLiteral("empty binary frame"));
    }
    const auto kind = static_cast<quint8>(data.at(0));
    if (kind == 3 && userBroadcasts) {
        return decodeUserBroadcastPush(data);
    }
    if (kind != 0) {
        return failure(kUnsupportedData,
                       QStringLiteral("binary frame kind %1 is not accepted from clients (only 0, push)").arg(kind));
    }
    constexpr qsizetype kHeader = 5;
    if (data.size() < kHeader) {
        return failure(kInvalidData, QStringLiteral("binary push shorter than its 5-byte header"));
    }
    const auto joinRefSize = static_cast<quint8>(data.at(1));
    const auto refSize = static_cast<quint8>(data.at(2));
    const auto topicSize = static_cast<quint8>(data.at(3));
    const auto eventSize = static_cast<quint8>(data.at(4));
    const qsizetype fieldsEnd = kHeader + joinRefSize + refSize + topicSize + eventSize;
    if (fieldsEnd > data.size()) {
        return failure(kInvalidData, QStringLiteral("binary push header lengths exceed the frame size"));
    }
    DecodeResult result;
    qsizetype offset = kHeader;
    const auto take = [&](qsizetype size) {
        QByteArray field = data.mid(offset, size);
        offset += size;
        return field;
    };
    result.message.joinRef = refFromBytes(take(joinRefSize));
    result.message.ref = refFromBytes(take(refSize));
    result.message.topic = QString::fromUtf8(take(topicSize));
    result.message.event = QString::fromUtf8(take(eventSize));
    result.message.payload = Payload::fromBinary(data.mid(offset));
    result.ok = true;
    return result;
}

Frame encodePush(WireFormat format, const QJsonValue &joinRef, const QString &topic, const QString &event,
                 const Payload &payload, QString *error)
{
    if (payload.userBroadcast) {
        return userBroadcastFrame(format, topic, payload, error);
    }
    if (!payload.isBinary) {
        return textFrame(format, joinRef, QJsonValue::Null, topic, event, payload.json);
    }
    if (refuseBinaryForV1(format, error)) {
        return {};
    }
    return binaryFrame(0, {{refBytes(joinRef), "join_ref"}, {topic.toUtf8(), "topic"}, {event.toUtf8(), "event"}},
                       payload.bytes, error);
}

Frame encodeReply(WireFormat format, const QJsonValue &joinRef, const QJsonValue &ref, const QString &topic,
                  const QString &status, const Payload &response, QString *error)
{
    if (!response.isBinary) {
        const QJsonValue body =
            response.json.isUndefined() || response.json.isNull() ? QJsonValue(QJsonObject{}) : response.json;
        const QJsonObject reply{{QStringLiteral("status"), status}, {QStringLiteral("response"), body}};
        return textFrame(format, joinRef, ref, topic, events::kReply, reply);
    }
    if (refuseBinaryForV1(format, error)) {
        return {};
    }
    return binaryFrame(1,
                       {{refBytes(joinRef), "join_ref"},
                        {refBytes(ref), "ref"},
                        {topic.toUtf8(), "topic"},
                        {status.toUtf8(), "status"}},
                       response.bytes, error);
}

Frame encodeBroadcast(WireFormat format, const QString &topic, const QString &event, const Payload &payload,
                      QString *error)
{
    if (payload.userBroadcast) {
        return userBroadcastFrame(format, topic, payload, error);
    }
    if (!payload.isBinary) {
        return textFrame(format, QJsonValue::Null, QJsonValue::Null, topic, event, payload.json);
    }
    if (refuseBinaryForV1(format, error)) {
        return {};
    }
    return binaryFrame(2, {{topic.toUtf8(), "topic"}, {event.toUtf8(), "event"}}, payload.bytes, error);
}

Frame encodeChannelControl(WireFormat format, const QJsonValue &joinRef, const QString &topic, const QString &event,
                           const QJsonObject &payload)
{
    return textFrame(format, joinRef, joinRef, topic, event, payload);
}

Frame encodeClientMessage(WireFormat format, const Message &message, QString *error)
{
    if (const auto &broadcast = message.payload.userBroadcast; broadcast && format == WireFormat::V2Json) {
        Frame frame = binaryFrame(3,
                                  {{refBytes(message.joinRef), "join_ref"},
                                   {refBytes(message.ref), "ref"},
                                   {message.topic.toUtf8(), "topic"},
                                   {broadcast->event.toUtf8(), "event"},
                                   {broadcast->meta, "meta"}},
                                  QByteArray(), error);
        if (!frame.isNull()) {
            frame.data.insert(6, static_cast<char>(broadcast->json ? 1 : 0));
            frame.data.append(broadcast->payload);
        }
        return frame;
    }
    if (!message.payload.isBinary) {
        if (format == WireFormat::V1Json) {
            QJsonObject object{{QStringLiteral("topic"), message.topic},
                               {QStringLiteral("event"), message.event},
                               {QStringLiteral("payload"), message.payload.json},
                               {QStringLiteral("ref"), message.ref}};
            if (!message.joinRef.isNull() && !message.joinRef.isUndefined()) {
                object.insert(QStringLiteral("join_ref"), message.joinRef);
            }
            return Frame{QJsonDocument(object).toJson(QJsonDocument::Compact), false};
        }
        return Frame{
            QJsonDocument(QJsonArray{message.joinRef, message.ref, message.topic, message.event, message.payload.json})
                .toJson(QJsonDocument::Compact),
            false};
    }
    if (refuseBinaryForV1(format, error)) {
        return {};
    }
    return binaryFrame(0,
                       {{refBytes(message.joinRef), "join_ref"},
                        {refBytes(message.ref), "ref"},
                        {message.topic.toUtf8(), "topic"},
                        {message.event.toUtf8(), "event"}},
                       message.payload.bytes, error);
}

} // namespace codec
} // namespace wsserve
