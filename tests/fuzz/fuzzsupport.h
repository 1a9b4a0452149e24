// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QJsonDocument>
#include <QJsonValue>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

// Helpers shared by the libFuzzer targets. The input is wrapped without a copy, so a read one byte past
// the end of the fuzzer's buffer is caught by AddressSanitizer rather than hidden by QByteArray's
// terminating NUL.
namespace wsserve::fuzz {

inline QByteArray wrap(const uint8_t *data, size_t size)
{
    return QByteArray::fromRawData(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
}

// A broken invariant is a finding like a crash: print why and abort so libFuzzer saves the input.
#define WSSERVE_FUZZ_CHECK(condition)                                                                                  \
    do {                                                                                                               \
        if (!(condition)) {                                                                                            \
            std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__);               \
            std::abort();                                                                                              \
        }                                                                                                              \
    } while (false)

} // namespace wsserve::fuzz
