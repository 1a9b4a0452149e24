// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "ref.h"

#include "jsontext.h"

#include <cmath>
#include <cstring>

namespace wsserve {

template <typename Char> bool Ref::isInlineable(const Char *text, qsizetype size)
{
    if (size > kInlineBytes) {
        return false;
    }
    for (qsizetype i = 0; i < size; ++i) {
        const auto c = static_cast<char32_t>(text[i]);
        if (c < 0x20 || c > 0x7f || c == '"' || c == '\\') {
            return false;
        }
    }
    return true;
}

template <typename Char> void Ref::setInline(const Char *text, qsizetype size)
{
    m_kind = Kind::Inline;
    m_size = static_cast<quint8>(size);
    for (qsizetype i = 0; i < size; ++i) {
        m_text[static_cast<size_t>(i)] = static_cast<char>(text[i]);
    }
}

Ref::Ref(const QJsonValue &value)
{
    if (value.isNull() || value.isUndefined()) {
        return;
    }
    if (value.isString()) {
        const QString text = value.toString();
        if (isInlineable(text.utf16(), text.size())) {
            setInline(text.utf16(), text.size());
            return;
        }
    }
    m_kind = Kind::Value;
    m_value = value;
}

Ref::Ref(const QString &value)
{
    if (isInlineable(value.utf16(), value.size())) {
        setInline(value.utf16(), value.size());
        return;
    }
    m_kind = Kind::Value;
    m_value = value;
}

Ref Ref::fromStringUtf8(QByteArrayView utf8)
{
    if (isInlineable(utf8.data(), utf8.size())) {
        Ref ref;
        ref.setInline(utf8.data(), utf8.size());
        return ref;
    }
    // Decoded first, then made canonical: the text may turn inlineable (a leading BOM is dropped, as
    // QJsonDocument drops it), and an inlineable string must never be held as a QJsonValue.
    return Ref(QString::fromUtf8(utf8));
}

QJsonValue Ref::toJson() const
{
    switch (m_kind) {
    case Kind::Null:
        return QJsonValue(QJsonValue::Null);
    case Kind::Inline:
        return QJsonValue(QString::fromLatin1(m_text.data(), m_size));
    case Kind::Value:
        break;
    }
    return m_value;
}

void Ref::appendJson(QByteArray &out) const
{
    switch (m_kind) {
    case Kind::Null:
        out.append("null", 4);
        return;
    case Kind::Inline:
        out.append('"').append(m_text.data(), m_size).append('"');
        return;
    case Kind::Value:
        jsontext::appendScalar(out, m_value);
        return;
    }
}

QByteArray Ref::toUtf8() const
{
    switch (m_kind) {
    case Kind::Null:
        return {};
    case Kind::Inline:
        return QByteArray(m_text.data(), m_size);
    case Kind::Value:
        break;
    }
    if (m_value.isString()) {
        return m_value.toString().toUtf8();
    }
    if (m_value.isDouble()) {
        const double value = m_value.toDouble();
        if (std::floor(value) == value && std::fabs(value) < 9.0e15) {
            return QByteArray::number(static_cast<qint64>(value));
        }
        return QByteArray::number(value, 'g', 17);
    }
    return {};
}

bool operator==(const Ref &a, const Ref &b)
{
    if (a.m_kind != b.m_kind) {
        return false; // canonical: an inline string never equals a held value
    }
    switch (a.m_kind) {
    case Ref::Kind::Null:
        return true;
    case Ref::Kind::Inline:
        return a.m_size == b.m_size && std::memcmp(a.m_text.data(), b.m_text.data(), a.m_size) == 0;
    case Ref::Kind::Value:
        break;
    }
    return a.m_value == b.m_value;
}

} // namespace wsserve
