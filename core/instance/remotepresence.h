// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QHash>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>

namespace wsserve {

// What the other nodes of a cluster track for one instance (docs/design-notes.md "Cluster"): per node,
// per topic, per presence key, the metas that node's presence_diffs and state snapshots announced. Plain
// data, no I/O; the channel engine merges it into presenceList() and fans the diffs it returns out to
// the local members only. Thread: the instance thread.
class RemotePresence
{
public:
    // A presence_diff {"joins": {...}, "leaves": {...}} broadcast by `node` on `topic`.
    void applyDiff(const QString &node, const QString &topic, const QJsonObject &diff);
    // A node's full state {topic: {key: {metas: [...]}}} replaces what was known of it. Returns, per
    // topic, the presence_diff that turns the old view into the new one (topics without change absent).
    QHash<QString, QJsonObject> replace(const QString &node, const QJsonObject &topics);
    // The node is gone: the leaves diff of each of its topics.
    QHash<QString, QJsonObject> dropNode(const QString &node) { return replace(node, {}); }
    // Adds the other nodes' entries of `topic` to a {key: {metas: [...]}} list.
    void mergeInto(const QString &topic, QJsonObject *list) const;
    qsizetype nodeCount() const { return m_nodes.size(); }

private:
    using Keys = QHash<QString, QJsonArray>;      // key -> metas
    QHash<QString, QHash<QString, Keys>> m_nodes; // node -> topic -> keys
};

} // namespace wsserve
