// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QJsonValue>
#include <QString>
#include <QStringView>

namespace wsserve::jsontext {

// One JSON value found in a text: its kind and its bytes [begin, end), quotes included for strings.
struct Token {
    enum class Kind { None, Null, False, True, Number, String, Array, Object };
    Kind kind = Kind::None;
    qsizetype begin = 0;
    qsizetype end = 0;
    bool escaped = false; // a string with at least one backslash escape (needs unescape(), not a copy)
};

// A validating single-pass JSON reader over UTF-8 bytes (RFC 8259: no leading zeros, no `.5` or `1.`,
// no raw control characters or unknown escapes in strings, UTF-8 checked byte by byte; a UTF-8 byte-order
// mark is skipped at the very start, numbers that overflow a double and nesting deeper than 1 024 are
// refused, as QJsonDocument refuses them). It never allocates: values are reported as byte ranges.
// Thread: any; one reader per text.
class Reader
{
public:
    Reader(const char *data, qsizetype size);

    static constexpr int kMaxDepth = 1024;

    // Skips whitespace, then reads one complete value (containers with everything inside them).
    bool value(Token *token, int depth = 1);
    // Skips whitespace and takes `c` if it comes next.
    bool take(char c);
    // Whitespace, then the end of the text.
    bool atEnd();
    void skipSpace();
    // The next byte ('\0' at the end).
    char peek() const { return m_pos < m_size ? m_data[m_pos] : '\0'; }

    bool failed() const { return m_error != nullptr; }
    const char *error() const { return m_error; }
    qsizetype errorOffset() const { return m_errorOffset; }
    qsizetype position() const { return m_pos; }
    // Records an error at the current position (the first one wins); returns false.
    bool fail(const char *why);

private:
    bool string(Token *token);
    bool number(Token *token);
    bool literal(const char *word, qsizetype length, Token::Kind kind, Token *token);
    bool array(int depth);
    bool object(int depth);
    bool utf8Sequence();

    const char *m_data;
    qsizetype m_size;
    qsizetype m_pos = 0;
    const char *m_error = nullptr;
    qsizetype m_errorOffset = 0;
};

// The text of a validated string token (quotes included) as a QString, escapes resolved.
QString stringValue(const char *data, const Token &token);
// True when the validated string token equals `ascii` (a plain key such as "topic"), escapes resolved.
bool stringEquals(const char *data, const Token &token, QLatin1StringView ascii);
// A validated scalar token as a QJsonValue (null, string or number; booleans too).
QJsonValue scalarValue(const char *data, const Token &token);

// Appends `text` as a JSON string (quotes, escapes for '"', '\\' and control characters; everything else
// as UTF-8), as QJsonDocument writes it.
void appendString(QByteArray &out, QStringView text);
// Appends a ref or other scalar value as compact JSON (null for undefined).
void appendScalar(QByteArray &out, const QJsonValue &value);
// Appends any value as compact JSON.
void appendValue(QByteArray &out, const QJsonValue &value);

} // namespace wsserve::jsontext
