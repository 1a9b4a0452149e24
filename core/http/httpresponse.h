// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QByteArray>
#include <QString>

class QTcpSocket;

namespace wsserve {

// Answers a request that will not be upgraded with a plain-text HTTP status, then closes the socket
// and deletes it once it is disconnected. Thread: the socket's thread.
void respondHttpAndClose(QTcpSocket *socket, int status, const QString &body, const QByteArray &extraHeaders = {});
// The same on a raw descriptor whose request was read completely; written once, then our side is shut
// down. The descriptor stays open (its owner closes it). Thread: any.
void respondHttpAndClose(qintptr fd, int status, const QString &body, const QByteArray &extraHeaders = {});

QByteArray httpReasonPhrase(int status);
// A complete HTTP/1.1 response with Connection: close (long-poll and API answers).
QByteArray httpResponse(int status, const QByteArray &contentType, const QByteArray &body,
                        const QByteArray &extraHeaders = {});

// A client-supplied string made safe to put in a log line or a response body: control characters
// (CR, LF, NUL, ...) and Unicode line separators become \xNN / \uNNNN escapes, and it is cut to
// maxChars with "..." so one request cannot fill a log.
QString printableText(QStringView text, qsizetype maxChars = 200);

} // namespace wsserve
