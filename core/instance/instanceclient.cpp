// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instanceclient.h"

namespace wsserve {

std::optional<ClientList> ClientSnapshotBuilder::advance(const ClientSet &clients, int budget)
{
    auto it = clients.from(m_cursor);
    for (; it != clients.end() && budget > 0; ++it, --budget) {
        const InstanceClient *client = it->second;
        ClientInfo info;
        info.id = client->id;
        info.name = client->name;
        info.remoteAddress = client->info.remoteAddress;
        info.connectedAtMs = client->connectedAtMs;
        info.format = client->info.format;
        info.longPoll = client->longPoll != nullptr;
        info.transport = info.longPoll ? QStringLiteral("longpoll") : QStringLiteral("websocket");
        info.topics = client->channels.topics();
        info.topics.sort();
        info.messagesIn = client->messagesIn;
        info.messagesOut = client->messagesOut;
        info.bytesIn = client->bytesIn;
        info.bytesOut = client->bytesOut;
        m_list.append(std::move(info));
        m_cursor = client->id + 1;
    }
    if (it != clients.end()) {
        return std::nullopt;
    }
    m_active = false;
    return std::exchange(m_list, ClientList());
}

} // namespace wsserve
