// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "protocol/message.h"

#include <QJSValue>
#include <QObject>
#include <QString>

#include <functional>

class QJSEngine;

namespace wsserve {
class ChannelContext;
class InstanceContext;
} // namespace wsserve

namespace wsserve::script {

// The native side of the prelude's `native` argument: the SDK calls a script makes, forwarded to the
// contexts of the callback that is running. Never reachable from a type's code (the prelude keeps it in
// a closure). A channel call for another channel than the running callback's, or an instance call where
// there is no instance (connect, file load), throws a TypeError saying so.
// Thread: the engine's thread.
class ScriptBridge final : public QObject
{
    Q_OBJECT

public:
    ScriptBridge(QJSEngine *engine, QString logTag);

    // Set for the duration of a callback (saved and restored around nested ones).
    struct Scope {
        Scope(ScriptBridge &target, ChannelContext *channel, InstanceContext *instance);
        ~Scope();
        Scope(const Scope &) = delete;
        Scope &operator=(const Scope &) = delete;
        ScriptBridge &bridge;
        ChannelContext *savedChannel;
        InstanceContext *savedInstance;
    };

    // Called back by the instance when a timer started from the script is due.
    using TimerFire = std::function<void(InstanceContext &, quint64 timerId)>;
    void setTimerHandler(TimerFire handler) { m_onTimer = std::move(handler); }

    Payload payloadFrom(const QJSValue &value, bool binary) const;
    QJSValue toScript(const Payload &payload) const;

    Q_INVOKABLE void log(int level, const QString &text) const;
    Q_INVOKABLE void reply(double clientId, const QString &topic, const QString &status, const QJSValue &payload,
                           bool binary);
    Q_INVOKABLE void push(double clientId, const QString &topic, const QString &event, const QJSValue &payload,
                          bool binary);
    Q_INVOKABLE void broadcastFrom(double clientId, const QString &topic, const QString &event, const QJSValue &payload,
                                   bool binary, bool skipSelf);
    Q_INVOKABLE void stop(double clientId, const QString &topic);
    Q_INVOKABLE void trackPresence(double clientId, const QString &topic, const QString &key, const QJSValue &meta);
    Q_INVOKABLE void updatePresence(double clientId, const QString &topic, const QJSValue &meta);
    Q_INVOKABLE void untrackPresence(double clientId, const QString &topic);

    Q_INVOKABLE void broadcast(const QString &topic, const QString &event, const QJSValue &payload, bool binary);
    Q_INVOKABLE bool pushTo(double clientId, const QString &topic, const QString &event, const QJSValue &payload,
                            bool binary);
    Q_INVOKABLE void kick(double clientId, const QString &reason);
    Q_INVOKABLE QJSValue members(const QString &topic);
    Q_INVOKABLE QJSValue presenceList(const QString &topic);
    Q_INVOKABLE double startTimer(double ms, const QString &topic, bool repeat);
    Q_INVOKABLE bool cancelTimer(double timerId);

private:
    ChannelContext *channel(double clientId, const QString &topic, const char *call);
    InstanceContext *instance(const char *call);
    QJsonObject objectFrom(const QJSValue &value, const char *what);

    QJSEngine *m_engine;
    QString m_logTag;
    ChannelContext *m_channel = nullptr;
    InstanceContext *m_instance = nullptr;
    TimerFire m_onTimer;
};

} // namespace wsserve::script
