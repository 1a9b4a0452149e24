// A classroom buzzer: on a topic "buzzer:<room>" the first `buzz` of a round wins it, everyone in the
// room hears who, and the round opens again by itself after `round_ms`.
#pragma once

#include "instance/behaviourregistry.h"

using namespace Qt::StringLiterals;

class BuzzerBehaviour final : public wsserve::IBehaviour
{
public:
    explicit BuzzerBehaviour(int roundMs)
        : m_roundMs(roundMs)
    {}

    bool matchesTopic(const QString &topic) const override { return topic.startsWith(u"buzzer:"); }
    wsserve::JoinResult join(wsserve::ChannelContext &, const QJsonValue &) override { return {}; }
    void handleIn(wsserve::ChannelContext &channel, const QString &event, const wsserve::Payload &) override
    {
        const QString room = channel.topic();
        if (event != u"buzz") {
            return channel.replyError(u"unknown event '%1'"_s.arg(event));
        }
        channel.replyOk(QJsonObject{{u"first"_s, !m_winners.contains(room)}});
        if (m_winners.contains(room)) {
            return;
        }
        m_winners.insert(room, channel.clientId());
        channel.broadcast(u"winner"_s,
                          wsserve::Payload::fromJson(QJsonObject{{u"client_id"_s, qint64(channel.clientId())}}));
        channel.instance().after(
            m_roundMs,
            [this, room](wsserve::InstanceContext &instance) {
                m_winners.remove(room);
                instance.broadcast(room, u"open"_s, wsserve::Payload::fromJson(QJsonObject{}));
            },
            room); // a room timer: cancelled if everyone leaves
    }
    void topicEmpty(wsserve::InstanceContext &, const QString &room) override { m_winners.remove(room); }

private:
    int m_roundMs;
    QHash<QString, quint64> m_winners; // room -> who won the current round
};

inline wsserve::BehaviourType buzzerType()
{
    return {.name = u"buzzer"_s,
            .description = u"First buzz of a round wins; the round opens again after round_ms"_s,
            .options = {{.name = u"round_ms"_s,
                         .kind = wsserve::OptionSpec::Kind::Int,
                         .defaultValue = 5000,
                         .description = u"how long a won round stays closed"_s,
                         .minimum = 100,
                         .maximum = 600000}},
            .create = [](const wsserve::InstanceConfig &config) {
                return std::make_unique<BuzzerBehaviour>(int(config.intOption(u"round_ms"_s)));
            }};
}
