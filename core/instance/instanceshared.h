// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QMutex>
#include <QSet>

#include <atomic>
#include <memory>

namespace wsserve {

class ClusterLink;
class Store;

// State an instance shares with its supervisor across threads, by design lock-free or mutex-guarded:
// the instance thread's last sign of life (for the watchdog) and the descriptors of its sockets (so a
// hung thread's clients can be disconnected at the OS level).
// Thread: any; every member is thread-safe.
class InstanceShared
{
public:
    void touch(qint64 nowMs) { m_aliveMs.store(nowMs, std::memory_order_relaxed); }
    qint64 aliveMs() const { return m_aliveMs.load(std::memory_order_relaxed); }

    // Whether a front end watches the message flow; the instance only records frames while it does.
    void setMessageFlowEnabled(bool enabled) { m_flowEnabled.store(enabled, std::memory_order_relaxed); }
    bool messageFlowEnabled() const { return m_flowEnabled.load(std::memory_order_relaxed); }

    // Where the instance keeps history and state (set before the instance starts; thread-safe itself).
    void setStore(std::shared_ptr<Store> store) { m_store = std::move(store); }
    std::shared_ptr<Store> store() const { return m_store; }
    // The node's link to the cluster (set before the instance starts; null when the node runs alone).
    void setCluster(std::shared_ptr<ClusterLink> cluster) { m_cluster = std::move(cluster); }
    std::shared_ptr<ClusterLink> cluster() const { return m_cluster; }

    void addDescriptor(qintptr fd);
    void removeDescriptor(qintptr fd);
    // For a hung instance thread: tries to send each registered socket a close frame with this code
    // (one non-blocking attempt; a socket whose kernel buffer is full gets none), then shuts it down in
    // both directions without closing the descriptor, which stays owned by the instance's connection.
    // Returns how many were shut down.
    int shutdownAll(quint16 closeCode, const QString &reason);

private:
    std::atomic<qint64> m_aliveMs{0};
    std::atomic<bool> m_flowEnabled{false};
    std::shared_ptr<Store> m_store;
    std::shared_ptr<ClusterLink> m_cluster;
    QMutex m_mutex;
    QSet<qintptr> m_descriptors;
};

} // namespace wsserve
