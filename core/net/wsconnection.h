// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "socketio.h"
#include "wsframe.h"

#include <QByteArray>

#include <vector>

namespace wsserve::net {

// One server-side WebSocket connection on a raw non-blocking descriptor: frames in (through
// ws::FrameParser) and prepared frames out. Outgoing frames are queued as shared buffers (a broadcast's
// frame is one buffer referenced by every recipient's queue, never copied) and written with one
// vectored send per flush. An idle connection holds no buffers at all.
// Thread: used by the one thread that owns it; owns (and closes) the descriptor.
class WsConnection
{
public:
    WsConnection(qintptr fd, qint64 maxMessageBytes, QByteArray buffered);
    ~WsConnection();
    WsConnection(const WsConnection &) = delete;
    WsConnection &operator=(const WsConnection &) = delete;

    qintptr fd() const { return m_fd; }

    enum class ReadStatus { Open, PeerGone };
    // Reads what the socket has (a few reads at most; level-triggered readiness brings the rest) and
    // hands each parsed event to sink(ws::FrameParser::Event &) until the sink returns false. After a
    // framing error, or once the sink returned false, further input is read and discarded.
    template <typename Sink> ReadStatus pump(char *scratch, qsizetype capacity, Sink &&sink);
    // Parses bytes that arrived with the request head.
    template <typename Sink> void deliverBuffered(Sink &&sink);

    // Small frames (pongs, replies) are appended to the last queued buffer when nobody else holds it, so a
    // flood of tiny frames costs its bytes, not a buffer each; anything else is queued shared.
    void queue(const QByteArray &frame)
    {
        m_outBytes += frame.size();
        if (QByteArray *tail = coalescingTail(frame.size())) {
            tail->append(frame);
            return;
        }
        m_out.push_back(frame);
    }
    // One message framed straight into that tail buffer when it fits (a reply or a push: no buffer of its
    // own, no second copy); otherwise framed into a buffer of its own.
    void queueMessage(ws::Opcode opcode, QByteArrayView payload)
    {
        const qsizetype size = ws::frameSize(payload.size());
        m_outBytes += size;
        if (QByteArray *tail = coalescingTail(size)) {
            ws::appendFrame(*tail, opcode, payload);
            return;
        }
        queueNewBuffer(opcode, payload);
    }
    static constexpr qsizetype kCoalesceBytes = 512;
    static constexpr qsizetype kCoalescedBufferBytes = 16 * 1024;
    qint64 queuedBytes() const { return m_outBytes; }
    // Slots the queue holds, written ones included (for tests: it stays bounded under a steady backlog).
    qsizetype queueSlots() const { return static_cast<qsizetype>(m_out.size()); }
    enum class FlushStatus { Drained, Pending, Failed };
    FlushStatus flush();

private:
    // The last queued buffer, when `size` more bytes may be appended to it: a small frame, a buffer nobody
    // else holds (not a shared broadcast frame), with room under the cap.
    QByteArray *coalescingTail(qsizetype size)
    {
        if (size > kCoalesceBytes || m_out.size() <= m_outHead) {
            return nullptr;
        }
        QByteArray &tail = m_out.back();
        return tail.size() + size <= kCoalescedBufferBytes && tail.isDetached() ? &tail : nullptr;
    }
    template <typename Sink> qsizetype parse(char *data, qsizetype size, Sink &sink);
    // A small frame starts a buffer the next ones are appended to: one this thread wrote out before (a spare,
    // so a steady exchange allocates nothing), or a new one with room for a batch.
    void queueNewBuffer(ws::Opcode opcode, QByteArrayView payload);
    // A buffer written out completely: kept as a spare when nobody else holds it and it is small.
    static void release(QByteArray &written);
    void compact();

    qintptr m_fd;
    ws::FrameParser m_parser;
    QByteArray m_in;               // an incomplete frame
    std::vector<QByteArray> m_out; // appended at the back; written from m_outHead
    size_t m_outHead = 0;
    qsizetype m_outOffset = 0; // into m_out[m_outHead]
    qint64 m_outBytes = 0;
    bool m_discarding = false;
};

template <typename Sink> qsizetype WsConnection::parse(char *data, qsizetype size, Sink &sink)
{
    qsizetype offset = 0;
    while (!m_discarding && offset < size) {
        qsizetype used = 0;
        ws::FrameParser::Event event = m_parser.next(data + offset, size - offset, &used);
        offset += used;
        if (event.kind == ws::FrameParser::Event::Kind::NeedMore) {
            if (used == 0) {
                break;
            }
            continue;
        }
        const bool failed = event.kind == ws::FrameParser::Event::Kind::Error;
        if (!sink(event) || failed) {
            m_discarding = true;
        }
    }
    return m_discarding ? size : offset;
}

template <typename Sink> void WsConnection::deliverBuffered(Sink &&sink)
{
    if (m_in.isEmpty()) {
        return;
    }
    const qsizetype used = parse(m_in.data(), m_in.size(), sink);
    m_in.remove(0, used);
    if (m_in.isEmpty()) {
        m_in = QByteArray();
    }
}

template <typename Sink> WsConnection::ReadStatus WsConnection::pump(char *scratch, qsizetype capacity, Sink &&sink)
{
    constexpr int kReadsPerEvent = 4;
    for (int round = 0; round < kReadsPerEvent; ++round) {
        IoStatus status = IoStatus::Ok;
        const qsizetype n = receive(m_fd, scratch, capacity, &status);
        if (status == IoStatus::Closed) {
            return ReadStatus::PeerGone;
        }
        if (status == IoStatus::WouldBlock) {
            break;
        }
        if (m_discarding) {
            continue;
        }
        if (m_in.isEmpty()) {
            const qsizetype used = parse(scratch, n, sink);
            if (used < n) {
                m_in = QByteArray(scratch + used, n - used);
            }
        } else {
            m_in.append(scratch, n);
            deliverBuffered(sink);
        }
        if (n < capacity) {
            break; // most likely drained; the next readiness event says otherwise
        }
    }
    return ReadStatus::Open;
}

} // namespace wsserve::net
