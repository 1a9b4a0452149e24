// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The admin API's history routes: GET/DELETE /api/instances/ID/history.
#include "adminserver.h"

#include "adminreply.h"

#include "servercontroller.h"

#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonArray>
#include <QUrlQuery>

using namespace Qt::StringLiterals;

namespace wsserve {

AdminServer::Reply AdminServer::history(const QString &id, const QHttpServerRequest &request)
{
    using Method = QHttpServerRequest::Method;
    const QUrlQuery query = request.query();
    const QString topic = query.queryItemValue(u"topic"_s, QUrl::FullyDecoded);
    if (request.method() == Method::Delete) {
        qint64 removed = 0;
        if (const CommandResult result = m_controller.clearHistory(id, topic, &removed); !result) {
            return Reply::refused(result);
        }
        return Reply::json(QJsonObject{{u"id"_s, id}, {u"topic"_s, topic}, {u"removed"_s, removed}});
    }
    if (request.method() != Method::Get) {
        Reply reply = Reply::error(Status::MethodNotAllowed, u"use GET or DELETE"_s);
        reply.headers.append(std::pair<QByteArray, QByteArray>("Allow", "GET, DELETE"));
        return reply;
    }
    if (!m_controller.instanceIds().contains(id)) {
        return Reply::error(Status::NotFound, u"no instance '%1'"_s.arg(id));
    }
    if (topic.isEmpty()) { // the topics with their counts
        QJsonArray topics;
        for (const StoredTopic &stored : m_controller.historyTopics(id)) {
            topics.append(
                QJsonObject{{u"topic"_s, stored.topic}, {u"count"_s, stored.count}, {u"last_seq"_s, stored.lastSeq}});
        }
        return Reply::json(topics);
    }
    bool sinceOk = true;
    bool limitOk = true;
    const QString sinceText = query.queryItemValue(u"since"_s);
    const QString limitText = query.queryItemValue(u"limit"_s);
    const qint64 since = sinceText.isEmpty() ? 0 : sinceText.toLongLong(&sinceOk);
    const qint64 limit = limitText.isEmpty() ? 100 : limitText.toLongLong(&limitOk);
    if (!sinceOk || since < 0 || !limitOk || limit < 1 || limit > Store::kMaxHistory) {
        return Reply::error(Status::BadRequest,
                            u"since must be ms since the epoch (>= 0) and limit 1 to %1"_s.arg(Store::kMaxHistory));
    }
    QList<StoredMessage> messages;
    if (const CommandResult result = m_controller.history(id, topic, since, static_cast<int>(limit), &messages);
        !result) {
        return Reply::refused(result);
    }
    QJsonArray list;
    for (const StoredMessage &message : std::as_const(messages)) {
        list.append(QJsonObject{{u"seq"_s, message.seq},
                                {u"time_ms"_s, message.timeMs},
                                {u"event"_s, message.event},
                                {u"payload"_s, message.payload.isBinary
                                                   ? QJsonValue(QString::fromLatin1(message.payload.bytes.toBase64()))
                                                   : message.payload.json.value()},
                                {u"binary"_s, message.payload.isBinary}});
    }
    return Reply::json(list);
}

} // namespace wsserve
