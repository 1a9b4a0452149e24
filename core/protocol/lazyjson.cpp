// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "lazyjson.h"

#include "jsontext.h"

#include <QJsonDocument>
#include <QMutexLocker>

namespace wsserve {

LazyJson LazyJson::fromText(const QByteArray &buffer, qsizetype offset, qsizetype size)
{
    LazyJson json{QJsonValue(QJsonValue::Undefined)};
    json.m_ready.store(false, std::memory_order_relaxed);
    if (const_cast<QByteArray &>(buffer).data_ptr().d_ptr() == nullptr) { // read only: Qt 6.4 has no const data_ptr()
        // QByteArray::fromRawData: the bytes belong to someone else and may go away; keep a copy.
        json.m_buffer = QByteArray(buffer.constData() + offset, size);
        offset = 0;
    } else {
        json.m_buffer = buffer;
    }
    json.m_offset = offset;
    json.m_size = size;
    return json;
}

LazyJson::LazyJson(const LazyJson &other)
    : m_ready(other.m_ready.load(std::memory_order_acquire))
    , m_buffer(other.m_buffer)
    , m_offset(other.m_offset)
    , m_size(other.m_size)
{
    if (m_ready.load(std::memory_order_relaxed)) {
        m_value = other.m_value; // written before `ready` was published: safe to read
    }
}

LazyJson &LazyJson::operator=(const LazyJson &other)
{
    if (this != &other) {
        const bool ready = other.m_ready.load(std::memory_order_acquire);
        m_value = ready ? other.m_value : QJsonValue(QJsonValue::Undefined);
        m_buffer = other.m_buffer;
        m_offset = other.m_offset;
        m_size = other.m_size;
        m_ready.store(ready, std::memory_order_release);
    }
    return *this;
}

void LazyJson::parse() const
{
    QMutexLocker lock(&m_mutex);
    if (m_ready.load(std::memory_order_relaxed)) {
        return;
    }
    const char *data = m_buffer.constData() + m_offset;
    QJsonValue parsed(QJsonValue::Undefined);
    if (m_size > 0 && (*data == '{' || *data == '[')) {
        // The codec validated these bytes with rules at least as strict as QJsonDocument's.
        const QJsonDocument document = QJsonDocument::fromJson(QByteArray::fromRawData(data, m_size));
        parsed = document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array());
    } else if (m_size > 0) {
        jsontext::Reader reader(data, m_size);
        jsontext::Token token;
        if (reader.value(&token) && reader.atEnd()) {
            parsed = jsontext::scalarValue(data, token);
        }
    }
    m_value = parsed;
    m_ready.store(true, std::memory_order_release);
}

} // namespace wsserve
