// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Supervisor commands that reach into a running instance (kick, blocks, broadcast, push, live options,
// message flow): each checks the record, then queues the work into the instance thread.
#include "supervisor.h"
#include "supervisorrecord.h"

#include "instance/instance.h"
#include "instance/instanceshared.h"
#include "logging.h"
#include "net/wsframe.h"

#include <QDateTime>

#include <algorithm>

namespace wsserve {

Instance *Supervisor::runningInstance(const QString &id, CommandResult *result) const
{
    Record *record = find(id, result);
    if (!record) {
        return nullptr;
    }
    if (!record->instance || record->state != InstanceState::Running) {
        *result = CommandResult::fail(CommandResult::Error::NotRunning,
                                      QStringLiteral("instance '%1' is not running").arg(id));
        return nullptr;
    }
    return record->instance;
}

Instance *Supervisor::instanceWithClient(const QString &id, quint64 clientId, CommandResult *result) const
{
    const Record *record = find(id, result);
    if (!record) {
        return nullptr;
    }
    const bool known = std::any_of(record->clients.cbegin(), record->clients.cend(),
                                   [clientId](const ClientInfo &client) { return client.id == clientId; });
    if (!known) {
        *result = CommandResult::fail(CommandResult::Error::NotFound,
                                      QStringLiteral("no client '%1' on instance '%2'").arg(clientId).arg(id));
        return nullptr;
    }
    return runningInstance(id, result);
}

CommandResult Supervisor::kickClient(const QString &id, quint64 clientId, const QString &reason, int blockMinutes)
{
    CommandResult result;
    Instance *instance = instanceWithClient(id, clientId, &result);
    if (!instance) {
        return result;
    }
    if (blockMinutes > 0) {
        // Blocked before the kick is queued: the client cannot be back before its address is refused.
        const Record *record = m_records.value(id);
        const auto client = std::find_if(record->clients.cbegin(), record->clients.cend(),
                                         [clientId](const ClientInfo &info) { return info.id == clientId; });
        const qint64 until = record->blocks->block(client->remoteAddress, blockMinutes);
        result.message = QStringLiteral("%1 blocked on '%2' until %3")
                             .arg(client->remoteAddress, id,
                                  QDateTime::fromMSecsSinceEpoch(until).toString(QStringLiteral("HH:mm")));
        qCInfo(lcSupervisor).noquote() << logTag(id) << result.message;
    }
    // cross-thread: queued into the instance thread.
    QMetaObject::invokeMethod(
        instance, [instance, clientId, reason] { instance->kick(clientId, ws::closecode::kPolicyViolation, reason); },
        Qt::QueuedConnection);
    return result;
}

QList<AddressBlocks::Block> Supervisor::blockedAddresses(const QString &id) const
{
    const Record *record = m_records.value(id);
    return record ? record->blocks->blocks() : QList<AddressBlocks::Block>{};
}

CommandResult Supervisor::unblockAddress(const QString &id, const QString &address)
{
    CommandResult result;
    const Record *record = find(id, &result);
    if (!record) {
        return result;
    }
    if (!record->blocks->unblock(address)) {
        return CommandResult::fail(CommandResult::Error::NotFound,
                                   QStringLiteral("'%1' is not blocked on '%2'").arg(address, id));
    }
    return CommandResult::ok();
}

CommandResult Supervisor::broadcast(const QString &id, const QString &topic, const QString &event,
                                    const QJsonObject &payload)
{
    CommandResult result;
    Instance *instance = runningInstance(id, &result);
    if (!instance) {
        return result;
    }
    // cross-thread: queued into the instance thread.
    QMetaObject::invokeMethod(
        instance, [instance, topic, event, payload] { instance->broadcastFromOutside(topic, event, payload); },
        Qt::QueuedConnection);
    return CommandResult::ok();
}

CommandResult Supervisor::pushTo(const QString &id, quint64 clientId, const QString &topic, const QString &event,
                                 const QJsonObject &payload)
{
    CommandResult result;
    Instance *instance = instanceWithClient(id, clientId, &result);
    if (!instance) {
        return result;
    }
    // cross-thread: queued into the instance thread.
    QMetaObject::invokeMethod(
        instance,
        [instance, clientId, topic, event, payload] { instance->pushFromOutside(clientId, topic, event, payload); },
        Qt::QueuedConnection);
    return CommandResult::ok();
}

CommandResult Supervisor::updateOptions(const QString &id, const QVariantMap &options, const QVariantMap &live)
{
    CommandResult result;
    Record *record = find(id, &result);
    if (!record) {
        return result;
    }
    record->config.options = options;
    if (record->instance && !live.isEmpty()) {
        Instance *instance = record->instance;
        // cross-thread: queued into the instance thread.
        QMetaObject::invokeMethod(
            instance, [instance, live] { instance->applyLiveOptions(live); }, Qt::QueuedConnection);
    }
    return CommandResult::ok();
}

} // namespace wsserve
