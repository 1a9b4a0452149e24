// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "scriptbehaviour.h"

#include "instance/faultinjection.h"
#include "logging.h"
#include "scriptbridge.h"

namespace wsserve::script {

namespace {
// Heap measurements walk the engine's chunks (about 1 ms at 200 MiB), so they run at most this often, and
// at once after a callback that failed (an interrupted runaway may have grown the heap).
constexpr qint64 kHeapCheckIntervalNs = 100LL * 1000 * 1000;
constexpr qint64 kMiB = 1024 * 1024;

QString logTagFor(const InstanceConfig &config)
{
    return QStringLiteral("[%1] %2:").arg(config.id, config.type);
}
} // namespace

ScriptBehaviour::ScriptBehaviour(std::shared_ptr<const ScriptFile> file, const InstanceConfig &config)
    : m_file(std::move(file))
    , m_config(config)
    , m_engine(std::make_unique<ScriptEngine>(logTagFor(config),
                                              static_cast<int>(config.intOption(options::kScriptTimeoutMs))))
    , m_heapLimitBytes(config.intOption(options::kScriptMemoryMb) * kMiB)
{
    m_sinceHeapCheck.start();
    ScriptFile loaded = *m_file;
    if (!m_engine->load(&loaded)) {
        throw ScriptException(loaded.error.toStdString());
    }
    m_instanceStarted = m_engine->runtimeFunction("instanceStarted");
    m_connect = m_engine->runtimeFunction("connect");
    m_matchesTopic = m_engine->runtimeFunction("matchesTopic");
    m_join = m_engine->runtimeFunction("join");
    m_topicStarted = m_engine->runtimeFunction("topicStarted");
    m_afterJoin = m_engine->runtimeFunction("afterJoin");
    m_handleIn = m_engine->runtimeFunction("handleIn");
    m_leave = m_engine->runtimeFunction("leave");
    m_topicEmpty = m_engine->runtimeFunction("topicEmpty");
    m_fireTimer = m_engine->runtimeFunction("fireTimer");
    m_engine->bridge().setTimerHandler([this](InstanceContext &instance, quint64 timerId) {
        call(m_fireTimer, {static_cast<double>(timerId)}, "a timer callback", nullptr, &instance);
    });
}

ScriptBehaviour::~ScriptBehaviour() = default;

QJSValue ScriptBehaviour::call(const QJSValue &fn, const QJSValueList &args, const char *callback,
                               ChannelContext *channel, InstanceContext *instance)
{
    ScriptBridge::Scope scope(m_engine->bridge(), channel, instance);
    QJSValue result;
    try {
        result = m_engine->call(fn, args, callback);
    } catch (const ScriptException &) {
        checkHeap(instance, true); // an interrupted runaway may have grown the heap
        throw;
    }
    checkHeap(instance, false);
    return result;
}

void ScriptBehaviour::checkHeap(InstanceContext *instance, bool now)
{
    if (m_heapLimitBytes <= 0 || m_heapFailed) {
        return;
    }
    const qint64 elapsed = m_sinceHeapCheck.nsecsElapsed();
    if (!now && elapsed < kHeapCheckIntervalNs) {
        return;
    }
    m_sinceHeapCheck.start();
    if (m_engine->heapBytes() <= m_heapLimitBytes) {
        return;
    }
    m_engine->collectGarbage();
    const qint64 heap = m_engine->heapBytes();
    if (heap <= m_heapLimitBytes) {
        return;
    }
    m_heapFailed = true;
    const QString reason = QStringLiteral("script heap %1 MiB is over script_memory_mb (%2 MiB)")
                               .arg(heap / kMiB)
                               .arg(m_heapLimitBytes / kMiB);
    qCWarning(lcInstance).noquote() << logTagFor(m_config) << reason;
    if (auto *faults = dynamic_cast<FaultInjection *>(instance)) {
        faults->failInstance(reason);
    } else {
        throw ScriptException(reason.toStdString());
    }
}

void ScriptBehaviour::instanceStarted(InstanceContext &instance)
{
    const QVariantMap options = m_config.redactedOptions();
    call(m_instanceStarted, {m_config.id, m_engine->js().toScriptValue(options)}, "instanceStarted", nullptr,
         &instance);
}

QJSValue ScriptBehaviour::connectInfoValue(const ConnectInfo &info)
{
    QJSEngine &js = m_engine->js();
    QJSValue value = js.newObject();
    value.setProperty(QStringLiteral("clientId"), static_cast<double>(info.clientId));
    value.setProperty(QStringLiteral("params"), js.toScriptValue(QJsonValue(info.params)));
    value.setProperty(QStringLiteral("token"), info.authToken);
    value.setProperty(QStringLiteral("remoteAddress"), info.remoteAddress);
    value.setProperty(QStringLiteral("format"),
                      info.format == WireFormat::V1Json ? QStringLiteral("1.0.0") : QStringLiteral("2.0.0"));
    value.setProperty(QStringLiteral("claims"), js.toScriptValue(QJsonValue(info.claims)));
    value.setProperty(QStringLiteral("subject"), info.subject);
    value.setProperty(QStringLiteral("tokenExpiresAt"), static_cast<double>(info.tokenExpiresAt));
    return value;
}

std::optional<QString> ScriptBehaviour::connect(const ConnectInfo &info)
{
    const QString refusal = call(m_connect, {connectInfoValue(info)}, "connect", nullptr, nullptr).toString();
    return refusal.isEmpty() ? std::nullopt : std::optional<QString>(refusal);
}

bool ScriptBehaviour::matchesTopic(const QString &topic) const
{
    // Const in the SDK; the engine's state is the script's, not this object's.
    auto *self = const_cast<ScriptBehaviour *>(this);
    return self->call(m_matchesTopic, {topic}, "matchesTopic", nullptr, nullptr).toBool();
}

JoinResult ScriptBehaviour::join(ChannelContext &channel, const QJsonValue &params)
{
    QJSEngine &js = m_engine->js();
    const QJSValue result = call(m_join,
                                 {static_cast<double>(channel.clientId()), channel.topic(),
                                  connectInfoValue(channel.connectInfo()), js.toScriptValue(params)},
                                 "join", &channel, &channel.instance());
    const QJsonValue response = js.fromScriptValue<QJsonValue>(result.property(QStringLiteral("response")));
    if (!response.isObject()) {
        throw ScriptException(QStringLiteral("%1: join: the reply response must be an object, not %2")
                                  .arg(m_file->path, result.property(QStringLiteral("response")).toString())
                                  .toStdString());
    }
    const bool ok = result.property(QStringLiteral("ok")).toBool();
    if (ok) {
        mirrorAssigns(channel, result.property(QStringLiteral("assigns")));
    }
    return JoinResult{ok, response.toObject()};
}

void ScriptBehaviour::mirrorAssigns(ChannelContext &channel, const QJSValue &assigns)
{
    channel.assigns() = m_engine->js().fromScriptValue<QVariantMap>(assigns);
}

void ScriptBehaviour::topicStarted(InstanceContext &instance, const QString &topic)
{
    call(m_topicStarted, {topic}, "topicStarted", nullptr, &instance);
}

void ScriptBehaviour::afterJoin(ChannelContext &channel)
{
    mirrorAssigns(channel, call(m_afterJoin, {static_cast<double>(channel.clientId()), channel.topic()}, "afterJoin",
                                &channel, &channel.instance()));
}

void ScriptBehaviour::handleIn(ChannelContext &channel, const QString &event, const Payload &payload)
{
    call(m_handleIn,
         {static_cast<double>(channel.clientId()), channel.topic(), event, m_engine->bridge().toScript(payload)},
         "handleIn", &channel, &channel.instance());
}

void ScriptBehaviour::leave(ChannelContext &channel, LeaveReason reason)
{
    call(m_leave, {static_cast<double>(channel.clientId()), channel.topic(), static_cast<int>(reason)}, "leave",
         &channel, &channel.instance());
}

void ScriptBehaviour::topicEmpty(InstanceContext &instance, const QString &topic)
{
    call(m_topicEmpty, {topic}, "topicEmpty", nullptr, &instance);
}

} // namespace wsserve::script
