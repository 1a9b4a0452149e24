// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// codec::decodeText for V1 (object) text frames. Invariant: a frame that decodes re-encodes as a client
// frame that decodes to the same message.
#include "fuzzsupport.h"

#include "protocol/codec.h"

using namespace wsserve;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const DecodeResult first = codec::decodeText(WireFormat::V1Json, fuzz::wrap(data, size));
    if (!first.ok) {
        WSSERVE_FUZZ_CHECK(first.closeCode == 1007 || first.closeCode == 1003);
        WSSERVE_FUZZ_CHECK(!first.error.isEmpty());
        return 0;
    }
    const Frame frame = codec::encodeClientMessage(WireFormat::V1Json, first.message);
    WSSERVE_FUZZ_CHECK(!frame.isNull() && !frame.binary);
    const DecodeResult second = codec::decodeText(WireFormat::V1Json, frame.data);
    WSSERVE_FUZZ_CHECK(second.ok);
    WSSERVE_FUZZ_CHECK(second.message.joinRef == first.message.joinRef);
    WSSERVE_FUZZ_CHECK(second.message.ref == first.message.ref);
    WSSERVE_FUZZ_CHECK(second.message.topic == first.message.topic);
    WSSERVE_FUZZ_CHECK(second.message.event == first.message.event);
    WSSERVE_FUZZ_CHECK(second.message.payload.json == first.message.payload.json);
    (void)first.message.payload.sizeHint();
    return 0;
}
