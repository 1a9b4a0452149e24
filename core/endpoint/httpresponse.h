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

} // namespace wsserve
