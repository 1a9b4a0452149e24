// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "commandresult.h"
#include "instance/instanceconfig.h"
#include "instancestate.h"
#include "telemetry/clientinfo.h"
#include "telemetry/connectionevent.h"
#include "telemetry/instancestats.h"
#include "telemetry/messageevent.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QSet>

#include <memory>

class QThread;
class QTimer;

namespace wsserve {

class ClusterLink;
class BehaviourRegistry;
class Instance;
class InstanceShared;
class RouteTable;
class Store;

// Owns every instance and its thread, runs the lifecycle (start, stop, restart, remove), the restart
// policy with bounded backoff and the Failed state, and the watchdog that detects hung instance threads.
// Thread: main thread.
class Supervisor final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Supervisor)

public:
    Supervisor(std::shared_ptr<const BehaviourRegistry> registry, std::shared_ptr<RouteTable> routes,
               QObject *parent = nullptr);
    ~Supervisor() override;

    static constexpr int kMaxLogEntries = 1000;
    static constexpr int kMaxBackoffMs = 5000;

    // Where instances launched from now on keep history and state.
    void setStore(std::shared_ptr<Store> store) { m_store = std::move(store); }
    // The node's cluster link, handed to instances started from now on (null: the node runs alone).
    void setCluster(std::shared_ptr<ClusterLink> cluster) { m_cluster = std::move(cluster); }

    CommandResult addInstance(const InstanceConfig &config);
    // Instances launched from now on use this registry (running ones keep the one they started with).
    void setRegistry(std::shared_ptr<const BehaviourRegistry> registry) { m_registry = std::move(registry); }
    CommandResult startInstance(const QString &id);
    CommandResult stopInstance(const QString &id);
    CommandResult restartInstance(const QString &id, const QString &reason);
    CommandResult removeInstance(const QString &id);
    // Closes every socket with 1012 and stops every instance; emits allStopped() when done.
    void stopAll();

    // NotFound also for a client not in the instance's published client list (at most 500 ms old).
    CommandResult kickClient(const QString &id, quint64 clientId, const QString &reason);
    CommandResult broadcast(const QString &id, const QString &topic, const QString &event, const QJsonObject &payload);
    // NotFound also for a client not in the published list; NotRunning.
    CommandResult pushTo(const QString &id, quint64 clientId, const QString &topic, const QString &event,
                         const QJsonObject &payload);
    // Replaces an instance's (validated) options; `live` (a subset) reaches a running instance at once,
    // the rest applies at its next start.
    CommandResult updateOptions(const QString &id, const QVariantMap &options, const QVariantMap &live);

    QStringList instanceIds() const;
    bool contains(const QString &id) const { return m_records.contains(id); }
    InstanceState state(const QString &id) const;
    InstanceConfig config(const QString &id) const;
    InstanceStats stats(const QString &id) const;
    int restartCount(const QString &id) const;
    ClientList clients(const QString &id) const;
    // Turns the live message flow of one instance on or off (kept across restarts).
    void setMessageFlowEnabled(const QString &id, bool enabled);
    qint64 runningSinceMs(const QString &id) const; // 0 unless Running
    QList<SupervisorEvent> log() const { return m_log; }

Q_SIGNALS:
    void instanceAdded(const QString &id);
    void instanceRemoved(const QString &id);
    void instanceStateChanged(const QString &id, wsserve::InstanceState state, const QString &reason);
    void instanceStatsChanged(const QString &id, const wsserve::InstanceStats &stats);
    void instanceClientsChanged(const QString &id, const wsserve::ClientList &clients);
    void instanceMessageFlow(const QString &id, const wsserve::MessageBatch &batch);
    void connectionEvents(const wsserve::ConnectionEventBatch &batch);
    void supervisorEvent(const wsserve::SupervisorEvent &event);
    void allStopped();

private:
    struct Record;
    enum class AfterStop { Invalid = 0, StayStopped, Relaunch, Failure, Remove };

    Record *find(const QString &id, CommandResult *result) const;
    // The instance object of a Running instance (to queue a call to), or nullptr with `result` set.
    Instance *runningInstance(const QString &id, CommandResult *result) const;
    // The running instance whose published client list has clientId; NotFound / NotRunning otherwise.
    Instance *instanceWithClient(const QString &id, quint64 clientId, CommandResult *result) const;
    void launch(Record &record);
    void teardown(Record &record, quint16 closeCode, const QString &reason, AfterStop after, InstanceState state);
    void onStarted(const QString &id, Instance *instance, bool ok, const QString &error);
    void onStopped(const QString &id, Instance *instance);
    // After the instance stopped (or was abandoned): what teardown() was for (relaunch, remove, ...).
    void finishTeardown(const QString &id, Record *record);
    // Gives up on a hung instance thread: its sockets get a close frame and are shut down at the OS level.
    void abandon(Record &record, quint16 closeCode, const QString &reason);
    void onFaulted(const QString &id, Instance *instance, const QString &reason);
    void handleFailure(Record &record, const QString &reason);
    void retireThread(Record &record);
    void checkWatchdogs();
    void setState(Record &record, InstanceState state, const QString &reason);
    // A line in the log without a state change (a script's console output); state stays as it is.
    void addNote(Record &record, const QString &line);
    void maybeAllStopped();

    std::shared_ptr<const BehaviourRegistry> m_registry;
    std::shared_ptr<RouteTable> m_routes;
    std::shared_ptr<Store> m_store;
    std::shared_ptr<ClusterLink> m_cluster;
    QHash<QString, Record *> m_records;
    QList<QThread *> m_retiring; // threads told to quit; deleted when finished
    QSet<QThread *> m_abandoned; // those of them that were hung when retired
    QList<SupervisorEvent> m_log;
    QTimer *m_watchdogTimer = nullptr;
    bool m_stoppingAll = false;
};

} // namespace wsserve
