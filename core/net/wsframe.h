// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace wsserve::ws {

// RFC 6455 framing for the server side: frames the server writes (FIN set, never masked) and an
// incremental parser of the frames clients send (always masked). No extensions are negotiated, so the
// reserved bits must be clear. Thread: any; values and functions only.

enum class Opcode : quint8 { Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA };

namespace closecode {
inline constexpr quint16 kNormal = 1000;
inline constexpr quint16 kGoingAway = 1001;
inline constexpr quint16 kProtocolError = 1002;
inline constexpr quint16 kUnsupportedData = 1003;
inline constexpr quint16 kNoStatus = 1005; // never sent; what a close frame without a code means
inline constexpr quint16 kInvalidData = 1007;
inline constexpr quint16 kPolicyViolation = 1008;
inline constexpr quint16 kTooBig = 1009;
inline constexpr quint16 kInternalError = 1011;
inline constexpr quint16 kServiceRestart = 1012; // "reconnect": instance restart and server shutdown
} // namespace closecode

inline constexpr qsizetype kMaxControlPayload = 125;
inline constexpr qsizetype kMaxCloseReasonBytes = 123;

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key.
QByteArray acceptKey(QByteArrayView clientKey);
// Whether a Sec-WebSocket-Key is what RFC 6455 4.1 asks for: base64 of 16 bytes.
bool isValidClientKey(QByteArrayView clientKey);

// A complete server frame (header and payload in one buffer), ready to be written to any number of
// sockets unchanged. Written into `buffer`'s storage when nobody else holds it (a previous frame's).
QByteArray prepareFrame(Opcode opcode, QByteArrayView payload, QByteArray buffer = {});
// The same frame appended to `out` (which the caller owns and has not shared).
void appendFrame(QByteArray &out, Opcode opcode, QByteArrayView payload);
// Bytes on the wire of a server frame with this much payload (the header is 2, 4 or 10 bytes).
inline qsizetype frameSize(qsizetype payload)
{
    return payload + (payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10);
}
// A close frame; the reason is cut at a UTF-8 boundary to fit a control frame.
QByteArray prepareClose(quint16 code, const QString &reason);

bool isValidUtf8(QByteArrayView bytes);
// Whether a peer may send this code in a close frame (RFC 6455 7.4).
bool isValidCloseCode(quint16 code);

// Parses client frames from a byte stream. Feed it what arrived; it reports complete messages and
// control frames one at a time and how many bytes it consumed; the caller keeps the rest for later.
class FrameParser
{
public:
    struct Event {
        // Fragment: a non-final frame of a fragmented message (consumed and buffered; its payload is not
        // reported). Reported so that every frame a client sends can be counted.
        enum class Kind { NeedMore = 0, Text, Binary, Ping, Pong, Close, Error, Fragment };
        Kind kind = Kind::NeedMore;
        QByteArray payload; // message or control payload; for Close, the reason (UTF-8)
        quint16 code = 0;   // Close: the peer's code (1005 when none); Error: the code to close with
        QString error;      // Error: what was wrong, for the close reason and the log
    };

    explicit FrameParser(qint64 maxMessageBytes);

    // Parses at most one frame from data[0, size). The frame's payload is unmasked in place (data is
    // the caller's buffer). *consumed is set to the bytes used: 0 with NeedMore when the frame is not
    // complete. A non-final frame of a fragmented message yields Fragment. After Error
    // the parser must not be used again.
    Event next(char *data, qsizetype size, qsizetype *consumed);

private:
    Event fail(quint16 code, QString error);

    qint64 m_maxMessageBytes;
    QByteArray m_fragments;
    Opcode m_fragmentOpcode = Opcode::Continuation;
    bool m_inMessage = false;
    bool m_failed = false;
};

} // namespace wsserve::ws
