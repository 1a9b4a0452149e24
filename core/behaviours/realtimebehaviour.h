// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instance/behaviour.h"

namespace wsserve {

// Supabase Realtime broadcast and presence on topics realtime:<name>, so @supabase/realtime-js clients
// work unchanged (../shared/docs/supabase-realtime.md). Broadcasts arrive as binary kind 3 frames (or the
// JSON `broadcast` push) and leave as kind 4 (or the JSON form), their payload bytes relayed verbatim;
// the join config picks `self` and `ack`; presence is `track`/`untrack` with `presence_state` and
// `presence_diff`. Never sends Phoenix binary kinds 0/1/2 (realtime-js cannot decode them).
// The REST fallback (POST /socket/<id>/api/broadcast) is httpBroadcast(). Thread: the instance thread.
class RealtimeBehaviour final : public IBehaviour
{
public:
    static constexpr QStringView kTopicPrefix = u"realtime:";

    bool acceptsUserBroadcasts() const override { return true; }
    bool matchesTopic(const QString &topic) const override { return topic.startsWith(kTopicPrefix); }
    JoinResult join(ChannelContext &channel, const QJsonValue &params) override;
    void afterJoin(ChannelContext &channel) override;
    void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) override;
    HttpAnswer handleHttp(InstanceContext &instance, const HttpCall &call) override;

private:
    void broadcastIn(ChannelContext &channel, const Payload &payload);
    void presenceIn(ChannelContext &channel, const QJsonObject &message);
    void pushPresenceState(ChannelContext &channel);
};

} // namespace wsserve
