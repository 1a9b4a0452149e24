// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "clustersettings.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <functional>
#include <memory>

class QThread;

namespace wsserve {

class ClusterWorker;

// A node of the cluster as this node last heard of it.
struct ClusterNode {
    QString name;
    bool self = false;
    qint64 lastSeenMs = 0;       // wall clock; this node: now
    QStringList instances;       // its instances with cluster=true
    QHash<QString, int> clients; // instance id -> clients connected to that node
};

// The cluster as front ends show it (GET /api/cluster, /healthz, /metrics, the status bar).
struct ClusterStatus {
    bool enabled = false;
    bool connected = false;
    QString url; // without the password
    QString node;
    QString lastError; // why it is disconnected
    qint64 disconnectedSinceMs = 0;
    QList<ClusterNode> nodes; // this node first
    quint64 messagesOut = 0;  // published
    quint64 messagesIn = 0;   // received from other nodes
    quint64 dropped = 0;      // not published: Redis was unreachable
    quint64 reconnects = 0;
    double roundTripMs = 0; // the last heartbeat PUBLISH's round trip
};

// The node's one link to Redis (docs/design-notes.md "Cluster"): two connections (commands, and the
// subscription) driven by hiredis in a thread of their own ("cluster"). Instances with cluster=true attach
// with closures that run in their own thread; everything crosses threads queued, so the order in which one
// instance publishes is the order every other node delivers.
// Thread: every public member is thread-safe.
class ClusterLink
{
public:
    // What an attached instance does with what the cluster brings; each runs queued in `context`'s thread.
    struct Member {
        QPointer<QObject> context;
        std::function<void(const QString &node, const QByteArray &json)> deliver; // another node's message
        std::function<void()> resync;                                             // publish your full state
        std::function<void(const QString &node)> nodeGone;                        // forget that node
    };

    static constexpr int kHeartbeatMs = 1000;
    static constexpr int kMissedHeartbeats = 3; // a node silent this many heartbeats is gone

    explicit ClusterLink(ClusterSettings settings);
    ~ClusterLink();
    ClusterLink(const ClusterLink &) = delete;
    ClusterLink &operator=(const ClusterLink &) = delete;

    QString nodeName() const { return m_settings.nodeName; }
    QString url() const { return m_settings.url(); }
    // "node\tboot\n": the head of every message this node publishes.
    QByteArray origin() const { return m_origin; }

    void attach(const QString &instanceId, Member member);
    // Only when `context` is still the attached one (a restarted instance may have attached again).
    void detach(const QString &instanceId, const QObject *context);
    // Publishes `message` (origin() + JSON) on the instance's channel; dropped (and counted) while
    // disconnected: nothing is queued for later, so nothing old is replayed.
    void publish(const QString &instanceId, const QByteArray &message);
    ClusterStatus status() const;
    // The clients an attached instance has on this node (sent with the heartbeats).
    void setClients(const QString &instanceId, int clients);
    // Bytes waiting for Redis beyond which publishes are dropped (and counted) rather than queued.
    static constexpr qsizetype kMaxPendingBytes = 64 * 1024 * 1024;

private:
    friend class ClusterWorker;
    // Runs `call` with the member, queued in its thread.
    void dispatch(const QString &instanceId, const std::function<void(const Member &)> &call);
    void dispatchAll(const std::function<void(const Member &)> &call);
    QStringList attachedIds() const;

    ClusterSettings m_settings;
    QByteArray m_origin;
    mutable QMutex m_mutex;
    QHash<QString, Member> m_members;
    QHash<QString, int> m_clients;
    ClusterStatus m_status; // written by the worker
    QThread *m_thread = nullptr;
    ClusterWorker *m_worker = nullptr;
};

} // namespace wsserve
