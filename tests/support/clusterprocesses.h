// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// The processes a cluster test runs (as tests/conformance/cluster.test.js does in JS): a real redis-server
// (Debian's) on a free loopback port, and headless wsserve nodes joined to it. Header-only; each test
// binary defines WSSERVE_BINARY. Thread: the test's thread.

#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTest>

namespace wsserve::test {

// A port nothing listens on right now (the system picks it; it is free again once this returns).
inline quint16 freeLoopbackPort()
{
    QTcpServer probe;
    return probe.listen(QHostAddress::LocalHost, 0) ? probe.serverPort() : 0;
}

// redis-server on 127.0.0.1, no persistence; stopped (SIGKILL) with the object.
class RedisServer
{
public:
    static bool installed() { return !QStandardPaths::findExecutable(QStringLiteral("redis-server")).isEmpty(); }

    RedisServer() = default;
    RedisServer(const RedisServer &) = delete;
    RedisServer &operator=(const RedisServer &) = delete;
    ~RedisServer() { stop(); }

    // Starts it and waits until it accepts connections; false (with its output in error()) otherwise.
    bool start()
    {
        m_port = freeLoopbackPort();
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        m_process.start(QStringLiteral("redis-server"),
                        {QStringLiteral("--port"), QString::number(m_port), QStringLiteral("--bind"),
                         QStringLiteral("127.0.0.1"), QStringLiteral("--save"), QString(),
                         QStringLiteral("--appendonly"), QStringLiteral("no")});
        if (!m_process.waitForStarted(10000)) {
            return false;
        }
        return QTest::qWaitFor(
                   [this] {
                       m_output += m_process.readAll();
                       return m_output.contains("Ready to accept connections") ||
                              m_process.state() == QProcess::NotRunning;
                   },
                   10000) &&
               m_process.state() == QProcess::Running;
    }

    void stop()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(10000);
        }
    }

    quint16 port() const { return m_port; }
    QString url() const { return QStringLiteral("redis://127.0.0.1:%1/0").arg(m_port); }
    QString error() const { return QString::fromUtf8(m_output); }

private:
    QProcess m_process;
    QByteArray m_output;
    quint16 m_port = 0;
};

// A headless wsserve joined to a cluster; killed (SIGKILL, as a crashed node) with the object.
class ClusterNodeProcess
{
public:
    ClusterNodeProcess() = default;
    ClusterNodeProcess(const ClusterNodeProcess &) = delete;
    ClusterNodeProcess &operator=(const ClusterNodeProcess &) = delete;
    ~ClusterNodeProcess() { kill(); }

    // Starts `--headless --bind 127.0.0.1 --port 0 --no-admin --cluster URL --node-name NAME` with
    // `--instance` for each spec, and waits for its listening line; false (with its stderr) otherwise.
    bool start(const QString &clusterUrl, const QString &nodeName, const QStringList &instances, QString *error)
    {
        QStringList arguments{QStringLiteral("--headless"),  QStringLiteral("--bind"),
                              QStringLiteral("127.0.0.1"),   QStringLiteral("--port"),
                              QStringLiteral("0"),           QStringLiteral("--no-admin"),
                              QStringLiteral("--cluster"),   clusterUrl,
                              QStringLiteral("--node-name"), nodeName};
        for (const QString &spec : instances) {
            arguments << QStringLiteral("--instance") << spec;
        }
        m_process.start(QStringLiteral(WSSERVE_BINARY), arguments);
        if (!m_process.waitForStarted(10000) ||
            !QTest::qWaitFor([this] { return m_process.canReadLine() || m_process.state() == QProcess::NotRunning; },
                             20000) ||
            !m_process.canReadLine()) {
            *error = QString::fromUtf8(m_process.readAllStandardError());
            return false;
        }
        static const QRegularExpression listening(QStringLiteral("^wsserve: listening on ws://[^ ]+:(\\d+)$"));
        const auto match = listening.match(QString::fromUtf8(m_process.readLine()).trimmed());
        m_port = match.hasMatch() ? static_cast<quint16>(match.captured(1).toUInt()) : 0;
        if (m_port == 0) {
            *error = QString::fromUtf8(m_process.readAllStandardError());
        }
        return m_port != 0;
    }

    // SIGKILL: the node vanishes without a goodbye, as a crash or a pulled cable.
    void kill()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(10000);
        }
    }

    QUrl url(const QString &id) const
    {
        return QUrl(QStringLiteral("ws://127.0.0.1:%1/socket/%2/websocket?vsn=2.0.0").arg(m_port).arg(id));
    }

private:
    QProcess m_process;
    quint16 m_port = 0;
};

} // namespace wsserve::test
