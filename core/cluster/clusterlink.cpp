// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "clusterlink.h"

#include "clock.h"
#include "logging.h"
#include "redisqtadapter.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QSet>
#include <QThread>
#include <QTimer>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

namespace wsserve {

namespace {
// Instance ids are [A-Za-z0-9_-]: '!' keeps the control channel apart from every instance's.
const QByteArray kControlChannel = "wsserve!cluster";
const QByteArray kInstancePrefix = "wsserve:";
constexpr int kConnectTimeoutMs = 2000;
constexpr int kFirstBackoffMs = 250;
constexpr int kMaxBackoffMs = 5000;
constexpr int kSweepMs = 250;

QByteArray instanceChannel(const QString &id)
{
    return kInstancePrefix + id.toUtf8();
}
} // namespace

// Everything that touches hiredis, in the "cluster" thread.
class ClusterWorker final : public QObject
{
public:
    explicit ClusterWorker(ClusterLink &link)
        : m_link(link)
    {}
    ~ClusterWorker() override { teardown(); }

    void begin()
    {
        m_heartbeat = new QTimer(this);
        m_heartbeat->setInterval(ClusterLink::kHeartbeatMs);
        connect(m_heartbeat, &QTimer::timeout, this, [this] { sendHeartbeat(); });
        m_heartbeat->start();
        m_sweep = new QTimer(this);
        m_sweep->setInterval(kSweepMs);
        connect(m_sweep, &QTimer::timeout, this, [this] { sweepNodes(); });
        m_sweep->start();
        m_retry = new QTimer(this);
        m_retry->setSingleShot(true);
        connect(m_retry, &QTimer::timeout, this, [this] { connectNow(); });
        m_connectTimeout = new QTimer(this);
        m_connectTimeout->setSingleShot(true);
        connect(m_connectTimeout, &QTimer::timeout, this, [this] {
            if (!m_connected) {
                fail(QStringLiteral("no answer within %1 s").arg(kConnectTimeoutMs / 1000));
            }
        });
        m_clock.start();
        connectNow();
    }

    void publish(const QByteArray &channel, const QByteArray &message)
    {
        // Dropped, never queued for later, while disconnected or while Redis does not keep up.
        if (!m_connected || !m_pub || qsizetype(sdslen(m_pub->c.obuf)) > ClusterLink::kMaxPendingBytes) {
            QMutexLocker lock(&m_link.m_mutex);
            ++m_link.m_status.dropped;
            return;
        }
        redisAsyncCommand(m_pub, nullptr, nullptr, "PUBLISH %b %b", channel.constData(),
                          static_cast<size_t>(channel.size()), message.constData(),
                          static_cast<size_t>(message.size()));
        QMutexLocker lock(&m_link.m_mutex);
        ++m_link.m_status.messagesOut;
    }

    void subscribe(const QString &instanceId)
    {
        if (m_sub && !m_subscribed.contains(instanceId)) {
            m_subscribed.insert(instanceId);
            const QByteArray channel = instanceChannel(instanceId);
            redisAsyncCommand(m_sub, &ClusterWorker::onSubscription, nullptr, "SUBSCRIBE %b", channel.constData(),
                              static_cast<size_t>(channel.size()));
        }
    }

private:
    struct Node {
        QString boot;
        qint64 lastSeen = 0; // m_clock
        qint64 lastSeenWallMs = 0;
        QHash<QString, int> clients; // instance id -> clients there
    };

    static ClusterWorker *owner(const redisAsyncContext *context)
    {
        return static_cast<ClusterWorker *>(context->data);
    }

    redisAsyncContext *open(const char *what)
    {
        redisAsyncContext *context =
            redisAsyncConnect(m_link.m_settings.host.toUtf8().constData(), m_link.m_settings.port);
        if (!context) {
            return nullptr;
        }
        if (context->err) {
            fail(QStringLiteral("%1: %2").arg(QLatin1String(what), QString::fromUtf8(context->errstr)));
            redisAsyncFree(context);
            return nullptr;
        }
        context->data = this;
        RedisQtAdapter::attach(context);
        redisAsyncSetConnectCallback(context, &ClusterWorker::onConnect);
        redisAsyncSetDisconnectCallback(context, &ClusterWorker::onDisconnect);
        if (const QByteArray password = m_link.m_settings.password.toUtf8(); !password.isEmpty()) {
            redisAsyncCommand(context, &ClusterWorker::onAuth, nullptr, "AUTH %b", password.constData(),
                              static_cast<size_t>(password.size()));
        }
        return context;
    }

    void connectNow()
    {
        teardown();
        m_failed = false;
        m_connectTimeout->start(kConnectTimeoutMs);
        m_pub = open("commands");
        if (!m_pub) {
            return;
        }
        redisAsyncCommand(m_pub, &ClusterWorker::onAuth, nullptr, "SELECT %d", m_link.m_settings.db);
        m_sub = open("subscription");
        if (!m_sub) {
            return;
        }
        redisAsyncCommand(m_sub, &ClusterWorker::onSubscription, nullptr, "SUBSCRIBE %b", kControlChannel.constData(),
                          static_cast<size_t>(kControlChannel.size()));
        for (const QString &id : m_link.attachedIds()) {
            subscribe(id);
        }
    }

    // Frees what is still ours; contexts hiredis is freeing itself were forgotten already.
    void teardown()
    {
        m_connected = false;
        m_pubUp = false;
        m_controlSubscribed = false;
        m_subscribed.clear();
        for (redisAsyncContext **context : {&m_pub, &m_sub}) {
            if (redisAsyncContext *c = std::exchange(*context, nullptr)) {
                c->data = nullptr; // its callbacks, run while freeing, ignore it
                redisAsyncFree(c);
            }
        }
    }

    void forget(const redisAsyncContext *context)
    {
        if (context == m_pub) {
            m_pub = nullptr;
        }
        if (context == m_sub) {
            m_sub = nullptr;
        }
    }

    // Deferred: hiredis may be inside a callback of the context being dropped.
    void fail(const QString &reason)
    {
        if (m_failed) {
            return;
        }
        m_failed = true;
        QMetaObject::invokeMethod(
            this,
            [this, reason] {
                const bool wasConnected = m_connected;
                teardown();
                m_connectTimeout->stop();
                {
                    QMutexLocker lock(&m_link.m_mutex);
                    ClusterStatus &status = m_link.m_status;
                    status.connected = false;
                    status.lastError = reason;
                    if (status.disconnectedSinceMs == 0) {
                        status.disconnectedSinceMs = wsserve::nowMs();
                    }
                }
                if (wasConnected || !m_loggedDown) {
                    qCWarning(lcCore).noquote()
                        << "cluster: disconnected from" << m_link.m_settings.url() << "-" << reason
                        << "- local delivery continues; retrying in" << m_backoffMs << "ms";
                    m_loggedDown = true;
                }
                m_retry->start(m_backoffMs);
                m_backoffMs = std::min(m_backoffMs * 2, kMaxBackoffMs);
            },
            Qt::QueuedConnection);
    }

    void checkUp()
    {
        if (m_connected || !m_pubUp || !m_controlSubscribed) {
            return;
        }
        m_connected = true;
        m_connectTimeout->stop();
        m_backoffMs = kFirstBackoffMs;
        {
            QMutexLocker lock(&m_link.m_mutex);
            ClusterStatus &status = m_link.m_status;
            status.connected = true;
            status.lastError.clear();
            status.disconnectedSinceMs = 0;
            if (m_everConnected) {
                ++status.reconnects;
            }
        }
        qCInfo(lcCore).noquote() << "cluster:" << (m_everConnected ? "reconnected to" : "connected to")
                                 << m_link.m_settings.url() << "as node" << m_link.m_settings.nodeName;
        m_everConnected = true;
        m_loggedDown = false;
        sendHeartbeat();
        // Whatever the others missed of ours while we were away: every instance publishes its state.
        m_link.dispatchAll([](const ClusterLink::Member &member) { member.resync(); });
    }

    static void onConnect(const redisAsyncContext *context, int status)
    {
        ClusterWorker *self = owner(context);
        if (!self) {
            return;
        }
        if (status != REDIS_OK) {
            self->forget(context); // hiredis frees it after this callback
            self->fail(QString::fromUtf8(context->errstr));
            return;
        }
        if (context == self->m_pub) {
            self->m_pubUp = true;
            self->checkUp();
        }
    }

    static void onDisconnect(const redisAsyncContext *context, int)
    {
        ClusterWorker *self = owner(context);
        if (!self) {
            return;
        }
        self->forget(context);
        self->fail(context->err ? QString::fromUtf8(context->errstr) : QStringLiteral("connection closed"));
    }

    static void onAuth(redisAsyncContext *context, void *r, void *)
    {
        auto *reply = static_cast<redisReply *>(r);
        ClusterWorker *self = owner(context);
        if (!self || !reply || reply->type != REDIS_REPLY_ERROR) {
            return;
        }
        self->fail(
            QStringLiteral("Redis refused: %1").arg(QString::fromUtf8(reply->str, static_cast<qsizetype>(reply->len))));
    }

    static void onHeartbeatPublished(redisAsyncContext *context, void *r, void *)
    {
        ClusterWorker *self = owner(context);
        if (!self || !r) {
            return;
        }
        QMutexLocker lock(&self->m_link.m_mutex);
        self->m_link.m_status.roundTripMs = static_cast<double>(self->m_roundTrip.nsecsElapsed()) / 1e6;
    }

    static void onSubscription(redisAsyncContext *context, void *r, void *)
    {
        auto *reply = static_cast<redisReply *>(r);
        ClusterWorker *self = owner(context);
        if (!self || !reply) {
            return;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            self->fail(QStringLiteral("Redis refused: %1")
                           .arg(QString::fromUtf8(reply->str, static_cast<qsizetype>(reply->len))));
            return;
        }
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 || reply->element[0]->type != REDIS_REPLY_STRING ||
            reply->element[1]->type != REDIS_REPLY_STRING) {
            return;
        }
        const QByteArray kind(reply->element[0]->str, static_cast<qsizetype>(reply->element[0]->len));
        const QByteArray channel(reply->element[1]->str, static_cast<qsizetype>(reply->element[1]->len));
        if (kind == "subscribe") {
            self->subscribed(channel);
        } else if (kind == "message" && reply->element[2]->type == REDIS_REPLY_STRING) {
            self->received(channel, QByteArray(reply->element[2]->str, static_cast<qsizetype>(reply->element[2]->len)));
        }
    }

    void subscribed(const QByteArray &channel)
    {
        if (channel == kControlChannel) {
            m_controlSubscribed = true;
            checkUp();
            return;
        }
        // Listening now: ask the other nodes for the state of this instance (answers come on its channel).
        if (channel.startsWith(kInstancePrefix)) {
            const QJsonObject want{
                {QStringLiteral("t"), QStringLiteral("want")},
                {QStringLiteral("instance"), QString::fromUtf8(channel.mid(kInstancePrefix.size()))}};
            publish(kControlChannel, m_link.m_origin + QJsonDocument(want).toJson(QJsonDocument::Compact));
        }
    }

    void received(const QByteArray &channel, const QByteArray &message)
    {
        const qsizetype newline = message.indexOf('\n');
        if (newline < 0 || message.startsWith(m_link.m_origin)) {
            return; // malformed, or our own
        }
        const QByteArray head = message.left(newline);
        const qsizetype tab = head.indexOf('\t');
        const QString node = QString::fromUtf8(tab < 0 ? head : head.left(tab));
        const QString boot = tab < 0 ? QString() : QString::fromUtf8(head.mid(tab + 1));
        const QByteArray body = message.mid(newline + 1);
        if (channel == kControlChannel) {
            const QJsonObject object = QJsonDocument::fromJson(body).object();
            const QString type = object.value(QStringLiteral("t")).toString();
            if (type == u"hb") {
                QHash<QString, int> clients;
                const QJsonObject instances = object.value(QStringLiteral("instances")).toObject();
                for (auto it = instances.constBegin(); it != instances.constEnd(); ++it) {
                    clients.insert(it.key(), it.value().toInt());
                }
                heardFrom(node, boot, clients);
            } else if (type == u"want") {
                m_link.dispatch(object.value(QStringLiteral("instance")).toString(),
                                [](const ClusterLink::Member &member) { member.resync(); });
            }
            return;
        }
        if (!channel.startsWith(kInstancePrefix)) {
            return;
        }
        {
            QMutexLocker lock(&m_link.m_mutex);
            ++m_link.m_status.messagesIn;
        }
        m_link.dispatch(QString::fromUtf8(channel.mid(kInstancePrefix.size())),
                        [node, body](const ClusterLink::Member &member) { member.deliver(node, body); });
    }

    void heardFrom(const QString &name, const QString &boot, const QHash<QString, int> &clients)
    {
        if (name == m_link.m_settings.nodeName) { // another process under our name: its messages pass as ours
            if (!m_warnedNameClash) {
                qCWarning(lcCore).noquote()
                    << "cluster: another node also calls itself" << name << "- give every node its own --node-name";
                m_warnedNameClash = true;
            }
            return;
        }
        auto node = m_nodes.find(name);
        if (node != m_nodes.end() && node->boot != boot) {
            qCInfo(lcCore).noquote() << "cluster: node" << name << "restarted; forgetting its old members";
            m_link.dispatchAll([name](const ClusterLink::Member &member) { member.nodeGone(name); });
        } else if (node == m_nodes.end()) {
            qCInfo(lcCore).noquote() << "cluster: node" << name << "joined";
        }
        m_nodes.insert(name, Node{boot, m_clock.elapsed(), wsserve::nowMs(), clients});
        publishNodes();
    }

    void sweepNodes()
    {
        const qint64 bound = qint64(ClusterLink::kMissedHeartbeats) * ClusterLink::kHeartbeatMs;
        bool changed = false;
        for (auto node = m_nodes.begin(); node != m_nodes.end();) {
            if (m_clock.elapsed() - node->lastSeen <= bound) {
                ++node;
                continue;
            }
            const QString name = node.key();
            qCWarning(lcCore).noquote() << "cluster: node" << name << "left (no heartbeat for"
                                        << ClusterLink::kMissedHeartbeats << "s); its members leave presence";
            m_link.dispatchAll([name](const ClusterLink::Member &member) { member.nodeGone(name); });
            node = m_nodes.erase(node);
            changed = true;
        }
        if (changed) {
            publishNodes();
        }
    }

    void publishNodes()
    {
        const auto sorted = [](const QHash<QString, int> &clients) {
            QStringList ids = clients.keys();
            ids.sort();
            return ids;
        };
        QList<ClusterNode> nodes;
        const QHash<QString, int> own = localClients();
        nodes.append(ClusterNode{m_link.m_settings.nodeName, true, wsserve::nowMs(), sorted(own), own});
        QStringList names = m_nodes.keys();
        names.sort();
        for (const QString &name : std::as_const(names)) {
            const Node &node = m_nodes[name];
            nodes.append(ClusterNode{name, false, node.lastSeenWallMs, sorted(node.clients), node.clients});
        }
        QMutexLocker lock(&m_link.m_mutex);
        m_link.m_status.nodes = nodes;
    }

    // Attached instances with their clients here.
    QHash<QString, int> localClients() const
    {
        QHash<QString, int> clients;
        const QStringList ids = m_link.attachedIds();
        QMutexLocker lock(&m_link.m_mutex);
        for (const QString &id : ids) {
            clients.insert(id, m_link.m_clients.value(id));
        }
        return clients;
    }

    void sendHeartbeat()
    {
        publishNodes();
        if (!m_connected || !m_pub) {
            return;
        }
        QJsonObject instances;
        const QHash<QString, int> own = localClients();
        for (auto it = own.cbegin(); it != own.cend(); ++it) {
            instances.insert(it.key(), it.value());
        }
        const QByteArray body = QJsonDocument(QJsonObject{{QStringLiteral("t"), QStringLiteral("hb")},
                                                          {QStringLiteral("instances"), instances}})
                                    .toJson(QJsonDocument::Compact);
        const QByteArray message = m_link.m_origin + body;
        m_roundTrip.start();
        redisAsyncCommand(m_pub, &ClusterWorker::onHeartbeatPublished, nullptr, "PUBLISH %b %b",
                          kControlChannel.constData(), static_cast<size_t>(kControlChannel.size()), message.constData(),
                          static_cast<size_t>(message.size()));
    }

    ClusterLink &m_link;
    redisAsyncContext *m_pub = nullptr;
    redisAsyncContext *m_sub = nullptr;
    bool m_pubUp = false;
    bool m_controlSubscribed = false;
    bool m_connected = false;
    bool m_everConnected = false;
    bool m_failed = false;
    bool m_loggedDown = false;
    bool m_warnedNameClash = false;
    int m_backoffMs = kFirstBackoffMs;
    QSet<QString> m_subscribed;
    QHash<QString, Node> m_nodes;
    QElapsedTimer m_clock;
    QElapsedTimer m_roundTrip;
    QTimer *m_heartbeat = nullptr;
    QTimer *m_sweep = nullptr;
    QTimer *m_retry = nullptr;
    QTimer *m_connectTimeout = nullptr;
};

ClusterLink::ClusterLink(ClusterSettings settings)
    : m_settings(std::move(settings))
{
    const QString boot = QString::number(QRandomGenerator::system()->generate64(), 36);
    m_origin = m_settings.nodeName.toUtf8() + '\t' + boot.toUtf8() + '\n';
    m_status.enabled = true;
    m_status.url = m_settings.url();
    m_status.node = m_settings.nodeName;
    m_status.lastError = QStringLiteral("connecting");
    m_status.disconnectedSinceMs = wsserve::nowMs();
    m_thread = new QThread;
    m_thread->setObjectName(QStringLiteral("cluster"));
    m_worker = new ClusterWorker(*this);
    m_worker->moveToThread(m_thread);
    m_thread->start();
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker] { worker->begin(); }, Qt::QueuedConnection);
}

ClusterLink::~ClusterLink()
{
    QMetaObject::invokeMethod(
        m_worker,
        [worker = m_worker] {
            delete worker;
            QThread::currentThread()->quit();
        },
        Qt::QueuedConnection);
    m_thread->wait();
    delete m_thread;
}

void ClusterLink::attach(const QString &instanceId, Member member)
{
    {
        QMutexLocker lock(&m_mutex);
        m_members.insert(instanceId, std::move(member));
    }
    QMetaObject::invokeMethod(
        m_worker, [worker = m_worker, instanceId] { worker->subscribe(instanceId); }, Qt::QueuedConnection);
}

void ClusterLink::detach(const QString &instanceId, const QObject *context)
{
    QMutexLocker lock(&m_mutex);
    if (const auto member = m_members.constFind(instanceId);
        member != m_members.cend() && member->context.data() == context) {
        m_members.erase(member);
    }
}

void ClusterLink::publish(const QString &instanceId, const QByteArray &message)
{
    QMetaObject::invokeMethod(
        m_worker,
        [worker = m_worker, channel = instanceChannel(instanceId), message] { worker->publish(channel, message); },
        Qt::QueuedConnection);
}

void ClusterLink::setClients(const QString &instanceId, int clients)
{
    QMutexLocker lock(&m_mutex);
    m_clients.insert(instanceId, clients);
}

ClusterStatus ClusterLink::status() const
{
    QMutexLocker lock(&m_mutex);
    ClusterStatus status = m_status;
    if (!status.nodes.isEmpty()) {
        status.nodes.first().lastSeenMs = wsserve::nowMs();
    }
    return status;
}

void ClusterLink::dispatch(const QString &instanceId, const std::function<void(const Member &)> &call)
{
    QMutexLocker lock(&m_mutex);
    const auto member = m_members.constFind(instanceId);
    if (member == m_members.cend() || !member->context) {
        return;
    }
    // Posted while the lock is held: detach() (in the instance's thread, before it is deleted) waits for
    // it, and Qt drops events posted to an object that is deleted before they run.
    QMetaObject::invokeMethod(
        member->context.data(), [call, copy = *member] { call(copy); }, Qt::QueuedConnection);
}

void ClusterLink::dispatchAll(const std::function<void(const Member &)> &call)
{
    for (const QString &id : attachedIds()) {
        dispatch(id, call);
    }
}

QStringList ClusterLink::attachedIds() const
{
    QMutexLocker lock(&m_mutex);
    QStringList ids = m_members.keys();
    ids.sort();
    return ids;
}

} // namespace wsserve
