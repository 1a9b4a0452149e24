// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "behaviours/builtins.h"
#include "clock.h"
#include "cluster/clusterlink.h"
#include "commandresult.h"
#include "instance/addressblocks.h"
#include "store/store.h"
#include "supervisor/instancestate.h"
#include "telemetry/clientinfo.h"
#include "telemetry/connectionevent.h"
#include "telemetry/instancestats.h"
#include "telemetry/messageevent.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QObject>
#include <QVariantMap>

#include <memory>

namespace wsserve {

class Supervisor;
namespace web {
class HostBrowser;
}

// Whether the game port's listener can accept connections (it cannot while the process is out of file
// descriptors; it resumes by itself).
struct ListenerStatus {
    bool accepting = true;
    quint64 acceptErrors = 0; // episodes of failed accepts since start
    QString reason;           // empty while accepting
};

// What a host asks for when handing a player a token for an auth=jwt instance (see mintPlayerToken()).
struct PlayerTokenRequest {
    QString sub;              // required: 1-256 characters, the subject the instance sees (`sub`)
    QString name;             // optional `name` claim (chat/relay use it as the presence key), at most 64 characters
    QStringList topics;       // optional `topics` claim: the topic patterns it may join (`*` as a suffix)
    qint64 ttlSeconds = 3600; // lifetime: 1 s to 30 days
};

// A minted player token, or why not. The token is a secret of the player's: never log it.
struct PlayerToken {
    static constexpr qint64 kMaxTtlSeconds = 30 * 24 * 3600;
    static constexpr qsizetype kMaxSubjectLength = 256;
    static constexpr qsizetype kMaxNameLength = 64;
    static constexpr qsizetype kMaxTopics = 100;
    static constexpr qsizetype kMaxTopicLength = 255;

    CommandResult result; // NotFound, NotJwtSecret, InvalidArgument (with `field`)
    QString field;        // InvalidArgument: "sub", "name", "topics" or "ttl"
    QByteArray token;     // compact HS256 JWS
    qint64 expiresAt = 0; // `exp`, seconds since the epoch

    bool isOk() const { return result.isOk(); }
};

// The answer to updateInstanceOptions(): which options changed, which of them took effect at once and
// which wait for a restart, or why not (InvalidOption with `field`, NotFound).
struct OptionsUpdate {
    CommandResult result;
    QString field;            // InvalidOption: the option at fault
    QStringList appliedLive;  // changed and in effect now (or at the next start of a stopped instance)
    QStringList needsRestart; // changed; a running instance uses them after its next restart

    bool isOk() const { return result.isOk(); }
};

// A summary of one instance for front ends.
struct InstanceInfo {
    InstanceConfig config;
    InstanceState state = InstanceState::Invalid;
    InstanceStats stats;
    int restarts = 0;
    qint64 runningSinceMs = 0; // 0 unless Running
};

// A shared instance's clients across the cluster: GET /api/cluster's clients_here and clients_cluster,
// the instance list's Clients column. From the other nodes' last heartbeats (every second).
struct ClusterClients {
    bool shared = false;                  // the instance has cluster=true and this node is in a cluster
    int here = 0;                         // connected to this node (its own count, never a heartbeat's)
    int cluster = 0;                      // here plus every other node that has the instance
    QList<std::pair<QString, int>> nodes; // the nodes that have it, this node first, with their clients

    bool operator==(const ClusterClients &) const = default;
};

// The facade every front end (GUI, headless CLI, admin API) drives: listening, instance lifecycle,
// kicks and server-side broadcasts, plus signals for state and telemetry.
// Thread: main thread. Owns the endpoint thread and, through the supervisor, every instance thread.
class ServerController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerController)

public:
    explicit ServerController(BehaviourRegistry registry = builtinRegistry(), QObject *parent = nullptr);
    ~ServerController() override;

    // The instance types: the built-in ones, then the script types of the types folders. Changes when a
    // folder does (typesChanged()); do not keep the reference across event-loop turns.
    const BehaviourRegistry &registry() const { return *m_registry; }

    // Folders of JavaScript instance types (*.js). Loads them at once and watches them: a saved file
    // reloads its type and restarts that type's running instances onto the new code (clients get 1012
    // and rejoin); a file that no longer loads leaves them on the last version that did.
    void setTypeDirectories(const QStringList &directories);
    QStringList typeDirectories() const;
    // Copies a type file into the first types folder (made if missing) and loads it at once. On success
    // the message names the type; InvalidArgument says why the file does not load ("file:line: problem";
    // the copy stays, to be fixed in place) or why it could not be copied.
    CommandResult installTypeFile(const QString &path);

    // Raises the process's soft open-files limit to its hard limit; returns what it got, for the log.
    static QString raiseOpenFilesLimit();

    // TLS on the game port (wss:// and https://), asked for before listen(): loads the PEM certificate
    // (chain allowed) and key, and reloads them when the files change (new connections use the new ones;
    // a pair that no longer loads leaves the last good one in use, with a warning). False with *error,
    // one line naming the file and the problem. An expired certificate is used, with a warning.
    bool enableTls(const QString &certFile, const QString &keyFile, QString *error);
    // Makes (first time) or reuses a self-signed certificate for this host's names and LAN addresses in
    // `folder`; returns its files.
    static bool selfSignedCertificate(const QString &folder, QString *certFile, QString *keyFile, QString *error);
    bool isTls() const;
    QString tlsFingerprint() const; // SHA-256 of the certificate in use, "AB:CD:..."
    QString tlsCertFile() const;
    bool tlsSelfSigned() const; // the certificate is its own issuer (browsers ask people to accept it)

    // Starts listening; answers with listening() or listenFailed().
    void listen(const QHostAddress &address, quint16 port);
    bool isListening() const { return m_listeningPort != 0; }
    QHostAddress listenAddress() const { return m_listeningAddress; }
    quint16 listenPort() const { return m_listeningPort; }
    // Any thread.
    ListenerStatus listenerStatus() const;

    // Commands. Each validates what it is given and answers with the kind of refusal and a sentence for a
    // person (front ends do not check ids, states or options themselves). Stop, restart and remove are
    // accepted at once; the state changes follow as instanceStateChanged()/instanceRemoved().

    // Validates (InvalidId, IdTaken, UnknownType, InvalidOption) and adds an instance (Stopped), then starts
    // it when `start` is true.
    CommandResult createInstance(const QString &id, const QString &type, const QVariantMap &options, bool start);
    CommandResult startInstance(const QString &id);   // NotFound, WrongState (not Stopped/Failed/Restarting)
    CommandResult stopInstance(const QString &id);    // NotFound
    CommandResult restartInstance(const QString &id); // NotFound, WrongState (Stopping)
    CommandResult removeInstance(const QString &id);  // NotFound
    // NotFound (instance, or a client not in the published list), NotRunning. Closes with 1008.
    // blockMinutes (0 – kMaxBlockMinutes; else InvalidOption) > 0 also refuses the client's address on this
    // instance with HTTP 403 "address blocked by host until HH:MM" for that long (across restarts); the
    // result's message then says until when.
    CommandResult kickClient(const QString &id, quint64 clientId, const QString &reason, int blockMinutes = 0);
    static constexpr int kMaxBlockMinutes = 24 * 60;
    // The addresses blocked on an instance, soonest expiry first; lifting one (NotFound when not blocked).
    QList<AddressBlocks::Block> blockedAddresses(const QString &id) const;
    CommandResult unblockAddress(const QString &id, const QString &address);
    // The wall clock address blocks expire by, for instances created from now on (tests move it forward).
    void setWallClock(WallClock clock);
    CommandResult broadcast(const QString &id, const QString &topic, const QString &event,
                            const QJsonObject &payload); // NotFound, NotRunning
    // A server push to one client's channel on `topic` (dropped when it has not joined it).
    // NotFound (instance, or a client not in the published list), NotRunning.
    CommandResult pushToClient(const QString &id, quint64 clientId, const QString &topic, const QString &event,
                               const QJsonObject &payload);
    // Changes options of an existing instance, in any state: `changes` has the shape createInstance() takes
    // (only the options to change), validated by the same rules. Options whose OptionSpec is `live`
    // (max_clients, max_frame_bytes for new connections, idle_timeout_ms, max_messages_per_second,
    // max_send_buffer_bytes, check_origin, max_restarts, restart_window_ms, watchdog_ms, and type options
    // such as chat's presence) apply to a running instance at once; the others when it next starts (the
    // caller offers a restart).
    OptionsUpdate updateInstanceOptions(const QString &id, const QVariantMap &changes);
    // Signs a player token (HS256) with the instance's jwt_secret: claims sub, name and topics when given,
    // iat, exp = now + ttl, and aud/iss when the instance checks them. NotFound, NotJwtSecret (the instance
    // is not auth=jwt with jwt_secret, whatever its state), InvalidArgument (field says which).
    PlayerToken mintPlayerToken(const QString &instanceId, const PlayerTokenRequest &request) const;
    // True when mintPlayerToken() can sign for the instance (auth=jwt with jwt_secret).
    bool canMintPlayerTokens(const QString &instanceId) const;
    // The same for a secret given directly (the `wsserve token` command); audience/issuer when not empty.
    static PlayerToken signPlayerToken(const QByteArray &secret, const PlayerTokenRequest &request,
                                       const QString &audience, const QString &issuer, qint64 nowSeconds);

    QStringList instanceIds() const;
    InstanceInfo instance(const QString &id) const;
    QList<SupervisorEvent> supervisorLog() const;
    // The connection log of every instance (and refusals naming none), oldest first, at most
    // kMaxConnectionLog entries; connectionEventsDropped() counts what floods left out.
    static constexpr int kMaxConnectionLog = 2000;
    QList<ConnectionEvent> connectionLog() const;
    quint64 connectionEventsDropped() const;
    // The instance's connected clients as last published (at most 500 ms old).
    ClientList clients(const QString &id) const;
    // While enabled, the instance publishes instanceMessageFlow() batches (every 100 ms, sampled above
    // MessageBatch::kMaxEventsPerBatch frames). Off by default: headless runs pay nothing for it.
    void setMessageFlowEnabled(const QString &id, bool enabled);

    // Persistence: message history, instance state and (headless) instance definitions. An in-memory store
    // until setStore(), which must come before the first instance is created.
    void setStore(std::shared_ptr<Store> store);
    std::shared_ptr<Store> store() const;
    // The stored history of an instance's topic, oldest first (at or after sinceMs when > 0, the last
    // `limit`). NotFound for an unknown instance.
    CommandResult history(const QString &id, const QString &topic, qint64 sinceMs, int limit,
                          QList<StoredMessage> *messages) const;
    QList<StoredTopic> historyTopics(const QString &id) const;
    // Empty topic: every topic. NotFound for an unknown instance.
    CommandResult clearHistory(const QString &id, const QString &topic, qint64 *removed = nullptr);

    // DNS-SD (`_wsserve._tcp`, through Avahi): off by default. With announceAll (--announce) the host is
    // announced with every running instance; otherwise only when some running instance has the option
    // `announce`, with those instances. TXT: version, path (the pages), socket, ids, types.
    void setAnnounceAll(bool announce);
    bool announceAll() const;
    QList<QByteArray> announcementTxt() const; // empty: nothing to announce
    // Other wsserve hosts on the network (DNS-SD browsing of `_wsserve._tcp`): idle until a front end
    // calls start() on it (the GUI's "Look for other hosts", `--list-hosts`); never started by announcing.
    web::HostBrowser &hostBrowser();
    // Scale-out: joins the cluster of nodes meeting at settings' Redis (docs/design-notes.md "Cluster"). Must
    // come before the first instance is created; the caller checked the settings (checkClusterReachable).
    // Instances with cluster=true then share broadcasts and presence with the same id on the other nodes.
    void joinCluster(const ClusterSettings &settings);
    // enabled == false when the node runs alone. Any thread.
    ClusterStatus clusterStatus() const;
    // The instance's clients here and in the cluster; shared == false for an instance without cluster=true
    // or a node running alone. The static form reads a status taken once (for many instances).
    ClusterClients clusterClients(const QString &id) const;
    static ClusterClients clusterClients(const ClusterStatus &status, const QString &id, const InstanceInfo &info);

    // Closes every client with 1012, stops every instance and the listener, commits what the store holds;
    // emits shutdownComplete().
    void shutdown();

Q_SIGNALS:
    void listening(const QHostAddress &address, quint16 port);
    void listenFailed(const QString &error);
    void instanceAdded(const QString &id);
    void instanceRemoved(const QString &id);
    void instanceStateChanged(const QString &id, wsserve::InstanceState state, const QString &reason);
    void instanceStatsChanged(const QString &id, const wsserve::InstanceStats &stats);
    void instanceClientsChanged(const QString &id, const wsserve::ClientList &clients);
    void instanceMessageFlow(const QString &id, const wsserve::MessageBatch &batch);
    void supervisorEvent(const wsserve::SupervisorEvent &event);
    // New connection log entries (batched; `dropped` were left out of this batch by a flood).
    void connectionEvents(const QList<wsserve::ConnectionEvent> &events, quint64 dropped);
    // The type list changed (a script type was added, reloaded, removed, or broke).
    void typesChanged();
    void shutdownComplete();
    // The TLS certificate was reloaded (its fingerprint may have changed).
    void tlsChanged();

private:
    void connectSite(); // keeps the pages' instance list (web::SiteDirectory) current
    void refreshSite(const QString &id);
    void refreshAnnouncement();
    void rebuildRegistry(const QStringList &reloaded);
    void reloadTls();

    struct Private;
    std::unique_ptr<Private> d;
    std::shared_ptr<const BehaviourRegistry> m_registry;
    QHostAddress m_listeningAddress;
    quint16 m_listeningPort = 0;
};

} // namespace wsserve
