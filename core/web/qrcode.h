// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QList>

namespace wsserve::web {

// A QR code's modules (libqrencode, error correction level M), row by row; size 0 when the text does not
// fit or encoding failed. Thread: any.
struct QrMatrix {
    int size = 0;
    QList<bool> dark; // size * size

    bool isDark(int x, int y) const { return dark.at(y * size + x); }
};

inline constexpr qsizetype kMaxQrTextBytes = 1024;

QrMatrix encodeQr(const QByteArray &text);
// An SVG of the code with a 4-module quiet zone, black on white; empty when encodeQr() fails.
QByteArray qrSvg(const QByteArray &text);

} // namespace wsserve::web
