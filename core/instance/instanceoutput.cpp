// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The instance's outgoing path: what the engine sends, encoded in each client's wire format (a broadcast
// once per format), framed, queued as shared buffers and written in one vectored send per client per
// batch of socket events; slow readers and frames that cannot be encoded are dealt with here.
#include "instance.h"

#include "clock.h"
#include "logging.h"
#include "net/poller.h"
#include "parallelflush.h"

namespace wsserve {

namespace {
// The WebSocket frame that carries an encoded Phoenix message, in `buffer`'s storage when it is free.
QByteArray prepare(const Frame &frame, QByteArray buffer)
{
    return ws::prepareFrame(frame.binary ? ws::Opcode::Binary : ws::Opcode::Text, frame.data, std::move(buffer));
}

// Kept for the next frame of its kind when small: a large one's storage would be held for nothing.
void keepSmall(QByteArray &kept, QByteArray &&buffer)
{
    constexpr qsizetype kKeptBytes = 64 * 1024;
    if (buffer.capacity() <= kKeptBytes) {
        kept = std::move(buffer);
    }
}
} // namespace

void Instance::encodingFailed(Client &client, const QString &what, const QString &error)
{
    if (client.closing) {
        return;
    }
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "-" << what
                                    << "cannot be encoded in its wire format (" << error << "); closing with 1011";
    closeClientImpl(client, ws::closecode::kInternalError, QStringLiteral("cannot encode a %1: %2").arg(what, error));
}

void Instance::queueFrame(Client &client, const QByteArray &prepared)
{
    client.conn.queue(prepared);
    markDirty(client);
}

void Instance::markDirty(Client &client)
{
    if (!client.dirty) {
        client.dirty = true;
        m_dirty.append(client.id);
    }
    scheduleFlush();
}

void Instance::scheduleFlush()
{
    if (m_inBatch || m_flushQueued) {
        return; // the end of the batch flushes
    }
    m_flushQueued = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_flushQueued = false;
            flushAll();
            reap();
        },
        Qt::QueuedConnection);
}

void Instance::flushAll()
{
    if (parallelflush::threshold() > 0 && m_dirty.size() >= parallelflush::threshold()) {
        flushSplit(); // the socket clients of a very large broadcast; long-poll ones stay for the loop
    }
    // Index loop: a client dropped here may make the behaviour send to others, which appends.
    for (qsizetype i = 0; i < m_dirty.size(); ++i) {
        if (Client *client = m_clients.find(m_dirty.at(i))) {
            client->dirty = false;
            flushClient(*client);
        }
    }
    m_dirty.clear();
}

void Instance::flushSplit()
{
    // Only the sends run on other threads (parallelflush.h); nothing is queued meanwhile, and what their
    // results mean is handled here afterwards, as flushClient does.
    m_splitClients.clear();
    m_splitConnections.clear();
    qsizetype kept = 0; // long-poll clients stay in m_dirty (in place: the list keeps its capacity)
    for (qsizetype i = 0; i < m_dirty.size(); ++i) {
        Client *client = m_clients.find(m_dirty.at(i));
        if (!client) {
            continue;
        }
        if (client->longPoll) {
            m_dirty[kept++] = client->id;
            continue;
        }
        client->dirty = false;
        m_splitClients.push_back(client);
        m_splitConnections.push_back(&client->conn);
    }
    m_dirty.resize(kept);
    m_splitStatuses.resize(m_splitConnections.size());
    parallelflush::flush(m_splitConnections, m_splitStatuses);
    for (size_t i = 0; i < m_splitClients.size(); ++i) {
        applyFlush(*m_splitClients[i], m_splitStatuses[i]);
    }
}

void Instance::reap()
{
    const QList<quint64> gone = std::exchange(m_gone, {});
    for (const quint64 id : gone) {
        removeClient(id);
    }
}

void Instance::flushClient(Client &client)
{
    if (client.longPoll) {
        if (!client.longPoll->outbox.isEmpty()) {
            answerPoll(client, 200); // when a poll waits; otherwise the next one takes the outbox
        }
        return;
    }
    applyFlush(client, client.conn.flush());
}

void Instance::applyFlush(Client &client, net::WsConnection::FlushStatus status)
{
    switch (status) {
    case net::WsConnection::FlushStatus::Failed:
        // Not removed here: a behaviour callback (stallThread, failInstance) may be flushing while its
        // own client is on the stack.
        m_gone.append(client.id);
        return;
    case net::WsConnection::FlushStatus::Pending:
        if (!client.wantWrite) {
            client.wantWrite = true;
            m_poller->setInterest(client.conn.fd(), !client.readStopped, true);
        }
        return;
    case net::WsConnection::FlushStatus::Drained:
        break;
    }
    if (client.wantWrite) {
        client.wantWrite = false;
        m_poller->setInterest(client.conn.fd(), !client.readStopped, false);
    }
    if (client.closing && !client.shutDown) {
        // The close frame is out: end our direction too. The peer answers (or just closes) and the
        // read side sees the end; the sweep drops peers that never do.
        client.shutDown = true;
        net::shutdownWrite(client.conn.fd());
    }
}

void Instance::send(Client &client, const Frame &frame, const QString &topic, const QString &event)
{
    if (frame.isNull() || client.closing) {
        return;
    }
    if (client.longPoll && frame.binary) {
        encodingFailed(client, QStringLiteral("binary '%1'").arg(event),
                       QStringLiteral("the long-poll transport carries text only"));
        return;
    }
    if (m_shared->messageFlowEnabled()) {
        tap(true, client.id, 1, frame, topic, event);
    }
    if (client.longPoll) {
        queueLongPoll(client, frame.data);
    } else {
        client.conn.queueMessage(frame.binary ? ws::Opcode::Binary : ws::Opcode::Text, frame.data);
        markDirty(client);
    }
    countOut(client, frame.data.size());
    checkSendBuffer(client);
}

void Instance::sendReply(EngineClient &engineClient, const Ref &joinRef, const Ref &ref, const QString &topic,
                         const QString &status, const Payload &response)
{
    auto &client = static_cast<Client &>(engineClient);
    if (client.closing) {
        return;
    }
    QString error;
    Frame frame =
        codec::encodeReply(client.info.format, joinRef, ref, topic, status, response, &error, std::move(m_encoded));
    if (frame.isNull()) {
        encodingFailed(client, QStringLiteral("reply"), error);
        return;
    }
    sendEncoded(client, frame, topic, events::kReply);
}

void Instance::sendEncoded(Client &client, Frame &frame, const QString &topic, const QString &event)
{
    send(client, frame, topic, event);
    // One the message-flow view or a long poll still holds is theirs: the encoder lets it be.
    if (!frame.binary) {
        keepSmall(m_encoded, std::move(frame.data));
    }
}

void Instance::sendPush(EngineClient &engineClient, const Ref &joinRef, const QString &topic, const QString &event,
                        const Payload &payload)
{
    auto &client = static_cast<Client &>(engineClient);
    if (client.closing) {
        return;
    }
    QString error;
    Frame frame = codec::encodePush(client.info.format, joinRef, topic, event, payload, &error, std::move(m_encoded));
    if (frame.isNull()) {
        encodingFailed(client, QStringLiteral("push '%1'").arg(event), error);
        return;
    }
    sendEncoded(client, frame, topic, event);
}

void Instance::sendControl(EngineClient &engineClient, const Ref &joinRef, const QString &topic, const QString &event,
                           const QJsonObject &payload)
{
    auto &client = static_cast<Client &>(engineClient);
    send(client, codec::encodeChannelControl(client.info.format, joinRef, topic, event, payload), topic, event);
}

void Instance::sendBroadcast(const QList<EngineClient *> &members, const QString &topic, const QString &event,
                             const Payload &payload, quint64 excludeClientId)
{
    ++m_stats.broadcasts;
    // Encoded and framed once per wire format; every member's queue holds the same buffer (protocol 7.7).
    // Both are written into buffers of earlier broadcasts that every queue has let go of.
    Frame frames[2];
    QByteArray prepared[2];
    bool encoded[2] = {false, false};
    int recipients = 0;
    const Frame *tapped = nullptr;
    for (EngineClient *member : members) { // sends never change memberships
        auto *client = static_cast<Client *>(member);
        if (client->closing || client->id == excludeClientId) {
            continue;
        }
        const int slot = client->info.format == WireFormat::V1Json ? 0 : 1;
        if (!encoded[slot]) {
            encoded[slot] = true;
            frames[slot] = codec::encodeBroadcast(client->info.format, topic, event, payload, nullptr,
                                                  std::move(m_encodedBroadcast[slot]));
            if (!frames[slot].isNull()) {
                prepared[slot] = prepare(frames[slot], freeBroadcastFrame());
            }
        }
        const Frame &frame = frames[slot];
        if (frame.isNull() || (client->longPoll && frame.binary)) {
            continue; // binary payload and a V1 or long-poll client: not expressible
        }
        if (client->longPoll) {
            queueLongPoll(*client, frame.data);
        } else {
            queueFrame(*client, prepared[slot]);
        }
        countOut(*client, frame.data.size());
        checkSendBuffer(*client);
        ++recipients;
        tapped = &frame;
    }
    if (tapped && m_shared->messageFlowEnabled()) {
        tap(true, 0, recipients, *tapped, topic, event);
    }
    for (int slot = 0; slot < 2; ++slot) {
        if (encoded[slot] && !frames[slot].binary) {
            keepSmall(m_encodedBroadcast[slot], std::move(frames[slot].data));
        }
        // Kept while the queues write it (several broadcasts of one read batch are queued at once); small
        // ones only, so what the list holds stays under 64 x 8 KiB.
        constexpr size_t kMaxKeptFrames = 64;
        constexpr qsizetype kKeptBytes = 8 * 1024;
        if (encoded[slot] && !prepared[slot].isNull() && prepared[slot].capacity() <= kKeptBytes &&
            m_broadcastFrames.size() < kMaxKeptFrames) {
            m_broadcastFrames.push_back(std::move(prepared[slot]));
        }
    }
}

QByteArray Instance::freeBroadcastFrame()
{
    for (QByteArray &frame : m_broadcastFrames) {
        if (frame.isDetached()) {
            QByteArray free = std::move(frame);
            frame = std::move(m_broadcastFrames.back());
            m_broadcastFrames.pop_back();
            return free;
        }
    }
    return {};
}

void Instance::tap(bool outgoing, quint64 clientId, int recipients, const Frame &frame, const QString &topic,
                   const QString &event)
{
    MessageEvent item;
    item.timeMs = wsserve::nowMs(); // wall clock: shown to people
    item.outgoing = outgoing;
    item.binary = frame.binary;
    item.clientId = clientId;
    item.recipients = recipients;
    item.topic = topic;
    item.event = event;
    m_flow.record(std::move(item), frame.data);
}

void Instance::checkSendBuffer(Client &client)
{
    const qint64 queued = client.longPoll ? client.longPoll->outboxBytes : client.conn.queuedBytes();
    const qint64 limit = m_limits.maxSendBufferBytes;
    if (queued <= limit || client.closing) {
        return;
    }
    // A client that does not read would make the instance buffer without bound. The close frame may never
    // be read either: the sweep aborts the socket if the close handshake does not finish.
    qCWarning(lcInstance).noquote() << logTag(m_config.id) << "client" << client.id << "has" << queued
                                    << "bytes unsent (slow reader); closing";
    closeClientImpl(client, ws::closecode::kPolicyViolation,
                    QStringLiteral("send buffer over %1 bytes (not reading)").arg(limit));
    stopReading(client);
}

void Instance::stopReading(Client &client)
{
    // Whatever it sends from now on costs this thread nothing: its frames are not read, the kernel
    // buffers fill and its writes block. It is dropped when its close handshake times out (or it hangs up).
    if (!client.readStopped && !client.longPoll) {
        client.readStopped = true;
        m_poller->setInterest(client.conn.fd(), false, client.wantWrite);
    }
}

void Instance::countOut(Client &client, qsizetype bytes)
{
    ++client.messagesOut;
    client.bytesOut += static_cast<quint64>(bytes);
    ++m_stats.messagesOut;
    m_stats.bytesOut += static_cast<quint64>(bytes);
    m_clientsDirty = true;
}

} // namespace wsserve
