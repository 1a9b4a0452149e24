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

WsConnection::FlushStatus WsConnection::flush()
{
    while (!m_out.isEmpty()) {
        IoStatus status = IoStatus::Ok;
        qsizetype written = sendChunks(m_fd, m_out, m_outOffset, &status);
        if (status == IoStatus::Closed) {
            return FlushStatus::Failed;
        }
        if (status == IoStatus::WouldBlock || written == 0) {
            return FlushStatus::Pending;
        }
        m_outBytes -= written;
        // Drop the chunks that went out completely; keep the offset into a partly written one.
        qsizetype dropped = 0;
        while (dropped < m_out.size() && written > 0) {
            const qsizetype left = m_out.at(dropped).size() - m_outOffset;
            if (written < left) {
                m_outOffset += written;
                written = 0;
                break;
            }
            written -= left;
            m_outOffset = 0;
            ++dropped;
        }
        m_out.remove(0, dropped);
        if (!m_out.isEmpty() && m_outOffset > 0) {
            return FlushStatus::Pending; // the kernel took less than offered: its buffer is full
        }
    }
    if (m_out.capacity() > 64) {
        m_out = QList<QByteArray>(); // a burst is over: give its queue back
    }
    return FlushStatus::Drained;
}

} // namespace wsserve::net
