// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace wsserve {

// A parsed HTTP/1.1 request head (request line + headers), as the endpoint sees it before an upgrade.
// Thread: any; a value.
struct HttpRequestHead {
    QByteArray method;
    QByteArray target; // as sent: path plus optional ?query
    QByteArray path;   // percent-decoded path
    QByteArray query;  // raw query, without '?'
    QByteArray version;
    QList<std::pair<QByteArray, QByteArray>> headers; // names lower-cased, values trimmed

    // The value of the first header with this (lower-case) name, or a null QByteArray.
    QByteArray header(const QByteArray &lowerName) const;
    // All values of a comma-separated header (possibly repeated), trimmed.
    QList<QByteArray> headerTokens(const QByteArray &lowerName) const;
    bool isWebSocketUpgrade() const;
};

struct HttpParseResult {
    enum class Status { Invalid = 0, Incomplete, Complete, Malformed, TooLarge };
    Status status = Status::Invalid;
    HttpRequestHead head;
    qsizetype headSize = 0; // bytes up to and including the blank line
    QString error;
};

inline constexpr qsizetype kMaxRequestHeadBytes = 8 * 1024;

// Parses the head at the start of `data`. Incomplete until the blank line arrives; TooLarge when no
// blank line appears within kMaxRequestHeadBytes.
HttpParseResult parseHttpRequestHead(const QByteArray &data);

} // namespace wsserve
