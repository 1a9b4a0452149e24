// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "wsframe.h"

#include "protocol/textbytes.h"

#include <QCryptographicHash>

#include <algorithm>
#include <cstring>

namespace wsserve::ws {

namespace {
constexpr QByteArrayView kHandshakeGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool isControl(quint8 opcode)
{
    return (opcode & 0x8) != 0;
}

void unmask(char *payload, qsizetype size, const unsigned char key[4])
{
    for (qsizetype i = 0; i < size; ++i) {
        payload[i] = static_cast<char>(static_cast<unsigned char>(payload[i]) ^ key[i & 3]);
    }
}

// A message's payload in a buffer this thread used for the previous one when nobody holds that any more
// (the message was handled and not kept): in the steady state a connection's messages cost no allocation.
// A buffer someone kept (history, the message-flow view) stays theirs; one that grew past the cap is let go.
QByteArray messageBuffer(const char *payload, qsizetype size)
{
    constexpr qsizetype kReuseCapacity = 64 * 1024;
    thread_local QByteArray reusable;
    if (!reusable.isDetached() || reusable.capacity() > kReuseCapacity || size > kReuseCapacity) {
        reusable = QByteArray();
    }
    if (reusable.capacity() < size) {
        reusable.reserve(std::max<qsizetype>(size, 256));
    }
    reusable.resize(size);
    std::memcpy(reusable.data(), payload, static_cast<size_t>(size));
    return reusable;
}
} // namespace

QByteArray acceptKey(QByteArrayView clientKey)
{
    QCryptographicHash hash(QCryptographicHash::Sha1);
    hash.addData(clientKey);
    hash.addData(kHandshakeGuid);
    return hash.result().toBase64();
}

bool isValidClientKey(QByteArrayView clientKey)
{
    if (clientKey.size() != 24) {
        return false;
    }
    const auto decoded =
        QByteArray::fromBase64Encoding(clientKey.toByteArray(), QByteArray::AbortOnBase64DecodingErrors);
    return decoded.decodingStatus == QByteArray::Base64DecodingStatus::Ok && decoded.decoded.size() == 16;
}

QByteArray prepareFrame(Opcode opcode, QByteArrayView payload, QByteArray buffer)
{
    if (!buffer.isDetached()) {
        buffer = QByteArray();
    }
    buffer.resize(0);
    buffer.reserve(frameSize(payload.size()));
    appendFrame(buffer, opcode, payload);
    return buffer;
}

void appendFrame(QByteArray &frame, Opcode opcode, QByteArrayView payload)
{
    const auto size = static_cast<quint64>(payload.size());
    const qsizetype header = frameSize(payload.size()) - payload.size();
    const qsizetype at = frame.size();
    frame.resize(at + header + payload.size());
    auto *out = reinterpret_cast<unsigned char *>(frame.data() + at);
    out[0] = static_cast<unsigned char>(0x80 | static_cast<quint8>(opcode));
    if (header == 2) {
        out[1] = static_cast<unsigned char>(size);
    } else if (header == 4) {
        out[1] = 126;
        out[2] = static_cast<unsigned char>(size >> 8);
        out[3] = static_cast<unsigned char>(size);
    } else {
        out[1] = 127;
        for (int i = 0; i < 8; ++i) {
            out[2 + i] = static_cast<unsigned char>(size >> (56 - 8 * i));
        }
    }
    if (!payload.isEmpty()) {
        std::memcpy(out + header, payload.data(), static_cast<size_t>(payload.size()));
    }
}

QByteArray prepareClose(quint16 code, const QString &reason)
{
    QByteArray body(2, Qt::Uninitialized);
    body[0] = static_cast<char>(code >> 8);
    body[1] = static_cast<char>(code & 0xFF);
    QByteArray text = reason.toUtf8();
    if (text.size() > kMaxCloseReasonBytes) {
        qsizetype cut = kMaxCloseReasonBytes;
        while (cut > 0 && (static_cast<unsigned char>(text.at(cut)) & 0xC0) == 0x80) {
            --cut; // never split a UTF-8 sequence
        }
        text.truncate(cut);
    }
    body += text;
    return prepareFrame(Opcode::Close, body);
}

bool isValidUtf8(QByteArrayView bytes)
{
    const auto *s = reinterpret_cast<const unsigned char *>(bytes.data());
    const qsizetype n = bytes.size();
    qsizetype i = 0;
    while (i < n) {
        // ASCII fast path, 8 bytes at a time
        while (i + 8 <= n) {
            quint64 word;
            std::memcpy(&word, s + i, 8);
            if ((word & 0x8080808080808080ULL) != 0) {
                break;
            }
            i += 8;
        }
        if (i >= n) {
            break;
        }
        const unsigned char c = s[i];
        if (c < 0x80) {
            ++i;
            continue;
        }
        const int length = textbytes::utf8SequenceLength(s + i, n - i);
        if (length == 0) {
            return false;
        }
        i += length;
    }
    return true;
}

bool isValidCloseCode(quint16 code)
{
    if (code >= 3000 && code <= 4999) {
        return true;
    }
    switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
    case 1012:
    case 1013:
    case 1014:
        return true;
    default:
        return false;
    }
}

FrameParser::FrameParser(qint64 maxMessageBytes)
    : m_maxMessageBytes(maxMessageBytes)
{}

FrameParser::Event FrameParser::fail(quint16 code, QString error)
{
    m_failed = true;
    m_fragments = QByteArray();
    Event event;
    event.kind = Event::Kind::Error;
    event.code = code;
    event.error = std::move(error);
    return event;
}

FrameParser::Event FrameParser::next(char *data, qsizetype size, qsizetype *consumed)
{
    *consumed = 0;
    if (m_failed || size < 2) {
        return {};
    }
    const auto *bytes = reinterpret_cast<const unsigned char *>(data);
    const bool fin = (bytes[0] & 0x80) != 0;
    const quint8 opcode = bytes[0] & 0x0F;
    if ((bytes[0] & 0x70) != 0) {
        return fail(closecode::kProtocolError, QStringLiteral("reserved bits set, but no extension was negotiated"));
    }
    if ((bytes[1] & 0x80) == 0) {
        return fail(closecode::kProtocolError, QStringLiteral("client frames must be masked"));
    }
    if ((opcode > 0x2 && opcode < 0x8) || opcode > 0xA) {
        return fail(closecode::kProtocolError, QStringLiteral("unknown opcode %1").arg(opcode));
    }
    const quint8 length7 = bytes[1] & 0x7F;
    const qsizetype header = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
    if (size < header) {
        return {};
    }
    quint64 length = length7;
    if (length7 == 126) {
        length = (quint64(bytes[2]) << 8) | bytes[3];
    } else if (length7 == 127) {
        length = 0;
        for (int i = 0; i < 8; ++i) {
            length = (length << 8) | bytes[2 + i];
        }
        if (length >> 63) {
            return fail(closecode::kProtocolError, QStringLiteral("frame length has the most significant bit set"));
        }
    }
    if (isControl(opcode)) {
        if (!fin) {
            return fail(closecode::kProtocolError, QStringLiteral("fragmented control frame"));
        }
        if (length > kMaxControlPayload) {
            return fail(closecode::kProtocolError, QStringLiteral("control frame over 125 bytes"));
        }
    } else {
        if (opcode == 0 && !m_inMessage) {
            return fail(closecode::kProtocolError, QStringLiteral("continuation frame without a message to continue"));
        }
        if (opcode != 0 && m_inMessage) {
            return fail(closecode::kProtocolError, QStringLiteral("new message before the fragmented one ended"));
        }
        const quint64 total = length + static_cast<quint64>(m_fragments.size());
        if (total > static_cast<quint64>(m_maxMessageBytes)) {
            return fail(closecode::kTooBig,
                        QStringLiteral("message over %1 bytes (max_frame_bytes)").arg(m_maxMessageBytes));
        }
    }
    if (static_cast<quint64>(size - header) < length) {
        return {};
    }
    const auto payloadSize = static_cast<qsizetype>(length);
    char *payload = data + header;
    unmask(payload, payloadSize, bytes + header - 4);
    *consumed = header + payloadSize;

    Event event;
    if (isControl(opcode)) {
        switch (static_cast<Opcode>(opcode)) {
        case Opcode::Ping:
            event.kind = Event::Kind::Ping;
            event.payload = QByteArray(payload, payloadSize);
            return event;
        case Opcode::Pong:
            event.kind = Event::Kind::Pong;
            return event;
        default:
            break;
        }
        if (payloadSize == 1) {
            return fail(closecode::kProtocolError, QStringLiteral("close frame with a 1-byte payload"));
        }
        event.kind = Event::Kind::Close;
        event.code = closecode::kNoStatus;
        if (payloadSize >= 2) {
            const auto *p = reinterpret_cast<const unsigned char *>(payload);
            event.code = static_cast<quint16>((p[0] << 8) | p[1]);
            if (!isValidCloseCode(event.code)) {
                return fail(closecode::kProtocolError, QStringLiteral("invalid close code %1").arg(event.code));
            }
            event.payload = QByteArray(payload + 2, payloadSize - 2);
            if (!isValidUtf8(event.payload)) {
                return fail(closecode::kInvalidData, QStringLiteral("close reason is not valid UTF-8"));
            }
        }
        return event;
    }
    Opcode messageOpcode = static_cast<Opcode>(opcode);
    if (!fin || m_inMessage) {
        if (!m_inMessage) {
            m_inMessage = true;
            m_fragmentOpcode = messageOpcode;
        }
        m_fragments.append(payload, payloadSize);
        if (!fin) {
            event.kind = Event::Kind::Fragment; // consumed; the message continues
            return event;
        }
        messageOpcode = m_fragmentOpcode;
        event.payload = std::move(m_fragments);
        m_fragments = QByteArray();
        m_inMessage = false;
    } else {
        event.payload = messageBuffer(payload, payloadSize);
    }
    if (messageOpcode == Opcode::Text) {
        if (!isValidUtf8(event.payload)) {
            return fail(closecode::kInvalidData, QStringLiteral("text message is not valid UTF-8"));
        }
        event.kind = Event::Kind::Text;
    } else {
        event.kind = Event::Kind::Binary;
    }
    return event;
}

} // namespace wsserve::ws
