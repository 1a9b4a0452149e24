// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "instanceconfig.h"

#include "auth/jwt.h"
#include "http/originpolicy.h"

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>

#include <cmath>

namespace wsserve {

QList<OptionSpec> commonOptionSpecs()
{
    using K = OptionSpec::Kind;
    QList<OptionSpec> specs{
        {options::kMaxClients, K::Int, 10000, QStringLiteral("most clients connected at once; more get HTTP 503"), 1,
         1000000},
        {options::kMaxFrameBytes, K::Int, 1024 * 1024,
         QStringLiteral("largest incoming frame in bytes; larger closes with 1009"), 128, 64 * 1024 * 1024},
        {options::kIdleTimeoutMs, K::Int, 60000, QStringLiteral("close a socket after this many ms without a frame"),
         1000, 24 * 3600 * 1000},
        {options::kMaxChannels, K::Int, 100, QStringLiteral("channels one connection may join"), 1, 10000},
        {options::kWatchdogMs, K::Int, 5000,
         QStringLiteral("restart the instance when its thread does not answer for this long"), 200, 600000},
        {options::kMaxRestarts, K::Int, 5,
         QStringLiteral("failures within restart_window_ms before the instance goes Failed"), 0, 1000},
        {options::kRestartWindowMs, K::Int, 60000, QStringLiteral("window for max_restarts, in ms"), 1000,
         24 * 3600 * 1000},
        {options::kMaxChannelCrashes, K::Int, 10,
         QStringLiteral("channel crashes within channel_crash_window_ms that restart the instance"), 1, 100000},
        {options::kChannelCrashWindowMs, K::Int, 10000, QStringLiteral("window for max_channel_crashes, in ms"), 100,
         24 * 3600 * 1000},
        {options::kMaxSendBufferBytes, K::Int, 4 * 1024 * 1024,
         QStringLiteral("bytes queued to one client before it counts as a slow reader and is closed (1008)"), 64 * 1024,
         1024LL * 1024 * 1024},
        {options::kMaxMessagesPerSecond, K::Int, 5000,
         QStringLiteral("frames one client may send per second (bursts up to twice that); more closes it (1008); "
                        "0 turns the limit off"),
         0, 1000000},
        {options::kMaxTopicBytes, K::Int, 255,
         QStringLiteral("longest topic or event name in bytes (UTF-8); longer joins and pushes are refused "
                        "(255 is also the most the V2 binary format can carry)"),
         1, 65535},
        {options::kAuth, K::String, QStringLiteral("none"),
         QStringLiteral("none, or jwt: every connection needs a valid JSON Web Token (authToken, ?token= or the "
                        "access_token join field); others get HTTP 403"),
         0, 0},
        {options::kJwtSecret, K::String, QString(), QStringLiteral("auth=jwt: the HS256/384/512 secret (never shown)"),
         0, 0},
        {options::kJwtPublicKey, K::String, QString(),
         QStringLiteral("auth=jwt: path to a PEM public key (RS256/384/512, ES256/384, EdDSA)"), 0, 0},
        {options::kJwtAudience, K::String, QString(), QStringLiteral("auth=jwt: required `aud` (empty: not checked)"),
         0, 0},
        {options::kJwtIssuer, K::String, QString(), QStringLiteral("auth=jwt: required `iss` (empty: not checked)"), 0,
         0},
        {options::kJwtLeewayS, K::Int, 30, QStringLiteral("auth=jwt: clock leeway for exp, nbf and iat, in seconds"), 0,
         3600},
        {options::kCheckOrigin, K::String, QStringLiteral("host"),
         QStringLiteral("which web pages may connect (browsers send Origin; other clients always may): host = pages "
                        "from the host the socket is opened on, any, or a space-separated list such as "
                        "\"https://game.example *.itch.zone\"; others get HTTP 403"),
         0, 0},
        {options::kHistory, K::Int, 0,
         QStringLiteral("broadcasts kept per topic for clients that join later with {\"history\": {\"limit\": N}} "
                        "(0 = off)"),
         0, 10000},
        {options::kHistoryTtlS, K::Int, 0, QStringLiteral("drop history older than this many seconds (0 = no limit)"),
         0, 10LL * 365 * 24 * 3600},
        {options::kWebRoot, K::String, QString(),
         QStringLiteral("a folder whose files the game port serves under /play/<id>/ (index.html by default), "
                        "e.g. an HTML5 game export that connects back to /socket/<id>; empty = none"),
         0, 0},
        {options::kAnnounce, K::Bool, false,
         QStringLiteral("announce this instance on the local network (DNS-SD _wsserve._tcp through Avahi); off by "
                        "default"),
         0, 0},
        {options::kCluster, K::Bool, false,
         QStringLiteral("share this instance with the other nodes of --cluster (same id on each): broadcasts and "
                        "presence reach every node; only cluster-safe types (echo, chat, relay)"),
         0, 0},
    };
    // What a running instance picks up at once: its limits (max_frame_bytes for new connections), the origin
    // check (read per connection), and what the supervisor reads from its record (the restart policy, the
    // watchdog).
    static const QStringList live{options::kMaxClients,           options::kMaxFrameBytes,      options::kIdleTimeoutMs,
                                  options::kMaxMessagesPerSecond, options::kMaxSendBufferBytes, options::kCheckOrigin,
                                  options::kMaxRestarts,          options::kRestartWindowMs,    options::kWatchdogMs};
    for (OptionSpec &spec : specs) {
        spec.live = live.contains(spec.name);
    }
    return specs;
}

QString validateInstanceId(const QString &id)
{
    // anchoredPattern: a plain "$" would also accept a trailing newline.
    static const QRegularExpression pattern(QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9_-]{1,64}")));
    if (id.isEmpty()) {
        return QStringLiteral("instance id is empty");
    }
    if (id.size() > 64) {
        return QStringLiteral("instance id '%1' is longer than 64 characters").arg(id.left(64) + u"...");
    }
    if (!pattern.match(id).hasMatch()) {
        return QStringLiteral("instance id '%1' may only contain letters, digits, '_' and '-'").arg(id);
    }
    return {};
}

namespace {

bool convert(const OptionSpec &spec, const QVariant &raw, QVariant *out, QString *error)
{
    const bool isString = raw.typeId() == QMetaType::QString;
    const QString text = raw.toString().trimmed();
    switch (spec.kind) {
    case OptionSpec::Kind::Bool: {
        if (raw.typeId() == QMetaType::Bool) {
            *out = raw.toBool();
            return true;
        }
        const QString lower = text.toLower();
        if (isString && (lower == u"true" || lower == u"1" || lower == u"yes" || lower == u"on")) {
            *out = true;
            return true;
        }
        if (isString && (lower == u"false" || lower == u"0" || lower == u"no" || lower == u"off")) {
            *out = false;
            return true;
        }
        *error = QStringLiteral("option '%1' must be true or false, not '%2'").arg(spec.name, text);
        return false;
    }
    case OptionSpec::Kind::Int: {
        bool ok = false;
        qint64 value = 0;
        if (raw.typeId() == QMetaType::Double) {
            const double d = raw.toDouble();
            // Range-check before the cast: converting an out-of-range double is undefined behaviour.
            ok = std::isfinite(d) && std::fabs(d) < 9.0e15 && d == std::trunc(d);
            value = ok ? static_cast<qint64>(d) : 0;
        } else if (raw.typeId() == QMetaType::Int || raw.typeId() == QMetaType::LongLong) {
            ok = true;
            value = raw.toLongLong();
        } else if (isString) {
            value = text.toLongLong(&ok);
        }
        if (!ok) {
            *error = QStringLiteral("option '%1' must be a whole number, not '%2'").arg(spec.name, text);
            return false;
        }
        if (value < spec.minimum || value > spec.maximum) {
            *error = QStringLiteral("option '%1' must be between %2 and %3, not %4")
                         .arg(spec.name)
                         .arg(spec.minimum)
                         .arg(spec.maximum)
                         .arg(value);
            return false;
        }
        *out = value;
        return true;
    }
    case OptionSpec::Kind::String:
        if (!isString) {
            *error = QStringLiteral("option '%1' must be a string").arg(spec.name);
            return false;
        }
        *out = raw.toString();
        return true;
    case OptionSpec::Kind::Invalid:
        break;
    }
    *error = QStringLiteral("option '%1' has no type").arg(spec.name);
    return false;
}

// Cross-option rules of auth: a known mode, and with jwt exactly one usable key.
QString authProblem(const QVariantMap &resolved)
{
    const QString mode = resolved.value(options::kAuth).toString();
    if (mode.isEmpty() || mode == u"none") {
        return {};
    }
    if (mode != u"jwt") {
        return QStringLiteral("option 'auth' must be none or jwt (got '%1')").arg(mode.left(40));
    }
    const bool secret = !resolved.value(options::kJwtSecret).toString().isEmpty();
    const bool key = !resolved.value(options::kJwtPublicKey).toString().isEmpty();
    if (secret == key) {
        return QStringLiteral("auth=jwt needs exactly one of jwt_secret or jwt_public_key");
    }
    InstanceConfig config;
    config.options = resolved;
    QString error;
    const std::optional<auth::JwtConfig> jwt = jwtConfig(config, &error);
    if (!jwt) {
        return error;
    }
    if (!auth::JwtVerifier::create(*jwt, &error)) {
        return error;
    }
    return {};
}

} // namespace

QString webRootProblem(const QString &path)
{
    if (path.isEmpty()) {
        return {}; // no web_root
    }
    const QFileInfo info(path);
    if (!info.exists()) {
        return QStringLiteral("option 'web_root': '%1' does not exist").arg(path);
    }
    if (!info.isDir()) {
        return QStringLiteral("option 'web_root': '%1' is not a folder").arg(path);
    }
    if (!info.isReadable() || !info.isExecutable()) {
        return QStringLiteral("option 'web_root': '%1' cannot be read (permissions)").arg(path);
    }
    return {};
}

bool resolveOptions(const QList<OptionSpec> &specs, const QVariantMap &raw, QVariantMap *resolved, QString *error)
{
    QVariantMap result;
    for (const OptionSpec &spec : specs) {
        result.insert(spec.name, spec.defaultValue);
    }
    for (auto it = raw.cbegin(); it != raw.cend(); ++it) {
        const auto spec = std::find_if(specs.cbegin(), specs.cend(),
                                       [&](const OptionSpec &candidate) { return candidate.name == it.key(); });
        if (spec == specs.cend()) {
            QStringList known;
            for (const OptionSpec &candidate : specs) {
                known.append(candidate.name);
            }
            *error = QStringLiteral("unknown option '%1' (known: %2)").arg(it.key(), known.join(u", "));
            return false;
        }
        QVariant value;
        if (!convert(*spec, it.value(), &value, error)) {
            return false;
        }
        if (spec->name == options::kWebRoot) {
            if (const QString problem = webRootProblem(value.toString()); !problem.isEmpty()) {
                *error = problem;
                return false;
            }
        }
        if (spec->name == options::kCheckOrigin) {
            if (const QString problem = validateOriginPolicy(value.toString()); !problem.isEmpty()) {
                *error = problem;
                return false;
            }
        }
        result.insert(spec->name, value);
    }
    if (const QString problem = authProblem(result); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    *resolved = result;
    return true;
}

bool isSecretOption(const QString &name)
{
    return name == options::kJwtSecret;
}

QVariantMap InstanceConfig::redactedOptions() const
{
    QVariantMap shown = options;
    for (auto it = shown.begin(); it != shown.end(); ++it) {
        if (isSecretOption(it.key()) && !it.value().toString().isEmpty()) {
            it.value() = QStringLiteral("***");
        }
    }
    return shown;
}

std::optional<auth::JwtConfig> jwtConfig(const InstanceConfig &config, QString *error)
{
    if (config.stringOption(options::kAuth) != u"jwt") {
        return std::nullopt;
    }
    auth::JwtConfig jwt;
    jwt.secret = config.stringOption(options::kJwtSecret).toUtf8();
    if (const QString path = config.stringOption(options::kJwtPublicKey); !path.isEmpty()) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("jwt_public_key: cannot read '%1' (%2)").arg(path, file.errorString());
            return std::nullopt;
        }
        jwt.publicKeyPem = file.read(64 * 1024);
    }
    jwt.audience = config.stringOption(options::kJwtAudience);
    jwt.issuer = config.stringOption(options::kJwtIssuer);
    jwt.leewaySeconds = static_cast<int>(config.intOption(options::kJwtLeewayS));
    return jwt;
}

} // namespace wsserve
