// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QJsonValue>
#include <QString>

#include <array>

namespace wsserve {

// A join_ref or ref as the client sent it: null, a string or a number, echoed with its JSON type
// (phoenix-protocol.md 2). The server only compares and echoes refs, so the common one, a short string of
// plain ASCII such as "12" (what every Phoenix client sends), is kept inline: decoding, comparing and
// writing it back allocate nothing. Any other ref (a number, a long string, one with escapes or non-ASCII)
// is held as a QJsonValue; numbers allocate nothing there either.
//
// The form is canonical: a string that can be inline always is, so two refs are equal exactly when their
// JSON values are (a string never equals a number, as with QJsonValue). Thread: a value type.
class Ref
{
public:
    static constexpr qsizetype kInlineBytes = 22;

    Ref() = default; // null
    Ref(const QJsonValue &value);
    Ref(QJsonValue::Type type)
        : Ref(QJsonValue(type))
    {}
    Ref(const QString &value);
    // A string ref (possibly empty) from valid UTF-8: a binary frame's field, or a JSON string's bytes
    // between its quotes when it has no escapes.
    static Ref fromStringUtf8(QByteArrayView utf8);

    bool isNull() const { return m_kind == Kind::Null; }
    bool isString() const { return m_kind == Kind::Inline || (m_kind == Kind::Value && m_value.isString()); }
    QJsonValue toJson() const;
    // The ref as JSON text ("12" with its quotes, 12, null) appended to `out`.
    void appendJson(QByteArray &out) const;
    // The ref as it travels in binary frames: a string's UTF-8, a number in decimal, empty for null.
    QByteArray toUtf8() const;

    friend bool operator==(const Ref &a, const Ref &b);
    friend bool operator!=(const Ref &a, const Ref &b) { return !(a == b); }
    friend bool operator==(const Ref &a, const QJsonValue &b) { return a.toJson() == b; }
    friend bool operator!=(const Ref &a, const QJsonValue &b) { return !(a == b); }

private:
    enum class Kind : quint8 { Null, Inline, Value };
    // Plain printable ASCII without a quote or a backslash, short: written back between quotes as it is.
    template <typename Char> static bool isInlineable(const Char *text, qsizetype size);
    template <typename Char> void setInline(const Char *text, qsizetype size);

    Kind m_kind = Kind::Null;
    quint8 m_size = 0;
    std::array<char, kInlineBytes> m_text{};
    QJsonValue m_value; // Kind::Value only
};

} // namespace wsserve
