// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "behaviour.h"
#include "faultinjection.h"
#include "instancenotes.h"
#include "presencetracker.h"
#include "remotepresence.h"
#include "store/store.h"
#include "timertable.h"

#include <QHash>
#include <QList>

#include <memory>

namespace wsserve {

// One channel: a topic joined on one connection.
struct Channel {
    Ref joinRef;
    QVariantMap assigns;
    QString presenceKey;
    QString presenceRef;           // phx_ref of this channel's presence entry; empty when untracked
    qsizetype subscriberSlot = -1; // index in the engine's member list of the topic
};

// A client's channels. A client joins a handful (at most max_channels, 100 by default): a short list
// searched linearly costs ~100 bytes where a QHash cost ~5 KB per client.
class ChannelTable
{
public:
    Channel *find(const QString &topic);
    bool contains(const QString &topic) { return find(topic) != nullptr; }
    qsizetype size() const { return m_entries.size(); }
    void insert(const QString &topic, const Channel &channel);
    void remove(const QString &topic);
    QStringList topics() const;

private:
    QList<std::pair<QString, Channel>> m_entries;
};

// What the engine knows of a connected client. The instance's own client record (socket, counters)
// derives from it; so does the harness's.
struct EngineClient {
    quint64 id = 0;
    ConnectInfo info;
    ChannelTable channels;
    // What front ends call it (ClientInfo::name): set from the token or socket params at connect, from
    // a join's `name` parameter, and from a presence key (which wins).
    QString name;
    bool namedByPresence = false;
};

// What the engine needs from around it: the instance (sockets, encoding, the supervisor) or the
// BehaviourHarness (recording). Thread: the instance thread.
class EngineHost
{
public:
    virtual ~EngineHost() = default;
    virtual void sendReply(EngineClient &client, const Ref &joinRef, const Ref &ref, const QString &topic,
                           const QString &status, const Payload &response) = 0;
    virtual void sendPush(EngineClient &client, const Ref &joinRef, const QString &topic, const QString &event,
                          const Payload &payload) = 0;
    // A channel control event (phx_close, phx_error): its ref is the join_ref (protocol 4.6).
    virtual void sendControl(EngineClient &client, const Ref &joinRef, const QString &topic, const QString &event,
                             const QJsonObject &payload) = 0;
    virtual void sendBroadcast(const QList<EngineClient *> &members, const QString &topic, const QString &event,
                               const Payload &payload, quint64 excludeClientId) = 0;
    // A broadcast made on this node (by the type, presence or from outside), after its local fan-out: an
    // instance with cluster=true publishes it once to the other nodes. Not called for what came from them.
    virtual void publishToCluster(const QString & /*topic*/, const QString & /*event*/, const Payload & /*payload*/) {}
    virtual void closeClient(EngineClient &client, quint16 code, const QString &reason) = 0;
    // A callback threw; counts toward max_channel_crashes.
    virtual void callbackCrashed(const QString &what) = 0;
    // nextTimerDueMs() may have changed: (re)arm the wake-up that calls fireDueTimers().
    virtual void timersChanged() = 0;
    virtual qint64 nowMs() const = 0;
    // A misuse of the SDK or a problem worth a log line (the host adds the instance tag).
    virtual void warn(const QString &message) = 0;
    // A line for the supervisor log (InstanceNotes).
    virtual void note(const QString &line) = 0;
    // Fault injection for the chaos type (FaultInjection).
    virtual void stallThread(int milliseconds) = 0;
    virtual void failInstance(const QString &reason) = 0;
};

// The Phoenix channel semantics of one instance, without sockets: joins (duplicate, refused, over the
// limits), leaves, events with their join_ref checks, heartbeats, topics and their members, presence,
// timers, and every behaviour callback with the SDK's rules (behaviour.h). The instance feeds it decoded
// messages; the BehaviourHarness feeds it the same way, so a type's unit tests run this very code.
// Thread: the instance thread.
class ChannelEngine final : public InstanceContext, public FaultInjection, public InstanceNotes
{
public:
    struct Limits {
        qint64 maxChannels = 100;
        qint64 maxTopicBytes = 255;
    };

    ChannelEngine(InstanceConfig config, std::unique_ptr<IBehaviour> behaviour, Limits limits, EngineHost &host);
    ~ChannelEngine() override;
    ChannelEngine(const ChannelEngine &) = delete;
    ChannelEngine &operator=(const ChannelEngine &) = delete;

    // auth=jwt: every connection needs a valid token (see behaviour.h's ConnectInfo::claims).
    bool authRequired() const { return m_authRequired; }
    // Checks a connection's token and fills info's claims, subject and expiry; false and *reason (safe to
    // show the client, never the token) when it is missing or invalid.
    bool authenticate(ConnectInfo &info, const QString &token, QString *reason) const;

    // Calls instanceStarted(); false (and *what) when it threw.
    bool start(QString *what);
    // Before the upgrade: the behaviour's refusal, if any. *crashed when it threw.
    std::optional<QString> connect(const ConnectInfo &info, bool *crashed);
    void addClient(EngineClient *client);
    // Leaves every channel of the client (reason Disconnected, or Shutdown while stopping) and forgets it.
    void removeClient(EngineClient *client);
    // A call to the type's HTTP API (IBehaviour::handleHttp); *crashed (and a 500) when it threw.
    HttpAnswer handleHttp(const HttpCall &call, bool *crashed);
    // One decoded message of a client that is not closing.
    void handleMessage(EngineClient &client, const Message &message);
    // From now on no callback runs and no timer fires (the instance is shutting down).
    void stop();
    bool stopping() const { return m_stopping; }
    // Where history and storage() live: an in-memory store until the host hands over the server's.
    void setStore(std::shared_ptr<Store> store) { m_store = std::move(store); }
    Store &store() { return *m_store; }

    void fireDueTimers();
    std::optional<qint64> nextTimerDueMs() const { return m_timers.nextDueMs(); }

    qint64 channelCount() const { return m_channelCount; }
    quint64 joinsTotal() const { return m_joinsTotal; }
    // True once after the set of channels changed (the instance republishes its client list then).
    bool takeChannelsChanged() { return std::exchange(m_channelsChanged, false); }

    // InstanceContext
    QString instanceId() const override { return m_config.id; }
    const InstanceConfig &config() const override { return m_config; }
    // New values of live options (Instance::applyLiveOptions): what the type reads from config() from now on.
    void updateOptions(const QVariantMap &changed)
    {
        for (auto it = changed.cbegin(); it != changed.cend(); ++it) {
            m_config.options.insert(it.key(), it.value());
        }
    }
    void broadcast(const QString &topic, const QString &event, const Payload &payload) override;
    bool pushTo(quint64 clientId, const QString &topic, const QString &event, const Payload &payload) override;
    void kick(quint64 clientId, const QString &reason) override;
    QList<Member> members(const QString &topic) const override;
    // This node's entries, then the other nodes' (cluster=true).
    QJsonObject presenceList(const QString &topic) const override;
    TimerId after(int ms, TimerCallback callback, const QString &topic = {}) override;
    TimerId every(int ms, TimerCallback callback, const QString &topic = {}) override;
    bool cancelTimer(TimerId id) override;
    KeyValueStore &storage() override { return m_storage; }

    // FaultInjection, forwarded to the host.
    void stallThread(int milliseconds) override { m_host.stallThread(milliseconds); }
    void failInstance(const QString &reason) override { m_host.failInstance(reason); }
    // InstanceNotes, forwarded to the host.
    void note(const QString &line) override { m_host.note(line); }

    IBehaviour &behaviour() { return *m_behaviour; }

    // Cluster (docs/design-notes.md "Cluster"): what other nodes of a cluster=true instance sent. Each fans
    // out to this node's members only and is never published again.
    // A broadcast of another node (presence_diff included: it updates that node's presence entries).
    void receiveRemoteBroadcast(const QString &node, const QString &topic, const QString &event,
                                const Payload &payload);
    // Another node's full presence state {topic: {key: {metas}}}: replaces what was known of it.
    void receiveRemoteState(const QString &node, const QJsonObject &topics);
    // A node that stopped answering (or restarted): its presence entries leave.
    void dropRemoteNode(const QString &node);
    // This node's presence, {topic: {key: {metas}}}, for the other nodes.
    QJsonObject localPresenceState() const;

private:
    friend class ChannelContextImpl;

    class Storage final : public KeyValueStore
    {
    public:
        explicit Storage(ChannelEngine &engine)
            : m_engine(engine)
        {}
        QJsonValue value(const QString &key) const override;
        bool setValue(const QString &key, const QJsonValue &value) override;
        bool remove(const QString &key) override;
        QStringList keys() const override;

    private:
        ChannelEngine &m_engine;
    };

    void handleJoin(EngineClient &client, const Message &message);
    // A fresh token (access_token join field or event): false and *reason when it is not valid; for a
    // token of another subject *closeAfterReply is set: the caller answers, then closes (1008).
    bool refreshToken(EngineClient &client, const QString &token, QString *reason, bool *closeAfterReply);
    // The `topics` claim (patterns, `*` as a suffix wildcard) allows this topic, or there is none.
    bool topicAllowed(const EngineClient &client, const QString &topic) const;
    // A join's {"history": {"limit": N, "since": MS}}: checked before the type sees the join.
    struct HistoryRequest {
        bool wanted = false;
        int limit = 0;
        qint64 sinceMs = 0;
    };
    static bool parseHistoryRequest(const QJsonValue &params, HistoryRequest *parsed, QString *error);
    void handleLeave(EngineClient &client, const Message &message);
    void handleEvent(EngineClient &client, Channel &channel, const Message &message);
    void crashChannel(EngineClient &client, const QString &topic, const QString &what);
    // mayEndTopic false: a duplicate join holds the topic (no topicEmpty, timers kept) for the new channel.
    void removeChannel(EngineClient &client, const QString &topic, LeaveReason reason, bool mayEndTopic = true);
    // The topic's last channel is gone: its timers are cancelled, then topicEmpty().
    void endTopic(const QString &topic);
    // fromCluster: it came from another node: local fan-out only.
    void broadcastImpl(const QString &topic, const QString &event, const Payload &payload, quint64 excludeClientId,
                       bool fromCluster = false);
    void fanOutRemoteDiffs(const QHash<QString, QJsonObject> &diffs);
    TimerId addTimer(int ms, bool repeat, TimerCallback callback, const QString &topic, const char *call);
    void presenceTrack(EngineClient &client, Channel &channel, const QString &topic, const QString &key,
                       const QJsonObject &meta);
    void presenceUpdate(Channel &channel, const QString &topic, const QJsonObject &meta);
    void presenceUntrack(Channel &channel, const QString &topic);

    InstanceConfig m_config;
    std::unique_ptr<IBehaviour> m_behaviour;
    Limits m_limits;
    EngineHost &m_host;
    bool m_authRequired = false;
    std::shared_ptr<const auth::JwtVerifier> m_verifier; // null when auth=none, or the key went bad
    QHash<quint64, EngineClient *> m_clients;
    QHash<QString, QList<EngineClient *>> m_members; // topic -> clients joined to it (Channel::subscriberSlot)
    PresenceTracker m_presence;
    RemotePresence m_remotePresence;
    TimerTable m_timers;
    qint64 m_channelCount = 0;
    quint64 m_joinsTotal = 0;
    bool m_channelsChanged = false;
    bool m_stopping = false;
    std::shared_ptr<Store> m_store = Store::inMemory();
    Storage m_storage{*this};
    int m_historyKeep = 0;     // option history
    qint64 m_historyTtlMs = 0; // option history_ttl_s
};

} // namespace wsserve
