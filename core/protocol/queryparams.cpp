// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "queryparams.h"

#include "textbytes.h"

#include <QJsonArray>
#include <QStringList>

namespace wsserve {
namespace {

// Splits `a[b][c]` into {"a","b","c"}; a key with unbalanced brackets is kept whole, as Plug does.
QStringList splitKey(const QString &key)
{
    const qsizetype open = key.indexOf(QLatin1Char('['));
    if (open <= 0 || !key.endsWith(QLatin1Char(']'))) {
        return {key};
    }
    QStringList parts{key.left(open)};
    qsizetype pos = open;
    while (pos < key.size()) {
        if (key.at(pos) != QLatin1Char('[')) {
            return {key};
        }
        const qsizetype close = key.indexOf(QLatin1Char(']'), pos);
        if (close < 0) {
            return {key};
        }
        parts.append(key.mid(pos + 1, close - pos - 1));
        pos = close + 1;
    }
    return parts;
}

// Inserts value at path inside target; an empty path element ("list[]") appends to an array.
void insertPath(QJsonObject &target, const QStringList &path, qsizetype index, const QString &value)
{
    const QString &name = path.at(index);
    const bool last = index == path.size() - 1;
    if (last) {
        target.insert(name, value);
        return;
    }
    if (path.at(index + 1).isEmpty() && index + 1 == path.size() - 1) {
        QJsonArray array = target.value(name).toArray();
        array.append(value);
        target.insert(name, array);
        return;
    }
    QJsonObject child = target.value(name).toObject();
    insertPath(child, path, index + 1, value);
    target.insert(name, child);
}

} // namespace

QByteArray percentDecode(const QByteArray &input, bool plusIsSpace)
{
    QByteArray output;
    output.reserve(input.size());
    for (qsizetype i = 0; i < input.size(); ++i) {
        const char c = input.at(i);
        if (c == '%' && i + 2 < input.size()) {
            const int high = textbytes::hexDigit(input.at(i + 1));
            const int low = textbytes::hexDigit(input.at(i + 2));
            if (high >= 0 && low >= 0) {
                output.append(static_cast<char>(high * 16 + low));
                i += 2;
                continue;
            }
        }
        output.append(plusIsSpace && c == '+' ? ' ' : c);
    }
    return output;
}

QJsonObject parseQueryParams(const QByteArray &query)
{
    QJsonObject params;
    for (const QByteArray &segment : query.split('&')) {
        if (segment.isEmpty()) {
            continue;
        }
        const qsizetype eq = segment.indexOf('=');
        const QByteArray rawKey = eq < 0 ? segment : segment.left(eq);
        const QByteArray rawValue = eq < 0 ? QByteArray() : segment.mid(eq + 1);
        const QString key = QString::fromUtf8(percentDecode(rawKey));
        if (key.isEmpty()) {
            continue;
        }
        const QString value = QString::fromUtf8(percentDecode(rawValue));
        insertPath(params, splitKey(key), 0, value);
    }
    return params;
}

} // namespace wsserve
