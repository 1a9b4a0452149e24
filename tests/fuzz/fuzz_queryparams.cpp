// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// parseQueryParams and percentDecode (the query of the upgrade URL, phoenix-protocol.md 1.1).
// Invariants: decoding never grows the input; a string without '%' or '+' decodes to itself.
#include "fuzzsupport.h"

#include "protocol/queryparams.h"

#include <QJsonObject>

using namespace wsserve;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input = fuzz::wrap(data, size);
    const QByteArray decoded = percentDecode(input);
    WSSERVE_FUZZ_CHECK(decoded.size() <= input.size());
    const QByteArray decodedKeepPlus = percentDecode(input, false);
    WSSERVE_FUZZ_CHECK(decodedKeepPlus.size() == decoded.size());
    if (!input.contains('%') && !input.contains('+')) {
        WSSERVE_FUZZ_CHECK(decoded == input);
    }
    const QJsonObject params = parseQueryParams(input);
    // Serialising walks every nested value the parser built.
    (void)QJsonDocument(params).toJson(QJsonDocument::Compact);
    return 0;
}
