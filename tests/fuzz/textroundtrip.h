// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The body shared by the V1 and V2 JSON fuzz targets: codec::decodeText, and the invariant that a frame
// that decodes re-encodes as a client frame that decodes to the same message.
#pragma once

#include "fuzzsupport.h"

#include "protocol/codec.h"

namespace wsserve::fuzz {

inline int textRoundTrip(WireFormat format, const uint8_t *data, size_t size)
{
    const DecodeResult first = codec::decodeText(format, wrap(data, size));
    if (!first.ok) {
        WSSERVE_FUZZ_CHECK(first.closeCode == 1007 || first.closeCode == 1003);
        WSSERVE_FUZZ_CHECK(!first.error.isEmpty());
        return 0;
    }
    const Frame frame = codec::encodeClientMessage(format, first.message);
    WSSERVE_FUZZ_CHECK(!frame.isNull() && !frame.binary);
    const DecodeResult second = codec::decodeText(format, frame.data);
    WSSERVE_FUZZ_CHECK(second.ok);
    WSSERVE_FUZZ_CHECK(second.message.joinRef == first.message.joinRef);
    WSSERVE_FUZZ_CHECK(second.message.ref == first.message.ref);
    WSSERVE_FUZZ_CHECK(second.message.topic == first.message.topic);
    WSSERVE_FUZZ_CHECK(second.message.event == first.message.event);
    WSSERVE_FUZZ_CHECK(second.message.payload.json == first.message.payload.json);
    (void)first.message.payload.sizeHint();
    return 0;
}

} // namespace wsserve::fuzz
