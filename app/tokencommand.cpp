// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "tokencommand.h"

#include "servercontroller.h"

#include <QCommandLineParser>
#include <QDateTime>

#include <cstdio>

namespace wsserve {

namespace {

constexpr int kExitBadArguments = 2;

int fail(const QString &message)
{
    std::fprintf(stderr, "wsserve token: error: %s\n", qPrintable(message));
    std::fprintf(stderr, "Run 'wsserve token --help' for usage.\n");
    return kExitBadArguments;
}

} // namespace

int runTokenCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Prints a player token (HS256 JWT) for an instance with auth=jwt and this jwt_secret.\n"
                       "Clients pass it as ?token=..., the authToken option or params: {token}."));
    const QCommandLineOption secretOption(QStringLiteral("instance-secret"),
                                          QStringLiteral("The instance's jwt_secret (required)."),
                                          QStringLiteral("secret"));
    const QCommandLineOption subOption(
        QStringLiteral("sub"), QStringLiteral("Subject: who the token is for (required)."), QStringLiteral("id"));
    const QCommandLineOption nameOption(
        QStringLiteral("name"), QStringLiteral("The name claim (chat/relay presence key)."), QStringLiteral("name"));
    const QCommandLineOption topicsOption(
        QStringLiteral("topics"),
        QStringLiteral("Comma-separated topic patterns it may join, e.g. \"room:*,game:42\" (default: any)."),
        QStringLiteral("patterns"));
    const QCommandLineOption ttlOption(QStringLiteral("ttl"),
                                       QStringLiteral("Lifetime in seconds, 1 to 2592000 (default 3600)."),
                                       QStringLiteral("seconds"));
    const QCommandLineOption audienceOption(QStringLiteral("audience"),
                                            QStringLiteral("The aud claim (the instance's jwt_audience)."),
                                            QStringLiteral("aud"));
    const QCommandLineOption issuerOption(
        QStringLiteral("issuer"), QStringLiteral("The iss claim (the instance's jwt_issuer)."), QStringLiteral("iss"));
    const QCommandLineOption helpOption({QStringLiteral("h"), QStringLiteral("help")},
                                        QStringLiteral("Show this help and exit."));
    parser.addOptions(
        {secretOption, subOption, nameOption, topicsOption, ttlOption, audienceOption, issuerOption, helpOption});
    parser.addPositionalArgument(QStringLiteral("token"), QStringLiteral("The subcommand."));

    if (!parser.parse(arguments)) {
        return fail(parser.errorText());
    }
    if (parser.isSet(helpOption)) {
        std::fprintf(stdout, "%s", qPrintable(parser.helpText()));
        return 0;
    }
    if (parser.positionalArguments().size() > 1) {
        return fail(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().at(1)));
    }
    if (!parser.isSet(secretOption) || parser.value(secretOption).isEmpty()) {
        return fail(QStringLiteral("--instance-secret is required (the instance's jwt_secret)"));
    }
    if (!parser.isSet(subOption)) {
        return fail(QStringLiteral("--sub is required"));
    }
    PlayerTokenRequest request;
    request.sub = parser.value(subOption);
    request.name = parser.value(nameOption);
    if (parser.isSet(topicsOption)) {
        for (const QString &topic : parser.value(topicsOption).split(u',', Qt::SkipEmptyParts)) {
            request.topics.append(topic.trimmed());
        }
        if (request.topics.isEmpty()) {
            return fail(QStringLiteral("--topics is empty (leave it out to allow every topic)"));
        }
    }
    if (parser.isSet(ttlOption)) {
        bool ok = false;
        request.ttlSeconds = parser.value(ttlOption).toLongLong(&ok);
        if (!ok) {
            return fail(QStringLiteral("--ttl '%1' is not a number of seconds").arg(parser.value(ttlOption)));
        }
    }
    const PlayerToken minted =
        ServerController::signPlayerToken(parser.value(secretOption).toUtf8(), request, parser.value(audienceOption),
                                          parser.value(issuerOption), QDateTime::currentSecsSinceEpoch());
    if (!minted.isOk()) {
        const QString flag = minted.field == u"ttl" ? QStringLiteral("--ttl") : QStringLiteral("--") + minted.field;
        return fail(QStringLiteral("%1: %2").arg(flag, minted.result.message));
    }
    std::fprintf(stdout, "%s\n", minted.token.constData());
    std::fflush(stdout);
    return 0;
}

} // namespace wsserve
