// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// ChannelEngine: the `history` join parameter (docs/design-notes.md "Persistence").
#include "channelengine.h"

#include <cmath>

namespace wsserve {

bool ChannelEngine::parseHistoryRequest(const QJsonValue &params, HistoryRequest *parsed, QString *error)
{
    const QJsonValue request = params.toObject().value(QStringLiteral("history"));
    if (request.isUndefined() || request.isNull()) {
        return true;
    }
    const auto wholeNumber = [](const QJsonValue &value, double low, double high) {
        const double number = value.toDouble(-1);
        return value.isDouble() && number >= low && number <= high && number == std::trunc(number);
    };
    const QJsonObject object = request.toObject();
    const QJsonValue limit = object.value(QStringLiteral("limit"));
    const QJsonValue since = object.value(QStringLiteral("since"));
    if (!request.isObject()) {
        *error = QStringLiteral("history must be an object such as {\"limit\": 10}");
    } else if (!limit.isUndefined() && !wholeNumber(limit, 1, Store::kMaxHistory)) {
        *error = QStringLiteral("history.limit must be a whole number from 1 to %1").arg(Store::kMaxHistory);
    } else if (!since.isUndefined() && !wholeNumber(since, 0, 9.0e15)) {
        *error = QStringLiteral("history.since must be a time in ms since the epoch (a whole number >= 0)");
    } else if (limit.isUndefined() && since.isUndefined()) {
        *error = QStringLiteral("history needs limit, since or both");
    }
    if (!error->isEmpty()) {
        return false;
    }
    parsed->wanted = true;
    parsed->limit = limit.isUndefined() ? Store::kMaxHistory : limit.toInt();
    parsed->sinceMs = static_cast<qint64>(since.toDouble(0));
    return true;
}

} // namespace wsserve
