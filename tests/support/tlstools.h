// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// Certificates and raw clients for the TLS tests: a self-signed pair for localhost/127.0.0.1 (made by
// wsserve's own generator), a client configuration trusting it, and a blocking TCP connection with a
// receive timeout for clients that write bytes no TLS library would.

#include "net/tls.h"

#include <QSslCertificate>
#include <QSslConfiguration>
#include <QString>
#include <QTemporaryDir>
#include <QtDebug>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace wsserve::test {

struct CertPair {
    QString cert;
    QString key;
};

inline CertPair makeCertPair(const QTemporaryDir &dir, const QString &name, qint64 notBefore = -3600,
                             qint64 notAfter = 24 * 3600)
{
    CertPair pair{dir.filePath(name + QStringLiteral(".crt")), dir.filePath(name + QStringLiteral(".key"))};
    QString error;
    if (!net::writeSelfSignedCertificate(pair.cert, pair.key, {QStringLiteral("localhost")},
                                         {QStringLiteral("127.0.0.1")}, notBefore, notAfter, &error)) {
        qWarning() << error;
        return {};
    }
    return pair;
}

inline QSslConfiguration trustingConfiguration(const QString &certFile)
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setCaCertificates(QSslCertificate::fromPath(certFile));
    return configuration;
}

// A blocking TCP connection to 127.0.0.1:port whose reads give up after `timeoutSeconds`; -1 on failure.
inline int connectBlocking(quint16 port, int timeoutSeconds = 15)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{timeoutSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads until the peer closes (true: EOF or reset) or the receive timeout passes (false).
inline bool peerCloses(int fd)
{
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return true;
        }
        if (n < 0) {
            return false; // timed out
        }
    }
}

} // namespace wsserve::test
