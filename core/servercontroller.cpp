// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "servercontroller.h"
#include "servercontrollerprivate.h"

#include "auth/jwt.h"
#include "endpoint/endpoint.h"
#include "endpoint/routetable.h"
#include "logging.h"
#include "net/acceptguard.h"
#include "net/tls.h"
#include "script/scriptcatalog.h"
#include "supervisor/supervisor.h"
#include "web/sitedirectory.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QJsonArray>
#include <QSignalBlocker>
#include <QSysInfo>
#include <QThread>
#include <QTimer>

namespace wsserve {

ServerController::ServerController(BehaviourRegistry registry, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
    , m_registry(std::make_shared<const BehaviourRegistry>(std::move(registry)))
{
    d->baseRegistry = *m_registry;
    d->supervisor = new Supervisor(m_registry, d->routes, this);
    d->supervisor->setStore(d->store);
    d->scripts = new script::ScriptCatalog(this);
    connect(d->scripts, &script::ScriptCatalog::changed, this,
            [this](const QStringList &reloaded, const QStringList &) { rebuildRegistry(reloaded); });
    connect(d->supervisor, &Supervisor::instanceAdded, this, &ServerController::instanceAdded);
    connect(d->supervisor, &Supervisor::instanceRemoved, this, &ServerController::instanceRemoved);
    connect(d->supervisor, &Supervisor::instanceStateChanged, this, &ServerController::instanceStateChanged);
    connect(d->supervisor, &Supervisor::instanceStatsChanged, this, &ServerController::instanceStatsChanged);
    connect(d->supervisor, &Supervisor::supervisorEvent, this, &ServerController::supervisorEvent);
    connect(d->supervisor, &Supervisor::instanceClientsChanged, this, &ServerController::instanceClientsChanged);
    connect(d->supervisor, &Supervisor::instanceMessageFlow, this, &ServerController::instanceMessageFlow);
    const auto onConnectionEvents = [this](const ConnectionEventBatch &batch) {
        d->connectionLog.append(batch.events);
        if (const qsizetype overflow = d->connectionLog.size() - kMaxConnectionLog; overflow > 0) {
            d->connectionLog.remove(0, overflow);
        }
        d->connectionDropped += batch.dropped;
        emit connectionEvents(batch.events, batch.dropped);
    };
    connect(d->supervisor, &Supervisor::connectionEvents, this, onConnectionEvents);
    connectSite();

    d->endpointThread.setObjectName(QStringLiteral("endpoint"));
    d->endpoint = new Endpoint(d->routes, d->listenerHealth);
    d->endpoint->setSite(d->site);
    d->endpoint->moveToThread(&d->endpointThread);
    connect(&d->endpointThread, &QThread::finished, d->endpoint, &QObject::deleteLater);
    // cross-thread: endpoint results arrive queued on the main thread.
    connect(d->endpoint, &Endpoint::listening, this, [this](const QHostAddress &address, quint16 port) {
        m_listeningAddress = address;
        m_listeningPort = port;
        refreshAnnouncement();
        emit listening(address, port);
    });
    connect(d->endpoint, &Endpoint::listenFailed, this, &ServerController::listenFailed);
    connect(d->endpoint, &Endpoint::connectionEvents, this, onConnectionEvents);
    d->endpointThread.start();
}

void ServerController::setTypeDirectories(const QStringList &directories)
{
    const QSignalBlocker quiet(d->scripts); // the first scan is not a reload
    d->scripts->setDirectories(directories);
    rebuildRegistry({});
}

QStringList ServerController::typeDirectories() const
{
    return d->scripts->directories();
}

CommandResult ServerController::installTypeFile(const QString &path)
{
    using Error = CommandResult::Error;
    const QStringList folders = d->scripts->directories();
    if (folders.isEmpty()) {
        return CommandResult::fail(Error::InvalidArgument, tr("no types folder is set"));
    }
    const QFileInfo source(path);
    if (!source.isFile() || source.suffix() != u"js") {
        return CommandResult::fail(Error::InvalidArgument, tr("'%1' is not a .js file").arg(path));
    }
    if (!QDir().mkpath(folders.first())) {
        return CommandResult::fail(Error::InvalidArgument, tr("cannot make the types folder %1").arg(folders.first()));
    }
    const QString target = QDir(folders.first()).filePath(source.fileName());
    if (QFileInfo(target).canonicalFilePath() != source.canonicalFilePath()) {
        QFile::remove(target);
        if (!QFile::copy(path, target)) {
            return CommandResult::fail(Error::InvalidArgument, tr("cannot copy %1 to %2").arg(path, target));
        }
    }
    d->scripts->rescan();
    for (const BehaviourType &type : m_registry->types()) {
        if (type.path == QFileInfo(target).absoluteFilePath()) {
            if (!type.error.isEmpty()) {
                return CommandResult::fail(Error::InvalidArgument, type.error);
            }
            return CommandResult{CommandResult::Error::None, type.name};
        }
    }
    return CommandResult::fail(Error::InvalidArgument,
                               tr("%1 was copied but not found in %2").arg(target, folders.first()));
}

void ServerController::rebuildRegistry(const QStringList &reloaded)
{
    BehaviourRegistry registry = d->baseRegistry;
    for (BehaviourType &type : d->scripts->types(d->baseRegistry.names())) {
        registry.add(std::move(type));
    }
    m_registry = std::make_shared<const BehaviourRegistry>(std::move(registry));
    d->supervisor->setRegistry(m_registry);
    for (const QString &id : d->supervisor->instanceIds()) {
        const InstanceInfo info = instance(id);
        if (!reloaded.contains(info.config.type)) {
            continue;
        }
        if (info.state == InstanceState::Running || info.state == InstanceState::Starting) {
            const BehaviourType *type = m_registry->find(info.config.type);
            d->supervisor->restartInstance(
                id, QStringLiteral("type '%1' reloaded from %2").arg(info.config.type, type ? type->path : QString()));
        }
    }
    emit typesChanged();
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

bool ServerController::enableTls(const QString &certFile, const QString &keyFile, QString *error)
{
    std::shared_ptr<const net::TlsContext> context = net::TlsContext::load(certFile, keyFile, error);
    if (!context) {
        return false;
    }
    if (context->isExpired()) {
        qCWarning(lcCore).noquote() << QStringLiteral("the TLS certificate %1 expired on %2; browsers will refuse it")
                                           .arg(certFile, context->notAfter().toString(Qt::ISODate));
    }
    d->tls = context;
    Endpoint *endpoint = d->endpoint;
    QMetaObject::invokeMethod(
        endpoint, [endpoint, context] { endpoint->setTlsContext(context); }, Qt::QueuedConnection);
    if (!d->tlsWatcher) {
        d->tlsWatcher = new QFileSystemWatcher(this);
        d->tlsReloadTimer = new QTimer(this);
        d->tlsReloadTimer->setSingleShot(true);
        d->tlsReloadTimer->setInterval(300);
        connect(d->tlsReloadTimer, &QTimer::timeout, this, &ServerController::reloadTls);
        connect(d->tlsWatcher, &QFileSystemWatcher::fileChanged, d->tlsReloadTimer, qOverload<>(&QTimer::start));
    }
    d->tlsWatcher->addPaths({certFile, keyFile});
    return true;
}

void ServerController::reloadTls()
{
    if (!d->tls) {
        return;
    }
    const QString certFile = d->tls->certFile();
    const QString keyFile = d->tls->keyFile();
    d->tlsWatcher->addPaths({certFile, keyFile}); // a file replaced by a rename is watched again
    QString error;
    std::shared_ptr<const net::TlsContext> context = net::TlsContext::load(certFile, keyFile, &error);
    if (!context) {
        qCWarning(lcCore).noquote() << "TLS certificate not reloaded, the previous one stays in use:" << error;
        return;
    }
    if (context->fingerprint() == d->tls->fingerprint()) {
        return;
    }
    d->tls = context;
    Endpoint *endpoint = d->endpoint;
    QMetaObject::invokeMethod(
        endpoint, [endpoint, context] { endpoint->setTlsContext(context); }, Qt::QueuedConnection);
    qCInfo(lcCore).noquote() << "TLS certificate reloaded from" << certFile << "- SHA-256" << context->fingerprint();
    emit tlsChanged();
}

bool ServerController::selfSignedCertificate(const QString &folder, QString *certFile, QString *keyFile, QString *error)
{
    QStringList names;
    QStringList addresses;
    net::selfSignedSubjects(&names, &addresses);
    return net::ensureSelfSignedCertificate(folder, names, addresses, certFile, keyFile, error);
}

bool ServerController::isTls() const
{
    return d->tls != nullptr;
}

QString ServerController::tlsFingerprint() const
{
    return d->tls ? d->tls->fingerprint() : QString();
}

QString ServerController::tlsCertFile() const
{
    return d->tls ? d->tls->certFile() : QString();
}

bool ServerController::tlsSelfSigned() const
{
    return d->tls && d->tls->isSelfSigned();
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

CommandResult ServerController::pushToClient(const QString &id, quint64 clientId, const QString &topic,
                                             const QString &event, const QJsonObject &payload)
{
    return d->supervisor->pushTo(id, clientId, topic, event, payload);
}

OptionsUpdate ServerController::updateInstanceOptions(const QString &id, const QVariantMap &changes)
{
    using Error = CommandResult::Error;
    OptionsUpdate update;
    if (!d->supervisor->contains(id)) {
        update.result = CommandResult::fail(Error::NotFound, QStringLiteral("no instance '%1'").arg(id));
        return update;
    }
    const InstanceConfig current = d->supervisor->config(id);
    QVariantMap merged = current.options;
    for (auto it = changes.cbegin(); it != changes.cend(); ++it) {
        // The redacted secret the window and the API show means "unchanged".
        if (isSecretOption(it.key()) && it.value().toString() == u"***") {
            continue;
        }
        merged.insert(it.key(), it.value());
    }
    InstanceConfig config;
    QString error;
    if (!m_registry->makeConfig(id, current.type, merged, &config, &error)) {
        for (auto it = changes.cbegin(); it != changes.cend(); ++it) {
            if (error.contains(u'\'' + it.key() + u'\'') || error.startsWith(it.key())) {
                update.field = it.key();
                break;
            }
        }
        update.result = CommandResult::fail(Error::InvalidOption, error);
        return update;
    }
    QSet<QString> liveNames;
    for (const OptionSpec &spec : m_registry->optionSpecs(current.type)) {
        if (spec.live) {
            liveNames.insert(spec.name);
        }
    }
    QVariantMap live;
    for (auto it = config.options.cbegin(); it != config.options.cend(); ++it) {
        if (current.options.value(it.key()) == it.value()) {
            continue;
        }
        if (liveNames.contains(it.key())) {
            live.insert(it.key(), it.value());
            update.appliedLive.append(it.key());
        } else if (it.key() == options::kWebRoot || it.key() == options::kAnnounce) {
            update.appliedLive.append(it.key()); // the pages and the announcement, not the instance
        } else {
            update.needsRestart.append(it.key());
        }
    }
    update.result = d->supervisor->updateOptions(id, config.options, live);
    if (update.result.isOk()) {
        refreshSite(id);
    }
    return update;
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

CommandResult ServerController::kickClient(const QString &id, quint64 clientId, const QString &reason, int blockMinutes)
{
    if (blockMinutes < 0 || blockMinutes > kMaxBlockMinutes) {
        return CommandResult::fail(CommandResult::Error::InvalidOption,
                                   QStringLiteral("block_minutes must be a whole number from 0 to %1, not %2")
                                       .arg(kMaxBlockMinutes)
                                       .arg(blockMinutes));
    }
    return d->supervisor->kickClient(id, clientId, reason, blockMinutes);
}

QList<AddressBlocks::Block> ServerController::blockedAddresses(const QString &id) const
{
    return d->supervisor->blockedAddresses(id);
}

CommandResult ServerController::unblockAddress(const QString &id, const QString &address)
{
    return d->supervisor->unblockAddress(id, address);
}

void ServerController::setWallClock(WallClock clock)
{
    d->supervisor->setWallClock(std::move(clock));
}

CommandResult ServerController::broadcast(const QString &id, const QString &topic, const QString &event,
                                          const QJsonObject &payload)
{
    return d->supervisor->broadcast(id, topic, event, payload);
}

PlayerToken ServerController::signPlayerToken(const QByteArray &secret, const PlayerTokenRequest &request,
                                              const QString &audience, const QString &issuer, qint64 nowSeconds)
{
    using Error = CommandResult::Error;
    PlayerToken minted;
    const auto refuse = [&minted](const QString &field, const QString &message) {
        minted.result = CommandResult::fail(Error::InvalidArgument, message);
        minted.field = field;
        return minted;
    };
    if (secret.isEmpty()) {
        return refuse(QStringLiteral("secret"), QStringLiteral("the instance secret is empty"));
    }
    if (request.sub.trimmed().isEmpty()) {
        return refuse(QStringLiteral("sub"), QStringLiteral("'sub' is required (a non-empty string)"));
    }
    if (request.sub.size() > PlayerToken::kMaxSubjectLength) {
        return refuse(QStringLiteral("sub"),
                      QStringLiteral("'sub' is longer than %1 characters").arg(PlayerToken::kMaxSubjectLength));
    }
    if (request.name.size() > PlayerToken::kMaxNameLength) {
        return refuse(QStringLiteral("name"),
                      QStringLiteral("'name' is longer than %1 characters").arg(PlayerToken::kMaxNameLength));
    }
    if (request.topics.size() > PlayerToken::kMaxTopics) {
        return refuse(QStringLiteral("topics"),
                      QStringLiteral("more than %1 topic patterns").arg(PlayerToken::kMaxTopics));
    }
    for (const QString &topic : request.topics) {
        if (topic.trimmed().isEmpty() || topic.toUtf8().size() > PlayerToken::kMaxTopicLength) {
            return refuse(QStringLiteral("topics"),
                          QStringLiteral("each topic pattern must be 1-%1 bytes").arg(PlayerToken::kMaxTopicLength));
        }
    }
    if (request.ttlSeconds < 1 || request.ttlSeconds > PlayerToken::kMaxTtlSeconds) {
        return refuse(QStringLiteral("ttl"), QStringLiteral("the lifetime must be 1 to %1 seconds (30 days), not %2")
                                                 .arg(PlayerToken::kMaxTtlSeconds)
                                                 .arg(request.ttlSeconds));
    }
    QJsonObject claims{{QStringLiteral("sub"), request.sub},
                       {QStringLiteral("iat"), nowSeconds},
                       {QStringLiteral("exp"), nowSeconds + request.ttlSeconds}};
    if (!request.name.isEmpty()) {
        claims.insert(QStringLiteral("name"), request.name);
    }
    if (!request.topics.isEmpty()) {
        claims.insert(QStringLiteral("topics"), QJsonArray::fromStringList(request.topics));
    }
    if (!audience.isEmpty()) {
        claims.insert(QStringLiteral("aud"), audience);
    }
    if (!issuer.isEmpty()) {
        claims.insert(QStringLiteral("iss"), issuer);
    }
    QByteArray token = auth::signHs256(secret, claims);
    if (token.size() > auth::kMaxTokenBytes) {
        return refuse(QStringLiteral("topics"),
                      QStringLiteral("the token would be over 4 KiB (servers refuse it); use fewer or shorter topics"));
    }
    minted.token = std::move(token);
    minted.expiresAt = nowSeconds + request.ttlSeconds;
    return minted;
}

PlayerToken ServerController::mintPlayerToken(const QString &instanceId, const PlayerTokenRequest &request) const
{
    if (!d->supervisor->contains(instanceId)) {
        PlayerToken refused;
        refused.result =
            CommandResult::fail(CommandResult::Error::NotFound, QStringLiteral("no instance '%1'").arg(instanceId));
        return refused;
    }
    const InstanceConfig config = d->supervisor->config(instanceId);
    const QByteArray secret = config.stringOption(options::kJwtSecret).toUtf8();
    if (!canMintPlayerTokens(instanceId)) {
        PlayerToken refused;
        refused.result =
            CommandResult::fail(CommandResult::Error::NotJwtSecret,
                                QStringLiteral("instance '%1' does not use auth=jwt with jwt_secret").arg(instanceId));
        return refused;
    }
    return signPlayerToken(secret, request, config.stringOption(options::kJwtAudience),
                           config.stringOption(options::kJwtIssuer), QDateTime::currentSecsSinceEpoch());
}

bool ServerController::canMintPlayerTokens(const QString &instanceId) const
{
    if (!d->supervisor->contains(instanceId)) {
        return false;
    }
    const InstanceConfig config = d->supervisor->config(instanceId);
    return config.stringOption(options::kAuth) == u"jwt" && !config.stringOption(options::kJwtSecret).isEmpty();
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

void ServerController::joinCluster(const ClusterSettings &settings)
{
    d->cluster = std::make_shared<ClusterLink>(settings);
    d->supervisor->setCluster(d->cluster);
}

ClusterStatus ServerController::clusterStatus() const
{
    return d->cluster ? d->cluster->status() : ClusterStatus{};
}

ClusterClients ServerController::clusterClients(const QString &id) const
{
    return d->cluster ? clusterClients(d->cluster->status(), id, instance(id)) : ClusterClients{};
}

ClusterClients ServerController::clusterClients(const ClusterStatus &status, const QString &id,
                                                const InstanceInfo &info)
{
    ClusterClients clients;
    if (!status.enabled || !info.config.boolOption(options::kCluster)) {
        return clients;
    }
    clients.shared = true;
    clients.here = clients.cluster = info.stats.clients;
    for (const ClusterNode &node : status.nodes) {
        if (node.instances.contains(id)) {
            const int count = node.self ? clients.here : node.clients.value(id);
            clients.cluster += node.self ? 0 : count;
            clients.nodes.append({node.name, count});
        }
    }
    return clients;
}

void ServerController::setStore(std::shared_ptr<Store> store)
{
    d->store = store ? std::move(store) : Store::inMemory();
    d->supervisor->setStore(d->store);
}

std::shared_ptr<Store> ServerController::store() const
{
    return d->store;
}

CommandResult ServerController::history(const QString &id, const QString &topic, qint64 sinceMs, int limit,
                                        QList<StoredMessage> *messages) const
{
    if (!d->supervisor->contains(id)) {
        return CommandResult::fail(CommandResult::Error::NotFound, QStringLiteral("no instance '%1'").arg(id));
    }
    const qint64 ttlMs = d->supervisor->config(id).intOption(options::kHistoryTtlS) * 1000;
    *messages = d->store->history(id, topic, sinceMs, limit, QDateTime::currentMSecsSinceEpoch(), ttlMs);
    return CommandResult::ok();
}

QList<StoredTopic> ServerController::historyTopics(const QString &id) const
{
    return d->store->historyTopics(id);
}

CommandResult ServerController::clearHistory(const QString &id, const QString &topic, qint64 *removed)
{
    if (!d->supervisor->contains(id)) {
        return CommandResult::fail(CommandResult::Error::NotFound, QStringLiteral("no instance '%1'").arg(id));
    }
    const qint64 count = d->store->clearHistory(id, topic);
    if (removed) {
        *removed = count;
    }
    return CommandResult::ok();
}

QList<ConnectionEvent> ServerController::connectionLog() const
{
    return d->connectionLog;
}

quint64 ServerController::connectionEventsDropped() const
{
    return d->connectionDropped;
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
            if (!d->store->flush(3000)) {
                qWarning().noquote() << "the data store did not finish writing within 3 s";
            }
            emit shutdownComplete();
        },
        Qt::SingleShotConnection);
    d->supervisor->stopAll();
}

} // namespace wsserve
