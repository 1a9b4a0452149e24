// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "httprequesthead.h"

#include "protocol/queryparams.h"

namespace wsserve {
namespace {

HttpParseResult malformed(const QString &error)
{
    HttpParseResult result;
    result.status = HttpParseResult::Status::Malformed;
    result.error = error;
    return result;
}

bool isTokenChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           QByteArrayView("!#$%&'*+-.^_`|~").contains(c);
}

} // namespace

QByteArray HttpRequestHead::header(const QByteArray &lowerName) const
{
    for (const auto &[name, value] : headers) {
        if (name == lowerName) {
            return value;
        }
    }
    return {};
}

QList<QByteArray> HttpRequestHead::headerTokens(const QByteArray &lowerName) const
{
    QList<QByteArray> tokens;
    for (const auto &[name, value] : headers) {
        if (name != lowerName) {
            continue;
        }
        for (const QByteArray &part : value.split(',')) {
            const QByteArray token = part.trimmed();
            if (!token.isEmpty()) {
                tokens.append(token);
            }
        }
    }
    return tokens;
}

bool HttpRequestHead::isWebSocketUpgrade() const
{
    bool upgradeToken = false;
    for (const QByteArray &token : headerTokens("connection")) {
        upgradeToken = upgradeToken || token.toLower() == "upgrade";
    }
    bool websocket = false;
    for (const QByteArray &token : headerTokens("upgrade")) {
        websocket = websocket || token.toLower() == "websocket";
    }
    return upgradeToken && websocket;
}

HttpParseResult parseHttpRequestHead(const QByteArray &data)
{
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (end < 0) {
        HttpParseResult result;
        result.status = data.size() >= kMaxRequestHeadBytes ? HttpParseResult::Status::TooLarge
                                                            : HttpParseResult::Status::Incomplete;
        if (result.status == HttpParseResult::Status::TooLarge) {
            result.error = QStringLiteral("request head exceeds %1 bytes").arg(kMaxRequestHeadBytes);
        }
        return result;
    }
    if (end + 4 > kMaxRequestHeadBytes) {
        HttpParseResult result;
        result.status = HttpParseResult::Status::TooLarge;
        result.error = QStringLiteral("request head exceeds %1 bytes").arg(kMaxRequestHeadBytes);
        return result;
    }
    const QList<QByteArray> lines = data.left(end).split('\n');
    HttpParseResult result;
    HttpRequestHead &head = result.head;
    const QByteArray requestLine = lines.first().trimmed();
    const QList<QByteArray> parts = requestLine.split(' ');
    if (parts.size() != 3 || parts.at(0).isEmpty() || parts.at(1).isEmpty()) {
        return malformed(QStringLiteral("malformed request line"));
    }
    for (char c : parts.at(0)) {
        if (!isTokenChar(c)) {
            return malformed(QStringLiteral("malformed request method"));
        }
    }
    if (!parts.at(2).startsWith("HTTP/1.")) {
        return malformed(QStringLiteral("unsupported HTTP version"));
    }
    head.method = parts.at(0);
    head.target = parts.at(1);
    head.version = parts.at(2);
    if (!head.target.startsWith('/')) {
        return malformed(QStringLiteral("request target must be an absolute path"));
    }
    for (const char c : head.target) {
        if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7F) {
            return malformed(QStringLiteral("request target has a control or non-ASCII byte; percent-encode it"));
        }
    }
    const qsizetype question = head.target.indexOf('?');
    head.path = percentDecode(question < 0 ? head.target : head.target.left(question), false);
    head.query = question < 0 ? QByteArray() : head.target.mid(question + 1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        QByteArray line = lines.at(i);
        if (line.endsWith('\r')) {
            line.chop(1);
        }
        if (line.isEmpty()) {
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) {
            return malformed(QStringLiteral("malformed header line %1").arg(i));
        }
        // RFC 9112 5.1/5.2: no whitespace between name and colon, and no obsolete line folding.
        if (line.at(0) == ' ' || line.at(0) == '\t') {
            return malformed(QStringLiteral("folded header line %1").arg(i));
        }
        const QByteArray name = line.left(colon).toLower();
        for (char c : name) {
            if (!isTokenChar(c)) {
                return malformed(QStringLiteral("malformed header name on line %1").arg(i));
            }
        }
        const QByteArray value = line.mid(colon + 1).trimmed();
        for (const char c : value) {
            // RFC 9110 5.5: no CR, LF, NUL or other control characters in a field value (HTAB is allowed).
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
                return malformed(
                    QStringLiteral("control character in the value of header '%1'").arg(QString::fromLatin1(name)));
            }
        }
        head.headers.append({name, value});
    }
    result.status = HttpParseResult::Status::Complete;
    result.headSize = end + 4;
    return result;
}

} // namespace wsserve
