// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "httpresponse.h"

#include "net/socketio.h"

#include <QTcpSocket>

#include <algorithm>

namespace wsserve {

QByteArray httpReasonPhrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 421:
        return "Misdirected Request";
    case 426:
        return "Upgrade Required";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

QString printableText(QStringView text, qsizetype maxChars)
{
    QString out;
    out.reserve(std::min(text.size(), maxChars) + 8);
    qsizetype kept = 0;
    for (const QChar c : text) {
        if (kept == maxChars) {
            out += QStringLiteral("...");
            break;
        }
        const char16_t u = c.unicode();
        if (u < 0x20 || u == 0x7F || (u >= 0x80 && u < 0xA0)) {
            out += QStringLiteral("\\x%1").arg(static_cast<uint>(u), 2, 16, QLatin1Char('0'));
        } else if (u == 0x2028 || u == 0x2029) {
            out += QStringLiteral("\\u%1").arg(static_cast<uint>(u), 4, 16, QLatin1Char('0'));
        } else {
            out += c;
        }
        ++kept;
    }
    return out;
}

QByteArray httpResponse(int status, const QByteArray &contentType, const QByteArray &body,
                        const QByteArray &extraHeaders)
{
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + httpReasonPhrase(status) +
           "\r\nContent-Type: " + contentType + "\r\nContent-Length: " + QByteArray::number(body.size()) +
           "\r\nCache-Control: no-store\r\nConnection: close\r\n" + extraHeaders + "\r\n" + body;
}

namespace {
QByteArray errorResponse(int status, const QString &body, const QByteArray &extraHeaders)
{
    const QByteArray bytes = body.toUtf8() + '\n';
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + httpReasonPhrase(status) +
           "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + QByteArray::number(bytes.size()) +
           "\r\nConnection: close\r\n" + extraHeaders + "\r\n" + bytes;
}
} // namespace

void respondHttpAndClose(qintptr fd, int status, const QString &body, const QByteArray &extraHeaders)
{
    net::sendAll(fd, errorResponse(status, body, extraHeaders));
    net::shutdownWrite(fd);
}

void respondHttpAndClose(QTcpSocket *socket, int status, const QString &body, const QByteArray &extraHeaders)
{
    const QByteArray response = errorResponse(status, body, extraHeaders);
    QObject::connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
    socket->write(response);
    socket->disconnectFromHost();
    if (socket->state() == QAbstractSocket::UnconnectedState) {
        socket->deleteLater();
    }
}

} // namespace wsserve
