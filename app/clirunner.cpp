// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "clirunner.h"

#include "adminserver.h"
#include "servercontroller.h"

#include <QCoreApplication>

#include <cstdio>

namespace wsserve {

CliRunner::CliRunner(ServerController &controller, ServerConfig config, QObject *parent)
    : QObject(parent)
    , m_controller(controller)
    , m_config(std::move(config))
{}

bool CliRunner::start(QString *error)
{
    QStringList seen;
    for (const InstanceSpec &spec : std::as_const(m_config.instances)) {
        InstanceConfig validated;
        if (!m_controller.registry().makeConfig(spec.id, spec.type, spec.options, &validated, error)) {
            return false;
        }
        if (seen.contains(spec.id)) {
            *error = QStringLiteral("instance id '%1' is given twice").arg(spec.id);
            return false;
        }
        seen.append(spec.id);
    }
    if (m_config.adminEnabled) {
        // Bound before anything else starts, so a bad admin setup stops the launch with nothing running.
        m_admin = new AdminServer(m_controller, m_config.adminToken, this);
        m_admin->setAllowedHosts(m_config.adminHosts);
        if (!m_admin->listen(m_config.adminBind, m_config.effectiveAdminPort(), error)) {
            return false;
        }
    }
    connect(&m_controller, &ServerController::listenFailed, this, &CliRunner::fail);
    connect(&m_controller, &ServerController::listening, this, &CliRunner::onListening);
    connect(&m_controller, &ServerController::instanceStateChanged, this,
            [this](const QString &id, InstanceState state, const QString &reason) {
                if (!m_announced && state == InstanceState::Failed) {
                    fail(QStringLiteral("instance '%1' failed to start: %2").arg(id, reason));
                    return;
                }
                checkAllRunning();
            });
    connect(&m_controller, &ServerController::shutdownComplete, this, [] { QCoreApplication::exit(0); });
    m_controller.listen(m_config.bind, m_config.port);
    return true;
}

void CliRunner::onListening()
{
    QString error;
    for (const InstanceSpec &spec : std::as_const(m_config.instances)) {
        if (!m_controller.createInstance(spec.id, spec.type, spec.options, spec.start, &error)) {
            fail(error);
            return;
        }
    }
    checkAllRunning();
}

void CliRunner::checkAllRunning()
{
    if (m_announced || m_stopping || !m_controller.isListening()) {
        return;
    }
    for (const QString &id : m_controller.instanceIds()) {
        const InstanceInfo info = m_controller.instance(id);
        const bool wanted = std::any_of(m_config.instances.cbegin(), m_config.instances.cend(),
                                        [&](const InstanceSpec &spec) { return spec.id == id && spec.start; });
        if (wanted && info.state != InstanceState::Running) {
            return;
        }
    }
    m_announced = true;
    const QHostAddress address = m_controller.listenAddress();
    const QString host =
        address.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + address.toString() + u']' : address.toString();
    // The first stdout line, exactly; scripts and tests read the port from it.
    std::fprintf(stdout, "wsserve: listening on ws://%s:%u\n", qPrintable(host),
                 static_cast<unsigned>(m_controller.listenPort()));
    if (m_admin) {
        const QHostAddress adminAddress = m_config.adminBind;
        const QString adminHost = adminAddress.protocol() == QAbstractSocket::IPv6Protocol
                                      ? u'[' + adminAddress.toString() + u']'
                                      : adminAddress.toString();
        std::fprintf(stdout, "wsserve: admin API on http://%s:%u\n", qPrintable(adminHost),
                     static_cast<unsigned>(m_admin->port()));
    }
    std::fflush(stdout);
}

void CliRunner::requestStop()
{
    if (m_stopping) {
        return;
    }
    m_stopping = true;
    std::fprintf(stderr, "wsserve: stopping: closing every client with 1012\n");
    std::fflush(stderr);
    m_controller.shutdown();
}

void CliRunner::fail(const QString &message)
{
    std::fprintf(stderr, "wsserve: error: %s\n", qPrintable(message));
    std::fflush(stderr);
    QCoreApplication::exit(2);
}

} // namespace wsserve
