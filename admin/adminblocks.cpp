// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The admin API's kick and address-block routes: DELETE /api/instances/ID/clients/CID[?reason=R&block_minutes=N],
// GET /api/instances/ID/blocks, DELETE /api/instances/ID/blocks/ADDRESS.
#include "adminserver.h"

#include "adminreply.h"

#include "servercontroller.h"

#include <QDateTime>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace wsserve {

AdminServer::Reply AdminServer::kick(const QString &id, const QString &client, const QHttpServerRequest &request)
{
    if (request.method() != QHttpServerRequest::Method::Delete) {
        Reply reply = Reply::error(Status::MethodNotAllowed, u"use DELETE"_s);
        reply.headers.append(std::pair<QByteArray, QByteArray>("Allow", "DELETE"));
        return reply;
    }
    bool ok = false;
    const quint64 clientId = client.toULongLong(&ok);
    if (!ok) { // not a client id at all: no such client
        return Reply::error(Status::NotFound, u"no client '%1' on instance '%2'"_s.arg(client, id));
    }
    const QUrlQuery query = request.query();
    const QString reason = query.queryItemValue(u"reason"_s, QUrl::FullyDecoded);
    int blockMinutes = 0;
    if (query.hasQueryItem(u"block_minutes"_s)) {
        blockMinutes = query.queryItemValue(u"block_minutes"_s).toInt(&ok);
        if (!ok || blockMinutes < 0 || blockMinutes > ServerController::kMaxBlockMinutes) {
            return Reply::error(
                Status::BadRequest,
                u"block_minutes must be a whole number from 0 to %1"_s.arg(ServerController::kMaxBlockMinutes),
                u"block_minutes"_s);
        }
    }
    const CommandResult result =
        m_controller.kickClient(id, clientId, reason.isEmpty() ? u"kicked by admin"_s : reason.left(100), blockMinutes);
    if (!result) {
        return Reply::refused(result);
    }
    QJsonObject body{{u"id"_s, client}, {u"kicked"_s, true}};
    if (blockMinutes > 0) {
        body.insert(u"blocked"_s, result.message);
    }
    return Reply::json(body);
}

AdminServer::Reply AdminServer::blocks(const QString &id, const QStringList &rest, const QHttpServerRequest &request)
{
    using Method = QHttpServerRequest::Method;
    if (!m_controller.instanceIds().contains(id)) {
        return Reply::error(Status::NotFound, u"no instance '%1'"_s.arg(id));
    }
    if (rest.isEmpty() && request.method() == Method::Get) {
        QJsonArray list;
        for (const AddressBlocks::Block &block : m_controller.blockedAddresses(id)) {
            list.append(
                QJsonObject{{u"address"_s, block.address},
                            {u"until_ms"_s, block.untilMs},
                            {u"until"_s, QDateTime::fromMSecsSinceEpoch(block.untilMs).toUTC().toString(Qt::ISODate)}});
        }
        return Reply::json(list);
    }
    if (rest.size() == 1 && request.method() == Method::Delete) {
        if (const CommandResult result = m_controller.unblockAddress(id, rest.at(0)); !result) {
            return Reply::refused(result);
        }
        return Reply::json(QJsonObject{{u"address"_s, rest.at(0)}, {u"unblocked"_s, true}});
    }
    Reply reply = Reply::error(Status::MethodNotAllowed, rest.isEmpty() ? u"use GET"_s : u"use DELETE"_s);
    reply.headers.append(std::pair<QByteArray, QByteArray>("Allow", rest.isEmpty() ? "GET" : "DELETE"));
    return reply;
}

} // namespace wsserve
