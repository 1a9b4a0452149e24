// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "servercontroller.h"

#include "endpoint/endpoint.h"
#include "endpoint/routetable.h"
#include "net/acceptguard.h"
#include "supervisor/supervisor.h"

#include <QThread>

namespace wsserve {

struct ServerController::Private {
    std::shared_ptr<RouteTable> routes = std::make_shared<RouteTable>();
    std::shared_ptr<net::ListenerHealth> listenerHealth = std::make_shared<net::ListenerHealth>();
    Supervisor *supervisor = nullptr;
    QThread endpointThread;
    Endpoint *endpoint = nullptr;
    bool shuttingDown = false;
};

ServerController::ServerController(BehaviourRegistry registry, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
    , m_registry(std::make_shared<const BehaviourRegistry>(std::move(registry)))
{
    d->supervisor = new Supervisor(m_registry, d->routes, this);
    connect(d->supervisor, &Supervisor::instanceAdded, this, &ServerController::instanceAdded);
    connect(d->supervisor, &Supervisor::instanceRemoved, this, &ServerController::instanceRemoved);
    connect(d->supervisor, &Supervisor::instanceStateChanged, this, &ServerController::instanceStateChanged);
    connect(d->supervisor, &Supervisor::instanceStatsChanged, this, &ServerController::instanceStatsChanged);
    connect(d->supervisor, &Supervisor::supervisorEvent, this, &ServerController::supervisorEvent);
    connect(d->supervisor, &Supervisor::instanceClientsChanged, this, &ServerController::instanceClientsChanged);
    connect(d->supervisor, &Supervisor::instanceMessageFlow, this, &ServerController::instanceMessageFlow);

    d->endpointThread.setObjectName(QStringLiteral("endpoint"));
    d->endpoint = new Endpoint(d->routes, d->listenerHealth);
    d->endpoint->moveToThread(&d->endpointThread);
    connect(&d->endpointThread, &QThread::finished, d->endpoint, &QObject::deleteLater);
    // cross-thread: endpoint results arrive queued on the main thread.
    connect(d->endpoint, &Endpoint::listening, this, [this](const QHostAddress &address, quint16 port) {
        m_listeningAddress = address;
        m_listeningPort = port;
        emit listening(address, port);
    });
    connect(d->endpoint, &Endpoint::listenFailed, this, &ServerController::listenFailed);
    d->endpointThread.start();
}

ServerController::~ServerController()
{
    Endpoint *endpoint = d->endpoint;
    QMetaObject::invokeMethod(
        endpoint, [endpoint] { endpoint->close(); }, Qt::QueuedConnection);
    d->endpointThread.quit();
    d->endpointThread.wait();
    delete d->supervisor; // joins instance threads
    d->supervisor = nullptr;
}

QString ServerController::raiseOpenFilesLimit()
{
    return net::raiseOpenFilesLimit();
}

ListenerStatus ServerController::listenerStatus() const
{
    const net::ListenerHealth::Snapshot snapshot = d->listenerHealth->snapshot();
    return ListenerStatus{snapshot.accepting, snapshot.acceptErrors, snapshot.reason};
}

void ServerController::listen(const QHostAddress &address, quint16 port)
{
    Endpoint *endpoint = d->endpoint;
    // cross-thread: the listener lives in the endpoint thread.
    QMetaObject::invokeMethod(
        endpoint, [endpoint, address, port] { endpoint->listen(address, port); }, Qt::QueuedConnection);
}

CommandResult ServerController::createInstance(const QString &id, const QString &type, const QVariantMap &options,
                                               bool start)
{
    using Error = CommandResult::Error;
    if (const QString idError = validateInstanceId(id); !idError.isEmpty()) {
        return CommandResult::fail(Error::InvalidId, idError);
    }
    if (d->supervisor->contains(id)) {
        return CommandResult::fail(Error::IdTaken, QStringLiteral("instance id '%1' is already taken").arg(id));
    }
    InstanceConfig config;
    QString error;
    if (!m_registry->makeConfig(id, type, options, &config, &error)) {
        return CommandResult::fail(m_registry->find(type) ? Error::InvalidOption : Error::UnknownType, error);
    }
    if (CommandResult added = d->supervisor->addInstance(config); !added) {
        return added;
    }
    return start ? d->supervisor->startInstance(id) : CommandResult::ok();
}

CommandResult ServerController::startInstance(const QString &id)
{
    return d->supervisor->startInstance(id);
}

CommandResult ServerController::stopInstance(const QString &id)
{
    return d->supervisor->stopInstance(id);
}

CommandResult ServerController::restartInstance(const QString &id)
{
    return d->supervisor->restartInstance(id, QStringLiteral("restart requested"));
}

CommandResult ServerController::removeInstance(const QString &id)
{
    return d->supervisor->removeInstance(id);
}

CommandResult ServerController::kickClient(const QString &id, quint64 clientId, const QString &reason)
{
    return d->supervisor->kickClient(id, clientId, reason);
}

CommandResult ServerController::broadcast(const QString &id, const QString &topic, const QString &event,
                                          const QJsonObject &payload)
{
    return d->supervisor->broadcast(id, topic, event, payload);
}

QStringList ServerController::instanceIds() const
{
    return d->supervisor->instanceIds();
}

InstanceInfo ServerController::instance(const QString &id) const
{
    return InstanceInfo{d->supervisor->config(id), d->supervisor->state(id), d->supervisor->stats(id),
                        d->supervisor->restartCount(id), d->supervisor->runningSinceMs(id)};
}

ClientList ServerController::clients(const QString &id) const
{
    return d->supervisor->clients(id);
}

void ServerController::setMessageFlowEnabled(const QString &id, bool enabled)
{
    d->supervisor->setMessageFlowEnabled(id, enabled);
}

QList<SupervisorEvent> ServerController::supervisorLog() const
{
    return d->supervisor->log();
}

void ServerController::shutdown()
{
    if (d->shuttingDown) {
        return;
    }
    d->shuttingDown = true;
    Endpoint *endpoint = d->endpoint;
    // cross-thread: stop accepting first, then stop the instances.
    QMetaObject::invokeMethod(
        endpoint, [endpoint] { endpoint->close(); }, Qt::QueuedConnection);
    connect(
        d->supervisor, &Supervisor::allStopped, this,
        [this] {
            m_listeningPort = 0;
            emit shutdownComplete();
        },
        Qt::SingleShotConnection);
    d->supervisor->stopAll();
}

} // namespace wsserve
