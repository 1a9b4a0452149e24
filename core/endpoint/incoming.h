// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QObject>

#include <memory>

class QSocketNotifier;
class QTcpSocket;

namespace wsserve {

namespace net {
class TlsContext;
}

// A connection whose request head the endpoint is reading, plain or TLS: the endpoint routes on what
// peek() shows and then either answers (respondAndClose), hands the descriptor over (take), or gives the
// connection to the page server, which writes its answer through the byte sink (write, bytesToWrite,
// bytesWritten, closeWhenWritten) whatever the transport. Deletes itself (later) after respondAndClose,
// take, abort, closeWhenWritten once done, or when the peer goes away while an answer is written.
// Thread: the endpoint thread.
class Incoming : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Incoming)

public:
    QHostAddress peerAddress() const { return m_peerAddress; }
    quint16 peerPort() const { return m_peerPort; }

    // The request bytes that arrived so far (decrypted), none consumed.
    virtual QByteArray peek(qsizetype maxBytes) = 0;
    virtual qint64 bytesAvailable() const = 0;
    // Whether an HTTP answer can be sent (a TLS connection still in its handshake cannot take one).
    virtual bool canRespond() const { return true; }
    // Answers with a plain-text HTTP status, then closes once the answer is out.
    virtual void respondAndClose(int status, const QString &body, const QByteArray &extraHeaders) = 0;
    // The descriptor (its TLS session stays attached to it) and every byte read so far (head and body
    // included); the caller owns the descriptor. kInvalidDescriptor on failure.
    virtual qintptr take(QByteArray *received) = 0;
    virtual void abort() = 0;

    // ---- the byte sink: an answer written over time (pages, streamed files) ----
    // Queues bytes to send, in order, as fast as the peer takes them; nothing is dropped while the peer
    // reads. What arrives from the peer meanwhile is discarded. Call only once the head is read (the
    // endpoint no longer reads this connection).
    virtual void write(const QByteArray &bytes) = 0;
    // Bytes queued and not yet handed to the kernel (TLS: not yet encrypted and sent).
    virtual qint64 bytesToWrite() const = 0;
    // Sends what is queued, then closes (TLS: with close_notify) and deletes itself.
    virtual void closeWhenWritten() = 0;

Q_SIGNALS:
    void readyRead();
    // The peer closed or reset the connection (while the head was read, or while an answer was written:
    // the connection then deletes itself).
    void disconnected();
    // Queued bytes went out (emitted from the event loop, never from inside write()).
    void bytesWritten(qint64 bytes);
    // A TLS connection that never became a request: handshake failed, or plain HTTP sent to the TLS port.
    void failed(const QString &reason);

protected:
    explicit Incoming(QObject *parent)
        : QObject(parent)
    {}
    QHostAddress m_peerAddress;
    quint16 m_peerPort = 0;
};

// A plain TCP connection, read by a QTcpSocket.
class PlainIncoming final : public Incoming
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PlainIncoming)

public:
    // Null (and the descriptor closed) when the socket cannot take it; *error says why.
    static PlainIncoming *create(qintptr fd, QObject *parent, QString *error);
    ~PlainIncoming() override;

    QByteArray peek(qsizetype maxBytes) override;
    qint64 bytesAvailable() const override;
    void respondAndClose(int status, const QString &body, const QByteArray &extraHeaders) override;
    qintptr take(QByteArray *received) override;
    void abort() override;
    void write(const QByteArray &bytes) override;
    qint64 bytesToWrite() const override;
    void closeWhenWritten() override;

private:
    explicit PlainIncoming(QObject *parent);
    QTcpSocket *m_socket = nullptr; // a child only once the sink is used: respondAndClose lets it outlive us
    bool m_writing = false;         // the sink is in use: bytesWritten is relayed
};

// A TLS connection on a raw descriptor: the handshake, then the request head read through the session,
// both non-blocking and driven by socket notifiers of the endpoint thread.
class TlsIncoming final : public Incoming
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TlsIncoming)

public:
    // Null (and the descriptor closed) when no session could be made.
    static TlsIncoming *create(qintptr fd, const net::TlsContext &context, QObject *parent, QString *error);
    ~TlsIncoming() override;

    QByteArray peek(qsizetype maxBytes) override { return m_plain.left(maxBytes); }
    qint64 bytesAvailable() const override { return m_plain.size(); }
    bool canRespond() const override { return m_state == State::Reading; }
    void respondAndClose(int status, const QString &body, const QByteArray &extraHeaders) override;
    qintptr take(QByteArray *received) override;
    void abort() override;
    void write(const QByteArray &bytes) override;
    qint64 bytesToWrite() const override { return m_queuedBytes; }
    void closeWhenWritten() override;

private:
    // Writing: the sink is in use (SSL_write driven by the write notifier); Closing: close_notify sent
    // (or a plain answer), waiting for the peer to close.
    enum class State { Starting, Handshaking, Reading, Writing, Closing, Done };
    explicit TlsIncoming(qintptr fd, QObject *parent);
    void onActivity();
    void onWritable();
    void flush(); // sends what the kernel takes; emits bytesWritten
    enum class FirstByte { Closed, PlainHttp, Other };
    FirstByte firstByte();
    void readPlain();
    void setWantWrite(bool want);
    void finish(); // closes the descriptor, deletes later

    qintptr m_fd;
    State m_state = State::Starting;
    QByteArray m_plain;
    QList<QByteArray> m_queue; // the sink's bytes; the first one m_queueOffset bytes in
    qsizetype m_queueOffset = 0;
    qint64 m_queuedBytes = 0;
    bool m_closeWhenWritten = false;
    QSocketNotifier *m_read = nullptr;
    QSocketNotifier *m_write = nullptr;
};

} // namespace wsserve
