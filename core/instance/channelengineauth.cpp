// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// ChannelEngine: who may connect (auth=jwt), refresh its token, and join a topic (the `topics` claim).
#include "channelengine.h"

#include "http/httpresponse.h"

#include <QDateTime>
#include <QJsonArray>

namespace wsserve {

bool ChannelEngine::authenticate(ConnectInfo &info, const QString &token, QString *reason) const
{
    if (!m_verifier) {
        *reason = QStringLiteral("server key unusable");
        return false;
    }
    if (token.isEmpty()) {
        *reason = QStringLiteral("missing token");
        return false;
    }
    const std::optional<auth::VerifiedToken> verified =
        m_verifier->verify(token.toUtf8(), QDateTime::currentSecsSinceEpoch(), reason);
    if (!verified) {
        return false;
    }
    info.claims = verified->claims;
    info.subject = verified->subject;
    info.tokenExpiresAt = verified->expiresAt;
    return true;
}

bool ChannelEngine::refreshToken(EngineClient &client, const QString &token, QString *reason, bool *closeAfterReply)
{
    *closeAfterReply = false;
    ConnectInfo fresh = client.info;
    if (!authenticate(fresh, token, reason)) {
        return false;
    }
    if (fresh.subject != client.info.subject) {
        *reason = QStringLiteral("token for another subject");
        m_host.warn(QStringLiteral("client %1 (sub '%2') sent a token for sub '%3'; closing")
                        .arg(client.id)
                        .arg(printableText(client.info.subject), printableText(fresh.subject)));
        *closeAfterReply = true; // the caller answers first, then closes
        return false;
    }
    client.info = std::move(fresh);
    return true;
}

bool ChannelEngine::topicAllowed(const EngineClient &client, const QString &topic) const
{
    const QJsonValue topics = client.info.claims.value(QStringLiteral("topics"));
    if (!m_authRequired || !topics.isArray()) {
        return true;
    }
    for (const QJsonValue &entry : topics.toArray()) {
        const QString pattern = entry.toString();
        if (pattern.endsWith(u'*') ? topic.startsWith(QStringView(pattern).chopped(1)) : topic == pattern) {
            if (!pattern.isEmpty()) {
                return true;
            }
        }
    }
    return false;
}

} // namespace wsserve
