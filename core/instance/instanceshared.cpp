// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instanceshared.h"

#include "net/socketio.h"
#include "net/tls.h"
#include "net/wsframe.h"

#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <sys/socket.h>
#endif

namespace wsserve {

void InstanceShared::addDescriptor(qintptr fd)
{
    const QMutexLocker lock(&m_mutex);
    m_descriptors.insert(fd);
}

void InstanceShared::removeDescriptor(qintptr fd)
{
    const QMutexLocker lock(&m_mutex);
    m_descriptors.remove(fd);
}

int InstanceShared::shutdownAll(quint16 closeCode, const QString &reason)
{
    const QByteArray closeFrame = ws::prepareClose(closeCode, reason);
    const QMutexLocker lock(&m_mutex);
    for (const qintptr fd : std::as_const(m_descriptors)) {
        if (!net::isTls(fd)) { // a TLS session belongs to the instance thread; this may be another one
            net::sendAll(fd, closeFrame);
        }
#ifdef Q_OS_WIN
        ::shutdown(static_cast<SOCKET>(fd), SD_BOTH);
#else
        ::shutdown(static_cast<int>(fd), SHUT_RDWR);
#endif
    }
    const int count = static_cast<int>(m_descriptors.size());
    m_descriptors.clear();
    return count;
}

} // namespace wsserve
