// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "phoenixtestclient.h"

#include "rawhttp.h"

#include <QJsonDocument>
#include <QNetworkRequest>
#include <QTcpSocket>
#include <QTest>
#include <QWebSocketHandshakeOptions>

namespace wsserve::test {

PhoenixTestClient::PhoenixTestClient(QObject *parent)
    : QObject(parent)
{
    connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString &text) {
        ReceivedFrame frame;
        frame.raw = text.toUtf8();
        const QJsonDocument document = QJsonDocument::fromJson(frame.raw);
        frame.json = document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object());
        m_frames.append(frame);
    });
    connect(&m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &data) {
        ReceivedFrame frame;
        frame.binary = true;
        frame.raw = data;
        m_frames.append(frame);
    });
    connect(&m_socket, &QWebSocket::disconnected, this, [this] {
        m_closeCode = static_cast<int>(m_socket.closeCode());
        m_closeReason = m_socket.closeReason();
    });
}

bool PhoenixTestClient::open(const QUrl &url, int timeoutMs, const QStringList &subprotocols)
{
    QWebSocketHandshakeOptions options;
    options.setSubprotocols(subprotocols);
    m_socket.open(QNetworkRequest(url), options);
    const bool settled = QTest::qWaitFor(
        [this] {
            return m_socket.state() == QAbstractSocket::ConnectedState ||
                   m_socket.state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
    return settled && m_socket.state() == QAbstractSocket::ConnectedState;
}

QString PhoenixTestClient::nextRef()
{
    return QString::number(++m_ref);
}

void PhoenixTestClient::sendText(const QByteArray &text)
{
    m_socket.sendTextMessage(QString::fromUtf8(text));
}

void PhoenixTestClient::sendV2(const QJsonValue &joinRef, const QJsonValue &ref, const QString &topic,
                               const QString &event, const QJsonValue &payload)
{
    sendText(QJsonDocument(QJsonArray{joinRef, ref, topic, event, payload}).toJson(QJsonDocument::Compact));
}

void PhoenixTestClient::sendBinary(const QByteArray &data)
{
    m_socket.sendBinaryMessage(data);
}

QString PhoenixTestClient::join(const QString &topic, const QJsonObject &params)
{
    const QString ref = nextRef();
    sendV2(ref, ref, topic, QStringLiteral("phx_join"), params);
    return ref;
}

std::optional<ReceivedFrame> PhoenixTestClient::waitFor(const std::function<bool(const ReceivedFrame &)> &match,
                                                        int timeoutMs)
{
    std::optional<ReceivedFrame> found;
    (void)QTest::qWaitFor(
        [&] {
            for (const ReceivedFrame &frame : std::as_const(m_frames)) {
                if (match(frame)) {
                    found = frame;
                    return true;
                }
            }
            return false;
        },
        timeoutMs);
    return found;
}

std::optional<ReceivedFrame> PhoenixTestClient::waitForReply(const QString &topic, const QJsonValue &ref, int timeoutMs)
{
    return waitFor(
        [&](const ReceivedFrame &frame) {
            return !frame.binary && frame.topic() == topic && frame.event() == u"phx_reply" && frame.ref() == ref;
        },
        timeoutMs);
}

bool PhoenixTestClient::waitForDisconnected(int timeoutMs)
{
    return QTest::qWaitFor([this] { return m_socket.state() == QAbstractSocket::UnconnectedState; }, timeoutMs);
}

int httpStatus(quint16 port, const QByteArray &request, int timeoutMs, QByteArray *response, const QHostAddress &from)
{
    QTcpSocket socket;
    if (!from.isNull() && !socket.bind(from)) {
        return 0;
    }
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(timeoutMs)) {
        return 0;
    }
    socket.write(request);
    QByteArray data;
    // Complete when the head and a Content-Length body have arrived, or the server closed.
    const auto complete = [&data] {
        const qsizetype end = data.indexOf("\r\n\r\n");
        if (end < 0) {
            return false;
        }
        const QByteArray head = data.left(end).toLower();
        const qsizetype at = head.indexOf("content-length:");
        if (at < 0) {
            return true;
        }
        const qsizetype lineEnd = head.indexOf('\r', at);
        const qsizetype length = head.mid(at + 15, lineEnd < 0 ? -1 : lineEnd - at - 15).trimmed().toLongLong();
        return data.size() >= end + 4 + length;
    };
    (void)QTest::qWaitFor(
        [&] {
            data += socket.readAll();
            return complete() || socket.state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
    data += socket.readAll();
    if (response) {
        *response = data;
    }
    if (!data.startsWith("HTTP/1.1 ")) {
        return 0;
    }
    return data.mid(9, 3).toInt();
}

} // namespace wsserve::test

namespace wsserve::test {

bool RawWebSocketClient::open(quint16 port, const QByteArray &target, int timeoutMs, const QByteArray &sentWithHead)
{
    m_socket = new QTcpSocket(this);
    m_socket->connectToHost(QHostAddress::LocalHost, port);
    if (!m_socket->waitForConnected(timeoutMs)) {
        return false;
    }
    m_socket->write(upgradeHead(target) + sentWithHead);
    const bool headed = QTest::qWaitFor(
        [this] {
            m_buffer += m_socket->readAll();
            return m_buffer.contains("\r\n\r\n") || m_socket->state() != QAbstractSocket::ConnectedState;
        },
        timeoutMs);
    if (!headed || !m_buffer.startsWith("HTTP/1.1 101")) {
        return false;
    }
    m_responseHead = m_buffer.left(m_buffer.indexOf("\r\n\r\n") + 4);
    m_buffer.remove(0, m_responseHead.size());
    connect(m_socket, &QTcpSocket::readyRead, this, [this] {
        m_buffer += m_socket->readAll();
        parseFrames();
    });
    parseFrames();
    return true;
}

void RawWebSocketClient::sendText(const QByteArray &text)
{
    sendFrame(0x81, text);
}

QByteArray RawWebSocketClient::frame(quint8 firstByte, const QByteArray &payload, bool masked)
{
    QByteArray frame;
    frame.append(static_cast<char>(firstByte));
    const int maskBit = masked ? 0x80 : 0;
    const auto size = static_cast<quint64>(payload.size());
    if (size < 126) {
        frame.append(static_cast<char>(maskBit | size));
    } else if (size <= 0xffff) {
        frame.append(static_cast<char>(maskBit | 126));
        frame.append(static_cast<char>((size >> 8) & 0xff));
        frame.append(static_cast<char>(size & 0xff));
    } else {
        frame.append(static_cast<char>(maskBit | 127));
        for (int shift = 56; shift >= 0; shift -= 8) {
            frame.append(static_cast<char>((size >> shift) & 0xff));
        }
    }
    const char mask[4] = {0x11, 0x22, 0x33, 0x44};
    if (masked) {
        frame.append(mask, 4);
    }
    for (qsizetype i = 0; i < payload.size(); ++i) {
        frame.append(masked ? static_cast<char>(payload.at(i) ^ mask[i % 4]) : payload.at(i));
    }
    return frame;
}

void RawWebSocketClient::sendFrame(quint8 firstByte, const QByteArray &payload, bool masked)
{
    m_socket->write(frame(firstByte, payload, masked));
}

void RawWebSocketClient::sendRaw(const QByteArray &bytes)
{
    m_socket->write(bytes);
}

bool RawWebSocketClient::waitForPong(const QByteArray &payload, int timeoutMs)
{
    return QTest::qWaitFor([&] { return m_pongs.contains(payload); }, timeoutMs);
}

void RawWebSocketClient::parseFrames()
{
    while (m_buffer.size() >= 2) {
        const auto opcode = static_cast<quint8>(m_buffer.at(0)) & 0x0f;
        qsizetype length = static_cast<quint8>(m_buffer.at(1)) & 0x7f;
        qsizetype offset = 2;
        if (length == 126) {
            if (m_buffer.size() < 4) {
                return;
            }
            length = (static_cast<quint8>(m_buffer.at(2)) << 8) | static_cast<quint8>(m_buffer.at(3));
            offset = 4;
        } else if (length == 127) {
            if (m_buffer.size() < 10) {
                return;
            }
            length = 0;
            for (int i = 0; i < 8; ++i) {
                length = (length << 8) | static_cast<quint8>(m_buffer.at(2 + i));
            }
            offset = 10;
        }
        if (m_buffer.size() < offset + length) {
            return;
        }
        const QByteArray payload = m_buffer.mid(offset, length);
        m_buffer.remove(0, offset + length);
        if (opcode == 0x1) {
            m_texts.append(payload);
        } else if (opcode == 0xA) {
            m_pongs.append(payload);
        } else if (opcode == 0x8) {
            m_closeCode = payload.size() >= 2
                              ? (static_cast<quint8>(payload.at(0)) << 8) | static_cast<quint8>(payload.at(1))
                              : 1005;
        }
    }
}

bool RawWebSocketClient::waitForText(const QByteArray &needle, int timeoutMs)
{
    return QTest::qWaitFor(
        [&] {
            return std::any_of(m_texts.cbegin(), m_texts.cend(),
                               [&](const QByteArray &text) { return text.contains(needle); });
        },
        timeoutMs);
}

int RawWebSocketClient::waitForClose(int timeoutMs)
{
    (void)QTest::qWaitFor([this] { return m_closeCode >= 0 || m_socket->state() == QAbstractSocket::UnconnectedState; },
                          timeoutMs);
    return m_closeCode >= 0 ? m_closeCode : 1006;
}

} // namespace wsserve::test
