// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "channelengine.h"
#include "http/upgraderequest.h"
#include "instanceclient.h"
#include "instanceconfig.h"
#include "instanceshared.h"
#include "net/socketio.h"
#include "net/wsframe.h"
#include "protocol/codec.h"
#include "telemetry/clientinfo.h"
#include "telemetry/connectionevent.h"
#include "telemetry/instancestats.h"
#include "telemetry/messageevent.h"
#include "telemetry/ratemeter.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>

#include <functional>
#include <map>
#include <memory>
#include <vector>

class QTimer;

namespace wsserve {

namespace net {
class Poller;
}
class ClusterLink;

// instance.cpp: lifecycle, connections, incoming frames, timers, statistics; instanceoutput.cpp: the
// outgoing path (encoding, queueing, flushing).
// One running server instance: its clients and their sockets, around a ChannelEngine that holds the
// channel semantics and the behaviour. Created by the supervisor, moved to a thread named
// "instance:<id>", started with a queued start(). Faults are reported with faulted(); the supervisor
// decides what to do.
// Thread: lives in its instance thread; every slot must be invoked queued from other threads.
class Instance final : public QObject, private EngineHost
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Instance)

public:
    Instance(InstanceConfig config, std::shared_ptr<const class BehaviourRegistry> registry,
             std::shared_ptr<InstanceShared> shared);
    ~Instance() override;

    // Instance thread: builds the behaviour and the socket poller, emits started().
    void start();
    // Instance thread: takes a connection whose upgrade request the endpoint validated; asks the
    // behaviour, then answers 101 (or an HTTP error) itself.
    void adoptConnection(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request);
    // Instance thread: closes every socket with closeCode, then emits stopped().
    void stop(quint16 closeCode, const QString &reason);
    // Instance thread: closes one client's socket.
    void kick(quint64 clientId, quint16 closeCode, const QString &reason);
    // Instance thread: a server-side broadcast (admin API, tests).
    void broadcastFromOutside(const QString &topic, const QString &event, const QJsonObject &payload);
    // Instance thread: a server-side push to one client's channel on `topic` (the window's Send bar).
    void pushFromOutside(quint64 clientId, const QString &topic, const QString &event, const QJsonObject &payload);
    // Instance thread: new values of the options that apply live (limits, check_origin); the supervisor
    // validated them. max_frame_bytes applies to connections made from now on.
    void applyLiveOptions(const QVariantMap &options);

    QString instanceId() const { return m_config.id; }
    // Client ids are unique for the process lifetime, across instances, transports and restarts.
    static quint64 nextClientId();

Q_SIGNALS:
    void started(bool ok, const QString &error);
    void stopped();
    // A fault that needs the supervisor: too many channel crashes, or the chaos type's fail.
    void faulted(const QString &reason);
    // A line for the supervisor log (a script's console output), at most kMaxNotesPerSecond a second.
    void noted(const QString &line);
    void statsChanged(const wsserve::InstanceStats &stats);
    // The connected clients, at most every 500 ms and only after something changed.
    void clientsChanged(const wsserve::ClientList &clients);
    // The live message flow, every 100 ms while InstanceShared::messageFlowEnabled().
    void messageFlow(const wsserve::MessageBatch &batch);
    // The connection log (connects, disconnects, refusals, kicks), with the statistics, when not empty.
    void connectionEvents(const wsserve::ConnectionEventBatch &batch);

private:
    using Client = InstanceClient;

    // EngineHost
    void sendReply(EngineClient &client, const Ref &joinRef, const Ref &ref, const QString &topic,
                   const QString &status, const Payload &response) override;
    void sendPush(EngineClient &client, const Ref &joinRef, const QString &topic, const QString &event,
                  const Payload &payload) override;
    void sendControl(EngineClient &client, const Ref &joinRef, const QString &topic, const QString &event,
                     const QJsonObject &payload) override;
    void sendBroadcast(const QList<EngineClient *> &members, const QString &topic, const QString &event,
                       const Payload &payload, quint64 excludeClientId) override;
    void closeClient(EngineClient &client, quint16 code, const QString &reason) override;
    void callbackCrashed(const QString &what) override;
    void timersChanged() override;
    qint64 nowMs() const override;
    void warn(const QString &message) override;
    void note(const QString &line) override;
    void stallThread(int milliseconds) override;
    void failInstance(const QString &reason) override;
    void publishToCluster(const QString &topic, const QString &event, const Payload &payload) override;

    // instancecluster.cpp: cluster=true on a node with --cluster.
    void attachCluster();
    void detachCluster();
    void clusterResync();
    void clusterDeliver(const QString &node, const QByteArray &json);

    // instancehttp.cpp: the type's HTTP API and the long-poll transport.
    void serveApi(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request);
    void serveLongPoll(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request);
    void openLongPollSession(const std::shared_ptr<net::TakenConnection> &connection, const UpgradeRequest &request);
    void longPollPost(Client &client, const std::shared_ptr<net::TakenConnection> &connection,
                      const UpgradeRequest &request);
    // Answers the session's waiting GET: 200 with the outbox, 204 (nothing within the window) or 410 (ended).
    void answerPoll(Client &client, int status);
    void queueLongPoll(Client &client, const QByteArray &message);
    void sweepLongPoll(qint64 now);
    // Writes a whole HTTP answer (the rest when the socket is writable), then shuts the connection down.
    void writeHttp(const std::shared_ptr<net::TakenConnection> &connection, int status, const QByteArray &contentType,
                   const QByteArray &body);
    void continueHttpWrite(qintptr fd);

    void onSocketEvent(qintptr fd, quint32 events);
    // One parsed frame of a client; false to stop parsing its input (it is closing).
    // `now`: nowMs() read once for all the frames of one read (a clock read per frame showed in profiles).
    bool onFrame(Client &client, ws::FrameParser::Event &event, qint64 now);
    // A complete text or binary message: decoded in the client's wire format and handled.
    void onMessage(Client &client, const QByteArray &data, bool binary);
    void removeClient(quint64 clientId);
    void closeClientImpl(Client &client, quint16 code, const QString &reason);
    void protocolError(Client &client, quint16 code, const QString &error);
    // A frame for this client could not be encoded (e.g. a V2 binary push whose topic is over 255 bytes):
    // the client cannot be served as it asked, so it is closed with 1011 and the reason; logged once.
    void encodingFailed(Client &client, const QString &what, const QString &error);
    void send(Client &client, const Frame &frame, const QString &topic, const QString &event);
    // send() for a frame encoded into m_encoded's storage; that storage is kept for the next one.
    void sendEncoded(Client &client, Frame &frame, const QString &topic, const QString &event);
    // A buffer of m_broadcastFrames no queue holds any more (taken out of the list), or none.
    QByteArray freeBroadcastFrame();
    // Queues a prepared WebSocket frame; it is written when the current batch of events ends.
    void queueFrame(Client &client, const QByteArray &prepared);
    void markDirty(Client &client);
    void scheduleFlush();
    // Writes every queued frame (one vectored send per client); drops clients whose peer is gone.
    void flushAll();
    void flushClient(Client &client);
    // flushAll's part for a flush over parallelflush::threshold(): the sends spread over worker threads.
    void flushSplit();
    // What a client's flush result means: dropped when failed, write interest while pending, shutdown
    // after the close frame.
    void applyFlush(Client &client, net::WsConnection::FlushStatus status);
    // Removes the clients whose sockets failed during a flush; only where no handler is running.
    void reap();
    // Records a frame for the live message flow (only while someone watches).
    void tap(bool outgoing, quint64 clientId, int recipients, const Frame &frame, const QString &topic,
             const QString &event);
    void sweep();
    void finishStop();
    void publishStats();
    // Counts an incoming message for the statistics.
    void countIn(Client &client, qsizetype bytes);
    // Takes a token for any incoming frame; false once the client went over its rate limit (it is closed).
    bool admitFrame(Client &client, qint64 now);
    void checkSendBuffer(Client &client);
    // A client closed for abuse (flooding, not reading) is not read any more.
    void stopReading(Client &client);
    void countOut(Client &client, qsizetype bytes);
    // Builds the next clientsChanged() list a chunk at a time; emits it when complete.
    void advanceClientSnapshot();
    // A connection from an address the host blocked: logged and answered 403 through `answer`; true then.
    bool refuseBlocked(const UpgradeRequest &request, const std::function<void(const QString &)> &answer);
    // Adds to the connection log batch (bounded: ConnectionEventBatch::kMaxEvents per publication).
    void logConnection(ConnectionEvent::Kind kind, const Client *client, const QString &address, int code,
                       const QString &reason);

    InstanceConfig m_config;
    std::shared_ptr<const BehaviourRegistry> m_registry;
    std::shared_ptr<InstanceShared> m_shared;
    std::shared_ptr<ClusterLink> m_cluster; // set while attached
    // The options read on hot paths, looked up once (a QVariantMap lookup per recipient showed in profiles).
    struct Limits {
        qint64 maxClients;
        qint64 maxFrameBytes;
        qint64 idleTimeoutMs;
        qint64 maxMessagesPerSecond;
        qint64 maxSendBufferBytes;
    } m_limits;
    std::unique_ptr<ChannelEngine> m_engine;
    net::Poller *m_poller = nullptr;
    QElapsedTimer m_clock; // the timers' clock
    QByteArray m_scratch;  // every read lands here first
    QByteArray m_encoded;  // the last reply or push encoded; its storage is written into by the next one
    // The last broadcast encoded per wire format (V1, V2), kept the same way; and the framed broadcasts
    // the queues may still hold: one that every queue has written and dropped frames the next broadcast.
    QByteArray m_encodedBroadcast[2];
    std::vector<QByteArray> m_broadcastFrames;
    QTimer *m_sweepTimer = nullptr;
    QTimer *m_statsTimer = nullptr;
    QTimer *m_timerWake = nullptr; // fires the behaviour's earliest timer
    QTimer *m_stopTimer = nullptr;

    ClientSet m_clients;
    // Long-poll: session id -> client id; HTTP answers still being written, by descriptor.
    static constexpr qint64 kPollWindowMs = 10000; // Phoenix's window_ms: a poll waits this long for messages
    struct HttpWrite {
        std::shared_ptr<net::TakenConnection> connection; // closes the descriptor when dropped
        QByteArray data;
        qsizetype offset = 0;
        qint64 sinceMs = 0;
    };
    QHash<QString, quint64> m_longPollSessions;
    QHash<qintptr, HttpWrite> m_httpWrites;
    QList<quint64> m_dirty; // clients with frames queued since the last flush
    QList<quint64> m_gone;  // clients whose peer went away while writing
    // flushSplit's lists, kept between flushes (a very large broadcast reuses them).
    std::vector<Client *> m_splitClients;
    std::vector<net::WsConnection *> m_splitConnections;
    std::vector<net::WsConnection::FlushStatus> m_splitStatuses;
    bool m_inBatch = false;
    bool m_flushQueued = false;
    QList<qint64> m_crashTimesMs;
    InstanceStats m_stats;
    MessageBatch m_flow;
    ConnectionEventBatch m_connectionLog;
    InstanceStats m_publishedStats;
    RateMeter m_rates;             // messages in/out per second, sampled with the statistics
    bool m_userBroadcasts = false; // the type takes Supabase kind 3 frames (IBehaviour::acceptsUserBroadcasts)
    bool m_stopping = false;
    bool m_faultReported = false;
    static constexpr int kMaxNotesPerSecond = 20;
    static constexpr int kMaxNoteChars = 2000;
    qint64 m_noteSecond = -1;
    int m_notesThisSecond = 0;
    int m_notesDropped = 0;
    bool m_stopFinished = false;
    bool m_clientsDirty = false;
    int m_statsTicks = 0;
    ClientSnapshotBuilder m_snapshot;
};

} // namespace wsserve
