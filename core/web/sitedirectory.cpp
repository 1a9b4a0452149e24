// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "sitedirectory.h"

#include <QMutexLocker>

#include <algorithm>

namespace wsserve::web {

void SiteDirectory::setHostName(const QString &name)
{
    const QMutexLocker lock(&m_lock);
    m_hostName = name;
    ++m_revision;
}

QString SiteDirectory::hostName() const
{
    const QMutexLocker lock(&m_lock);
    return m_hostName;
}

void SiteDirectory::upsert(const SiteInstance &instance)
{
    const QMutexLocker lock(&m_lock);
    ++m_revision;
    for (SiteInstance &existing : m_instances) {
        if (existing.id == instance.id) {
            existing = instance;
            return;
        }
    }
    m_instances.append(instance);
}

void SiteDirectory::setState(const QString &id, const QString &state)
{
    const QMutexLocker lock(&m_lock);
    for (SiteInstance &existing : m_instances) {
        if (existing.id == id && existing.state != state) {
            existing.state = state;
            ++m_revision;
        }
    }
}

void SiteDirectory::setClients(const QString &id, int clients)
{
    const QMutexLocker lock(&m_lock);
    for (SiteInstance &existing : m_instances) {
        if (existing.id == id && existing.clients != clients) {
            existing.clients = clients;
            ++m_revision;
        }
    }
}

void SiteDirectory::remove(const QString &id)
{
    const QMutexLocker lock(&m_lock);
    const auto removed = m_instances.removeIf([&id](const SiteInstance &i) { return i.id == id; });
    m_revision += removed > 0 ? 1 : 0;
}

QList<SiteInstance> SiteDirectory::instances() const
{
    const QMutexLocker lock(&m_lock);
    return m_instances;
}

std::optional<SiteInstance> SiteDirectory::find(const QString &id) const
{
    const QMutexLocker lock(&m_lock);
    const auto it =
        std::find_if(m_instances.cbegin(), m_instances.cend(), [&id](const SiteInstance &i) { return i.id == id; });
    if (it == m_instances.cend()) {
        return std::nullopt;
    }
    return *it;
}

quint64 SiteDirectory::revision() const
{
    const QMutexLocker lock(&m_lock);
    return m_revision;
}

} // namespace wsserve::web
