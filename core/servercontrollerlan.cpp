// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// ServerController: what the LAN sees of this host: the pages' instance list (SiteDirectory), the opt-in
// DNS-SD announcement and the opt-in browsing for other hosts.
#include "servercontroller.h"
#include "servercontrollerprivate.h"

#include "supervisor/supervisor.h"

#include <QSysInfo>

namespace wsserve {

void ServerController::connectSite()
{
    d->site->setHostName(QSysInfo::machineHostName());
    connect(d->supervisor, &Supervisor::instanceAdded, this, &ServerController::refreshSite);
    connect(d->supervisor, &Supervisor::instanceStateChanged, this,
            [this](const QString &id, InstanceState, const QString &) { refreshSite(id); });
    connect(d->supervisor, &Supervisor::instanceRemoved, this, [this](const QString &id) {
        d->site->remove(id);
        refreshAnnouncement();
    });
    connect(d->supervisor, &Supervisor::instanceStatsChanged, this,
            [this](const QString &id, const InstanceStats &stats) { d->site->setClients(id, stats.clients); });
}

void ServerController::refreshSite(const QString &id)
{
    const InstanceInfo info = instance(id);
    d->site->upsert(web::SiteInstance{id, info.config.type, instanceStateName(info.state).toLower(), info.stats.clients,
                                      info.config.stringOption(options::kWebRoot)});
    refreshAnnouncement();
}

void ServerController::setAnnounceAll(bool announce)
{
    d->announceAll = announce;
    refreshAnnouncement();
}

bool ServerController::announceAll() const
{
    return d->announceAll;
}

web::HostBrowser &ServerController::hostBrowser()
{
    return d->hostBrowser;
}

QList<QByteArray> ServerController::announcementTxt() const
{
    QStringList ids;
    QStringList types;
    for (const QString &id : d->supervisor->instanceIds()) {
        const InstanceInfo info = instance(id);
        if (info.state == InstanceState::Running && (d->announceAll || info.config.boolOption(options::kAnnounce))) {
            ids.append(id);
            types.append(info.config.type);
        }
    }
    if (ids.isEmpty() && !d->announceAll) {
        return {};
    }
    // One TXT string is at most 255 bytes: long lists are cut at a whole entry.
    const auto joined = [](const QByteArray &key, const QStringList &values) {
        QByteArray text = key + '=';
        for (const QString &value : values) {
            const QByteArray next = (text.endsWith('=') ? QByteArray() : QByteArray(",")) + value.toUtf8();
            if (text.size() + next.size() > 255) {
                break;
            }
            text += next;
        }
        return text;
    };
    return {QByteArray("version=" WSSERVE_VERSION), QByteArray("path=/"), QByteArray("socket=/socket/"),
            joined("ids", ids), joined("types", types)};
}

void ServerController::refreshAnnouncement()
{
    const QList<QByteArray> txt = announcementTxt();
    if (txt.isEmpty() || m_listeningPort == 0 || d->shuttingDown) {
        d->announcer.withdraw();
        return;
    }
    d->announcer.publish(QStringLiteral("wsserve on %1").arg(QSysInfo::machineHostName()), m_listeningPort, txt);
}

} // namespace wsserve
