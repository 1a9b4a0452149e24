// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "clirunner.h"

#include "servercontroller.h"
#include "serverstart.h"

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
    connect(&m_controller, &ServerController::listenFailed, this, &CliRunner::fail);
    connect(&m_controller, &ServerController::listening, this, &CliRunner::checkAllRunning);
    connect(&m_controller, &ServerController::instanceStateChanged, this,
            [this](const QString &id, InstanceState state, const QString &reason) {
                if (!m_announced && state == InstanceState::Failed) {
                    fail(QStringLiteral("instance '%1' failed to start: %2").arg(id, reason));
                    return;
                }
                checkAllRunning();
            });
    connect(&m_controller, &ServerController::shutdownComplete, this, [] { QCoreApplication::exit(0); });
    m_start = new ServerStart(m_controller, this);
    if (const QStringList problems = m_start->start(m_config, ServerStart::Mode::Strict); !problems.isEmpty()) {
        *error = problems.first();
        return false;
    }
    return true;
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
    // The first stdout line, exactly; scripts and tests read the port from it.
    std::fprintf(stdout, "wsserve: listening on ws://%s:%u\n", qPrintable(urlHost(m_controller.listenAddress())),
                 static_cast<unsigned>(m_controller.listenPort()));
    if (const QString adminUrl = m_start->adminUrl(); !adminUrl.isEmpty()) {
        std::fprintf(stdout, "wsserve: admin API on %s\n", qPrintable(adminUrl));
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
