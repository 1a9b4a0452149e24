// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>

namespace wsserve {

// Phoenix Presence for one instance, without any I/O: per topic, presence keys with one entry (meta)
// per tracking channel, in tracking order. Every change returns the `presence_diff` payload to
// broadcast ({"joins": {...}, "leaves": {...}}); refs (`phx_ref`) are opaque and unique per track or
// update (protocol 6.1), and an update carries `phx_ref_prev`.
// Thread: any; not thread-safe (one instance thread uses it).
class PresenceTracker
{
public:
    // Adds an entry for `key` on `topic`. Returns its ref; *diff is the joins diff.
    QString track(const QString &topic, const QString &key, quint64 clientId, QJsonObject meta, QJsonObject *diff);
    // Replaces the meta of the entry with `ref`. Returns the new ref (empty when there is no such entry);
    // *diff has the new meta in joins and the old one in leaves.
    QString update(const QString &topic, const QString &key, const QString &ref, QJsonObject meta, QJsonObject *diff);
    // Removes the entry with `ref`. False when there was none; *diff is the leaves diff.
    bool untrack(const QString &topic, const QString &key, const QString &ref, QJsonObject *diff);
    // {key: {metas: [...]}} of a topic (empty when nobody is tracked there).
    QJsonObject list(const QString &topic) const;
    qsizetype topicCount() const { return m_topics.size(); }
    QStringList topics() const { return m_topics.keys(); }

private:
    struct Entry {
        quint64 clientId = 0;
        QJsonObject meta; // phx_ref included
    };
    QString nextRef();

    QHash<QString, QHash<QString, QList<Entry>>> m_topics;
    quint64 m_counter = 0;
};

} // namespace wsserve
