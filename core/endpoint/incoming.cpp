// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "incoming.h"

#include "http/httpresponse.h"
#include "http/upgraderequest.h"
#include "httprequesthead.h"
#include "net/socketio.h"
#include "net/tls.h"

#include <QSocketNotifier>
#include <QTcpSocket>
#include <QTimer>

#ifdef Q_OS_WIN
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netinet/in.h>
#include <sys/socket.h>
#endif

namespace wsserve {

namespace {
// How long an answered TLS connection may take to read our answer and close before we close it.
constexpr int kLingerMs = 2000;
// One TLS read hands back up to a few records; a request head fits in one or two.
constexpr qsizetype kReadBytes = 64 * 1024;

void peerOf(qintptr fd, QHostAddress *address, quint16 *port)
{
    sockaddr_storage storage{};
    socklen_t length = sizeof(storage);
#ifdef Q_OS_WIN
    if (::getpeername(static_cast<SOCKET>(fd), reinterpret_cast<sockaddr *>(&storage), &length) == 0) {
#else
    if (::getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr *>(&storage), &length) == 0) {
#endif
        address->setAddress(reinterpret_cast<const sockaddr *>(&storage));
        if (storage.ss_family == AF_INET) {
            *port = ntohs(reinterpret_cast<const sockaddr_in *>(&storage)->sin_port);
        } else if (storage.ss_family == AF_INET6) {
            *port = ntohs(reinterpret_cast<const sockaddr_in6 *>(&storage)->sin6_port);
        }
        // An IPv4 peer on a dual-stack socket reads as ::ffff:a.b.c.d; people (and the log) want a.b.c.d.
        bool isV4 = false;
        const quint32 v4 = address->toIPv4Address(&isV4);
        if (isV4) {
            address->setAddress(v4);
        }
    }
}
} // namespace

// ---- plain ----

PlainIncoming::PlainIncoming(QObject *parent)
    : Incoming(parent)
{}

PlainIncoming *PlainIncoming::create(qintptr fd, QObject *parent, QString *error)
{
    auto *socket = new QTcpSocket(parent);
    if (!socket->setSocketDescriptor(fd)) {
        *error = socket->errorString();
        net::closeDescriptor(fd);
        delete socket;
        return nullptr;
    }
    auto *incoming = new PlainIncoming(parent);
    incoming->m_socket = socket;
    incoming->m_peerAddress = socket->peerAddress();
    incoming->m_peerPort = socket->peerPort();
    connect(socket, &QTcpSocket::readyRead, incoming, &Incoming::readyRead);
    connect(socket, &QTcpSocket::disconnected, incoming, &Incoming::disconnected);
    return incoming;
}

PlainIncoming::~PlainIncoming()
{
    if (m_socket) {                 // still ours: neither answered nor taken (or an answer in progress)
        m_socket->disconnect(this); // no relayed signal into a half-destroyed sink
        delete m_socket;
    }
}

QByteArray PlainIncoming::peek(qsizetype maxBytes)
{
    return m_socket->peek(maxBytes);
}

qint64 PlainIncoming::bytesAvailable() const
{
    return m_socket->bytesAvailable();
}

void PlainIncoming::respondAndClose(int status, const QString &body, const QByteArray &extraHeaders)
{
    QTcpSocket *socket = std::exchange(m_socket, nullptr);
    socket->disconnect(this);
    respondHttpAndClose(socket, status, body, extraHeaders); // the socket deletes itself once it is done
    deleteLater();
}

qintptr PlainIncoming::take(QByteArray *received)
{
    QTcpSocket *socket = std::exchange(m_socket, nullptr);
    socket->disconnect(this);
    const qintptr fd = net::takeDescriptor(socket, received);
    socket->abort(); // closes the QTcpSocket's copy only
    socket->deleteLater();
    deleteLater();
    return fd;
}

void PlainIncoming::write(const QByteArray &bytes)
{
    if (!m_writing) { // connected only for answers: the WebSocket hand-off never pays for it
        m_writing = true;
        m_socket->setParent(this); // an answer in progress goes with us, even when the endpoint goes first
        connect(m_socket, &QTcpSocket::bytesWritten, this, &Incoming::bytesWritten);
        connect(m_socket, &QAbstractSocket::disconnected, this, &QObject::deleteLater);
    }
    m_socket->write(bytes); // QTcpSocket's own write buffer is the queue
}

qint64 PlainIncoming::bytesToWrite() const
{
    return m_socket->bytesToWrite();
}

void PlainIncoming::closeWhenWritten()
{
    connect(m_socket, &QAbstractSocket::disconnected, this, &QObject::deleteLater, Qt::UniqueConnection);
    m_socket->disconnectFromHost(); // after the write buffer is out
    if (m_socket->state() == QAbstractSocket::UnconnectedState) {
        deleteLater();
    }
}

void PlainIncoming::abort()
{
    QTcpSocket *socket = std::exchange(m_socket, nullptr);
    socket->disconnect(this);
    socket->abort();
    socket->deleteLater();
    deleteLater();
}

// ---- TLS ----

TlsIncoming::TlsIncoming(qintptr fd, QObject *parent)
    : Incoming(parent)
    , m_fd(fd)
{}

TlsIncoming *TlsIncoming::create(qintptr fd, const net::TlsContext &context, QObject *parent, QString *error)
{
    if (!net::attachTls(fd, context)) {
        *error = QStringLiteral("cannot start a TLS session");
        net::closeDescriptor(fd);
        return nullptr;
    }
    auto *incoming = new TlsIncoming(fd, parent);
    peerOf(fd, &incoming->m_peerAddress, &incoming->m_peerPort);
    incoming->m_read = new QSocketNotifier(fd, QSocketNotifier::Read, incoming);
    incoming->m_write = new QSocketNotifier(fd, QSocketNotifier::Write, incoming);
    incoming->m_write->setEnabled(false);
    connect(incoming->m_read, &QSocketNotifier::activated, incoming, &TlsIncoming::onActivity);
    connect(incoming->m_write, &QSocketNotifier::activated, incoming, &TlsIncoming::onWritable);
    return incoming;
}

TlsIncoming::~TlsIncoming()
{
    if (m_fd != net::kInvalidDescriptor) {
        delete m_read;
        delete m_write;
        net::closeDescriptor(m_fd);
    }
}

TlsIncoming::FirstByte TlsIncoming::firstByte()
{
    char first = 0;
#ifdef Q_OS_WIN
    const int n = ::recv(static_cast<SOCKET>(m_fd), &first, 1, MSG_PEEK);
#else
    const ssize_t n = ::recv(static_cast<int>(m_fd), &first, 1, MSG_PEEK);
#endif
    if (n == 0) {
        return FirstByte::Closed; // connected and closed without a word (port checks, speculative connects)
    }
    // A TLS connection opens with a handshake record (0x16); an HTTP request with its method's letters.
    return n == 1 && first >= 'A' && first <= 'Z' ? FirstByte::PlainHttp : FirstByte::Other;
}

void TlsIncoming::setWantWrite(bool want)
{
    if (m_write->isEnabled() != want) {
        m_write->setEnabled(want);
    }
}

void TlsIncoming::onActivity()
{
    switch (m_state) {
    case State::Starting: {
        const FirstByte first = firstByte();
        if (first == FirstByte::Closed) {
            m_state = State::Done;
            emit disconnected(); // not a TLS failure worth a log line
            return;
        }
        if (first == FirstByte::PlainHttp) {
            // Answered in plain text, which is what the client can read: the session is dropped first.
            m_state = State::Closing;
            net::tlsio::detach(m_fd);
            emit failed(QStringLiteral("plain HTTP sent to the TLS port"));
            respondHttpAndClose(m_fd, 400,
                                QStringLiteral("this port speaks TLS: use https:// or wss:// (not http:// or ws://)"));
            QTimer::singleShot(kLingerMs, this, &TlsIncoming::finish);
            return;
        }
        m_state = State::Handshaking;
        [[fallthrough]];
    }
    case State::Handshaking: {
        QString error;
        switch (net::continueHandshake(m_fd, &error)) {
        case net::HandshakeStatus::WantRead:
            setWantWrite(false);
            return;
        case net::HandshakeStatus::WantWrite:
            setWantWrite(true);
            return;
        case net::HandshakeStatus::Failed:
            m_state = State::Done;
            emit failed(QStringLiteral("TLS handshake failed: %1").arg(error));
            finish();
            return;
        case net::HandshakeStatus::Done:
            setWantWrite(false);
            m_state = State::Reading;
            break;
        }
        readPlain(); // the request may have come with the last handshake flight
        return;
    }
    case State::Reading:
        readPlain();
        return;
    case State::Writing: {
        // What the peer sends while its answer is written is discarded; its close ends the answer.
        char scratch[4096];
        net::IoStatus status = net::IoStatus::Ok;
        while (net::receive(m_fd, scratch, sizeof(scratch), &status) > 0) {
        }
        if (status == net::IoStatus::Closed) {
            emit disconnected();
            finish();
        }
        return;
    }
    case State::Closing: {
        // Waiting for the peer to read our answer and close: what it still sends is discarded.
        char scratch[4096];
        net::IoStatus status = net::IoStatus::Ok;
        while (net::receive(m_fd, scratch, sizeof(scratch), &status) > 0) {
        }
        if (status == net::IoStatus::Closed) {
            finish();
        }
        return;
    }
    case State::Done:
        return;
    }
}

void TlsIncoming::readPlain()
{
    const qsizetype before = m_plain.size();
    net::IoStatus status = net::IoStatus::Ok;
    // Bounded: a head and a long-poll body; past that the endpoint answers 400/413 from what it has.
    while (m_plain.size() <= kMaxRequestHeadBytes + kMaxHttpBodyBytes) {
        const qsizetype at = m_plain.size();
        m_plain.resize(at + kReadBytes);
        const qsizetype n = net::receive(m_fd, m_plain.data() + at, kReadBytes, &status);
        m_plain.resize(at + n);
        if (status != net::IoStatus::Ok) {
            break;
        }
    }
    if (m_plain.size() > before) {
        emit readyRead();
    }
    if (status == net::IoStatus::Closed && m_state == State::Reading) {
        m_state = State::Done;
        emit disconnected();
    }
}

void TlsIncoming::respondAndClose(int status, const QString &body, const QByteArray &extraHeaders)
{
    if (m_state != State::Reading) {
        finish(); // no answer can be read before the handshake is done
        return;
    }
    m_state = State::Closing;
    setWantWrite(false);
    respondHttpAndClose(m_fd, status, body, extraHeaders);
    QTimer::singleShot(kLingerMs, this, &TlsIncoming::finish);
}

void TlsIncoming::write(const QByteArray &bytes)
{
    if (m_state == State::Reading) {
        m_state = State::Writing;
    }
    if (m_state != State::Writing || m_closeWhenWritten || bytes.isEmpty()) {
        return;
    }
    // Queued and sent from the write notifier: what is written in one turn of the event loop (headers and
    // body, or several file chunks) goes out as full records, and bytesWritten never re-enters a writer.
    m_queue.append(bytes);
    m_queuedBytes += bytes.size();
    setWantWrite(true);
}

void TlsIncoming::closeWhenWritten()
{
    if (m_state == State::Reading) {
        m_state = State::Writing;
    }
    if (m_state != State::Writing) {
        return;
    }
    m_closeWhenWritten = true;
    setWantWrite(true); // flush() closes once the queue is empty
}

void TlsIncoming::onWritable()
{
    if (m_state == State::Writing) {
        flush();
    } else {
        onActivity(); // the handshake's writes
    }
}

void TlsIncoming::flush()
{
    qint64 written = 0;
    net::IoStatus status = net::IoStatus::Ok;
    while (!m_queue.isEmpty()) {
        // A record OpenSSL could not send stays at the front of the queue until reported written
        // (tlsio::sendChunks retries it from its own copy).
        const qsizetype n = net::sendChunks(m_fd, m_queue.constData(), m_queue.size(), m_queueOffset, &status);
        written += n;
        m_queuedBytes -= n;
        qsizetype consumed = 0;
        qsizetype remaining = n;
        while (consumed < m_queue.size() && remaining >= m_queue.at(consumed).size() - m_queueOffset) {
            remaining -= m_queue.at(consumed).size() - m_queueOffset;
            m_queueOffset = 0;
            ++consumed;
        }
        m_queueOffset += remaining;
        m_queue.remove(0, consumed);
        if (status != net::IoStatus::Ok) {
            break;
        }
    }
    if (status == net::IoStatus::Closed) {
        emit disconnected(); // the peer went away mid-answer
        finish();
        return;
    }
    if (m_queue.isEmpty()) {
        setWantWrite(false);
        if (m_closeWhenWritten) {
            m_state = State::Closing;
            net::shutdownWrite(m_fd); // close_notify, then FIN; the peer closes, or the linger timer does
            QTimer::singleShot(kLingerMs, this, &TlsIncoming::finish);
            return;
        }
    }
    if (written > 0) {
        emit bytesWritten(written); // may queue more (a streamed file's next chunks)
    }
}

qintptr TlsIncoming::take(QByteArray *received)
{
    received->append(m_plain);
    m_plain = QByteArray();
    delete m_read;
    delete m_write;
    m_read = nullptr;
    m_write = nullptr;
    m_state = State::Done;
    deleteLater();
    return std::exchange(m_fd, net::kInvalidDescriptor);
}

void TlsIncoming::abort()
{
    finish();
}

void TlsIncoming::finish()
{
    if (m_fd != net::kInvalidDescriptor) {
        delete m_read;
        delete m_write;
        m_read = nullptr;
        m_write = nullptr;
        net::closeDescriptor(std::exchange(m_fd, net::kInvalidDescriptor));
    }
    m_state = State::Done;
    deleteLater();
}

} // namespace wsserve
