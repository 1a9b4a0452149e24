// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "scriptbridge.h"

#include "instance/behaviour.h"
#include "instance/instancenotes.h"
#include "logging.h"

#include <QJSEngine>
#include <QJsonArray>

#include <limits>

namespace wsserve::script {

namespace {
constexpr double kMaxSafeInteger = 9007199254740991.0; // 2^53 - 1: client ids beyond it do not exist
} // namespace

ScriptBridge::ScriptBridge(QJSEngine *engine, QString logTag)
    : m_engine(engine)
    , m_logTag(std::move(logTag))
{}

ScriptBridge::Scope::Scope(ScriptBridge &target, ChannelContext *channel, InstanceContext *instance)
    : bridge(target)
    , savedChannel(target.m_channel)
    , savedInstance(target.m_instance)
{
    target.m_channel = channel;
    target.m_instance = instance;
}

ScriptBridge::Scope::~Scope()
{
    bridge.m_channel = savedChannel;
    bridge.m_instance = savedInstance;
}

Payload ScriptBridge::payloadFrom(const QJSValue &value, bool binary) const
{
    if (binary) {
        return Payload::fromBinary(m_engine->fromScriptValue<QByteArray>(value));
    }
    return Payload::fromJson(m_engine->fromScriptValue<QJsonValue>(value));
}

QJSValue ScriptBridge::toScript(const Payload &payload) const
{
    return payload.isBinary ? m_engine->toScriptValue(payload.bytes) : m_engine->toScriptValue(payload.json.value());
}

void ScriptBridge::log(int level, const QString &text) const
{
    static const char *const kNames[] = {"console.log", "console.warn", "console.error"};
    if (auto *notes = dynamic_cast<InstanceNotes *>(m_instance)) {
        notes->note(QStringLiteral("%1: %2").arg(QLatin1String(kNames[qBound(0, level, 2)]), text));
    }
    switch (level) {
    case 2:
        qCCritical(lcInstance).noquote() << m_logTag << "console.error:" << text;
        break;
    case 1:
        qCWarning(lcInstance).noquote() << m_logTag << "console.warn:" << text;
        break;
    default:
        qCInfo(lcInstance).noquote() << m_logTag << "console.log:" << text;
        break;
    }
}

ChannelContext *ScriptBridge::channel(double clientId, const QString &topic, const char *call)
{
    if (m_channel && m_channel->topic() == topic && static_cast<double>(m_channel->clientId()) == clientId) {
        return m_channel;
    }
    m_engine->throwError(QJSValue::TypeError,
                         QStringLiteral("channel.%1() is only valid in a callback for that channel (client %2, %3); "
                                        "from timers or other channels use instance.pushTo()/broadcast()")
                             .arg(QLatin1String(call))
                             .arg(clientId, 0, 'f', 0)
                             .arg(topic));
    return nullptr;
}

InstanceContext *ScriptBridge::instance(const char *call)
{
    if (!m_instance) {
        m_engine->throwError(QJSValue::TypeError,
                             QStringLiteral("instance.%1() is not available here (not in connect, and not while the "
                                            "file loads)")
                                 .arg(QLatin1String(call)));
    }
    return m_instance;
}

QJsonObject ScriptBridge::objectFrom(const QJSValue &value, const char *what)
{
    const QJsonValue json = m_engine->fromScriptValue<QJsonValue>(value);
    if (!json.isObject()) {
        m_engine->throwError(QJSValue::TypeError, QStringLiteral("%1 must be an object").arg(QLatin1String(what)));
        return {};
    }
    return json.toObject();
}

void ScriptBridge::reply(double clientId, const QString &topic, const QString &status, const QJSValue &payload,
                         bool binary)
{
    if (ChannelContext *context = channel(clientId, topic, "reply")) {
        context->reply(status, payloadFrom(payload, binary));
    }
}

void ScriptBridge::push(double clientId, const QString &topic, const QString &event, const QJSValue &payload,
                        bool binary)
{
    if (ChannelContext *context = channel(clientId, topic, "push")) {
        context->push(event, payloadFrom(payload, binary));
    }
}

void ScriptBridge::broadcastFrom(double clientId, const QString &topic, const QString &event, const QJSValue &payload,
                                 bool binary, bool skipSelf)
{
    if (ChannelContext *context = channel(clientId, topic, skipSelf ? "broadcastFrom" : "broadcast")) {
        if (skipSelf) {
            context->broadcastFrom(event, payloadFrom(payload, binary));
        } else {
            context->broadcast(event, payloadFrom(payload, binary));
        }
    }
}

void ScriptBridge::stop(double clientId, const QString &topic)
{
    if (ChannelContext *context = channel(clientId, topic, "stop")) {
        context->stop();
    }
}

void ScriptBridge::trackPresence(double clientId, const QString &topic, const QString &key, const QJSValue &meta)
{
    if (ChannelContext *context = channel(clientId, topic, "trackPresence")) {
        const QJsonObject object = objectFrom(meta, "presence meta");
        if (!m_engine->hasError()) {
            context->trackPresence(key, object);
        }
    }
}

void ScriptBridge::updatePresence(double clientId, const QString &topic, const QJSValue &meta)
{
    if (ChannelContext *context = channel(clientId, topic, "updatePresence")) {
        const QJsonObject object = objectFrom(meta, "presence meta");
        if (!m_engine->hasError()) {
            context->updatePresence(object);
        }
    }
}

void ScriptBridge::untrackPresence(double clientId, const QString &topic)
{
    if (ChannelContext *context = channel(clientId, topic, "untrackPresence")) {
        context->untrackPresence();
    }
}

void ScriptBridge::broadcast(const QString &topic, const QString &event, const QJSValue &payload, bool binary)
{
    if (InstanceContext *context = instance("broadcast")) {
        context->broadcast(topic, event, payloadFrom(payload, binary));
    }
}

bool ScriptBridge::pushTo(double clientId, const QString &topic, const QString &event, const QJSValue &payload,
                          bool binary)
{
    InstanceContext *context = instance("pushTo");
    if (!context || !(clientId >= 1 && clientId <= kMaxSafeInteger)) {
        return false;
    }
    return context->pushTo(static_cast<quint64>(clientId), topic, event, payloadFrom(payload, binary));
}

void ScriptBridge::kick(double clientId, const QString &reason)
{
    if (InstanceContext *context = instance("kick"); context && clientId >= 1 && clientId <= kMaxSafeInteger) {
        context->kick(static_cast<quint64>(clientId), reason);
    }
}

QJSValue ScriptBridge::members(const QString &topic)
{
    InstanceContext *context = instance("members");
    if (!context) {
        return {};
    }
    const QList<Member> members = context->members(topic);
    QJSValue list = m_engine->newArray(static_cast<uint>(members.size()));
    for (qsizetype i = 0; i < members.size(); ++i) {
        list.setProperty(static_cast<quint32>(i), static_cast<double>(members[i].clientId));
    }
    return list;
}

QJSValue ScriptBridge::presenceList(const QString &topic)
{
    InstanceContext *context = instance("presenceList");
    return context ? m_engine->toScriptValue(QJsonValue(context->presenceList(topic))) : QJSValue();
}

double ScriptBridge::startTimer(double ms, const QString &topic, bool repeat)
{
    InstanceContext *context = instance(repeat ? "every" : "after");
    if (!context) {
        return 0;
    }
    if (!(ms >= 0 && ms <= std::numeric_limits<int>::max())) {
        m_engine->throwError(QJSValue::RangeError,
                             QStringLiteral("timer delay must be 0 to 2147483647 ms (got %1)").arg(ms));
        return 0;
    }
    // The id is only known once the timer exists; the callback reads it back from this shared slot.
    auto id = std::make_shared<TimerId>(0);
    TimerCallback fire = [this, id](InstanceContext &instance) {
        if (m_onTimer) {
            m_onTimer(instance, *id);
        }
    };
    const int delay = static_cast<int>(ms);
    *id = repeat ? context->every(delay, std::move(fire), topic) : context->after(delay, std::move(fire), topic);
    return static_cast<double>(*id);
}

bool ScriptBridge::cancelTimer(double timerId)
{
    InstanceContext *context = instance("cancelTimer");
    return context && timerId >= 1 && timerId <= kMaxSafeInteger && context->cancelTimer(static_cast<quint64>(timerId));
}

QJSValue ScriptBridge::storageGet(const QString &key)
{
    InstanceContext *context = instance("storage.get");
    if (!context) {
        return {};
    }
    const QJsonValue value = context->storage().value(key);
    return value.isUndefined() ? QJSValue(QJSValue::UndefinedValue) : m_engine->toScriptValue(value);
}

bool ScriptBridge::storageSet(const QString &key, const QJSValue &value)
{
    InstanceContext *context = instance("storage.set");
    return context && context->storage().setValue(key, m_engine->fromScriptValue<QJsonValue>(value));
}

bool ScriptBridge::storageRemove(const QString &key)
{
    InstanceContext *context = instance("storage.remove");
    return context && context->storage().remove(key);
}

QJSValue ScriptBridge::storageKeys()
{
    InstanceContext *context = instance("storage.keys");
    return context ? m_engine->toScriptValue(context->storage().keys()) : QJSValue();
}

} // namespace wsserve::script
