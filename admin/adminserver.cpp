// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "adminserver.h"

#include "admingate.h"
#include "adminreply.h"
#include "admintls.h"
#include "clock.h"
#include "net/acceptguard.h"
#include "servercontroller.h"

#include <QDateTime>
#include <QFile>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>
#include <cmath>

using namespace Qt::StringLiterals;

namespace wsserve {

namespace {

QString methodName(QHttpServerRequest::Method method)
{
    switch (method) {
    case QHttpServerRequest::Method::Get:
        return u"GET"_s;
    case QHttpServerRequest::Method::Post:
        return u"POST"_s;
    case QHttpServerRequest::Method::Delete:
        return u"DELETE"_s;
    case QHttpServerRequest::Method::Put:
        return u"PUT"_s;
    case QHttpServerRequest::Method::Patch:
        return u"PATCH"_s;
    case QHttpServerRequest::Method::Head:
        return u"HEAD"_s;
    case QHttpServerRequest::Method::Options:
        return u"OPTIONS"_s;
    default:
        return u"other"_s;
    }
}

// Parses a JSON object body; on failure fills `reply` with a 400 naming the parse error position.
bool parseBody(const QHttpServerRequest &request, QJsonObject *object, QString *error)
{
    const QByteArray body = request.body();
    if (body.trimmed().isEmpty()) {
        *object = {};
        return true;
    }
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(body, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = u"malformed JSON at offset %1: %2"_s.arg(parseError.offset).arg(parseError.errorString());
        return false;
    }
    if (!document.isObject()) {
        *error = u"the body must be a JSON object"_s;
        return false;
    }
    *object = document.object();
    return true;
}

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    // Runs over the longer input whatever the contents, so timing reveals at most the length.
    const qsizetype length = std::max(a.size(), b.size());
    unsigned char difference = a.size() == b.size() ? 0 : 1;
    for (qsizetype i = 0; i < length; ++i) {
        const auto x = static_cast<unsigned char>(i < a.size() ? a.at(i) : 0);
        const auto y = static_cast<unsigned char>(i < b.size() ? b.at(i) : 0);
        difference |= static_cast<unsigned char>(x ^ y);
    }
    return difference == 0;
}

QString optionKindName(OptionSpec::Kind kind)
{
    switch (kind) {
    case OptionSpec::Kind::Bool:
        return u"bool"_s;
    case OptionSpec::Kind::Int:
        return u"int"_s;
    case OptionSpec::Kind::String:
        return u"string"_s;
    case OptionSpec::Kind::Invalid:
        break;
    }
    return u"invalid"_s;
}

QJsonObject clientJson(const ClientInfo &client)
{
    return QJsonObject{
        {u"id"_s, QString::number(client.id)},
        {u"name"_s, client.name.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(client.name)},
        {u"remote_address"_s, client.remoteAddress},
        {u"connected_at"_s, QDateTime::fromMSecsSinceEpoch(client.connectedAtMs).toUTC().toString(Qt::ISODateWithMs)},
        {u"wire_format"_s, wireFormatName(client.format)},
        {u"transport"_s, client.longPoll ? u"longpoll"_s : u"websocket"_s},
        {u"topics"_s, QJsonArray::fromStringList(client.topics)},
        {u"messages_in"_s, static_cast<qint64>(client.messagesIn)},
        {u"messages_out"_s, static_cast<qint64>(client.messagesOut)},
        {u"bytes_in"_s, static_cast<qint64>(client.bytesIn)},
        {u"bytes_out"_s, static_cast<qint64>(client.bytesOut)},
    };
}

} // namespace

AdminServer::AdminServer(ServerController &controller, QString token, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_controller(controller)
    , m_token(std::move(token))
    , m_headTimeout(AdminListener::kHeadTimeout)
    , m_idleTimeout(AdminListener::kIdleTimeout)
{}

AdminServer::~AdminServer() = default;

bool AdminServer::isLoopback(const QHostAddress &address)
{
    return address.isLoopback();
}

bool AdminServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    if (!isLoopback(address) && m_token.isEmpty()) {
        *error = u"the admin API on %1 is reachable from other machines; set --admin-token (or \"admin_token\" "
                 "in the config file), or bind it to 127.0.0.1"_s.arg(address.toString());
        return false;
    }
    auto *listener =
        new AdminListener(this, AdminHostPolicy{address, 0, m_allowedHosts, m_tls != nullptr}, kMaxBodyBytes, this);
    listener->setTimeouts(m_headTimeout, m_idleTimeout);
    if (m_tls) {
        listener->setTls(m_tls->configuration);
    }
    if (!listener->listen(address, port)) {
        *error = u"cannot listen for the admin API on %1:%2: %3"_s.arg(address.toString())
                     .arg(port)
                     .arg(listener->serverError() == QAbstractSocket::AddressInUseError ? u"address already in use"_s
                                                                                        : listener->errorString());
        delete listener;
        return false;
    }
    listener->setPort(listener->serverPort());
    m_listener = listener;
    bind(listener);
    // Accepting survives descriptor exhaustion (Qt's own loop does not; see net/acceptguard.h).
    auto *acceptor = new net::AcceptGuard(listener, u"the admin API"_s, std::make_shared<net::ListenerHealth>(),
                                          [listener](qintptr fd) { listener->takeConnection(fd); });
    acceptor->start();
    return true;
}

void AdminServer::setTimeouts(std::chrono::milliseconds head, std::chrono::milliseconds idle)
{
    m_headTimeout = head;
    m_idleTimeout = idle;
    if (m_listener) {
        m_listener->setTimeouts(head, idle);
    }
}

quint16 AdminServer::port() const
{
    return m_listener ? m_listener->serverPort() : 0;
}

bool AdminServer::authorized(const QHttpServerRequest &request) const
{
    if (m_token.isEmpty()) {
        return true;
    }
    const QByteArray header = request.value("Authorization");
    const QByteArray expected = "Bearer " + m_token.toUtf8();
    return constantTimeEquals(header.trimmed(), expected);
}

bool AdminServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    Reply reply;
    if (!authorized(request)) {
        reply = Reply::error(Status::Unauthorized, u"missing or wrong bearer token"_s);
        reply.headers.append(std::pair<QByteArray, QByteArray>("WWW-Authenticate", "Bearer realm=\"wsserve\""));
    } else if (request.body().size() > kMaxBodyBytes) {
        reply = Reply::error(Status::PayloadTooLarge, u"request body over %1 bytes"_s.arg(kMaxBodyBytes));
    } else {
        reply = dispatch(request);
    }
    QHttpServerResponder responder = makeResponder(request, socket);
    responder.writeStatusLine(reply.status);
    responder.writeHeader("Content-Type", reply.contentType);
    responder.writeHeader("Content-Length", QByteArray::number(reply.body.size()));
    for (const auto &[name, value] : std::as_const(reply.headers)) {
        responder.writeHeader(name, value);
    }
    responder.writeBody(reply.body);
    return true;
}

void AdminServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    // Not reached: handleRequest answers everything, unknown routes included.
    makeResponder(request, socket).write(Status::NotFound);
}

AdminServer::Reply AdminServer::dispatch(const QHttpServerRequest &request)
{
    const QString path = request.url().path();
    const auto method = request.method();
    const auto onlyGet = [&](const std::function<Reply()> &handler) {
        if (method != QHttpServerRequest::Method::Get) {
            Reply reply =
                Reply::error(Status::MethodNotAllowed, u"%1 is not allowed here; use GET"_s.arg(methodName(method)));
            reply.headers.append(std::pair<QByteArray, QByteArray>("Allow", "GET"));
            return reply;
        }
        return handler();
    };
    if (path == u"/healthz") {
        return onlyGet([this] { return health(); });
    }
    if (path == u"/metrics") {
        return onlyGet([this] { return Reply{Status::Ok, metrics(), "text/plain; version=0.0.4; charset=utf-8", {}}; });
    }
    if (path == u"/api/cluster") {
        return onlyGet([this] { return Reply::json(clusterJson()); });
    }
    if (path == u"/api/types") {
        return onlyGet([this] {
            QJsonArray types;
            for (const BehaviourType &type : m_controller.registry().types()) {
                QJsonArray options;
                for (const OptionSpec &spec : m_controller.registry().optionSpecs(type.name)) {
                    QJsonObject option{{u"name"_s, spec.name},
                                       {u"type"_s, optionKindName(spec.kind)},
                                       {u"default"_s, QJsonValue::fromVariant(spec.defaultValue)},
                                       {u"description"_s, spec.description}};
                    if (spec.kind == OptionSpec::Kind::Int) {
                        option.insert(u"minimum"_s, spec.minimum);
                        option.insert(u"maximum"_s, spec.maximum);
                    }
                    options.append(option);
                }
                const bool script = type.source == BehaviourType::Source::Script;
                QJsonObject entry{{u"name"_s, type.name},
                                  {u"description"_s, type.description},
                                  {u"options"_s, options},
                                  {u"source"_s, script ? u"script"_s : u"builtin"_s},
                                  // false: the file never loaded; true with an error: the last version that did
                                  {u"loaded"_s, bool(type.create)}};
                if (script) {
                    entry.insert(u"path"_s, type.path);
                }
                if (!type.error.isEmpty()) {
                    entry.insert(u"error"_s, type.error);
                }
                types.append(entry);
            }
            return Reply::json(types);
        });
    }
    if (path == u"/api/instances" || path.startsWith(u"/api/instances/")) {
        QStringList segments = path.mid(QStringLiteral("/api/instances").size()).split(u'/', Qt::SkipEmptyParts);
        return instancesRoute(request, segments);
    }
    return Reply::error(Status::NotFound, u"no route %1"_s.arg(path));
}

AdminServer::Reply AdminServer::instancesRoute(const QHttpServerRequest &request, const QStringList &segments)
{
    using Method = QHttpServerRequest::Method;
    const Method method = request.method();
    const auto notAllowed = [&](const QByteArray &allow) {
        Reply reply =
            Reply::error(Status::MethodNotAllowed,
                         u"%1 is not allowed here; use %2"_s.arg(methodName(method), QString::fromLatin1(allow)));
        reply.headers.append(std::pair<QByteArray, QByteArray>("Allow", allow));
        return reply;
    };
    if (segments.isEmpty()) {
        if (method == Method::Get) {
            QJsonArray list;
            for (const QString &id : m_controller.instanceIds()) {
                list.append(instanceJson(id));
            }
            return Reply::json(list);
        }
        if (method == Method::Post) {
            return createInstance(request);
        }
        return notAllowed("GET, POST");
    }
    const QString id = segments.at(0);
    // Reads of an unknown id are 404 here; commands are validated by the facade, whose refusal is mapped.
    const auto unknown = [&] {
        return Reply::error(Status::NotFound, u"no instance '%1'"_s.arg(id));
    };
    if (segments.size() == 1) {
        if (method == Method::Get) {
            return m_controller.instanceIds().contains(id) ? Reply::json(instanceJson(id)) : unknown();
        }
        if (method == Method::Delete) {
            if (const CommandResult result = m_controller.removeInstance(id); !result) {
                return Reply::refused(result);
            }
            return Reply::json(QJsonObject{{u"id"_s, id}, {u"removed"_s, true}});
        }
        if (method == Method::Patch) {
            return updateInstance(id, request);
        }
        return notAllowed("GET, PATCH, DELETE");
    }
    const QString action = segments.at(1);
    if (segments.size() == 2 && (action == u"start" || action == u"stop" || action == u"restart")) {
        if (method != Method::Post) {
            return notAllowed("POST");
        }
        const CommandResult result = action == u"start"  ? m_controller.startInstance(id)
                                     : action == u"stop" ? m_controller.stopInstance(id)
                                                         : m_controller.restartInstance(id);
        if (!result) {
            return Reply::refused(result);
        }
        return Reply::json(instanceJson(id));
    }
    if (segments.size() == 2 && action == u"broadcast") {
        if (method != Method::Post) {
            return notAllowed("POST");
        }
        return broadcast(id, request);
    }
    if (segments.size() == 2 && action == u"tokens") {
        if (method != Method::Post) {
            return notAllowed("POST");
        }
        return mintToken(id, request);
    }
    if (segments.size() == 2 && action == u"history") {
        return history(id, request);
    }
    if (action == u"clients" && segments.size() == 2) {
        if (method != Method::Get) {
            return notAllowed("GET");
        }
        if (!m_controller.instanceIds().contains(id)) {
            return unknown();
        }
        QJsonArray list;
        for (const ClientInfo &client : m_controller.clients(id)) {
            list.append(clientJson(client));
        }
        return Reply::json(list);
    }
    if (action == u"clients" && segments.size() == 3) {
        return kick(id, segments.at(2), request);
    }
    if (action == u"blocks" && segments.size() <= 3) {
        return blocks(id, segments.mid(2), request);
    }
    return Reply::error(Status::NotFound, u"no route %1"_s.arg(request.url().path()));
}

AdminServer::Reply AdminServer::createInstance(const QHttpServerRequest &request)
{
    QJsonObject body;
    QString error;
    if (!parseBody(request, &body, &error)) {
        return Reply::error(Status::BadRequest, error);
    }
    static const QStringList allowed{u"id"_s, u"type"_s, u"options"_s, u"start"_s};
    for (auto it = body.begin(); it != body.end(); ++it) {
        if (!allowed.contains(it.key())) {
            return Reply::error(Status::BadRequest, u"unknown field '%1'"_s.arg(it.key()), it.key());
        }
    }
    if (!body.value(u"id").isString()) {
        return Reply::error(Status::BadRequest, u"'id' must be a string"_s, u"id"_s);
    }
    if (!body.value(u"type").isString()) {
        return Reply::error(Status::BadRequest, u"'type' must be a string"_s, u"type"_s);
    }
    if (body.contains(u"options") && !body.value(u"options").isObject()) {
        return Reply::error(Status::BadRequest, u"'options' must be an object"_s, u"options"_s);
    }
    if (body.contains(u"start") && !body.value(u"start").isBool()) {
        return Reply::error(Status::BadRequest, u"'start' must be true or false"_s, u"start"_s);
    }
    const QString id = body.value(u"id").toString();
    if (const CommandResult result = m_controller.createInstance(id, body.value(u"type").toString(),
                                                                 body.value(u"options").toObject().toVariantMap(),
                                                                 body.value(u"start").toBool(true));
        !result) {
        return Reply::refused(result);
    }
    return Reply::json(instanceJson(id), Status::Created);
}

AdminServer::Reply AdminServer::updateInstance(const QString &id, const QHttpServerRequest &request)
{
    if (!m_controller.instanceIds().contains(id)) {
        return Reply::error(Status::NotFound, u"no instance '%1'"_s.arg(id));
    }
    QJsonObject body;
    QString error;
    if (!parseBody(request, &body, &error)) {
        return Reply::error(Status::BadRequest, error);
    }
    for (auto it = body.begin(); it != body.end(); ++it) {
        if (it.key() != u"options") {
            return Reply::error(Status::BadRequest, u"unknown field '%1'; only 'options' can change"_s.arg(it.key()),
                                it.key());
        }
    }
    if (!body.value(u"options").isObject()) {
        return Reply::error(Status::BadRequest, u"'options' must be an object"_s, u"options"_s);
    }
    const OptionsUpdate update =
        m_controller.updateInstanceOptions(id, body.value(u"options").toObject().toVariantMap());
    if (!update.isOk()) {
        if (update.result.error == CommandResult::Error::InvalidOption) {
            return Reply::error(Status::BadRequest, update.result.message,
                                update.field.isEmpty() ? u"options"_s : u"options.%1"_s.arg(update.field));
        }
        return Reply::refused(update.result);
    }
    QJsonObject reply = instanceJson(id);
    reply.insert(u"applied_live"_s, QJsonArray::fromStringList(update.appliedLive));
    reply.insert(u"needs_restart"_s, QJsonArray::fromStringList(update.needsRestart));
    return Reply::json(reply);
}

AdminServer::Reply AdminServer::broadcast(const QString &id, const QHttpServerRequest &request)
{
    QJsonObject body;
    QString error;
    if (!parseBody(request, &body, &error)) {
        return Reply::error(Status::BadRequest, error);
    }
    if (!body.value(u"topic").isString() || body.value(u"topic").toString().isEmpty()) {
        return Reply::error(Status::BadRequest, u"'topic' must be a non-empty string"_s, u"topic"_s);
    }
    if (!body.value(u"event").isString() || body.value(u"event").toString().isEmpty()) {
        return Reply::error(Status::BadRequest, u"'event' must be a non-empty string"_s, u"event"_s);
    }
    if (body.contains(u"payload") && !body.value(u"payload").isObject()) {
        return Reply::error(Status::BadRequest, u"'payload' must be an object"_s, u"payload"_s);
    }
    if (const CommandResult result = m_controller.broadcast(
            id, body.value(u"topic").toString(), body.value(u"event").toString(), body.value(u"payload").toObject());
        !result) {
        return Reply::refused(result);
    }
    return Reply::json(QJsonObject{{u"broadcast"_s, true}}, Status::Accepted);
}

AdminServer::Reply AdminServer::mintToken(const QString &id, const QHttpServerRequest &request)
{
    QJsonObject body;
    QString error;
    if (!parseBody(request, &body, &error)) {
        return Reply::error(Status::BadRequest, error);
    }
    static const QStringList allowed{u"sub"_s, u"name"_s, u"topics"_s, u"ttl_s"_s};
    for (auto it = body.begin(); it != body.end(); ++it) {
        if (!allowed.contains(it.key())) {
            return Reply::error(Status::BadRequest, u"unknown field '%1'"_s.arg(it.key()), it.key());
        }
    }
    if (!body.value(u"sub").isString()) {
        return Reply::error(Status::BadRequest, u"'sub' must be a non-empty string"_s, u"sub"_s);
    }
    if (body.contains(u"name") && !body.value(u"name").isString()) {
        return Reply::error(Status::BadRequest, u"'name' must be a string"_s, u"name"_s);
    }
    PlayerTokenRequest wanted;
    wanted.sub = body.value(u"sub").toString();
    wanted.name = body.value(u"name").toString();
    if (body.contains(u"topics")) {
        const QJsonValue topics = body.value(u"topics");
        const QJsonArray list = topics.toArray();
        if (!topics.isArray() ||
            !std::all_of(list.begin(), list.end(), [](const QJsonValue &v) { return v.isString(); })) {
            return Reply::error(Status::BadRequest, u"'topics' must be an array of strings"_s, u"topics"_s);
        }
        for (const QJsonValue &topic : list) {
            wanted.topics.append(topic.toString());
        }
    }
    if (body.contains(u"ttl_s")) {
        const QJsonValue ttl = body.value(u"ttl_s");
        const double seconds = ttl.toDouble();
        if (!ttl.isDouble() || seconds != std::floor(seconds)) {
            return Reply::error(Status::BadRequest, u"'ttl_s' must be a whole number of seconds"_s, u"ttl_s"_s);
        }
        // Out of range values are refused by the facade; clamp only so the conversion is defined.
        wanted.ttlSeconds = static_cast<qint64>(std::clamp(seconds, -1.0, 1e15));
    }
    const PlayerToken minted = m_controller.mintPlayerToken(id, wanted);
    if (!minted.isOk()) {
        Reply reply = Reply::refused(minted.result);
        if (minted.result.error == CommandResult::Error::InvalidArgument) {
            reply = Reply::error(Status::BadRequest, minted.result.message,
                                 minted.field == u"ttl" ? u"ttl_s"_s : minted.field);
        }
        return reply;
    }
    // Never logged: the token opens the instance for whoever holds it.
    return Reply::json(
        QJsonObject{{u"token"_s, QString::fromLatin1(minted.token)}, {u"expires_at"_s, minted.expiresAt}},
        Status::Created);
}

AdminServer::Reply AdminServer::health() const
{
    if (!m_controller.isListening()) {
        return Reply::json(QJsonObject{{u"status"_s, u"failing"_s}, {u"reason"_s, u"not listening"_s}},
                           Status::ServiceUnavailable);
    }
    if (const ListenerStatus listener = m_controller.listenerStatus(); !listener.accepting) {
        return Reply::json(QJsonObject{{u"status"_s, u"failing"_s}, {u"reason"_s, listener.reason}},
                           Status::ServiceUnavailable);
    }
    QStringList failed;
    for (const QString &id : m_controller.instanceIds()) {
        if (m_controller.instance(id).state == InstanceState::Failed) {
            failed.append(id);
        }
    }
    if (!failed.isEmpty()) {
        return Reply::json(
            QJsonObject{{u"status"_s, u"failing"_s}, {u"reason"_s, u"instances Failed: %1"_s.arg(failed.join(u", "))}},
            Status::ServiceUnavailable);
    }
    QJsonObject healthy{{u"status"_s, u"ok"_s}, {u"port"_s, m_controller.listenPort()}};
    // Local delivery goes on without Redis: a detail, not a failure.
    if (const ClusterStatus cluster = m_controller.clusterStatus(); cluster.enabled) {
        healthy.insert(u"cluster"_s, cluster.connected ? u"connected"_s : u"disconnected"_s);
        if (!cluster.connected) {
            healthy.insert(u"cluster_error"_s, cluster.lastError);
        }
    }
    return Reply::json(healthy);
}

QJsonObject AdminServer::instanceJson(const QString &id) const
{
    const InstanceInfo info = m_controller.instance(id);
    QJsonObject options;
    const QVariantMap shown = info.config.redactedOptions(); // never the jwt_secret
    for (auto it = shown.cbegin(); it != shown.cend(); ++it) {
        options.insert(it.key(), QJsonValue::fromVariant(it.value()));
    }
    const qint64 uptimeMs = info.runningSinceMs > 0 ? nowMs() - info.runningSinceMs : 0;
    return QJsonObject{
        {u"id"_s, id},
        {u"type"_s, info.config.type},
        {u"state"_s, instanceStateName(info.state)},
        {u"options"_s, options},
        {u"clients"_s, info.stats.clients},
        {u"messages_in"_s, static_cast<qint64>(info.stats.messagesIn)},
        {u"messages_out"_s, static_cast<qint64>(info.stats.messagesOut)},
        // The instance's own rate over the last second: the window's In/s and Out/s show this very value.
        {u"messages_in_per_s"_s, std::round(info.stats.messagesInPerSecond * 10) / 10},
        {u"messages_out_per_s"_s, std::round(info.stats.messagesOutPerSecond * 10) / 10},
        {u"restarts"_s, info.restarts},
        {u"uptime_s"_s, uptimeMs / 1000.0},
    };
}

} // namespace wsserve
