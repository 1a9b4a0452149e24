// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QLoggingCategory>

// Diagnostics, one category per module. The user-visible message flow is product data and never goes here.
Q_DECLARE_LOGGING_CATEGORY(lcCore)
Q_DECLARE_LOGGING_CATEGORY(lcEndpoint)
Q_DECLARE_LOGGING_CATEGORY(lcInstance)
Q_DECLARE_LOGGING_CATEGORY(lcSupervisor)

#include <QString>

// "[id]" prefix for log lines about one instance.
inline QString logTag(const QString &instanceId)
{
    return u'[' + instanceId + u']';
}
