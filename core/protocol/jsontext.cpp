// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "jsontext.h"

#include "textbytes.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace wsserve::jsontext {

namespace {

constexpr quint64 kOnes = 0x0101010101010101ULL;
constexpr quint64 kHighs = 0x8080808080808080ULL;

// Eight string bytes at once: true when one of them needs a closer look (a quote, a backslash, a control
// character or a non-ASCII byte).
inline bool needsAttention(quint64 word)
{
    const quint64 quote = word ^ (kOnes * '"');
    const quint64 backslash = word ^ (kOnes * '\\');
    const quint64 zeroQuote = (quote - kOnes) & ~quote;
    const quint64 zeroBackslash = (backslash - kOnes) & ~backslash;
    const quint64 control = (word - kOnes * 0x20) & ~word;
    return ((zeroQuote | zeroBackslash | control | word) & kHighs) != 0;
}

inline bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

void appendUtf8(QByteArray &out, char32_t code)
{
    if (code < 0x80) {
        out.append(static_cast<char>(code));
    } else if (code < 0x800) {
        out.append(static_cast<char>(0xC0 | (code >> 6)));
        out.append(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
        out.append(static_cast<char>(0xE0 | (code >> 12)));
        out.append(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.append(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
        out.append(static_cast<char>(0xF0 | (code >> 18)));
        out.append(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
        out.append(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
        out.append(static_cast<char>(0x80 | (code & 0x3F)));
    }
}

void appendUnicodeEscape(QByteArray &out, char16_t unit)
{
    static constexpr char kHex[] = "0123456789abcdef";
    const char escape[6] = {
        '\\', 'u', kHex[(unit >> 12) & 0xF], kHex[(unit >> 8) & 0xF], kHex[(unit >> 4) & 0xF], kHex[unit & 0xF]};
    out.append(escape, 6);
}

} // namespace

Reader::Reader(const char *data, qsizetype size)
    : m_data(data)
    , m_size(size)
{
    if (size >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        m_pos = 3; // a UTF-8 byte-order mark, which QJsonDocument also skips
    }
}

bool Reader::fail(const char *why)
{
    if (!m_error) {
        m_error = why;
        m_errorOffset = m_pos;
    }
    return false;
}

void Reader::skipSpace()
{
    while (m_pos < m_size) {
        const char c = m_data[m_pos];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            return;
        }
        ++m_pos;
    }
}

bool Reader::take(char c)
{
    skipSpace();
    if (m_pos < m_size && m_data[m_pos] == c) {
        ++m_pos;
        return true;
    }
    return false;
}

bool Reader::atEnd()
{
    skipSpace();
    return m_pos == m_size;
}

bool Reader::value(Token *token, int depth)
{
    skipSpace();
    if (m_pos >= m_size) {
        return fail("a value was expected, the text ended");
    }
    token->begin = m_pos;
    token->escaped = false;
    switch (m_data[m_pos]) {
    case '"':
        return string(token);
    case '{':
        token->kind = Token::Kind::Object;
        if (!object(depth)) {
            return false;
        }
        break;
    case '[':
        token->kind = Token::Kind::Array;
        if (!array(depth)) {
            return false;
        }
        break;
    case 't':
        return literal("true", 4, Token::Kind::True, token);
    case 'f':
        return literal("false", 5, Token::Kind::False, token);
    case 'n':
        return literal("null", 4, Token::Kind::Null, token);
    default:
        return number(token);
    }
    token->end = m_pos;
    return true;
}

bool Reader::literal(const char *word, qsizetype length, Token::Kind kind, Token *token)
{
    if (m_size - m_pos < length || std::memcmp(m_data + m_pos, word, length) != 0) {
        return fail("illegal value");
    }
    m_pos += length;
    token->kind = kind;
    token->end = m_pos;
    return true;
}

bool Reader::number(Token *token)
{
    token->kind = Token::Kind::Number;
    const qsizetype begin = m_pos;
    if (m_data[m_pos] == '-') {
        ++m_pos;
    }
    const qsizetype intBegin = m_pos;
    if (m_pos < m_size && m_data[m_pos] == '0') {
        ++m_pos;
    } else if (m_pos < m_size && isDigit(m_data[m_pos])) {
        while (m_pos < m_size && isDigit(m_data[m_pos])) {
            ++m_pos;
        }
    } else {
        return fail("illegal value");
    }
    const qsizetype intDigits = m_pos - intBegin;
    if (m_pos < m_size && isDigit(m_data[m_pos])) {
        return fail("illegal number (a leading zero)");
    }
    if (m_pos < m_size && m_data[m_pos] == '.') {
        ++m_pos;
        if (m_pos >= m_size || !isDigit(m_data[m_pos])) {
            return fail("illegal number (no digit after the decimal point)");
        }
        while (m_pos < m_size && isDigit(m_data[m_pos])) {
            ++m_pos;
        }
    }
    bool exponent = false;
    if (m_pos < m_size && (m_data[m_pos] == 'e' || m_data[m_pos] == 'E')) {
        exponent = true;
        ++m_pos;
        if (m_pos < m_size && (m_data[m_pos] == '+' || m_data[m_pos] == '-')) {
            ++m_pos;
        }
        if (m_pos >= m_size || !isDigit(m_data[m_pos])) {
            return fail("illegal number (no digit in the exponent)");
        }
        while (m_pos < m_size && isDigit(m_data[m_pos])) {
            ++m_pos;
        }
    }
    if (exponent || intDigits > 300) {
        // Only a number this long or with an exponent can leave the range of a double; QJsonDocument
        // refuses it either way (1e400 and 1e-400 alike), and so do we.
        double parsed = 0;
        if (std::from_chars(m_data + begin, m_data + m_pos, parsed).ec == std::errc::result_out_of_range) {
            return fail("illegal number (out of the range of a double)");
        }
    }
    token->end = m_pos;
    return true;
}

bool Reader::utf8Sequence()
{
    // Same rules as the WebSocket layer's text check.
    const int length =
        textbytes::utf8SequenceLength(reinterpret_cast<const unsigned char *>(m_data) + m_pos, m_size - m_pos);
    if (length == 0) {
        return fail("invalid UTF-8 in a string");
    }
    m_pos += length;
    return true;
}

bool Reader::string(Token *token)
{
    token->kind = Token::Kind::String;
    ++m_pos; // the opening quote
    const auto *p = reinterpret_cast<const unsigned char *>(m_data);
    for (;;) {
        while (m_size - m_pos >= 8) {
            quint64 word;
            std::memcpy(&word, m_data + m_pos, 8);
            if (needsAttention(word)) {
                break;
            }
            m_pos += 8;
        }
        while (m_pos < m_size) {
            const unsigned char c = p[m_pos];
            if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) {
                break;
            }
            ++m_pos;
        }
        if (m_pos >= m_size) {
            return fail("unterminated string");
        }
        const unsigned char c = p[m_pos];
        if (c == '"') {
            ++m_pos;
            token->end = m_pos;
            return true;
        }
        if (c == '\\') {
            token->escaped = true;
            if (m_pos + 1 >= m_size) {
                return fail("unterminated string");
            }
            switch (m_data[m_pos + 1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                m_pos += 2;
                break;
            case 'u':
                if (m_size - m_pos < 6 || textbytes::hexDigit(m_data[m_pos + 2]) < 0 ||
                    textbytes::hexDigit(m_data[m_pos + 3]) < 0 || textbytes::hexDigit(m_data[m_pos + 4]) < 0 ||
                    textbytes::hexDigit(m_data[m_pos + 5]) < 0) {
                    return fail("illegal \\u escape (four hex digits expected)");
                }
                m_pos += 6;
                break;
            default:
                ++m_pos;
                return fail("illegal escape sequence");
            }
            continue;
        }
        if (c < 0x20) {
            return fail("control character in a string (it must be escaped)");
        }
        if (!utf8Sequence()) {
            return false;
        }
    }
}

bool Reader::array(int depth)
{
    if (depth > kMaxDepth) {
        return fail("too deeply nested");
    }
    ++m_pos; // '['
    if (take(']')) {
        return true;
    }
    Token element;
    for (;;) {
        if (!value(&element, depth + 1)) {
            return false;
        }
        if (take(',')) {
            continue;
        }
        if (take(']')) {
            return true;
        }
        return fail("',' or ']' expected in an array");
    }
}

bool Reader::object(int depth)
{
    if (depth > kMaxDepth) {
        return fail("too deeply nested");
    }
    ++m_pos; // '{'
    if (take('}')) {
        return true;
    }
    Token key;
    Token member;
    for (;;) {
        skipSpace();
        if (m_pos >= m_size || m_data[m_pos] != '"') {
            return fail("a string key was expected in an object");
        }
        key.begin = m_pos;
        if (!string(&key)) {
            return false;
        }
        if (!take(':')) {
            return fail("':' expected after an object key");
        }
        if (!value(&member, depth + 1)) {
            return false;
        }
        if (take(',')) {
            continue;
        }
        if (take('}')) {
            return true;
        }
        return fail("',' or '}' expected in an object");
    }
}

QString stringValue(const char *data, const Token &token)
{
    const char *begin = data + token.begin + 1;
    const char *end = data + token.end - 1;
    if (!token.escaped) {
        return QString::fromUtf8(begin, end - begin);
    }
    // Decoded by hand, not in QString::fromUtf8 chunks: that drops a byte-order mark at the start of each
    // chunk, and QJsonDocument keeps it in a string with escapes (it drops it only at the start of a
    // string without any, as QString::fromUtf8 does above).
    QString result;
    result.reserve(end - begin);
    const auto *p = reinterpret_cast<const unsigned char *>(begin);
    const auto *stop = reinterpret_cast<const unsigned char *>(end);
    while (p < stop) {
        const unsigned char c = *p;
        if (c == '\\') {
            const char kind = static_cast<char>(p[1]);
            p += 2;
            switch (kind) {
            case 'b':
                result.append(u'\b');
                break;
            case 'f':
                result.append(u'\f');
                break;
            case 'n':
                result.append(u'\n');
                break;
            case 'r':
                result.append(u'\r');
                break;
            case 't':
                result.append(u'\t');
                break;
            case 'u':
                // Surrogates, paired or not, go in as UTF-16 units, as QJsonDocument keeps them.
                result.append(QChar(static_cast<char16_t>((textbytes::hexDigit(static_cast<char>(p[0])) << 12) |
                                                          (textbytes::hexDigit(static_cast<char>(p[1])) << 8) |
                                                          (textbytes::hexDigit(static_cast<char>(p[2])) << 4) |
                                                          textbytes::hexDigit(static_cast<char>(p[3])))));
                p += 4;
                break;
            default: // '"', '\\', '/'
                result.append(QLatin1Char(kind));
                break;
            }
            continue;
        }
        // Validated UTF-8: decode one sequence.
        char32_t code = c;
        int extra = 0;
        if (c >= 0xF0) {
            code = c & 0x07;
            extra = 3;
        } else if (c >= 0xE0) {
            code = c & 0x0F;
            extra = 2;
        } else if (c >= 0xC0) {
            code = c & 0x1F;
            extra = 1;
        }
        for (int i = 1; i <= extra; ++i) {
            code = (code << 6) | (p[i] & 0x3F);
        }
        p += 1 + extra;
        if (code >= 0x10000) {
            result.append(QChar(QChar::highSurrogate(code)));
            result.append(QChar(QChar::lowSurrogate(code)));
        } else {
            result.append(QChar(static_cast<char16_t>(code)));
        }
    }
    return result;
}

bool stringEquals(const char *data, const Token &token, QLatin1StringView ascii)
{
    if (!token.escaped) {
        const qsizetype length = token.end - token.begin - 2;
        return length == ascii.size() && std::memcmp(data + token.begin + 1, ascii.data(), length) == 0;
    }
    return stringValue(data, token) == ascii;
}

QJsonValue scalarValue(const char *data, const Token &token)
{
    switch (token.kind) {
    case Token::Kind::Null:
        return QJsonValue(QJsonValue::Null);
    case Token::Kind::True:
        return QJsonValue(true);
    case Token::Kind::False:
        return QJsonValue(false);
    case Token::Kind::String:
        return QJsonValue(stringValue(data, token));
    case Token::Kind::Number: {
        const char *begin = data + token.begin;
        const char *end = data + token.end;
        const bool integral = std::find_if(begin, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end;
        if (integral) {
            // QJsonDocument keeps every integer that fits a qint64 as one (past 2^53 too), doubles the rest.
            qint64 integer = 0;
            const auto [at, error] = std::from_chars(begin, end, integer);
            if (error == std::errc() && at == end) {
                return QJsonValue(integer);
            }
        }
        double value = 0;
        const auto [at, error] = std::from_chars(begin, end, value);
        if (error == std::errc::result_out_of_range) {
            value = *begin == '-' ? -0.0 : 0.0; // the reader refused the other way out of range
        }
        return QJsonValue(value);
    }
    case Token::Kind::None:
    case Token::Kind::Array:
    case Token::Kind::Object:
        break;
    }
    return QJsonValue(QJsonValue::Undefined);
}

void appendString(QByteArray &out, QStringView text)
{
    out.append('"');
    const qsizetype size = text.size();
    for (qsizetype i = 0; i < size; ++i) {
        // Runs of plain ASCII (the usual topic, event and ref) are narrowed in one go.
        qsizetype run = i;
        while (run < size && text[run].unicode() >= 0x20 && text[run].unicode() < 0x80 && text[run] != u'"' &&
               text[run] != u'\\') {
            ++run;
        }
        if (run > i) {
            const qsizetype at = out.size();
            out.resize(at + (run - i));
            char *to = out.data() + at;
            for (qsizetype k = i; k < run; ++k) {
                *to++ = static_cast<char>(text[k].unicode());
            }
            i = run;
            if (i == size) {
                break;
            }
        }
        const char16_t unit = text[i].unicode();
        if (unit >= 0x20 && unit < 0x80) {
            if (unit == '"' || unit == '\\') {
                out.append('\\');
            }
            out.append(static_cast<char>(unit));
        } else if (unit < 0x20) {
            switch (unit) {
            case '\b':
                out.append("\\b", 2);
                break;
            case '\f':
                out.append("\\f", 2);
                break;
            case '\n':
                out.append("\\n", 2);
                break;
            case '\r':
                out.append("\\r", 2);
                break;
            case '\t':
                out.append("\\t", 2);
                break;
            default:
                appendUnicodeEscape(out, unit);
                break;
            }
        } else if (QChar::isHighSurrogate(unit) && i + 1 < size && QChar::isLowSurrogate(text[i + 1].unicode())) {
            appendUtf8(out, QChar::surrogateToUcs4(unit, text[i + 1].unicode()));
            ++i;
        } else if (QChar::isSurrogate(unit) || unit == 0xFEFF) {
            // A lone surrogate has no UTF-8 form; a byte-order mark written raw at the start of a string
            // would be dropped by the reader (QString::fromUtf8), so it is escaped too.
            appendUnicodeEscape(out, unit);
        } else {
            appendUtf8(out, unit);
        }
    }
    out.append('"');
}

void appendScalar(QByteArray &out, const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        out.append("null", 4);
        return;
    case QJsonValue::String:
        appendString(out, value.toString());
        return;
    case QJsonValue::Bool:
        value.toBool() ? out.append("true", 4) : out.append("false", 5);
        return;
    case QJsonValue::Double:
    case QJsonValue::Array:
    case QJsonValue::Object:
        appendValue(out, value);
        return;
    }
}

void appendValue(QByteArray &out, const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Object: {
        const QJsonObject object = value.toObject();
        if (object.isEmpty()) {
            out.append("{}", 2); // replyOk()'s response: no document for it
        } else {
            out.append(QJsonDocument(object).toJson(QJsonDocument::Compact));
        }
        return;
    }
    case QJsonValue::Array: {
        const QJsonArray array = value.toArray();
        if (array.isEmpty()) {
            out.append("[]", 2);
        } else {
            out.append(QJsonDocument(array).toJson(QJsonDocument::Compact));
        }
        return;
    }
    case QJsonValue::Double: {
        // Numbers exactly as QJsonDocument writes them (integers without a fraction, shortest doubles).
        const QByteArray text = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
        out.append(text.constData() + 1, text.size() - 2);
        return;
    }
    case QJsonValue::Null:
    case QJsonValue::Undefined:
    case QJsonValue::String:
    case QJsonValue::Bool:
        appendScalar(out, value);
        return;
    }
}

} // namespace wsserve::jsontext
