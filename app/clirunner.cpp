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
    // With a data folder, instances created over the admin API come back (those of the command line and
    // the config file are defined there on every start, so they are not kept).
    QList<InstanceSpec> saved;
    const std::shared_ptr<Store> store = m_controller.store();
    if (store->persistent()) {
        for (const StoredInstance &kept : store->instances()) {
            if (configured(kept.id)) {
                continue;
            }
            // One that no longer fits (its type gone, an option out of bounds) is skipped, not fatal.
            InstanceConfig checked;
            QString problem;
            if (!m_controller.registry().makeConfig(kept.id, kept.type, kept.options.toVariantMap(), &checked,
                                                    &problem)) {
                std::fprintf(stderr, "wsserve: warning: saved instance '%s' was not restored: %s\n",
                             qPrintable(kept.id), qPrintable(problem));
                continue;
            }
            saved.append(InstanceSpec{kept.id, kept.type, kept.options.toVariantMap(), kept.running});
        }
        const auto remember = [this, store](const QString &id) {
            if (m_stopping || configured(id) || !m_controller.instanceIds().contains(id)) {
                return;
            }
            const InstanceInfo info = m_controller.instance(id);
            const bool running = info.state == InstanceState::Running || info.state == InstanceState::Starting ||
                                 info.state == InstanceState::Restarting;
            store->saveInstance(
                StoredInstance{id, info.config.type, QJsonObject::fromVariantMap(info.config.options), running});
        };
        connect(&m_controller, &ServerController::instanceAdded, this, remember);
        connect(&m_controller, &ServerController::instanceStateChanged, this,
                [remember](const QString &id, InstanceState state) {
                    if (state == InstanceState::Running || state == InstanceState::Stopped) {
                        remember(id);
                    }
                });
        connect(&m_controller, &ServerController::instanceRemoved, this, [this, store](const QString &id) {
            if (!m_stopping && !configured(id)) {
                store->forgetInstance(id);
            }
        });
    }
    m_start = new ServerStart(m_controller, this);
    if (const QStringList problems = m_start->start(m_config, ServerStart::Mode::Strict, saved); !problems.isEmpty()) {
        *error = problems.first();
        return false;
    }
    return true;
}

bool CliRunner::configured(const QString &id) const
{
    return std::any_of(m_config.instances.cbegin(), m_config.instances.cend(),
                       [&](const InstanceSpec &spec) { return spec.id == id; });
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
    std::fprintf(stdout, "wsserve: listening on %s://%s:%u\n", m_controller.isTls() ? "wss" : "ws",
                 qPrintable(urlHost(m_controller.listenAddress())), static_cast<unsigned>(m_controller.listenPort()));
    if (const QString adminUrl = m_start->adminUrl(); !adminUrl.isEmpty()) {
        std::fprintf(stdout, "wsserve: admin API on %s\n", qPrintable(adminUrl));
    }
    if (m_controller.isTls()) {
        std::fprintf(stdout, "wsserve: TLS certificate %s, SHA-256 fingerprint %s\n",
                     qPrintable(m_controller.tlsCertFile()), qPrintable(m_controller.tlsFingerprint()));
    }
    if (const QString adminCert = m_start->adminTlsCertFile(); !adminCert.isEmpty()) {
        std::fprintf(stdout, "wsserve: admin API TLS certificate %s, SHA-256 fingerprint %s\n", qPrintable(adminCert),
                     qPrintable(m_start->adminTlsFingerprint()));
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
