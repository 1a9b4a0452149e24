// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "wsconnection.h"

namespace wsserve::net {

WsConnection::WsConnection(qintptr fd, qint64 maxMessageBytes, QByteArray buffered)
    : m_fd(fd)
    , m_parser(maxMessageBytes)
    , m_in(std::move(buffered))
{}

WsConnection::~WsConnection()
{
    closeDescriptor(m_fd);
}

namespace {
// Per thread: a connection is served by one thread at a time (its instance's; parallelflush's senders only
// release). Bounded in count and size, so what a burst left behind is a few small buffers at most.
constexpr size_t kMaxSpares = 16;
thread_local std::vector<QByteArray> t_spares;
} // namespace

void WsConnection::queueNewBuffer(ws::Opcode opcode, QByteArrayView payload)
{
    const qsizetype size = ws::frameSize(payload.size());
    if (size > kCoalesceBytes) {
        m_out.push_back(ws::prepareFrame(opcode, payload));
        return;
    }
    QByteArray buffer;
    if (!t_spares.empty()) {
        buffer = std::move(t_spares.back());
        t_spares.pop_back();
        buffer.resize(0);
    } else {
        constexpr qsizetype kBatchBytes = 2048; // a pipelined client's replies to one read, typically
        buffer.reserve(kBatchBytes);
    }
    ws::appendFrame(buffer, opcode, payload);
    m_out.push_back(std::move(buffer));
}

void WsConnection::release(QByteArray &written)
{
    if (t_spares.size() < kMaxSpares && written.isDetached() && written.capacity() >= 2 * kCoalesceBytes &&
        written.capacity() <= 2 * kCoalescedBufferBytes) {
        t_spares.push_back(std::move(written));
    }
    written = QByteArray();
}

void WsConnection::compact()
{
    // A reader that keeps up only just never drains the queue: drop the written slots once they are the
    // larger part, so the queue does not grow with every frame ever sent (amortised O(1) per frame).
    constexpr size_t kMinSlotsToCompact = 256;
    if (m_outHead >= kMinSlotsToCompact && m_outHead * 2 >= m_out.size()) {
        m_out.erase(m_out.begin(), m_out.begin() + static_cast<std::ptrdiff_t>(m_outHead));
        m_outHead = 0;
    }
}

WsConnection::FlushStatus WsConnection::flush()
{
    while (m_outHead < m_out.size()) {
        IoStatus status = IoStatus::Ok;
        qsizetype written = sendChunks(m_fd, m_out.data() + m_outHead, static_cast<qsizetype>(m_out.size() - m_outHead),
                                       m_outOffset, &status);
        if (status == IoStatus::Closed) {
            return FlushStatus::Failed;
        }
        if (status == IoStatus::WouldBlock || written == 0) {
            compact();
            return FlushStatus::Pending;
        }
        m_outBytes -= written;
        // Release the chunks that went out completely; keep the offset into a partly written one.
        while (m_outHead < m_out.size() && written > 0) {
            const qsizetype left = m_out[m_outHead].size() - m_outOffset;
            if (written < left) {
                m_outOffset += written;
                break;
            }
            written -= left;
            m_outOffset = 0;
            release(m_out[m_outHead]);
            ++m_outHead;
        }
        if (m_outHead < m_out.size() && m_outOffset > 0) {
            compact();
            return FlushStatus::Pending; // the kernel took less than offered: its buffer is full
        }
    }
    m_outHead = 0;
    if (m_out.capacity() > 64) {
        std::vector<QByteArray>().swap(m_out); // a burst is over: give its queue back
    } else {
        m_out.clear(); // keeps the capacity of a small queue for the next batch
    }
    return FlushStatus::Drained;
}

} // namespace wsserve::net
