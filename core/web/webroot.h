// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QString>

namespace wsserve::web {

// Where a request under /play/<id>/ lands inside an instance's web_root, or why it is refused.
struct WebRootFile {
    enum class Result { Invalid = 0, Found, NotFound, Refused };
    Result result = Result::Invalid;
    QString filePath; // Found: the canonical path of a regular file inside the root
    QString reason;   // NotFound/Refused: for the log (never sent: every refusal answers a plain 404)
};

// `rawRelative` is the request path after "/play/<id>/", still percent-encoded as sent. Refused: a NUL or
// other control character, a backslash, an absolute path (a leading '/'), an empty, "." or ".." segment
// (also when percent-encoded), and anything whose canonical path (symlinks resolved) is not inside the
// canonical root. A directory serves its index.html; there are no listings.
WebRootFile resolveWebRootFile(const QString &root, const QByteArray &rawRelative);

// The Content-Type for a file name, by its suffix (application/octet-stream when unknown).
QByteArray contentTypeForFile(const QString &fileName);
// Whether a response of this type is worth compressing (text, JSON, JS, SVG, wasm).
bool isCompressible(const QByteArray &contentType);

} // namespace wsserve::web
