// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// Internal to the channel engine (channelengine.cpp is its only user).

#include "channelengine.h"

namespace wsserve {

// The ChannelContext of one callback: enforces the table of valid calls in behaviour.h (a call where it is
// not valid is ignored with a warning) and defers pushes made in join until after the join reply.

class ChannelContextImpl final : public ChannelContext
{
public:
    enum class Phase { Join, AfterJoin, Event, Leave };

    ChannelContextImpl(ChannelEngine &engine, EngineClient &client, const QString &topic, Channel &channel, Phase phase,
                       const Ref &ref = Ref())
        : m_engine(engine)
        , m_client(client)
        , m_topic(topic)
        , m_channel(channel)
        , m_phase(phase)
        , m_ref(ref)
    {}

    QString topic() const override { return m_topic; }
    quint64 clientId() const override { return m_client.id; }
    const ConnectInfo &connectInfo() const override { return m_client.info; }
    QVariantMap &assigns() override { return m_channel.assigns; }

    void reply(const QString &status, const Payload &response) override
    {
        if (!allowed("reply", m_phase == Phase::Event)) {
            return;
        }
        if (m_replied) {
            m_engine.m_host.warn(
                QStringLiteral("a second reply to the same message is ignored (topic %1)").arg(m_topic));
            return;
        }
        m_replied = true;
        m_engine.m_host.sendReply(m_client, m_channel.joinRef, m_ref, m_topic, status, response);
    }
    void push(const QString &event, const Payload &payload) override
    {
        if (!allowed("push", m_phase != Phase::Leave)) {
            return;
        }
        if (m_phase == Phase::Join) {
            m_deferred.append({event, payload}); // sent right after the join reply
        } else {
            m_engine.m_host.sendPush(m_client, m_channel.joinRef, m_topic, event, payload);
        }
    }
    void broadcast(const QString &event, const Payload &payload) override
    {
        m_engine.broadcastImpl(m_topic, event, payload, 0);
    }
    void broadcastFrom(const QString &event, const Payload &payload) override
    {
        m_engine.broadcastImpl(m_topic, event, payload, m_client.id);
    }
    void stop() override
    {
        if (allowed("stop", m_phase == Phase::AfterJoin || m_phase == Phase::Event)) {
            m_stopRequested = true;
        }
    }
    void trackPresence(const QString &key, const QJsonObject &meta) override
    {
        if (allowed("trackPresence", m_phase == Phase::AfterJoin || m_phase == Phase::Event)) {
            m_engine.presenceTrack(m_client, m_channel, m_topic, key, meta);
        }
    }
    void updatePresence(const QJsonObject &meta) override
    {
        if (allowed("updatePresence", m_phase == Phase::AfterJoin || m_phase == Phase::Event)) {
            m_engine.presenceUpdate(m_channel, m_topic, meta);
        }
    }
    void untrackPresence() override
    {
        if (allowed("untrackPresence", m_phase == Phase::AfterJoin || m_phase == Phase::Event)) {
            m_engine.presenceUntrack(m_channel, m_topic);
        }
    }
    InstanceContext &instance() override { return m_engine; }

    bool stopRequested() const { return m_stopRequested; }
    void flushDeferred()
    {
        for (const auto &[event, payload] : std::as_const(m_deferred)) {
            m_engine.m_host.sendPush(m_client, m_channel.joinRef, m_topic, event, payload);
        }
        m_deferred.clear();
    }

private:
    bool allowed(const char *call, bool valid)
    {
        if (!valid) {
            m_engine.m_host.warn(QStringLiteral("%1() is not valid in %2 (topic %3); ignored - see behaviour.h")
                                     .arg(QLatin1String(call), phaseName(), m_topic));
        }
        return valid;
    }
    QString phaseName() const
    {
        switch (m_phase) {
        case Phase::Join:
            return QStringLiteral("join");
        case Phase::AfterJoin:
            return QStringLiteral("afterJoin");
        case Phase::Event:
            return QStringLiteral("handleIn");
        case Phase::Leave:
            return QStringLiteral("leave");
        }
        return {};
    }

    ChannelEngine &m_engine;
    EngineClient &m_client;
    QString m_topic;
    Channel &m_channel;
    Phase m_phase;
    Ref m_ref;
    QList<std::pair<QString, Payload>> m_deferred;
    bool m_replied = false;
    bool m_stopRequested = false;
};

} // namespace wsserve
