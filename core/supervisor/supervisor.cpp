// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "supervisor.h"
#include "supervisorrecord.h"

#include "clock.h"
#include "endpoint/routetable.h"
#include "instance/behaviourregistry.h"
#include "instance/instance.h"
#include "instance/instanceshared.h"
#include "logging.h"
#include "net/wsframe.h"

#include <QDateTime>
#include <QThread>
#include <QTimer>

namespace wsserve {

namespace {
constexpr int kWatchdogTickMs = 100;
constexpr int kThreadJoinMs = 3000;
// A stopping instance closes its clients within its 1.5 s grace; one that has not stopped after this long
// is hung, and is abandoned as the watchdog abandons a running one (shutdown keeps its 5 s promise).
constexpr qint64 kStopDeadlineMs = 2500;
// How long the process waits at exit for a thread it abandoned as hung.
constexpr int kAbandonedJoinMs = 200;
} // namespace

QString instanceStateName(InstanceState state)
{
    switch (state) {
    case InstanceState::Starting:
        return QStringLiteral("Starting");
    case InstanceState::Running:
        return QStringLiteral("Running");
    case InstanceState::Stopping:
        return QStringLiteral("Stopping");
    case InstanceState::Restarting:
        return QStringLiteral("Restarting");
    case InstanceState::Failed:
        return QStringLiteral("Failed");
    case InstanceState::Stopped:
        return QStringLiteral("Stopped");
    case InstanceState::Invalid:
        break;
    }
    return QStringLiteral("Invalid");
}

Supervisor::Supervisor(std::shared_ptr<const BehaviourRegistry> registry, std::shared_ptr<RouteTable> routes,
                       QObject *parent)
    : QObject(parent)
    , m_registry(std::move(registry))
    , m_routes(std::move(routes))
{
    qRegisterMetaType<InstanceStats>();
    qRegisterMetaType<InstanceState>();
    qRegisterMetaType<SupervisorEvent>();
    qRegisterMetaType<ClientList>();
    qRegisterMetaType<MessageBatch>();
    qRegisterMetaType<ConnectionEventBatch>();
    m_watchdogTimer = new QTimer(this);
    m_watchdogTimer->setInterval(kWatchdogTickMs);
    connect(m_watchdogTimer, &QTimer::timeout, this, &Supervisor::checkWatchdogs);
    m_watchdogTimer->start();
}

Supervisor::~Supervisor()
{
    for (Record *record : std::as_const(m_records)) {
        m_routes->remove(record->config.id);
        if (record->thread) {
            // Normally stopAll() ran first; this is the fallback for an abrupt exit.
            retireThread(*record);
        }
    }
    for (QThread *thread : std::as_const(m_retiring)) {
        thread->quit();
        if (thread->wait(m_abandoned.contains(thread) ? kAbandonedJoinMs : kThreadJoinMs)) {
            delete thread;
        } else {
            qCWarning(lcSupervisor) << "thread" << thread->objectName() << "did not finish; leaving it behind";
        }
    }
    qDeleteAll(m_records);
}

Supervisor::Record *Supervisor::find(const QString &id, CommandResult *result) const
{
    Record *record = m_records.value(id);
    if (!record && result) {
        *result = CommandResult::fail(CommandResult::Error::NotFound, QStringLiteral("no instance '%1'").arg(id));
    }
    return record;
}

CommandResult Supervisor::addInstance(const InstanceConfig &config)
{
    using Error = CommandResult::Error;
    if (m_records.contains(config.id)) {
        return CommandResult::fail(Error::IdTaken, QStringLiteral("instance id '%1' is already taken").arg(config.id));
    }
    if (!m_registry->find(config.type)) {
        return CommandResult::fail(Error::UnknownType, QStringLiteral("unknown instance type '%1'").arg(config.type));
    }
    auto *record = new Record;
    record->config = config;
    record->blocks = std::make_shared<AddressBlocks>(m_clock);
    m_records.insert(config.id, record);
    m_routes->declare(config.id);
    emit instanceAdded(config.id);
    setState(*record, InstanceState::Stopped, QStringLiteral("created"));
    return CommandResult::ok();
}

CommandResult Supervisor::startInstance(const QString &id)
{
    CommandResult result;
    Record *record = find(id, &result);
    if (!record) {
        return result;
    }
    switch (record->state) {
    case InstanceState::Stopped:
    case InstanceState::Failed:
        record->failureTimesMs.clear();
        launch(*record);
        return CommandResult::ok();
    case InstanceState::Restarting:
        if (record->backoffTimer) {
            record->backoffTimer->stop();
            launch(*record);
            return CommandResult::ok();
        }
        break;
    default:
        break;
    }
    return CommandResult::fail(CommandResult::Error::WrongState,
                               QStringLiteral("instance '%1' is %2; it can be started when Stopped or Failed")
                                   .arg(id, instanceStateName(record->state)));
}

CommandResult Supervisor::stopInstance(const QString &id)
{
    CommandResult result;
    Record *record = find(id, &result);
    if (!record) {
        return result;
    }
    if (record->backoffTimer && record->backoffTimer->isActive()) {
        record->backoffTimer->stop();
    }
    if (record->instance) {
        teardown(*record, ws::closecode::kGoingAway, QStringLiteral("instance stopped"), AfterStop::StayStopped,
                 InstanceState::Stopping);
        return CommandResult::ok();
    }
    if (record->state != InstanceState::Stopped) {
        setState(*record, InstanceState::Stopped, QStringLiteral("stopped by request"));
    }
    return CommandResult::ok();
}

CommandResult Supervisor::restartInstance(const QString &id, const QString &reason)
{
    CommandResult result;
    Record *record = find(id, &result);
    if (!record) {
        return result;
    }
    if (!record->instance) {
        return startInstance(id);
    }
    if (record->state == InstanceState::Stopping) {
        return CommandResult::fail(CommandResult::Error::WrongState,
                                   QStringLiteral("instance '%1' is stopping").arg(id));
    }
    ++record->restarts;
    teardown(*record, ws::closecode::kServiceRestart, reason, AfterStop::Relaunch, InstanceState::Restarting);
    return CommandResult::ok();
}

CommandResult Supervisor::removeInstance(const QString &id)
{
    CommandResult result;
    Record *record = find(id, &result);
    if (!record) {
        return result;
    }
    if (record->backoffTimer) {
        record->backoffTimer->stop();
    }
    if (record->instance) {
        teardown(*record, ws::closecode::kGoingAway, QStringLiteral("instance removed"), AfterStop::Remove,
                 InstanceState::Stopping);
        return CommandResult::ok();
    }
    m_routes->remove(id);
    m_records.remove(id);
    delete record;
    emit instanceRemoved(id);
    return CommandResult::ok();
}

void Supervisor::stopAll()
{
    m_stoppingAll = true;
    for (Record *record : std::as_const(m_records)) {
        if (record->backoffTimer) {
            record->backoffTimer->stop();
        }
        if (record->instance && record->state != InstanceState::Stopping) {
            teardown(*record, ws::closecode::kServiceRestart, QStringLiteral("server shutting down"),
                     AfterStop::StayStopped, InstanceState::Stopping);
        } else if (!record->instance && record->state == InstanceState::Restarting) {
            setState(*record, InstanceState::Stopped, QStringLiteral("server shutting down"));
        }
    }
    // Queued, so callers can connect to allStopped() after calling.
    QTimer::singleShot(0, this, &Supervisor::maybeAllStopped);
}

void Supervisor::maybeAllStopped()
{
    if (!m_stoppingAll) {
        return;
    }
    for (const Record *record : std::as_const(m_records)) {
        if (record->instance) {
            return;
        }
    }
    m_stoppingAll = false;
    emit allStopped();
}

QStringList Supervisor::instanceIds() const
{
    QStringList ids = m_records.keys();
    ids.sort();
    return ids;
}

InstanceState Supervisor::state(const QString &id) const
{
    const Record *record = m_records.value(id);
    return record ? record->state : InstanceState::Invalid;
}

InstanceConfig Supervisor::config(const QString &id) const
{
    const Record *record = m_records.value(id);
    return record ? record->config : InstanceConfig{};
}

InstanceStats Supervisor::stats(const QString &id) const
{
    const Record *record = m_records.value(id);
    if (!record) {
        return {};
    }
    InstanceStats stats = record->stats;
    if (record->state != InstanceState::Running) { // the last tick's rate is not traffic now
        stats.messagesInPerSecond = 0;
        stats.messagesOutPerSecond = 0;
    }
    return stats;
}

ClientList Supervisor::clients(const QString &id) const
{
    const Record *record = m_records.value(id);
    return record ? record->clients : ClientList{};
}

void Supervisor::setMessageFlowEnabled(const QString &id, bool enabled)
{
    if (Record *record = m_records.value(id)) {
        record->messageFlow = enabled;
        if (record->shared) {
            record->shared->setMessageFlowEnabled(enabled);
        }
    }
}

qint64 Supervisor::runningSinceMs(const QString &id) const
{
    const Record *record = m_records.value(id);
    return record && record->state == InstanceState::Running ? record->runningSinceMs : 0;
}

int Supervisor::restartCount(const QString &id) const
{
    const Record *record = m_records.value(id);
    return record ? record->restarts : 0;
}

void Supervisor::launch(Record &record)
{
    const QString id = record.config.id;
    record.shared = std::make_shared<InstanceShared>();
    record.shared->touch(nowMs());
    record.shared->setMessageFlowEnabled(record.messageFlow);
    record.shared->setStore(m_store);
    record.shared->setCluster(m_cluster);
    record.shared->setBlocks(record.blocks);
    record.stats = InstanceStats{};
    auto *instance = new Instance(record.config, m_registry, record.shared);
    auto *thread = new QThread;
    thread->setObjectName(QStringLiteral("instance:") + id);
    instance->moveToThread(thread);
    // Deleted from finished(), in the thread itself, not by deleteLater(): the thread's last pass over
    // deferred deletes then still runs whatever the instance's destruction posts with deleteLater() (a
    // watchdog-abandoned instance still holds its clients when its loop ends; when they were QWebSockets,
    // their late deleteLater() leaked them). Kept so that anything an instance deletes that way is freed.
    connect(
        thread, &QThread::finished, instance, [instance] { delete instance; }, Qt::DirectConnection);
    // cross-thread: instance signals arrive queued on the main thread; the instance pointer tags the
    // generation so signals from a replaced instance are ignored.
    connect(instance, &Instance::started, this,
            [this, id, instance](bool ok, const QString &error) { onStarted(id, instance, ok, error); });
    connect(instance, &Instance::stopped, this, [this, id, instance] { onStopped(id, instance); });
    connect(instance, &Instance::faulted, this,
            [this, id, instance](const QString &reason) { onFaulted(id, instance, reason); });
    connect(instance, &Instance::noted, this, [this, id, instance](const QString &line) {
        Record *current = m_records.value(id);
        if (current && current->instance == instance) {
            addNote(*current, line);
        }
    });
    connect(instance, &Instance::statsChanged, this, [this, id, instance](const InstanceStats &stats) {
        Record *current = m_records.value(id);
        if (current && current->instance == instance) {
            current->stats = stats;
            emit instanceStatsChanged(id, stats);
        }
    });
    connect(instance, &Instance::clientsChanged, this, [this, id, instance](const ClientList &clients) {
        Record *current = m_records.value(id);
        if (current && current->instance == instance) {
            current->clients = clients;
            emit instanceClientsChanged(id, clients);
        }
    });
    // Refusals and disconnects are worth showing even from an instance being replaced: no current check.
    connect(instance, &Instance::connectionEvents, this, &Supervisor::connectionEvents);
    connect(instance, &Instance::messageFlow, this, [this, id, instance](const MessageBatch &batch) {
        Record *current = m_records.value(id);
        if (current && current->instance == instance) {
            emit instanceMessageFlow(id, batch);
        }
    });
    record.instance = instance;
    record.thread = thread;
    setState(record, InstanceState::Starting, QStringLiteral("starting"));
    thread->start();
    // cross-thread: start() runs in the instance thread, where it builds its behaviour and socket poller.
    QMetaObject::invokeMethod(instance, &Instance::start, Qt::QueuedConnection);
}

void Supervisor::onStarted(const QString &id, Instance *instance, bool ok, const QString &error)
{
    Record *record = m_records.value(id);
    if (!record || record->instance != instance || record->state != InstanceState::Starting) {
        return;
    }
    if (!ok) {
        retireThread(*record);
        setState(*record, InstanceState::Failed, error);
        return;
    }
    // cross-thread: queued to the instance from the endpoint thread; the route is closed before the
    // instance is stopped or deleted. If the instance goes away before running the queued call, the
    // call's copy of the connection closes the descriptor.
    m_routes->open(id, [instance](std::shared_ptr<net::TakenConnection> connection, const UpgradeRequest &request) {
        QMetaObject::invokeMethod(
            instance, [instance, taken = std::move(connection), request] { instance->adoptConnection(taken, request); },
            Qt::QueuedConnection);
    });
    record->runningSinceMs = nowMs();
    setState(*record, InstanceState::Running, QStringLiteral("running"));
}

void Supervisor::teardown(Record &record, quint16 closeCode, const QString &reason, AfterStop after,
                          InstanceState state)
{
    m_routes->close(record.config.id);
    record.afterStop = after;
    record.pendingReason = reason;
    record.stopRequestedMs = nowMs();
    setState(record, state, reason);
    Instance *instance = record.instance;
    // cross-thread: the instance closes its own sockets, then emits stopped().
    QMetaObject::invokeMethod(
        instance, [instance, closeCode, reason] { instance->stop(closeCode, reason); }, Qt::QueuedConnection);
}

void Supervisor::onStopped(const QString &id, Instance *instance)
{
    Record *record = m_records.value(id);
    if (!record || record->instance != instance) {
        return;
    }
    retireThread(*record);
    finishTeardown(id, record);
}

void Supervisor::finishTeardown(const QString &id, Record *record)
{
    const QString reason = record->pendingReason;
    switch (record->afterStop) {
    case AfterStop::Relaunch:
        if (m_stoppingAll) {
            setState(*record, InstanceState::Stopped, QStringLiteral("server shutting down"));
        } else {
            launch(*record);
        }
        break;
    case AfterStop::Failure:
        handleFailure(*record, reason);
        break;
    case AfterStop::Remove: {
        setState(*record, InstanceState::Stopped, reason);
        m_routes->remove(id);
        m_records.remove(id);
        delete record;
        emit instanceRemoved(id);
        break;
    }
    case AfterStop::StayStopped:
    case AfterStop::Invalid:
        setState(*record, InstanceState::Stopped, reason);
        break;
    }
    maybeAllStopped();
}

void Supervisor::onFaulted(const QString &id, Instance *instance, const QString &reason)
{
    Record *record = m_records.value(id);
    if (!record || record->instance != instance || record->state != InstanceState::Running) {
        return;
    }
    qCWarning(lcSupervisor).noquote() << logTag(id) << "instance failed:" << reason;
    teardown(*record, ws::closecode::kServiceRestart, reason, AfterStop::Failure, InstanceState::Restarting);
}

void Supervisor::handleFailure(Record &record, const QString &reason)
{
    const qint64 now = nowMs();
    const qint64 window = record.config.intOption(options::kRestartWindowMs);
    const qint64 maxRestarts = record.config.intOption(options::kMaxRestarts);
    record.failureTimesMs.append(now);
    while (!record.failureTimesMs.isEmpty() && now - record.failureTimesMs.first() > window) {
        record.failureTimesMs.removeFirst();
    }
    const auto failures = record.failureTimesMs.size();
    if (m_stoppingAll) {
        setState(record, InstanceState::Stopped, reason);
        return;
    }
    if (failures > maxRestarts) {
        setState(record, InstanceState::Failed,
                 QStringLiteral("%1 failures within %2 ms (max_restarts %3); last: %4; start it to try again")
                     .arg(failures)
                     .arg(window)
                     .arg(maxRestarts)
                     .arg(reason));
        return;
    }
    ++record.restarts;
    // Bounded exponential backoff: 100 ms, 200 ms, 400 ms ... up to kMaxBackoffMs.
    const int backoffMs =
        static_cast<int>(std::min<qint64>(100LL << std::min<qsizetype>(failures - 1, 10), kMaxBackoffMs));
    setState(record, InstanceState::Restarting,
             QStringLiteral("restarting in %1 ms after: %2").arg(backoffMs).arg(reason));
    if (!record.backoffTimer) {
        record.backoffTimer = new QTimer(this);
        record.backoffTimer->setSingleShot(true);
        const QString id = record.config.id;
        connect(record.backoffTimer, &QTimer::timeout, this, [this, id] {
            Record *current = m_records.value(id);
            if (current && !current->instance && current->state == InstanceState::Restarting) {
                launch(*current);
            }
        });
    }
    record.backoffTimer->start(backoffMs);
}

void Supervisor::retireThread(Record &record)
{
    if (!record.thread) {
        return;
    }
    QThread *thread = record.thread;
    record.instance->disconnect(this);
    if (!record.clients.isEmpty()) {
        record.clients.clear();
        emit instanceClientsChanged(record.config.id, record.clients);
    }
    record.instance = nullptr;
    record.thread = nullptr;
    m_retiring.append(thread);
    connect(thread, &QThread::finished, this, [this, thread] {
        m_retiring.removeOne(thread);
        m_abandoned.remove(thread);
        thread->deleteLater();
    });
    thread->quit();
}

void Supervisor::abandon(Record &record, quint16 closeCode, const QString &reason)
{
    qCWarning(lcSupervisor).noquote() << logTag(record.config.id) << reason;
    m_routes->close(record.config.id);
    // A hung thread cannot close its own sockets: shut them down at the OS level so clients notice now.
    const int shut = record.shared->shutdownAll(closeCode, reason.left(ws::kMaxCloseReasonBytes));
    record.shared.reset();
    m_abandoned.insert(record.thread);
    retireThread(record); // the thread quits once it wakes up; its instance is deleted then
    record.pendingReason = reason + QStringLiteral("; %1 sockets shut down").arg(shut);
}

void Supervisor::checkWatchdogs()
{
    const qint64 now = nowMs();
    const QList<Record *> records = m_records.values();
    for (Record *record : records) {
        if (record->instance && record->state != InstanceState::Running && record->state != InstanceState::Starting &&
            now - record->stopRequestedMs > kStopDeadlineMs) {
            // Asked to stop and not done: hung (a stall, a callback that never returns).
            const quint16 code = record->afterStop == AfterStop::Relaunch || m_stoppingAll
                                     ? ws::closecode::kServiceRestart
                                     : ws::closecode::kGoingAway;
            abandon(*record, code,
                    QStringLiteral("instance thread did not stop within %1 ms; abandoned").arg(kStopDeadlineMs));
            finishTeardown(record->config.id, record);
            continue;
        }
        if (!record->instance || record->state != InstanceState::Running) {
            continue;
        }
        const qint64 silentMs = now - record->shared->aliveMs();
        const qint64 limitMs = record->config.intOption(options::kWatchdogMs);
        if (silentMs <= limitMs) {
            continue;
        }
        abandon(*record, ws::closecode::kServiceRestart,
                QStringLiteral("instance thread unresponsive for %1 ms (watchdog %2 ms)").arg(silentMs).arg(limitMs));
        handleFailure(*record, record->pendingReason);
    }
}

void Supervisor::addNote(Record &record, const QString &line)
{
    SupervisorEvent event{QDateTime::currentDateTime(), record.config.id, record.state, line};
    m_log.append(event);
    if (m_log.size() > kMaxLogEntries) {
        m_log.removeFirst();
    }
    emit supervisorEvent(event);
}

void Supervisor::setState(Record &record, InstanceState state, const QString &reason)
{
    const bool changed = record.state != state;
    record.state = state;
    SupervisorEvent event{QDateTime::currentDateTime(), record.config.id, state, reason};
    m_log.append(event);
    if (m_log.size() > kMaxLogEntries) {
        m_log.removeFirst();
    }
    qCInfo(lcSupervisor).noquote() << logTag(record.config.id) << instanceStateName(state) + u':' << reason;
    emit supervisorEvent(event);
    if (changed || state == InstanceState::Restarting) {
        emit instanceStateChanged(record.config.id, state, reason);
    }
}

} // namespace wsserve
