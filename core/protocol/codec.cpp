// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "codec.h"

#include "jsontext.h"

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
    if (json.hasText()) {
        return json.text().size();
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

// Refs travel as strings in binary frames (empty: null); numeric refs from text clients in decimal.
QByteArray refBytes(const Ref &ref)
{
    return ref.toUtf8();
}

Ref refFromBytes(const QByteArray &bytes)
{
    return bytes.isEmpty() ? Ref() : Ref::fromStringUtf8(bytes);
}

// The payload part of a text frame: the client's own bytes when it came from the wire, else the
// server's value written as compact JSON.
void appendPayload(QByteArray &out, const LazyJson &json)
{
    if (json.hasText()) {
        out.append(json.text());
    } else {
        jsontext::appendValue(out, json.value());
    }
}

// A reply's payload: {"response": body, "status": status}, where a null or absent body is {}. Keys in
// QJsonDocument's (sorted) order, so frames read byte for byte as they did.
void appendReplyBody(QByteArray &out, QStringView status, const LazyJson &body)
{
    out.append(R"({"response":)");
    if (body.hasText() ? body.text() == "null" : body.isUndefined() || body.isNull()) {
        out.append("{}", 2);
    } else {
        appendPayload(out, body);
    }
    out.append(R"(,"status":)");
    jsontext::appendString(out, status);
    out.append('}');
}

// Writes the envelope around a payload written by `body(out)`: V2 [join_ref, ref, topic, event, payload];
// V1 {"event", "payload", "ref", "topic"} (server frames never carry join_ref, phoenix-protocol.md 2.2).
// Built byte by byte into one buffer: no JSON document, the payload spliced in as it is.
// `out` is storage to write into: its capacity is used when nobody else holds it (the caller's buffer from
// the previous frame), so a steady stream of replies costs no allocation.
template <typename Body>
Frame textFrame(WireFormat format, const Ref &joinRef, const Ref &ref, QStringView topic, QStringView event,
                qsizetype payloadHint, QByteArray out, Body &&body)
{
    if (!out.isDetached()) {
        out = QByteArray();
    }
    out.resize(0);
    out.reserve(48 + 3 * (topic.size() + event.size()) + payloadHint);
    if (format == WireFormat::V1Json) {
        out.append(R"({"event":)"); // keys sorted, as QJsonDocument wrote them
        jsontext::appendString(out, event);
        out.append(R"(,"payload":)");
        body(out);
        out.append(R"(,"ref":)");
        ref.appendJson(out);
        out.append(R"(,"topic":)");
        jsontext::appendString(out, topic);
        out.append('}');
        return Frame{std::move(out), false};
    }
    out.append('[');
    joinRef.appendJson(out);
    out.append(',');
    ref.appendJson(out);
    out.append(',');
    jsontext::appendString(out, topic);
    out.append(',');
    jsontext::appendString(out, event);
    out.append(',');
    body(out);
    out.append(']');
    return Frame{std::move(out), false};
}

qsizetype payloadHint(const LazyJson &json)
{
    return json.hasText() ? json.text().size() : 64;
}

Frame textFrame(WireFormat format, const Ref &joinRef, const Ref &ref, QStringView topic, QStringView event,
                const LazyJson &payload, QByteArray buffer = {})
{
    return textFrame(format, joinRef, ref, topic, event, payloadHint(payload), std::move(buffer),
                     [&](QByteArray &out) { appendPayload(out, payload); });
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
    return textFrame(format, Ref(), Ref(), topic, QStringLiteral("broadcast"), payload.json);
}

// Where the parts of a Phoenix envelope are in a text frame.
enum Part { kJoinRef = 0, kRef, kTopic, kEvent, kPayload, kPartCount };
struct Envelope {
    jsontext::Token top;
    jsontext::Token parts[kPartCount];
    int count = 0; // elements of a V2 array
};

// A V2 frame: an array whose first five elements are the parts (more are validated and ignored).
bool readArray(jsontext::Reader &reader, Envelope *envelope)
{
    envelope->top.kind = jsontext::Token::Kind::Array;
    reader.take('[');
    if (reader.take(']')) {
        return true;
    }
    jsontext::Token extra;
    for (;;) {
        jsontext::Token *element = envelope->count < kPartCount ? &envelope->parts[envelope->count] : &extra;
        if (!reader.value(element, 2)) {
            return false;
        }
        ++envelope->count;
        if (reader.take(',')) {
            continue;
        }
        if (reader.take(']')) {
            return true;
        }
        return reader.fail("',' or ']' expected in an array");
    }
}

// A V1 frame: an object whose keys topic, event, payload, ref and join_ref are the parts (the last of a
// repeated key wins, as in QJsonDocument; other keys are validated and ignored).
bool readObject(jsontext::Reader &reader, const char *text, Envelope *envelope)
{
    static constexpr std::pair<Part, QLatin1StringView> kKeys[] = {{kTopic, QLatin1StringView("topic")},
                                                                   {kEvent, QLatin1StringView("event")},
                                                                   {kPayload, QLatin1StringView("payload")},
                                                                   {kRef, QLatin1StringView("ref")},
                                                                   {kJoinRef, QLatin1StringView("join_ref")}};
    envelope->top.kind = jsontext::Token::Kind::Object;
    reader.take('{');
    if (reader.take('}')) {
        return true;
    }
    jsontext::Token key;
    jsontext::Token member;
    for (;;) {
        reader.skipSpace();
        if (reader.peek() != '"') {
            return reader.fail("a string key was expected in an object");
        }
        if (!reader.value(&key, 2)) {
            return false;
        }
        if (!reader.take(':')) {
            return reader.fail("':' expected after an object key");
        }
        if (!reader.value(&member, 2)) {
            return false;
        }
        for (const auto &[part, name] : kKeys) {
            if (jsontext::stringEquals(text, key, name)) {
                envelope->parts[part] = member;
                break;
            }
        }
        if (reader.take(',')) {
            continue;
        }
        if (reader.take('}')) {
            return true;
        }
        return reader.fail("',' or '}' expected in an object");
    }
}

// Topics and event names repeat from frame to frame: a small per-thread cache hands out the same shared
// QString for the same bytes, so the steady state allocates none. Escaped or long strings bypass it.
QString internedString(const char *text, const jsontext::Token &token)
{
    constexpr qsizetype kMaxCached = 64;
    constexpr int kSlots = 128;
    const qsizetype length = token.end - token.begin - 2;
    if (token.escaped || length > kMaxCached) {
        return jsontext::stringValue(text, token);
    }
    const char *bytes = text + token.begin + 1;
    quint32 hash = 2166136261U;
    for (qsizetype i = 0; i < length; ++i) {
        hash = (hash ^ static_cast<quint8>(bytes[i])) * 16777619U;
    }
    struct Slot {
        QByteArray bytes;
        QString value;
    };
    thread_local Slot cache[kSlots];
    Slot &slot = cache[hash % kSlots];
    if (slot.bytes.isNull() || slot.bytes.size() != length || std::memcmp(slot.bytes.constData(), bytes, length) != 0) {
        slot.bytes = QByteArray(bytes, length);
        slot.value = QString::fromUtf8(bytes, length);
    }
    return slot.value;
}

// A join_ref or ref token (None: the key was absent). The usual short ASCII string is copied inline.
Ref refFromToken(const char *text, const jsontext::Token &token)
{
    switch (token.kind) {
    case jsontext::Token::Kind::None:
    case jsontext::Token::Kind::Null:
        return Ref();
    case jsontext::Token::Kind::String:
        if (!token.escaped) {
            return Ref::fromStringUtf8(QByteArrayView(text + token.begin + 1, token.end - token.begin - 2));
        }
        return Ref(jsontext::stringValue(text, token));
    default:
        return Ref(jsontext::scalarValue(text, token));
    }
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
    if (format != WireFormat::V1Json && format != WireFormat::V2Json) {
        return failure(kInvalidData, QStringLiteral("no wire format negotiated"));
    }
    // One pass validates the whole frame (syntax and UTF-8) and notes where the envelope's parts are; the
    // payload stays bytes (phoenix-protocol.md 2; design-notes "Envelope-only decoding").
    const char *text = data.constData();
    jsontext::Reader reader(text, data.size());
    Envelope envelope;
    reader.skipSpace();
    const char first = reader.peek();
    const bool read = first == '['   ? readArray(reader, &envelope)
                      : first == '{' ? readObject(reader, text, &envelope)
                                     : reader.value(&envelope.top);
    if (!read || !reader.atEnd()) {
        if (read) {
            reader.fail("garbage after the JSON value");
        }
        // Rare and final (the connection closes): Qt's parser words the error and its offset as before,
        // unless it accepts what RFC 8259 does not (`.5`, `\x`, a raw tab in a string), then ours does.
        QJsonParseError qtError{};
        QJsonDocument::fromJson(data, &qtError);
        const bool qtRefuses = qtError.error != QJsonParseError::NoError;
        return failure(kInvalidData, QStringLiteral("invalid JSON at offset %1: %2")
                                         .arg(qtRefuses ? qtError.offset : reader.errorOffset())
                                         .arg(qtRefuses ? qtError.errorString() : QString::fromLatin1(reader.error())));
    }
    using Kind = jsontext::Token::Kind;
    if (format == WireFormat::V2Json) {
        if (envelope.top.kind != Kind::Array) {
            return failure(kInvalidData, QStringLiteral("V2 frame is not a JSON array"));
        }
        if (envelope.count < 5) {
            return failure(kInvalidData, QStringLiteral("V2 frame has %1 elements; expected 5").arg(envelope.count));
        }
        if (envelope.parts[kTopic].kind != Kind::String || envelope.parts[kEvent].kind != Kind::String) {
            return failure(kInvalidData, QStringLiteral("V2 frame topic and event must be strings"));
        }
    } else {
        if (envelope.top.kind != Kind::Object) {
            return failure(kInvalidData, QStringLiteral("V1 frame is not a JSON object"));
        }
        static constexpr std::pair<int, const char *> kRequired[] = {
            {kTopic, "topic"}, {kEvent, "event"}, {kPayload, "payload"}, {kRef, "ref"}};
        for (const auto &[part, key] : kRequired) {
            if (envelope.parts[part].kind == Kind::None) {
                return failure(kInvalidData,
                               QStringLiteral("V1 frame lacks the required key '%1'").arg(QLatin1String(key)));
            }
        }
        if (envelope.parts[kTopic].kind != Kind::String || envelope.parts[kEvent].kind != Kind::String) {
            return failure(kInvalidData, QStringLiteral("V1 frame topic and event must be strings"));
        }
    }
    const auto isRef = [](const jsontext::Token &token) {
        return token.kind == Kind::None || token.kind == Kind::Null || token.kind == Kind::String ||
               token.kind == Kind::Number;
    };
    if (!isRef(envelope.parts[kJoinRef]) || !isRef(envelope.parts[kRef])) {
        return failure(kInvalidData, QStringLiteral("join_ref and ref must be strings, numbers or null"));
    }
    DecodeResult result;
    Message &message = result.message;
    message.joinRef = refFromToken(text, envelope.parts[kJoinRef]);
    message.ref = refFromToken(text, envelope.parts[kRef]);
    message.topic = internedString(text, envelope.parts[kTopic]);
    message.event = internedString(text, envelope.parts[kEvent]);
    const jsontext::Token &payload = envelope.parts[kPayload];
    message.payload = Payload::fromJsonText(data, payload.begin, payload.end - payload.begin);
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

Frame encodePush(WireFormat format, const Ref &joinRef, const QString &topic, const QString &event,
                 const Payload &payload, QString *error, QByteArray buffer)
{
    if (payload.userBroadcast) {
        return userBroadcastFrame(format, topic, payload, error);
    }
    if (!payload.isBinary) {
        return textFrame(format, joinRef, Ref(), topic, event, payload.json, std::move(buffer));
    }
    if (refuseBinaryForV1(format, error)) {
        return {};
    }
    return binaryFrame(0, {{refBytes(joinRef), "join_ref"}, {topic.toUtf8(), "topic"}, {event.toUtf8(), "event"}},
                       payload.bytes, error);
}

Frame encodeReply(WireFormat format, const Ref &joinRef, const Ref &ref, const QString &topic, const QString &status,
                  const Payload &response, QString *error, QByteArray buffer)
{
    if (!response.isBinary) {
        return textFrame(format, joinRef, ref, topic, events::kReply, 32 + payloadHint(response.json),
                         std::move(buffer), [&](QByteArray &out) { appendReplyBody(out, status, response.json); });
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
                      QString *error, QByteArray buffer)
{
    if (payload.userBroadcast) {
        return userBroadcastFrame(format, topic, payload, error);
    }
    if (!payload.isBinary) {
        return textFrame(format, Ref(), Ref(), topic, event, payload.json, std::move(buffer));
    }
    if (refuseBinaryForV1(format, error)) {
        return {};
    }
    return binaryFrame(2, {{topic.toUtf8(), "topic"}, {event.toUtf8(), "event"}}, payload.bytes, error);
}

Frame encodeChannelControl(WireFormat format, const Ref &joinRef, const QString &topic, const QString &event,
                           const QJsonObject &payload)
{
    return textFrame(format, joinRef, joinRef, topic, event, LazyJson(payload));
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
        QByteArray out;
        out.reserve(48 + 3 * (message.topic.size() + message.event.size()) + payloadHint(message.payload.json));
        if (format == WireFormat::V1Json) {
            out.append(R"({"event":)");
            jsontext::appendString(out, message.event);
            if (!message.joinRef.isNull()) {
                out.append(R"(,"join_ref":)");
                message.joinRef.appendJson(out);
            }
            out.append(R"(,"payload":)");
            appendPayload(out, message.payload.json);
            out.append(R"(,"ref":)");
            message.ref.appendJson(out);
            out.append(R"(,"topic":)");
            jsontext::appendString(out, message.topic);
            out.append('}');
            return Frame{out, false};
        }
        return textFrame(format, message.joinRef, message.ref, message.topic, message.event, message.payload.json);
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
