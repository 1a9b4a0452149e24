// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "phoenixtestclient.h"

#include <QJsonDocument>
#include <QNetworkRequest>
#include <QTcpSocket>
#include <QTest>
#include <QWebSocketHandshakeOptions>

namespace wsserve::test {

PhoenixTestClient::PhoenixTestClient(QObject *parent)
    : QObject(parent) {
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

bool PhoenixTestClient::open(const QUrl &url, int timeoutMs, const QStringList &subprotocols) {
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

QString PhoenixTestClient::nextRef() {
    return QString::number(++m_ref);
}

void PhoenixTestClient::sendText(const QByteArray &text) {
    m_socket.sendTextMessage(QString::fromUtf8(text));
}

void PhoenixTestClient::sendV2(const QJsonValue &joinRef, const QJsonValue &ref, const QString &topic,
                               const QString &event, const QJsonValue &payload) {
    sendText(QJsonDocument(QJsonArray{joinRef, ref, topic, event, payload}).toJson(QJsonDocument::Compact));
}

void PhoenixTestClient::sendBinary(const QByteArray &data) {
    m_socket.sendBinaryMessage(data);
}

QString PhoenixTestClient::join(const QString &topic, const QJsonObject &params) {
    const QString ref = nextRef();
    sendV2(ref, ref, topic, QStringLiteral("phx_join"), params);
    return ref;
}

std::optional<ReceivedFrame>
PhoenixTestClient::waitFor(const std::function<bool(const ReceivedFrame &)> &match, int timeoutMs) {
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

std::optional<ReceivedFrame> PhoenixTestClient::waitForReply(const QString &topic, const QJsonValue &ref,
                                                             int timeoutMs) {
    return waitFor(
        [&](const ReceivedFrame &frame) {
            return !frame.binary && frame.topic() == topic && frame.event() == u"phx_reply" &&
                   frame.ref() == ref;
        },
        timeoutMs);
}

bool PhoenixTestClient::waitForDisconnected(int timeoutMs) {
    return QTest::qWaitFor([this] { return m_socket.state() == QAbstractSocket::UnconnectedState; },
                           timeoutMs);
}

int httpStatus(quint16 port, const QByteArray &request, int timeoutMs, QByteArray *response) {
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(timeoutMs)) {
        return 0;
    }
    socket.write(request);
    QByteArray data;
    (void)QTest::qWaitFor(
        [&] {
            data += socket.readAll();
            return data.contains("\r\n\r\n") || socket.state() == QAbstractSocket::UnconnectedState;
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
