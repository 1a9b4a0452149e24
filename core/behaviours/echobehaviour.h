// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instance/behaviour.h"

namespace wsserve {

// `echo`: any topic; every pushed event is answered `ok` with the same payload (binary in, binary out).
class EchoBehaviour final : public IBehaviour
{
public:
    JoinResult join(ChannelContext &, const QJsonValue &) override { return JoinResult::accept(); }
    void handleIn(ChannelContext &channel, const QString &, const Payload &payload) override
    {
        channel.replyOk(payload);
    }
};

} // namespace wsserve
