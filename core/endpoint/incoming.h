// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QObject>

#include <memory>

class QSocketNotifier;
class QTcpSocket;

namespace wsserve {

namespace net {
class TlsContext;
}

// A connection whose request head the endpoint is reading, plain or TLS: the endpoint routes on what
// peek() shows and then either answers (respondAndClose) or hands the descriptor over (take). Deletes
// itself (later) after either, or after abort().
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
    // The plain socket, handed to a new owner (the page server) with the head still unread; this object is
    // deleted later. Null for TLS connections, whose bytes only this object can read and write.
    virtual QTcpSocket *releaseSocket() { return nullptr; }

Q_SIGNALS:
    void readyRead();
    void disconnected();
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
    QTcpSocket *releaseSocket() override;

private:
    explicit PlainIncoming(QObject *parent);
    QTcpSocket *m_socket = nullptr; // not a child: it outlives us while an answer is written
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

private:
    enum class State { Starting, Handshaking, Reading, Closing, Done };
    explicit TlsIncoming(qintptr fd, QObject *parent);
    void onActivity();
    enum class FirstByte { Closed, PlainHttp, Other };
    FirstByte firstByte();
    void readPlain();
    void setWantWrite(bool want);
    void finish(); // closes the descriptor, deletes later

    qintptr m_fd;
    State m_state = State::Starting;
    QByteArray m_plain;
    QSocketNotifier *m_read = nullptr;
    QSocketNotifier *m_write = nullptr;
};

} // namespace wsserve
