// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "connectionevent.h"

namespace wsserve {

QString connectionEventKindName(ConnectionEvent::Kind kind)
{
    switch (kind) {
    case ConnectionEvent::Kind::Connected:
        return QStringLiteral("connected");
    case ConnectionEvent::Kind::Disconnected:
        return QStringLiteral("disconnected");
    case ConnectionEvent::Kind::Refused:
        return QStringLiteral("refused");
    case ConnectionEvent::Kind::Kicked:
        return QStringLiteral("kicked");
    case ConnectionEvent::Kind::Invalid:
        break;
    }
    return QStringLiteral("invalid");
}

} // namespace wsserve
