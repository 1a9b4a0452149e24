// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// codec::decodeText for V1 text frames; the invariant is in textroundtrip.h.
#include "textroundtrip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return wsserve::fuzz::textRoundTrip(wsserve::WireFormat::V1Json, data, size);
}
