// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "serverstart.h"

#include "adminserver.h"
#include "servercontroller.h"
#include "store/store.h"

namespace wsserve {

ServerStart::ServerStart(ServerController &controller, QObject *parent)
    : QObject(parent)
    , m_controller(controller)
{}

ServerStart::~ServerStart() = default;

QStringList ServerStart::start(const ServerConfig &config, Mode mode, const QList<InstanceSpec> &saved)
{
    const bool strict = mode == Mode::Strict;
    QStringList problems;
    if (strict) {
        QStringList seen;
        for (const InstanceSpec &spec : config.instances) {
            InstanceConfig validated;
            QString error;
            if (!m_controller.registry().makeConfig(spec.id, spec.type, spec.options, &validated, &error)) {
                return {error};
            }
            if (seen.contains(spec.id)) {
                return {QStringLiteral("instance id '%1' is given twice").arg(spec.id)};
            }
            seen.append(spec.id);
        }
    }
    if (config.tlsEnabled()) {
        // Before anything listens: a certificate that does not load stops a strict launch.
        QString certFile = config.tlsCert;
        QString keyFile = config.tlsKey;
        QString error;
        const bool ok =
            (!config.tlsCert.isEmpty() ||
             ServerController::selfSignedCertificate(config.dataDir.isEmpty() ? Store::defaultDir() : config.dataDir,
                                                     &certFile, &keyFile, &error)) &&
            m_controller.enableTls(certFile, keyFile, &error);
        if (!ok) {
            if (strict) {
                return {error};
            }
            problems.append(tr("Encrypted connections are off: %1").arg(error));
        }
    }
    QString adminError;
    if (config.adminEnabled) {
        // Bound before anything else starts, so a bad admin setup stops a strict launch with nothing running.
        m_admin = new AdminServer(m_controller, config.adminToken, this);
        m_admin->setAllowedHosts(config.adminHosts);
        m_adminBind = config.adminBind;
        if (config.adminTlsEnabled()) {
            // https:// for the admin API: its own files, or the game port's stored self-signed pair.
            QString certFile = config.adminTlsCert;
            QString keyFile = config.adminTlsKey;
            QString error;
            const bool ok =
                (!config.adminTlsCert.isEmpty() ||
                 ServerController::selfSignedCertificate(
                     config.dataDir.isEmpty() ? Store::defaultDir() : config.dataDir, &certFile, &keyFile, &error)) &&
                m_admin->enableTls(certFile, keyFile, &error);
            if (!ok) {
                delete m_admin;
                m_admin = nullptr;
                if (strict) {
                    return {error};
                }
                problems.append(tr("The admin API is off: %1").arg(error));
            }
        }
        if (m_admin && !m_admin->listen(config.adminBind, config.effectiveAdminPort(), &adminError)) {
            delete m_admin;
            m_admin = nullptr;
            if (strict) {
                return {adminError};
            }
        }
    }
    for (const InstanceSpec &spec : saved) {
        if (const CommandResult result = m_controller.createInstance(spec.id, spec.type, spec.options, spec.start);
            !result) {
            problems.append(tr("Saved instance '%1' was not restored: %2").arg(spec.id, result.message));
        }
    }
    for (const InstanceSpec &spec : config.instances) {
        if (m_controller.instanceIds().contains(spec.id)) {
            continue; // restored from the saved state
        }
        if (const CommandResult result = m_controller.createInstance(spec.id, spec.type, spec.options, spec.start);
            !result) {
            if (strict) {
                return {result.message};
            }
            problems.append(result.message);
        }
    }
    if (!adminError.isEmpty()) {
        problems.append(adminError);
    }
    if (config.announce) {
        m_controller.setAnnounceAll(true);
    }
    m_controller.listen(config.bind, config.port);
    return problems;
}

QString ServerStart::adminUrl() const
{
    return m_admin ? QStringLiteral("%1://%2:%3")
                         .arg(m_admin->isTls() ? u"https" : u"http", urlHost(m_adminBind))
                         .arg(m_admin->port())
                   : QString();
}

QString ServerStart::adminTlsFingerprint() const
{
    return m_admin ? m_admin->tlsFingerprint() : QString();
}

QString ServerStart::adminTlsCertFile() const
{
    return m_admin ? m_admin->tlsCertFile() : QString();
}

} // namespace wsserve
