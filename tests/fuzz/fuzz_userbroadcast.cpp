// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// codec::decodeBinary with user broadcasts on (Supabase kind 3, supabase-realtime.md) and the kind 4
// encoder. Invariants: without the flag kind 3 is refused with 1003; refusals are 1007/1003 with a reason;
// an accepted kind 3 is event "broadcast" with a payload inside the frame; re-encoding it as a client
// round-trips; the kind 4 frame for it has exactly the header, the fields and the payload bytes.
#include "fuzzsupport.h"

#include "protocol/codec.h"

using namespace wsserve;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input = fuzz::wrap(data, size);
    if (!input.isEmpty() && static_cast<quint8>(input.at(0)) == 3) {
        WSSERVE_FUZZ_CHECK(codec::decodeBinary(WireFormat::V2Json, input).closeCode == 1003);
    }
    const DecodeResult first = codec::decodeBinary(WireFormat::V2Json, input, true);
    if (!first.ok) {
        WSSERVE_FUZZ_CHECK(first.closeCode == 1007 || first.closeCode == 1003);
        WSSERVE_FUZZ_CHECK(!first.error.isEmpty());
        return 0;
    }
    const auto &broadcast = first.message.payload.userBroadcast;
    if (!broadcast) {
        WSSERVE_FUZZ_CHECK(static_cast<quint8>(input.at(0)) == 0); // a Phoenix push
        return 0;
    }
    WSSERVE_FUZZ_CHECK(first.message.event == QLatin1String("broadcast"));
    WSSERVE_FUZZ_CHECK(broadcast->payload.size() <= input.size() - 7);
    WSSERVE_FUZZ_CHECK(first.message.payload.json.isObject());

    QString error;
    const Frame out = codec::encodeUserBroadcast(first.message.topic, *broadcast, &error);
    if (out.isNull()) {
        WSSERVE_FUZZ_CHECK(!error.isEmpty());
    } else {
        WSSERVE_FUZZ_CHECK(out.binary && static_cast<quint8>(out.data.at(0)) == 4);
        WSSERVE_FUZZ_CHECK(out.data.size() == 5 + first.message.topic.toUtf8().size() +
                                                  broadcast->event.toUtf8().size() + broadcast->meta.size() +
                                                  broadcast->payload.size());
        WSSERVE_FUZZ_CHECK(out.data.endsWith(broadcast->payload));
    }
    const Frame again = codec::encodeClientMessage(WireFormat::V2Json, first.message, &error);
    if (again.isNull()) {
        return 0;
    }
    const DecodeResult second = codec::decodeBinary(WireFormat::V2Json, again.data, true);
    WSSERVE_FUZZ_CHECK(second.ok && second.message.payload.userBroadcast);
    WSSERVE_FUZZ_CHECK(second.message.joinRef == first.message.joinRef);
    WSSERVE_FUZZ_CHECK(second.message.ref == first.message.ref);
    WSSERVE_FUZZ_CHECK(second.message.topic == first.message.topic);
    WSSERVE_FUZZ_CHECK(second.message.payload.userBroadcast->event == broadcast->event);
    WSSERVE_FUZZ_CHECK(second.message.payload.userBroadcast->meta == broadcast->meta);
    WSSERVE_FUZZ_CHECK(second.message.payload.userBroadcast->payload == broadcast->payload);
    WSSERVE_FUZZ_CHECK(second.message.payload.userBroadcast->json == broadcast->json);
    return 0;
}
