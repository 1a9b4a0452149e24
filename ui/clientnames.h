// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "telemetry/clientinfo.h"

#include <QHash>
#include <QString>

namespace wsserve {

// The names clients had as their instances published them (a join's `name`, a presence key), kept after
// a client leaves so the rows of the connection log and the message flow keep naming it. Bounded: past
// `maxNames` it starts again (a name then shows as "client N" until the client is published again).
// Thread: GUI thread; a value.
class ClientNames
{
public:
    explicit ClientNames(qsizetype maxNames)
        : m_max(maxNames)
    {}

    // Learns the names of a published client list; true when one was new or changed.
    bool learn(const ClientList &clients)
    {
        if (m_names.size() > m_max) {
            m_names.clear();
        }
        bool changed = false;
        for (const ClientInfo &client : clients) {
            if (!client.name.isEmpty() && m_names.value(client.id) != client.name) {
                m_names.insert(client.id, client.name);
                changed = true;
            }
        }
        return changed;
    }
    // The name learnt for the client, else `fallback`.
    QString name(quint64 clientId, const QString &fallback = {}) const { return m_names.value(clientId, fallback); }
    void clear() { m_names.clear(); }

private:
    qsizetype m_max;
    QHash<quint64, QString> m_names;
};

} // namespace wsserve
