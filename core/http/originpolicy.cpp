// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "originpolicy.h"

#include "httpresponse.h"

#include <QStringList>
#include <QUrl>

#include <algorithm>

namespace wsserve {

namespace {
const QString kHostPolicy = QStringLiteral("host");
const QString kAnyPolicy = QStringLiteral("any");

struct OriginPattern {
    QString scheme; // empty: any
    QString host;   // lower case; "*.example.com" for a wildcard
    int port = -1;  // -1: any
};

bool parsePattern(const QString &text, OriginPattern *pattern)
{
    QString rest = text;
    const qsizetype schemeEnd = rest.indexOf(u"://");
    if (schemeEnd >= 0) {
        pattern->scheme = rest.left(schemeEnd).toLower();
        rest = rest.mid(schemeEnd + 3);
        if (pattern->scheme.isEmpty()) {
            return false;
        }
    }
    // "[::1]:8080": the brackets delimit an IPv6 host, whose colons are not a port separator.
    qsizetype portSeparator = rest.lastIndexOf(u':');
    if (rest.startsWith(u'[')) {
        const qsizetype close = rest.indexOf(u']');
        if (close < 0 || (close + 1 < rest.size() && rest.at(close + 1) != u':')) {
            return false;
        }
        portSeparator = close + 1 < rest.size() ? close + 1 : -1;
    }
    if (portSeparator >= 0) {
        bool ok = false;
        pattern->port = rest.mid(portSeparator + 1).toInt(&ok);
        if (!ok || pattern->port <= 0 || pattern->port > 65535) {
            return false;
        }
        rest = rest.left(portSeparator);
    }
    const bool bracketed = rest.startsWith(u'[');
    if (bracketed) {
        rest = rest.mid(1, rest.size() - 2);
    }
    pattern->host = rest.toLower();
    if (pattern->host.isEmpty() || pattern->host.contains(u'/')) {
        return false;
    }
    const QString bare = pattern->host.startsWith(u"*.") ? pattern->host.mid(2) : pattern->host;
    if (bare.isEmpty() || bare.contains(u'*')) {
        return false;
    }
    // Only what a host name or an IP literal is made of: a typo such as "origin!!" is refused, not stored
    // to block every browser later.
    const auto hostChar = [bracketed](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'.' || c == u'-' || c == u'_' ||
               (bracketed && c == u':');
    };
    const auto schemeChar = [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'+' || c == u'.' || c == u'-';
    };
    return std::all_of(bare.cbegin(), bare.cend(), hostChar) &&
           std::all_of(pattern->scheme.cbegin(), pattern->scheme.cend(), schemeChar);
}

bool matches(const OriginPattern &pattern, const QUrl &origin)
{
    const QString host = origin.host().toLower();
    if (!pattern.scheme.isEmpty() && pattern.scheme != origin.scheme().toLower()) {
        return false;
    }
    if (pattern.port != -1) {
        const int defaultPort = origin.scheme() == u"https" ? 443 : 80;
        if (origin.port(defaultPort) != pattern.port) {
            return false;
        }
    }
    if (pattern.host.startsWith(u"*.")) {
        const QString domain = pattern.host.mid(2);
        return host == domain || host.endsWith(u'.' + domain);
    }
    return host == pattern.host;
}

QStringList entries(const QString &policy)
{
    return policy.split(u' ', Qt::SkipEmptyParts);
}

// The host part of a Host header: "example.com:4000" -> "example.com", "[::1]:4000" -> "::1".
QString hostWithoutPort(const QString &hostHeader)
{
    QString host = hostHeader.trimmed().toLower();
    if (host.startsWith(u'[')) {
        const qsizetype end = host.indexOf(u']');
        return end > 0 ? host.mid(1, end - 1) : host;
    }
    const qsizetype colon = host.lastIndexOf(u':');
    return colon >= 0 ? host.left(colon) : host;
}
} // namespace

QString validateOriginPolicy(const QString &policy)
{
    const QString trimmed = policy.trimmed();
    if (trimmed == kHostPolicy || trimmed == kAnyPolicy) {
        return {};
    }
    const QStringList list = entries(trimmed);
    if (list.isEmpty()) {
        return QStringLiteral("check_origin is empty; use host, any, or a space-separated list of origins");
    }
    for (const QString &entry : list) {
        OriginPattern pattern;
        if (!parsePattern(entry, &pattern)) {
            return QStringLiteral("check_origin entry '%1' is not [scheme://]host[:port] (host may be *.domain)")
                .arg(entry);
        }
    }
    return {};
}

bool originAllowed(const QString &policy, const QString &origin, const QString &hostHeader, QString *why)
{
    const QString trimmed = policy.trimmed();
    if (origin.isEmpty() || trimmed == kAnyPolicy) {
        return true;
    }
    const QUrl url(origin, QUrl::StrictMode);
    const bool parsed = url.isValid() && !url.host().isEmpty();
    if (trimmed == kHostPolicy) {
        const QString expected = hostWithoutPort(hostHeader);
        if (parsed && url.host().toLower() == expected) {
            return true;
        }
        *why = QStringLiteral("origin '%1' is not allowed: check_origin is 'host', so a page must come from the host "
                              "the socket was opened on ('%2'); set the instance option check_origin to 'any' or "
                              "to the origins of your pages")
                   .arg(printableText(origin), printableText(expected));
        return false;
    }
    if (parsed) {
        for (const QString &entry : entries(trimmed)) {
            OriginPattern pattern;
            if (parsePattern(entry, &pattern) && matches(pattern, url)) {
                return true;
            }
        }
    }
    *why = QStringLiteral("origin '%1' is not in this instance's check_origin list (%2)")
               .arg(printableText(origin), trimmed);
    return false;
}

} // namespace wsserve
