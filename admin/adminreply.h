// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// Internal to the admin API (adminserver.cpp, adminhistory.cpp): one answer of a route.

#include "adminserver.h"
#include "commandresult.h"

#include <QHttpServerResponder>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace wsserve {

using Status = QHttpServerResponder::StatusCode;

struct AdminServer::Reply {
    Status status = Status::Ok;
    QByteArray body;
    QByteArray contentType = "application/json";
    QList<std::pair<QByteArray, QByteArray>> headers;

    static Reply json(const QJsonValue &value, Status status = Status::Ok)
    {
        const QJsonDocument document =
            value.isArray() ? QJsonDocument(value.toArray()) : QJsonDocument(value.toObject());
        return Reply{status, document.toJson(QJsonDocument::Compact) + '\n', "application/json", {}};
    }
    static Reply error(Status status, const QString &message, const QString &field = {})
    {
        QJsonObject object{{QStringLiteral("error"), message}};
        if (!field.isEmpty()) {
            object.insert(QStringLiteral("field"), field);
        }
        return json(object, status);
    }
    // A refused facade command: its kind decides the status (and, for create, the field at fault).
    static Reply refused(const CommandResult &result)
    {
        using Error = CommandResult::Error;
        switch (result.error) {
        case Error::NotFound:
            return error(Status::NotFound, result.message);
        case Error::IdTaken:
            return error(Status::Conflict, result.message, QStringLiteral("id"));
        case Error::InvalidId:
            return error(Status::BadRequest, result.message, QStringLiteral("id"));
        case Error::UnknownType:
            return error(Status::UnprocessableEntity, result.message, QStringLiteral("type"));
        case Error::InvalidOption:
            return error(Status::BadRequest, result.message, QStringLiteral("options"));
        case Error::WrongState:
        case Error::NotRunning:
        case Error::NotJwtSecret:
            return error(Status::Conflict, result.message);
        case Error::InvalidArgument:
            return error(Status::BadRequest, result.message);
        case Error::None:
            break;
        }
        return error(Status::InternalServerError, QStringLiteral("command refused without a reason"));
    }
};

} // namespace wsserve
