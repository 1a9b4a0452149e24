// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instance/behaviour.h"

namespace wsserve {

// `chat` and `relay`: any topic. Join params may carry `name` (the presence key; else a generated client
// id). With presence on, `presence_state` is pushed after every join and `presence_diff` broadcast on
// joins, leaves and `presence_update` events. `presence` is read from the instance's options at each
// join and event, so a live change (Properties, PATCH) applies to the joins that follow. Chat broadcasts every other
// event to all members and replies ok; relay sends it to every member except the sender (binary payloads included).
class ChatBehaviour final : public IBehaviour
{
public:
    enum class Mode { Invalid = 0, Chat, Relay };
    explicit ChatBehaviour(Mode mode);

    JoinResult join(ChannelContext &channel, const QJsonValue &params) override;
    void afterJoin(ChannelContext &channel) override;
    void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) override;

private:
    static bool presenceOn(ChannelContext &channel);

    Mode m_mode = Mode::Chat;
};

} // namespace wsserve
