// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "clustersettings.h"

#include <QRegularExpression>
#include <QUrl>

#include <hiredis/hiredis.h>

#include <memory>

namespace wsserve {

QString ClusterSettings::url() const
{
    const QString hostPart = host.contains(u':') ? QStringLiteral("[%1]").arg(host) : host;
    return QStringLiteral("redis://%1:%2/%3").arg(hostPart).arg(port).arg(db);
}

bool parseClusterUrl(const QString &text, ClusterSettings *settings, QString *error)
{
    const QString trimmed = text.trimmed();
    const QString usage = QStringLiteral("expected redis://HOST:PORT[/DB]");
    const QUrl url(trimmed, QUrl::StrictMode);
    if (!url.isValid() || url.scheme() != u"redis") {
        *error = QStringLiteral("cluster URL '%1' is not valid: %2").arg(trimmed, usage);
        return false;
    }
    if (!url.password().isEmpty() || !url.userName().isEmpty()) {
        *error = QStringLiteral("cluster URL must not carry a user or password (it would show in process lists); "
                                "set WSSERVE_REDIS_PASSWORD or the config file's cluster_password");
        return false;
    }
    if (url.host().isEmpty()) {
        *error = QStringLiteral("cluster URL '%1' has no host: %2").arg(trimmed, usage);
        return false;
    }
    if (url.hasQuery() || url.hasFragment()) {
        *error = QStringLiteral("cluster URL '%1' has a query or fragment: %2").arg(trimmed, usage);
        return false;
    }
    ClusterSettings result = *settings;
    result.host = url.host();
    result.port = static_cast<quint16>(url.port(6379));
    if (url.port(6379) <= 0) {
        *error = QStringLiteral("cluster URL '%1': port must be 1-65535").arg(trimmed);
        return false;
    }
    const QString path = url.path();
    result.db = 0;
    if (!path.isEmpty() && path != u"/") {
        bool ok = false;
        const int db = path.mid(1).toInt(&ok);
        if (!ok || db < 0 || db > 1000000 || path.mid(1) != QString::number(db)) {
            *error = QStringLiteral("cluster URL '%1': the database must be a number such as /0").arg(trimmed);
            return false;
        }
        result.db = db;
    }
    *settings = result;
    return true;
}

QString validateNodeName(const QString &name)
{
    static const QRegularExpression pattern(
        QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9._:-]{1,64}")));
    if (!pattern.match(name).hasMatch()) {
        return QStringLiteral("node name '%1' must be 1-64 characters of letters, digits, '.', '_', ':' and '-'")
            .arg(name.left(80));
    }
    return {};
}

QString clusterPasswordFromEnvironment(const QString &configured)
{
    for (const char *name : {"WSSERVE_REDIS_PASSWORD", "REDISCLI_AUTH"}) {
        if (const QString value = qEnvironmentVariable(name); !value.isEmpty()) {
            return value;
        }
    }
    return configured;
}

bool checkClusterReachable(const ClusterSettings &settings, QString *error)
{
    const timeval timeout{2, 0};
    const std::unique_ptr<redisContext, void (*)(redisContext *)> context(
        redisConnectWithTimeout(settings.host.toUtf8().constData(), settings.port, timeout), redisFree);
    if (!context || context->err) {
        *error =
            QStringLiteral("cannot reach Redis at %1: %2")
                .arg(settings.url(), context ? QString::fromUtf8(context->errstr) : QStringLiteral("out of memory"));
        return false;
    }
    const auto command = [&](const QString &what, const QByteArrayList &args) {
        std::vector<const char *> argv;
        std::vector<size_t> lengths;
        for (const QByteArray &arg : args) {
            argv.push_back(arg.constData());
            lengths.push_back(static_cast<size_t>(arg.size()));
        }
        auto *reply = static_cast<redisReply *>(
            redisCommandArgv(context.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()));
        if (!reply) {
            *error = QStringLiteral("Redis at %1 failed during %2: %3")
                         .arg(settings.url(), what, QString::fromUtf8(context->errstr));
            return false;
        }
        const bool ok = reply->type != REDIS_REPLY_ERROR;
        if (!ok) {
            *error = QStringLiteral("Redis at %1 refused %2: %3")
                         .arg(settings.url(), what, QString::fromUtf8(reply->str, static_cast<qsizetype>(reply->len)));
        }
        freeReplyObject(reply);
        return ok;
    };
    if (!settings.password.isEmpty() &&
        !command(QStringLiteral("the password"), {"AUTH", settings.password.toUtf8()})) {
        return false;
    }
    return command(QStringLiteral("SELECT %1").arg(settings.db), {"SELECT", QByteArray::number(settings.db)}) &&
           command(QStringLiteral("PING"), {"PING"});
}

} // namespace wsserve
