// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "behaviourregistry.h"
#include "channelengine.h"

#include <QHash>
#include <QStringList>

#include <memory>
#include <optional>

namespace wsserve {

// Runs an instance type without sockets, for its unit tests: the very ChannelEngine an instance uses,
// with a host that records what would be sent and a virtual clock for timers. Clients connect, join,
// push and leave; every reply, push, broadcast and close is kept for inspection.
//
//   BehaviourHarness game(myType, {{"move_timeout_ms", 1000}});
//   const quint64 alice = game.connect();
//   QVERIFY(game.join(alice, "game:1").isOk());
//   QCOMPARE(game.push(alice, "game:1", "move", QJsonObject{{"cell", 4}}).status, "ok");
//   game.advance(1000);                       // runs the timers due by then, in order
//   QCOMPARE(game.received(alice).last().event, "state");
//
// Thread: the test's thread; single-threaded, no event loop needed.
class BehaviourHarness final : private EngineHost
{
public:
    // What a client got, in order: pushes, broadcasts, control events (phx_close, phx_error) and replies.
    struct Frame {
        enum class Kind { Invalid = 0, Reply, Push, Broadcast, Control };
        Kind kind = Kind::Invalid;
        QString topic;
        QString event;  // phx_reply for replies
        QString status; // replies: ok / error
        Payload payload;
        QJsonValue joinRef; // the channel's join_ref it was sent with (null for broadcasts and heartbeats)
        QJsonValue json() const { return payload.json; }
    };
    // The reply to one join, push or leave: received is false when the type did not answer.
    struct Reply {
        bool received = false;
        QString status;
        Payload response;
        bool isOk() const { return received && status == u"ok"; }
        // The error reason ({"reason": ...}) of an error reply.
        QString reason() const { return response.json.toObject().value(QStringLiteral("reason")).toString(); }
        QJsonObject json() const { return response.json.toObject(); }
    };

    // Builds an instance of `type` with these options (validated and defaulted as the app does) and
    // calls instanceStarted(). Check isValid(): a bad option or a throwing start is reported in error().
    // `store`: where history and storage() live (a fresh in-memory one when null); pass the same store to
    // a second harness to see what survives a restart of the instance.
    explicit BehaviourHarness(const BehaviourType &type, const QVariantMap &options = {},
                              const QString &instanceId = QStringLiteral("test"), std::shared_ptr<Store> store = {});
    ~BehaviourHarness() override;
    BehaviourHarness(const BehaviourHarness &) = delete;
    BehaviourHarness &operator=(const BehaviourHarness &) = delete;

    bool isValid() const { return m_error.isEmpty(); }
    QString error() const { return m_error; }

    // A connection (query params and the auth token as the socket would carry them); its client id, or
    // 0 when the type refused it (refusal() says why).
    quint64 connect(const QJsonObject &params = {}, const QString &authToken = {});
    QString refusal() const { return m_refusal; }
    Reply join(quint64 clientId, const QString &topic, const QJsonObject &params = {});
    Reply push(quint64 clientId, const QString &topic, const QString &event, const QJsonValue &payload = QJsonObject{});
    Reply pushBinary(quint64 clientId, const QString &topic, const QString &event, const QByteArray &bytes);
    // Any decoded payload, e.g. a Supabase user broadcast (Payload::fromUserBroadcast, event "broadcast").
    Reply pushPayload(quint64 clientId, const QString &topic, const QString &event, const Payload &payload);
    // A call to the type's HTTP API (IBehaviour::handleHttp), as the instance makes it.
    HttpAnswer http(const HttpCall &call);
    Reply leave(quint64 clientId, const QString &topic);
    // The connection goes away (every channel leaves with LeaveReason::Disconnected).
    void disconnect(quint64 clientId);
    // Moves the virtual clock forward, running every timer due on the way, in order.
    void advance(int milliseconds);
    qint64 now() const { return m_nowMs; }

    // Everything the client received so far / since the last take.
    QList<Frame> received(quint64 clientId) const;
    QList<Frame> takeReceived(quint64 clientId);
    // The last frame with this event the client received on a topic, if any.
    std::optional<Frame> lastReceived(quint64 clientId, const QString &topic, const QString &event) const;
    // Whether the client was closed by the type (kick), and why. As on a socket, its channels then leave
    // (LeaveReason::Disconnected) once the callback that closed it has returned.
    bool isClosed(quint64 clientId) const;
    QString closeReason(quint64 clientId) const;

    QList<Member> members(const QString &topic) const { return m_engine->members(topic); }
    QJsonObject presence(const QString &topic) const { return m_engine->presenceList(topic); }
    // SDK misuse and handler exceptions, as the instance would log them.
    QStringList warnings() const { return m_warnings; }
    // Lines for the supervisor log (a script's console output).
    QStringList notes() const { return m_notes; }
    int crashes() const { return m_crashes; }
    QStringList faults() const { return m_faults; } // the chaos type's failInstance() reasons
    InstanceContext &instance() { return *m_engine; }
    IBehaviour &behaviour() { return m_engine->behaviour(); }

private:
    struct Client : EngineClient {
        QList<Frame> frames;
        qsizetype taken = 0;
        bool closed = false;
        QString closeReason;
    };

    Reply send(Client &client, const QString &topic, const QString &event, const Payload &payload);
    // Clients closed during the last callback leave their channels now (their records stay for inspection).
    void reapClosed();
    Client *find(quint64 clientId) const;

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
    void timersChanged() override {}
    qint64 nowMs() const override { return m_nowMs; }
    void warn(const QString &message) override { m_warnings.append(message); }
    void note(const QString &line) override { m_notes.append(line); }
    void stallThread(int milliseconds) override { m_faults.append(QStringLiteral("stall %1 ms").arg(milliseconds)); }
    void failInstance(const QString &reason) override { m_faults.append(reason); }

    std::unique_ptr<ChannelEngine> m_engine;
    QHash<quint64, Client *> m_clients;             // owned
    QHash<QString, std::optional<Reply>> m_replies; // by ref, while a message is handled
    QList<quint64> m_closing;                       // closed, not yet removed from the engine
    quint64 m_nextClientId = 1;
    quint64 m_nextRef = 1;
    qint64 m_nowMs = 0;
    QString m_error;
    QString m_refusal;
    QStringList m_warnings;
    QStringList m_notes;
    QStringList m_faults;
    int m_crashes = 0;
};

} // namespace wsserve
