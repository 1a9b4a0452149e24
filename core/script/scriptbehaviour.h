// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instance/behaviour.h"
#include "scriptengine.h"

#include <QElapsedTimer>

#include <memory>

namespace wsserve::script {

// An instance type written in JavaScript: every IBehaviour callback calls the runtime of its own engine
// (one per instance, in the instance thread). A script that throws or runs past script_timeout_ms
// throws a ScriptException here, so the instance treats it exactly like a C++ callback that threw. A heap
// over script_memory_mb after a collection fails the instance with that reason.
class ScriptBehaviour final : public IBehaviour
{
public:
    // Throws ScriptException when the file does not load in this engine.
    ScriptBehaviour(std::shared_ptr<const ScriptFile> file, const InstanceConfig &config);
    ~ScriptBehaviour() override;

    void instanceStarted(InstanceContext &instance) override;
    std::optional<QString> connect(const ConnectInfo &info) override;
    bool matchesTopic(const QString &topic) const override;
    JoinResult join(ChannelContext &channel, const QJsonValue &params) override;
    void topicStarted(InstanceContext &instance, const QString &topic) override;
    void afterJoin(ChannelContext &channel) override;
    void handleIn(ChannelContext &channel, const QString &event, const Payload &payload) override;
    void leave(ChannelContext &channel, LeaveReason reason) override;
    void topicEmpty(InstanceContext &instance, const QString &topic) override;

private:
    QJSValue call(const QJSValue &fn, const QJSValueList &args, const char *callback, ChannelContext *channel,
                  InstanceContext *instance);
    QJSValue connectInfoValue(const ConnectInfo &info);
    // The C++ view of channel.assigns (InstanceContext::members, the window's client list), taken after
    // join and afterJoin: where types put who a channel is. Changes made later stay in the script.
    void mirrorAssigns(ChannelContext &channel, const QJSValue &assigns);
    void checkHeap(InstanceContext *instance, bool now);

    std::shared_ptr<const ScriptFile> m_file;
    InstanceConfig m_config;
    std::unique_ptr<ScriptEngine> m_engine;
    QJSValue m_instanceStarted, m_connect, m_matchesTopic, m_join, m_topicStarted, m_afterJoin, m_handleIn, m_leave,
        m_topicEmpty, m_fireTimer;
    qint64 m_heapLimitBytes = 0;
    QElapsedTimer m_sinceHeapCheck;
    bool m_heapFailed = false;
};

} // namespace wsserve::script
