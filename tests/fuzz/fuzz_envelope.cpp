// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The envelope-only text decoder (codec::decodeText) against QJsonDocument. Byte 0 picks the format (even:
// V2, odd: V1); the rest is the frame. Invariants: whatever the envelope reader accepts, QJsonDocument
// accepts too, with the same refs, topic, event and payload (the lazily parsed payload equals Qt's parse
// of the whole frame); every refusal is 1007 with a reason; an accepted frame round-trips.
#include "textroundtrip.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonParseError>

namespace {

using namespace wsserve;

// What QJsonDocument makes of the frame: the five parts, or nothing when it refuses the JSON or the shape.
struct Reference {
    bool ok = false;
    QJsonValue joinRef = QJsonValue::Null;
    QJsonValue ref = QJsonValue::Null;
    QJsonValue topic;
    QJsonValue event;
    QJsonValue payload;
};

Reference reference(WireFormat format, const QByteArray &frame)
{
    Reference result;
    QJsonParseError error{};
    const QJsonDocument document = QJsonDocument::fromJson(frame, &error);
    if (error.error != QJsonParseError::NoError) {
        return result;
    }
    if (format == WireFormat::V2Json) {
        const QJsonArray array = document.array();
        if (!document.isArray() || array.size() < 5) {
            return result;
        }
        result = {true, array.at(0), array.at(1), array.at(2), array.at(3), array.at(4)};
        return result;
    }
    const QJsonObject object = document.object();
    if (!document.isObject()) {
        return result;
    }
    for (const char *key : {"topic", "event", "payload", "ref"}) {
        if (!object.contains(QLatin1StringView(key))) {
            return result;
        }
    }
    result = {true,
              object.contains(u"join_ref") ? object.value(u"join_ref") : QJsonValue(QJsonValue::Null),
              object.value(u"ref"),
              object.value(u"topic"),
              object.value(u"event"),
              object.value(u"payload")};
    return result;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    const WireFormat format = data[0] % 2 == 0 ? WireFormat::V2Json : WireFormat::V1Json;
    const QByteArray frame = fuzz::wrap(data + 1, size - 1);
    const DecodeResult decoded = codec::decodeText(format, frame);
    if (!decoded.ok) {
        WSSERVE_FUZZ_CHECK(decoded.closeCode == 1007);
        WSSERVE_FUZZ_CHECK(!decoded.error.isEmpty());
        return 0;
    }
    const Reference expected = reference(format, frame);
    WSSERVE_FUZZ_CHECK(expected.ok);
    WSSERVE_FUZZ_CHECK(decoded.message.joinRef == expected.joinRef);
    WSSERVE_FUZZ_CHECK(decoded.message.ref == expected.ref);
    WSSERVE_FUZZ_CHECK(QJsonValue(decoded.message.topic) == expected.topic);
    WSSERVE_FUZZ_CHECK(QJsonValue(decoded.message.event) == expected.event);
    WSSERVE_FUZZ_CHECK(decoded.message.payload.json.value() == expected.payload);
    return fuzz::textRoundTrip(format, data + 1, size - 1);
}
