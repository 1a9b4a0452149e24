// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "logging.h"

Q_LOGGING_CATEGORY(lcCore, "wsserve.core", QtInfoMsg)
Q_LOGGING_CATEGORY(lcEndpoint, "wsserve.core.endpoint", QtInfoMsg)
Q_LOGGING_CATEGORY(lcInstance, "wsserve.core.instance", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSupervisor, "wsserve.core.supervisor", QtInfoMsg)
