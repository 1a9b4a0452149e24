// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// GET /metrics: the Prometheus text exposition format (version 0.0.4), every family written by one writer.
#include "adminserver.h"

#include "servercontroller.h"

#include <QFile>

#include <functional>

using namespace Qt::StringLiterals;

namespace wsserve {

namespace {

qint64 residentSetBytes()
{
#ifdef Q_OS_LINUX
    QFile statm(u"/proc/self/statm"_s);
    if (statm.open(QIODevice::ReadOnly)) {
        const QList<QByteArray> fields = statm.readAll().split(' ');
        if (fields.size() > 1) {
            return fields.at(1).toLongLong() * 4096;
        }
    }
#endif
    return 0;
}

QByteArray escapeLabel(const QString &value)
{
    QByteArray out = value.toUtf8();
    out.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    return out;
}

// Writes metric families: a HELP and TYPE header, then one sample line per value.
class MetricsText
{
public:
    explicit MetricsText(QByteArray &out)
        : m_out(out)
    {}

    void family(const char *name, const char *type, const char *help)
    {
        m_out += "# HELP " + QByteArray(name) + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n';
    }
    // `labels` is empty or the inside of the braces, already escaped.
    void sample(const char *name, double value, const QByteArray &labels = {})
    {
        m_out += name;
        if (!labels.isEmpty()) {
            m_out += '{' + labels + '}';
        }
        m_out += ' ' + QByteArray::number(value, 'g', 17) + '\n';
    }
    // A family with a single unlabelled sample.
    void metric(const char *name, const char *type, const char *help, double value)
    {
        family(name, type, help);
        sample(name, value);
    }

private:
    QByteArray &m_out;
};

} // namespace

QByteArray AdminServer::metrics() const
{
    QByteArray out;
    MetricsText text(out);
    const QStringList ids = m_controller.instanceIds();
    const auto perInstance = [&](const char *name, const char *type, const char *help,
                                 const std::function<double(const InstanceInfo &)> &value) {
        text.family(name, type, help);
        for (const QString &id : ids) {
            const InstanceInfo info = m_controller.instance(id);
            text.sample(name, value(info),
                        "instance=\"" + escapeLabel(id) + "\",type=\"" + escapeLabel(info.config.type) + '"');
        }
    };
    perInstance("wsserve_connections", "gauge", "Connected WebSocket clients.",
                [](const InstanceInfo &i) { return i.stats.clients; });
    perInstance("wsserve_channels", "gauge", "Joined channels.",
                [](const InstanceInfo &i) { return i.stats.channels; });
    perInstance("wsserve_connections_total", "counter", "WebSocket connections accepted.",
                [](const InstanceInfo &i) { return static_cast<double>(i.stats.connectionsTotal); });
    perInstance("wsserve_joins_total", "counter", "Successful channel joins.",
                [](const InstanceInfo &i) { return static_cast<double>(i.stats.joinsTotal); });
    perInstance("wsserve_messages_received_total", "counter", "Frames received from clients.",
                [](const InstanceInfo &i) { return static_cast<double>(i.stats.messagesIn); });
    perInstance("wsserve_messages_sent_total", "counter", "Frames sent to clients.",
                [](const InstanceInfo &i) { return static_cast<double>(i.stats.messagesOut); });
    perInstance("wsserve_received_bytes_total", "counter", "Bytes of frames received from clients.",
                [](const InstanceInfo &i) { return static_cast<double>(i.stats.bytesIn); });
    perInstance("wsserve_sent_bytes_total", "counter", "Bytes of frames sent to clients.",
                [](const InstanceInfo &i) { return static_cast<double>(i.stats.bytesOut); });
    perInstance("wsserve_broadcasts_total", "counter", "Broadcasts fanned out to a topic.",
                [](const InstanceInfo &i) { return static_cast<double>(i.stats.broadcasts); });
    perInstance("wsserve_channel_crashes_total", "counter", "Channel handlers that threw.",
                [](const InstanceInfo &i) { return static_cast<double>(i.stats.channelCrashes); });
    perInstance("wsserve_instance_restarts_total", "counter", "Instance restarts by the supervisor or on request.",
                [](const InstanceInfo &i) { return i.restarts; });
    perInstance("wsserve_instance_up", "gauge", "1 when the instance is Running.",
                [](const InstanceInfo &i) { return i.state == InstanceState::Running ? 1.0 : 0.0; });
    const ListenerStatus listener = m_controller.listenerStatus();
    text.metric("wsserve_listener_accepting", "gauge",
                "1 while the game port accepts connections (0: out of descriptors).", listener.accepting ? 1.0 : 0.0);
    text.metric("wsserve_accept_errors_total", "counter",
                "Episodes in which the game port could not accept connections (EMFILE, ENFILE, ...).",
                static_cast<double>(listener.acceptErrors));
    const StoreStats store = m_controller.store()->stats();
    text.metric("wsserve_history_messages", "gauge", "History messages stored (every instance).",
                static_cast<double>(store.storedMessages));
    text.metric("wsserve_history_written_bytes_total", "counter", "History payload bytes committed to disk.",
                static_cast<double>(store.bytesWritten));
    text.metric("wsserve_store_queue_length", "gauge", "Changes waiting for the store's writer thread.",
                static_cast<double>(store.queueLength));
    text.metric("wsserve_store_commit_seconds", "gauge", "Duration of the writer's last batch commit.",
                static_cast<double>(store.lastCommitMs) / 1000.0);
    text.metric("wsserve_store_commit_max_seconds", "gauge", "Longest batch commit since start.",
                static_cast<double>(store.maxCommitMs) / 1000.0);
    text.metric("wsserve_history_dropped_total", "counter",
                "History messages not stored: the writer fell behind or the disk failed.",
                static_cast<double>(store.droppedUnwritten));
    text.metric("wsserve_history_paused", "gauge", "1 while history is paused after a write error (disk full).",
                store.paused ? 1.0 : 0.0);
    text.metric("wsserve_process_resident_memory_bytes", "gauge", "Resident set size of the wsserve process.",
                static_cast<double>(residentSetBytes()));

    const ClusterStatus cluster = m_controller.clusterStatus();
    if (cluster.enabled) {
        text.metric("wsserve_cluster_connected", "gauge", "1 while this node is connected to the cluster's Redis.",
                    cluster.connected ? 1.0 : 0.0);
        text.metric("wsserve_cluster_nodes", "gauge", "Nodes of the cluster this node hears from (itself included).",
                    static_cast<double>(cluster.nodes.size()));
        text.metric("wsserve_cluster_messages_out_total", "counter", "Messages this node published to the cluster.",
                    static_cast<double>(cluster.messagesOut));
        text.metric("wsserve_cluster_messages_in_total", "counter", "Messages received from other nodes.",
                    static_cast<double>(cluster.messagesIn));
        text.metric("wsserve_cluster_dropped_total", "counter",
                    "Broadcasts not published because Redis was unreachable.", static_cast<double>(cluster.dropped));
        text.metric("wsserve_cluster_reconnects_total", "counter", "Reconnections to Redis after a loss.",
                    static_cast<double>(cluster.reconnects));
        text.metric("wsserve_cluster_redis_round_trip_seconds", "gauge", "Round trip of the last heartbeat PUBLISH.",
                    cluster.roundTripMs / 1000.0);
    }
    return out;
}

} // namespace wsserve
