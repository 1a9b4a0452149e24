// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QTcpSocket>
#include <QUrl>
#include <QWebSocket>

#include <functional>
#include <optional>

namespace wsserve::test {

// One frame a test client received: the raw bytes, and for text frames the parsed JSON.
struct ReceivedFrame {
    bool binary = false;
    QByteArray raw;
    QJsonValue json; // V2: an array; V1: an object; null for binary frames

    // V2 text-frame accessors ([join_ref, ref, topic, event, payload]).
    QJsonValue joinRef() const { return json.toArray().at(0); }
    QJsonValue ref() const { return json.toArray().at(1); }
    QString topic() const { return json.toArray().at(2).toString(); }
    QString event() const { return json.toArray().at(3).toString(); }
    QJsonValue payload() const { return json.toArray().at(4); }
};

// A real QWebSocket client speaking raw Phoenix frames, for integration tests. It records every frame
// and close code and waits on conditions (never fixed sleeps). Thread: the test's thread.
class PhoenixTestClient final : public QObject
{
    Q_OBJECT

public:
    explicit PhoenixTestClient(QObject *parent = nullptr);

    // Opens the socket and waits until connected (or disconnected/failed); returns true when open.
    bool open(const QUrl &url, int timeoutMs = 10000, const QStringList &subprotocols = {});
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    QWebSocket &socket() { return m_socket; }

    // A fresh decimal ref as a string, like the JS client ("1", "2", ...).
    QString nextRef();
    void sendText(const QByteArray &text);
    void sendV2(const QJsonValue &joinRef, const QJsonValue &ref, const QString &topic, const QString &event,
                const QJsonValue &payload);
    void sendBinary(const QByteArray &data);
    // Sends a V2 phx_join with join_ref == ref and returns that ref.
    QString join(const QString &topic, const QJsonObject &params = {});

    const QList<ReceivedFrame> &frames() const { return m_frames; }
    void clearFrames() { m_frames.clear(); }
    // Waits until a frame satisfying `match` has arrived (already received ones count); returns it.
    std::optional<ReceivedFrame> waitFor(const std::function<bool(const ReceivedFrame &)> &match,
                                         int timeoutMs = 10000);
    // Waits for the V2 reply to `ref` on `topic`.
    std::optional<ReceivedFrame> waitForReply(const QString &topic, const QJsonValue &ref, int timeoutMs = 10000);
    bool waitForDisconnected(int timeoutMs = 10000);
    // Close code the server sent (or the socket reported), valid after disconnect.
    int closeCode() const { return m_closeCode; }
    QString closeReason() const { return m_closeReason; }

private:
    QList<ReceivedFrame> m_frames;
    int m_ref = 0;
    int m_closeCode = -1;
    QString m_closeReason;
    // Declared last so it is destroyed first: ~QWebSocket closes a connected socket and emits
    // disconnected, whose handler writes m_closeCode/m_closeReason, which must still be alive then.
    QWebSocket m_socket;
};

// Performs one raw HTTP request on 127.0.0.1:port and returns the status code (0 when none arrived).
// `from`: the local address to connect from (another loopback address such as 127.0.0.2), when not null.
int httpStatus(quint16 port, const QByteArray &request, int timeoutMs = 10000, QByteArray *response = nullptr,
               const QHostAddress &from = {});

} // namespace wsserve::test

namespace wsserve::test {

// A minimal WebSocket client on a raw QTcpSocket that reports the close code exactly as sent. QWebSocket
// (Qt 6.4) reports codes it does not know, such as 1012 "service restart", as 1002, so tests that check
// restart semantics read the close frame themselves. Thread: the test's thread.
class RawWebSocketClient final : public QObject
{
    Q_OBJECT

public:
    // Connects to 127.0.0.1:port, sends the upgrade for `target` (with `sentWithHead` right behind it, in
    // the same write) and waits for 101.
    bool open(quint16 port, const QByteArray &target, int timeoutMs = 10000, const QByteArray &sentWithHead = {});
    void sendText(const QByteArray &text);
    // Any frame: first byte (FIN, RSV, opcode) as given, masked unless told otherwise.
    void sendFrame(quint8 firstByte, const QByteArray &payload, bool masked = true);
    static QByteArray frame(quint8 firstByte, const QByteArray &payload, bool masked = true);
    void sendRaw(const QByteArray &bytes);
    // The server's answer to the upgrade, up to the blank line.
    QByteArray responseHead() const { return m_responseHead; }
    // Waits for a pong carrying `payload`.
    bool waitForPong(const QByteArray &payload, int timeoutMs = 10000);
    // Waits for a text frame containing `needle`.
    bool waitForText(const QByteArray &needle, int timeoutMs = 10000);
    // Waits for the server's close frame (or the TCP close); returns the code, 1006 when none came.
    int waitForClose(int timeoutMs = 10000);

private:
    void parseFrames();

    QTcpSocket *m_socket = nullptr;
    QByteArray m_buffer;
    QList<QByteArray> m_texts;
    QList<QByteArray> m_pongs;
    QByteArray m_responseHead;
    int m_closeCode = -1;
};

} // namespace wsserve::test
