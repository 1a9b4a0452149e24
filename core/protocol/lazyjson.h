// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QBasicMutex>
#include <QByteArray>
#include <QByteArrayView>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QVariant>

#include <atomic>

namespace wsserve {

// The JSON value of a text payload. Either the server built it (a QJsonValue), or it is the bytes a client
// sent, already validated by the codec and parsed only when someone reads a field: relaying a payload
// (echo, broadcast, history) splices the client's bytes into the outgoing frame and never parses it.
// Reads like a const QJsonValue (`payload.json.toObject()`, `payload.json[u"key"]`, comparisons) and
// converts to one implicitly. Thread: const access from several threads is safe (the first read parses
// under a lock-free check and a small mutex); a copy shares the bytes (QByteArray implicit sharing).
class LazyJson
{
public:
    LazyJson()
        : m_value(QJsonObject{})
        , m_ready(true)
    {}
    LazyJson(const QJsonValue &value)
        : m_value(value)
        , m_ready(true)
    {}
    LazyJson(const QJsonObject &object)
        : LazyJson(QJsonValue(object))
    {}
    LazyJson(const QJsonArray &array)
        : LazyJson(QJsonValue(array))
    {}
    LazyJson(QJsonValue::Type type)
        : LazyJson(QJsonValue(type))
    {}
    // `size` bytes of `buffer` from `offset`: one JSON value the caller has validated (codec::decodeText).
    static LazyJson fromText(const QByteArray &buffer, qsizetype offset, qsizetype size);

    LazyJson(const LazyJson &other);
    LazyJson &operator=(const LazyJson &other);
    ~LazyJson() = default;

    const QJsonValue &value() const
    {
        if (!m_ready.load(std::memory_order_acquire)) {
            parse();
        }
        return m_value;
    }
    operator const QJsonValue &() const { return value(); }

    // The value as the client wrote it, when it came from the wire (empty otherwise).
    bool hasText() const { return m_size > 0; }
    QByteArrayView text() const { return QByteArrayView(m_buffer.constData() + m_offset, m_size); }

    QJsonValue::Type type() const { return value().type(); }
    bool isNull() const { return value().isNull(); }
    bool isBool() const { return value().isBool(); }
    bool isDouble() const { return value().isDouble(); }
    bool isString() const { return value().isString(); }
    bool isArray() const { return value().isArray(); }
    bool isObject() const { return value().isObject(); }
    bool isUndefined() const { return value().isUndefined(); }
    bool toBool(bool defaultValue = false) const { return value().toBool(defaultValue); }
    int toInt(int defaultValue = 0) const { return value().toInt(defaultValue); }
    qint64 toInteger(qint64 defaultValue = 0) const { return value().toInteger(defaultValue); }
    double toDouble(double defaultValue = 0) const { return value().toDouble(defaultValue); }
    QString toString() const { return value().toString(); }
    QJsonArray toArray() const { return value().toArray(); }
    QJsonObject toObject() const { return value().toObject(); }
    QVariant toVariant() const { return value().toVariant(); }
    const QJsonValue operator[](const QString &key) const { return value()[key]; }
    const QJsonValue operator[](QStringView key) const { return value()[key]; }
    const QJsonValue operator[](QLatin1StringView key) const { return value()[key]; }
    const QJsonValue operator[](qsizetype index) const { return value()[index]; }

    friend bool operator==(const LazyJson &a, const LazyJson &b)
    {
        if (a.hasText() && b.hasText() && a.text() == b.text()) {
            return true;
        }
        return a.value() == b.value();
    }
    friend bool operator==(const LazyJson &a, const QJsonValue &b) { return a.value() == b; }

private:
    void parse() const;

    mutable QJsonValue m_value;
    mutable std::atomic<bool> m_ready;
    mutable QBasicMutex m_mutex;
    QByteArray m_buffer; // shares the frame the value was read from
    qsizetype m_offset = 0;
    qsizetype m_size = 0;
};

} // namespace wsserve
