// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "remotepresence.h"

#include <QSet>

namespace wsserve {

namespace {
const QString kMetas = QStringLiteral("metas");
const QString kPhxRef = QStringLiteral("phx_ref");

QString refOf(const QJsonValue &meta)
{
    return meta.toObject().value(kPhxRef).toString();
}

// Metas of `from` whose phx_ref is not among `other`'s, as a {key: {metas}} object.
QJsonObject missingFrom(const QHash<QString, QJsonArray> &from, const QHash<QString, QJsonArray> &other)
{
    QJsonObject out;
    for (auto it = from.cbegin(); it != from.cend(); ++it) {
        QSet<QString> refs;
        for (const QJsonValue &meta : other.value(it.key())) {
            refs.insert(refOf(meta));
        }
        QJsonArray metas;
        for (const QJsonValue &meta : it.value()) {
            if (!refs.contains(refOf(meta))) {
                metas.append(meta);
            }
        }
        if (!metas.isEmpty()) {
            out.insert(it.key(), QJsonObject{{kMetas, metas}});
        }
    }
    return out;
}
} // namespace

void RemotePresence::applyDiff(const QString &node, const QString &topic, const QJsonObject &diff)
{
    Keys &keys = m_nodes[node][topic];
    const QJsonObject leaves = diff.value(QStringLiteral("leaves")).toObject();
    for (auto it = leaves.constBegin(); it != leaves.constEnd(); ++it) {
        const auto entry = keys.find(it.key());
        if (entry == keys.end()) {
            continue;
        }
        QSet<QString> gone;
        for (const QJsonValue &meta : it.value().toObject().value(kMetas).toArray()) {
            gone.insert(refOf(meta));
        }
        QJsonArray kept;
        for (const QJsonValue &meta : std::as_const(*entry)) {
            if (!gone.contains(refOf(meta))) {
                kept.append(meta);
            }
        }
        if (kept.isEmpty()) {
            keys.erase(entry);
        } else {
            *entry = kept;
        }
    }
    const QJsonObject joins = diff.value(QStringLiteral("joins")).toObject();
    for (auto it = joins.constBegin(); it != joins.constEnd(); ++it) {
        QJsonArray &metas = keys[it.key()];
        for (const QJsonValue &meta : it.value().toObject().value(kMetas).toArray()) {
            metas.append(meta);
        }
    }
    if (keys.isEmpty()) {
        m_nodes[node].remove(topic);
        if (m_nodes[node].isEmpty()) {
            m_nodes.remove(node);
        }
    }
}

QHash<QString, QJsonObject> RemotePresence::replace(const QString &node, const QJsonObject &topics)
{
    QHash<QString, Keys> fresh;
    for (auto topic = topics.constBegin(); topic != topics.constEnd(); ++topic) {
        const QJsonObject list = topic.value().toObject();
        Keys keys;
        for (auto key = list.constBegin(); key != list.constEnd(); ++key) {
            const QJsonArray metas = key.value().toObject().value(kMetas).toArray();
            if (!metas.isEmpty()) {
                keys.insert(key.key(), metas);
            }
        }
        if (!keys.isEmpty()) {
            fresh.insert(topic.key(), keys);
        }
    }
    const QHash<QString, Keys> old = m_nodes.value(node);
    QSet<QString> names;
    for (auto it = old.cbegin(); it != old.cend(); ++it) {
        names.insert(it.key());
    }
    for (auto it = fresh.cbegin(); it != fresh.cend(); ++it) {
        names.insert(it.key());
    }
    QHash<QString, QJsonObject> diffs;
    for (const QString &topic : std::as_const(names)) {
        const Keys before = old.value(topic);
        const Keys after = fresh.value(topic);
        const QJsonObject joins = missingFrom(after, before);
        const QJsonObject leaves = missingFrom(before, after);
        if (!joins.isEmpty() || !leaves.isEmpty()) {
            diffs.insert(topic, QJsonObject{{QStringLiteral("joins"), joins}, {QStringLiteral("leaves"), leaves}});
        }
    }
    if (fresh.isEmpty()) {
        m_nodes.remove(node);
    } else {
        m_nodes.insert(node, fresh);
    }
    return diffs;
}

void RemotePresence::mergeInto(const QString &topic, QJsonObject *list) const
{
    for (auto node = m_nodes.cbegin(); node != m_nodes.cend(); ++node) {
        const auto keys = node->constFind(topic);
        if (keys == node->cend()) {
            continue;
        }
        for (auto key = keys->cbegin(); key != keys->cend(); ++key) {
            QJsonObject entry = list->value(key.key()).toObject();
            QJsonArray metas = entry.value(kMetas).toArray();
            for (const QJsonValue &meta : key.value()) {
                metas.append(meta);
            }
            entry.insert(kMetas, metas);
            list->insert(key.key(), entry);
        }
    }
}

} // namespace wsserve
