// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QList>
#include <QMutex>
#include <QString>

#include <optional>

namespace wsserve::web {

// What the pages show of one instance.
struct SiteInstance {
    QString id;
    QString type;
    QString state; // "running", "stopped", ... (instanceStateName)
    int clients = 0;
    QString webRoot; // the instance's web_root option (empty: none)
};

// The instances as the pages see them: written by the controller (main thread) when instances come, go,
// change state or publish stats; read by the page server on the endpoint thread.
// Thread: any; a mutex around a small list.
class SiteDirectory
{
public:
    void setHostName(const QString &name);
    QString hostName() const;
    void upsert(const SiteInstance &instance); // by id; keeps the order of first insertion
    void setState(const QString &id, const QString &state);
    void setClients(const QString &id, int clients);
    void remove(const QString &id);
    QList<SiteInstance> instances() const;
    std::optional<SiteInstance> find(const QString &id) const;
    // Bumped on every change that alters instances(): the index's ETag.
    quint64 revision() const;

private:
    mutable QMutex m_lock;
    QString m_hostName;
    QList<SiteInstance> m_instances;
    quint64 m_revision = 0;
};

} // namespace wsserve::web
