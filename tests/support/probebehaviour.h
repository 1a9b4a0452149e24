// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// A configurable instance type for the SDK's unit tests: every callback is logged in order and may run a
// hook the test sets (before or after the harness is built: the behaviour shares the hooks).
//
//   auto hooks = std::make_shared<ProbeHooks>();
//   hooks->afterJoin = [](ChannelContext &channel) { channel.push(u"hello"_s, {}); };
//   BehaviourHarness harness(probeType(hooks));

#include "instance/behaviour.h"
#include "instance/behaviourregistry.h"

#include <QStringList>

#include <functional>
#include <memory>

namespace wsserve::test {

struct ProbeHooks {
    std::function<void(InstanceContext &)> instanceStarted;
    std::function<JoinResult(ChannelContext &, const QJsonValue &)> join; // default: accept
    std::function<void(InstanceContext &, const QString &)> topicStarted;
    std::function<void(ChannelContext &)> afterJoin;
    std::function<void(ChannelContext &, const QString &, const Payload &)> handleIn; // default: replyOk(payload)
    std::function<void(ChannelContext &, LeaveReason)> leave;
    std::function<void(InstanceContext &, const QString &)> topicEmpty;
    // "instanceStarted", "join room 1", "topicStarted room", "afterJoin room 1", "handleIn room 1 ev",
    // "leave room 1 Left", "topicEmpty room"
    QStringList log;
};

inline QString leaveReasonName(LeaveReason reason)
{
    switch (reason) {
    case LeaveReason::Left:
        return QStringLiteral("Left");
    case LeaveReason::DuplicateJoin:
        return QStringLiteral("DuplicateJoin");
    case LeaveReason::Stopped:
        return QStringLiteral("Stopped");
    case LeaveReason::Crashed:
        return QStringLiteral("Crashed");
    case LeaveReason::Disconnected:
        return QStringLiteral("Disconnected");
    case LeaveReason::Shutdown:
        return QStringLiteral("Shutdown");
    case LeaveReason::Invalid:
        break;
    }
    return QStringLiteral("Invalid");
}

class ProbeBehaviour final : public IBehaviour
{
public:
    explicit ProbeBehaviour(std::shared_ptr<ProbeHooks> hooks)
        : m_hooks(std::move(hooks))
    {}

    void instanceStarted(InstanceContext &instance) override
    {
        m_hooks->log.append(QStringLiteral("instanceStarted"));
        if (m_hooks->instanceStarted) {
            m_hooks->instanceStarted(instance);
        }
    }
    JoinResult join(ChannelContext &channel, const QJsonValue &params) override
    {
        m_hooks->log.append(QStringLiteral("join %1 %2").arg(channel.topic()).arg(channel.clientId()));
        return m_hooks->join ? m_hooks->join(channel, params) : JoinResult::accept();
    }
    void topicStarted(InstanceContext &instance, const QString &topic) override
    {
        m_hooks->log.append(QStringLiteral("topicStarted %1").arg(topic));
        if (m_hooks->topicStarted) {
            m_hooks->topicStarted(instance, topic);
        }
    }
    void afterJoin(ChannelContext &channel) override
    {
        m_hooks->log.append(QStringLiteral("afterJoin %1 %2").arg(channel.topic()).arg(channel.clientId()));
        if (m_hooks->afterJoin) {
            m_hooks->afterJoin(channel);
        }
    }
    void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) override
    {
        m_hooks->log.append(
            QStringLiteral("handleIn %1 %2 %3").arg(channel.topic()).arg(channel.clientId()).arg(event));
        if (m_hooks->handleIn) {
            m_hooks->handleIn(channel, event, payload);
        } else {
            channel.replyOk(payload);
        }
    }
    void leave(ChannelContext &channel, LeaveReason reason) override
    {
        m_hooks->log.append(
            QStringLiteral("leave %1 %2 %3").arg(channel.topic()).arg(channel.clientId()).arg(leaveReasonName(reason)));
        if (m_hooks->leave) {
            m_hooks->leave(channel, reason);
        }
    }
    void topicEmpty(InstanceContext &instance, const QString &topic) override
    {
        m_hooks->log.append(QStringLiteral("topicEmpty %1").arg(topic));
        if (m_hooks->topicEmpty) {
            m_hooks->topicEmpty(instance, topic);
        }
    }

private:
    std::shared_ptr<ProbeHooks> m_hooks;
};

inline BehaviourType probeType(const std::shared_ptr<ProbeHooks> &hooks, const QList<OptionSpec> &options = {})
{
    return BehaviourType{QStringLiteral("probe"), QStringLiteral("SDK test type"), options,
                         [hooks](const InstanceConfig &) {
                             return std::make_unique<ProbeBehaviour>(hooks);
                         }};
}

} // namespace wsserve::test
