// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>

namespace wsserve::web {

// RFC 1952 gzip (zlib's deflate with a gzip wrapper; qCompress() is a zlib stream with a Qt length
// prefix, which no browser reads). Empty on failure.
QByteArray gzipCompress(const QByteArray &data);
// The inverse, for tests; empty on failure.
QByteArray gzipDecompress(const QByteArray &data);
// True when an Accept-Encoding header value accepts gzip (a q=0 refuses it).
bool acceptsGzip(const QByteArray &acceptEncoding);

} // namespace wsserve::web
