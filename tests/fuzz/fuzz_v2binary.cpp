// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// codec::decodeBinary (V2 binary push frames, phoenix-protocol.md 3). Invariants: header fields never
// exceed the frame; when the decoded message can be re-encoded (fields of at most 255 UTF-8 bytes), the
// re-encoded frame decodes to the same message.
#include "fuzzsupport.h"

#include "protocol/codec.h"

using namespace wsserve;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input = fuzz::wrap(data, size);
    // Binary frames are refused on V1 connections whatever they hold.
    WSSERVE_FUZZ_CHECK(!codec::decodeBinary(WireFormat::V1Json, input).ok);
    const DecodeResult first = codec::decodeBinary(WireFormat::V2Json, input);
    if (!first.ok) {
        WSSERVE_FUZZ_CHECK(first.closeCode == 1007 || first.closeCode == 1003);
        return 0;
    }
    WSSERVE_FUZZ_CHECK(first.message.payload.isBinary);
    WSSERVE_FUZZ_CHECK(first.message.payload.bytes.size() <= input.size() - 5);
    QString error;
    const Frame frame = codec::encodeClientMessage(WireFormat::V2Json, first.message, &error);
    if (frame.isNull()) {
        WSSERVE_FUZZ_CHECK(!error.isEmpty());
        return 0;
    }
    WSSERVE_FUZZ_CHECK(frame.binary);
    const DecodeResult second = codec::decodeBinary(WireFormat::V2Json, frame.data);
    WSSERVE_FUZZ_CHECK(second.ok);
    WSSERVE_FUZZ_CHECK(second.message.joinRef == first.message.joinRef);
    WSSERVE_FUZZ_CHECK(second.message.ref == first.message.ref);
    WSSERVE_FUZZ_CHECK(second.message.topic == first.message.topic);
    WSSERVE_FUZZ_CHECK(second.message.event == first.message.event);
    WSSERVE_FUZZ_CHECK(second.message.payload.bytes == first.message.payload.bytes);
    return 0;
}
