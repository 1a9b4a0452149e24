// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "presencetracker.h"

#include <QDateTime>
#include <QJsonArray>
#include <QRandomGenerator>

namespace wsserve {

namespace {
const QString kPhxRef = QStringLiteral("phx_ref");
const QString kPhxRefPrev = QStringLiteral("phx_ref_prev");
const QString kMetas = QStringLiteral("metas");

QJsonObject oneMeta(const QString &key, const QJsonObject &meta)
{
    return QJsonObject{{key, QJsonObject{{kMetas, QJsonArray{meta}}}}};
}

QJsonObject diffPayload(const QJsonObject &joins, const QJsonObject &leaves)
{
    return QJsonObject{{QStringLiteral("joins"), joins}, {QStringLiteral("leaves"), leaves}};
}
} // namespace

QString PresenceTracker::nextRef()
{
    // Opaque and unique per track/update; clients only compare equality (protocol 6.1).
    QByteArray raw;
    const quint64 counter = ++m_counter;
    const auto stamp = static_cast<quint64>(QDateTime::currentMSecsSinceEpoch());
    for (int i = 0; i < 6; ++i) {
        raw.append(static_cast<char>((stamp >> (8 * i)) & 0xff));
    }
    for (int i = 0; i < 6; ++i) {
        raw.append(static_cast<char>((counter >> (8 * i)) & 0xff));
    }
    // Per process: refs of two cluster nodes never meet, even tracked in the same millisecond.
    static const quint32 salt = QRandomGenerator::global()->generate();
    for (int i = 0; i < 3; ++i) {
        raw.append(static_cast<char>((salt >> (8 * i)) & 0xff));
    }
    return QString::fromLatin1(raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

QString PresenceTracker::track(const QString &topic, const QString &key, quint64 clientId, QJsonObject meta,
                               QJsonObject *diff)
{
    const QString ref = nextRef();
    meta.insert(kPhxRef, ref);
    m_topics[topic][key].append(Entry{clientId, meta});
    *diff = diffPayload(oneMeta(key, meta), {});
    return ref;
}

QString PresenceTracker::update(const QString &topic, const QString &key, const QString &ref, QJsonObject meta,
                                QJsonObject *diff)
{
    const auto topicEntries = m_topics.find(topic);
    if (topicEntries == m_topics.end()) {
        return {};
    }
    const auto keyEntries = topicEntries->find(key);
    if (keyEntries == topicEntries->end()) {
        return {};
    }
    for (Entry &entry : *keyEntries) {
        if (entry.meta.value(kPhxRef).toString() != ref) {
            continue;
        }
        const QJsonObject old = entry.meta;
        const QString newRef = nextRef();
        meta.insert(kPhxRef, newRef);
        meta.insert(kPhxRefPrev, ref);
        entry.meta = meta;
        *diff = diffPayload(oneMeta(key, meta), oneMeta(key, old));
        return newRef;
    }
    return {};
}

bool PresenceTracker::untrack(const QString &topic, const QString &key, const QString &ref, QJsonObject *diff)
{
    const auto topicEntries = m_topics.find(topic);
    if (topicEntries == m_topics.end()) {
        return false;
    }
    const auto keyEntries = topicEntries->find(key);
    if (keyEntries == topicEntries->end()) {
        return false;
    }
    QJsonObject removed;
    for (qsizetype i = 0; i < keyEntries->size(); ++i) {
        if (keyEntries->at(i).meta.value(kPhxRef).toString() == ref) {
            removed = keyEntries->at(i).meta;
            keyEntries->removeAt(i);
            break;
        }
    }
    if (keyEntries->isEmpty()) {
        topicEntries->erase(keyEntries);
    }
    if (topicEntries->isEmpty()) {
        m_topics.erase(topicEntries);
    }
    if (removed.isEmpty()) {
        return false;
    }
    *diff = diffPayload({}, oneMeta(key, removed));
    return true;
}

QJsonObject PresenceTracker::list(const QString &topic) const
{
    QJsonObject result;
    const auto topicEntries = m_topics.constFind(topic);
    if (topicEntries == m_topics.cend()) {
        return result;
    }
    for (auto it = topicEntries->cbegin(); it != topicEntries->cend(); ++it) {
        QJsonArray metas;
        for (const Entry &entry : it.value()) {
            metas.append(entry.meta);
        }
        result.insert(it.key(), QJsonObject{{kMetas, metas}});
    }
    return result;
}

} // namespace wsserve
