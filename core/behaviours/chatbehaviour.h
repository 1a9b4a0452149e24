// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instance/behaviour.h"

namespace wsserve {

// `chat` and `relay`: any topic. Join params may carry `name` (the presence key; else a generated client
// id). With presence on, `presence_state` is pushed after every join and `presence_diff` broadcast on
// joins, leaves and `presence_update` events. Chat broadcasts every other event to all members and
// replies ok; relay sends it to every member except the sender (binary payloads included).
class ChatBehaviour final : public IBehaviour
{
public:
    enum class Mode { Invalid = 0, Chat, Relay };
    ChatBehaviour(Mode mode, bool presence);

    JoinResult join(ChannelContext &channel, const QJsonValue &params) override;
    void afterJoin(ChannelContext &channel) override;
    void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) override;

private:
    Mode m_mode = Mode::Chat;
    bool m_presence = true;
};

} // namespace wsserve
