// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QtGlobal>

// Byte-level text rules shared by the WebSocket layer (text frames), the JSON reader and the query parser.
namespace wsserve::textbytes {

// The value of a hex digit, or -1.
inline int hexDigit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// The length (2 to 4) of the well-formed UTF-8 sequence at `p`, whose first byte is >= 0x80, with
// `available` bytes readable from `p`; 0 when it is not one (RFC 3629: no overlong forms, no UTF-16
// surrogates, nothing above U+10FFFF, not cut short).
inline int utf8SequenceLength(const unsigned char *p, qsizetype available)
{
    const unsigned char c = p[0];
    int extra = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        extra = 2;
        low = c == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
        high = c == 0xED ? 0x9F : 0xBF; // no UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        extra = 3;
        low = c == 0xF0 ? 0x90 : 0x80;
        high = c == 0xF4 ? 0x8F : 0xBF; // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (available <= extra || p[1] < low || p[1] > high) {
        return 0;
    }
    for (int k = 2; k <= extra; ++k) {
        if ((p[k] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return 1 + extra;
}

} // namespace wsserve::textbytes
