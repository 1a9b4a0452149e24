// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "qrcode.h"

#include <qrencode.h>

#include <memory>

namespace wsserve::web {

QrMatrix encodeQr(const QByteArray &text)
{
    if (text.isEmpty() || text.size() > kMaxQrTextBytes || text.contains('\0')) {
        return {};
    }
    const std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeString8bit(text.constData(), 0, QR_ECLEVEL_M), &QRcode_free);
    if (!code) {
        return {};
    }
    QrMatrix matrix;
    matrix.size = code->width;
    matrix.dark.resize(static_cast<qsizetype>(code->width) * code->width);
    for (qsizetype i = 0; i < matrix.dark.size(); ++i) {
        matrix.dark[i] = (code->data[i] & 1) != 0; // bit 0: dark module
    }
    return matrix;
}

QByteArray qrSvg(const QByteArray &text)
{
    const QrMatrix matrix = encodeQr(text);
    if (matrix.size == 0) {
        return {};
    }
    constexpr int quiet = 4;
    const QByteArray side = QByteArray::number(matrix.size + 2 * quiet);
    QByteArray path;
    for (int y = 0; y < matrix.size; ++y) {
        for (int x = 0; x < matrix.size; ++x) {
            if (matrix.isDark(x, y)) {
                path += 'M' + QByteArray::number(x + quiet) + ',' + QByteArray::number(y + quiet) + "h1v1h-1z";
            }
        }
    }
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + ' ' + side +
           "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" "
           "d=\"" +
           path + "\"/></svg>\n";
}

} // namespace wsserve::web
