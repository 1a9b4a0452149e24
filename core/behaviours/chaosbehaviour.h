// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instance/behaviour.h"

namespace wsserve {

// `chaos`: a testing aid so supervision can be exercised by any client. Events:
//   crash {}                 the handler throws: only this channel crashes (phx_error, client rejoins)
//   stall {"ms": N}          blocks the instance thread N ms (at most 60000), as a hung server would
//   fail {"reason": "..."}   reports the instance failed: the supervisor restarts it
//   stop {}                  ends the channel gracefully (phx_close, no rejoin)
//   whoami {}                replies with what the server saw at connect: params, auth token, address
//   anything else            echoed back like `echo`
// A join with {"crash": true} makes the join handler throw ("join crashed").
class ChaosBehaviour final : public IBehaviour
{
public:
    JoinResult join(ChannelContext &channel, const QJsonValue &params) override;
    void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) override;
};

} // namespace wsserve
