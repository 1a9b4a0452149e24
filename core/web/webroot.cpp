// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "webroot.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>

namespace wsserve::web {

namespace {
WebRootFile refused(const QString &reason)
{
    return WebRootFile{WebRootFile::Result::Refused, {}, reason};
}
} // namespace

WebRootFile resolveWebRootFile(const QString &root, const QByteArray &rawRelative)
{
    const QByteArray decoded = QByteArray::fromPercentEncoding(rawRelative);
    for (const char c : decoded) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            return refused(QStringLiteral("a NUL or control character in the path"));
        }
    }
    if (decoded.contains('\\')) {
        return refused(QStringLiteral("a backslash in the path"));
    }
    if (decoded.startsWith('/')) {
        return refused(QStringLiteral("an absolute path"));
    }
    QByteArray relative = decoded;
    const bool directoryRequest = relative.isEmpty() || relative.endsWith('/');
    if (relative.endsWith('/')) {
        relative.chop(1);
    }
    const QList<QByteArray> segments = relative.isEmpty() ? QList<QByteArray>{} : relative.split('/');
    for (const QByteArray &segment : segments) {
        if (segment == "..") {
            return refused(QStringLiteral("'..' in the path"));
        }
        if (segment.isEmpty() || segment == ".") {
            return refused(QStringLiteral("an empty or '.' path segment"));
        }
    }
    const QString canonicalRoot = QFileInfo(root).canonicalFilePath();
    if (canonicalRoot.isEmpty() || !QFileInfo(canonicalRoot).isDir()) {
        return WebRootFile{WebRootFile::Result::NotFound, {}, QStringLiteral("web_root %1 is not a folder").arg(root)};
    }
    QString candidate = QDir(canonicalRoot).filePath(QString::fromUtf8(relative));
    if (directoryRequest || QFileInfo(candidate).isDir()) {
        candidate = QDir(candidate).filePath(QStringLiteral("index.html"));
    }
    const QFileInfo info(candidate);
    const QString canonical = info.canonicalFilePath(); // empty when it does not exist (or a dangling link)
    if (canonical.isEmpty()) {
        return WebRootFile{WebRootFile::Result::NotFound, {}, QStringLiteral("no file %1").arg(candidate)};
    }
    if (!canonical.startsWith(canonicalRoot + QLatin1Char('/'))) {
        return refused(QStringLiteral("%1 leads out of web_root (a symbolic link)").arg(candidate));
    }
    if (!QFileInfo(canonical).isFile()) {
        return WebRootFile{WebRootFile::Result::NotFound, {}, QStringLiteral("%1 is not a file").arg(canonical)};
    }
    return WebRootFile{WebRootFile::Result::Found, canonical, {}};
}

QByteArray contentTypeForFile(const QString &fileName)
{
    static const QHash<QString, QByteArray> types = {
        {QStringLiteral("html"), "text/html; charset=utf-8"},
        {QStringLiteral("htm"), "text/html; charset=utf-8"},
        {QStringLiteral("js"), "text/javascript; charset=utf-8"},
        {QStringLiteral("mjs"), "text/javascript; charset=utf-8"},
        {QStringLiteral("css"), "text/css; charset=utf-8"},
        {QStringLiteral("json"), "application/json"},
        {QStringLiteral("map"), "application/json"},
        {QStringLiteral("txt"), "text/plain; charset=utf-8"},
        {QStringLiteral("xml"), "application/xml"},
        {QStringLiteral("svg"), "image/svg+xml"},
        {QStringLiteral("png"), "image/png"},
        {QStringLiteral("jpg"), "image/jpeg"},
        {QStringLiteral("jpeg"), "image/jpeg"},
        {QStringLiteral("gif"), "image/gif"},
        {QStringLiteral("webp"), "image/webp"},
        {QStringLiteral("ico"), "image/x-icon"},
        {QStringLiteral("wasm"), "application/wasm"},
        {QStringLiteral("pck"), "application/octet-stream"},
        {QStringLiteral("mp3"), "audio/mpeg"},
        {QStringLiteral("ogg"), "audio/ogg"},
        {QStringLiteral("wav"), "audio/wav"},
        {QStringLiteral("woff"), "font/woff"},
        {QStringLiteral("woff2"), "font/woff2"},
        {QStringLiteral("ttf"), "font/ttf"},
    };
    return types.value(QFileInfo(fileName).suffix().toLower(), "application/octet-stream");
}

bool isCompressible(const QByteArray &contentType)
{
    return contentType.startsWith("text/") || contentType.startsWith("application/json") ||
           contentType.startsWith("application/xml") || contentType.startsWith("image/svg") ||
           contentType.startsWith("application/wasm");
}

} // namespace wsserve::web
