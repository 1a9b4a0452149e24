// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "auth/jwt.h"

#include <QList>
#include <QString>
#include <QVariant>
#include <QVariantMap>

namespace wsserve {

// One option an instance type accepts: its name, type, default, bounds and a line of help.
struct OptionSpec {
    enum class Kind { Invalid = 0, Bool, Int, String };
    QString name;
    Kind kind = Kind::Invalid;
    QVariant defaultValue;
    QString description;
    qint64 minimum = 0;
    qint64 maximum = 0;
    // Applies to a running instance at once (Properties, PATCH); otherwise at its next start. A type option
    // marked live must be read from InstanceContext::config() when used, not copied at creation.
    bool live = false;
};

// The resolved configuration of one instance: id, type and every option with defaults filled in.
// Thread: a value; copied into the instance thread.
struct InstanceConfig {
    QString id;
    QString type;
    QVariantMap options;

    qint64 intOption(const QString &name) const { return options.value(name).toLongLong(); }
    bool boolOption(const QString &name) const { return options.value(name).toBool(); }
    QString stringOption(const QString &name) const { return options.value(name).toString(); }
    // The options with secrets (jwt_secret) replaced by "***": what the admin API, the window and logs show.
    QVariantMap redactedOptions() const;
};

// Options every instance accepts, whatever its type.
namespace options {
inline const QString kMaxClients = QStringLiteral("max_clients");
inline const QString kMaxFrameBytes = QStringLiteral("max_frame_bytes");
inline const QString kIdleTimeoutMs = QStringLiteral("idle_timeout_ms");
inline const QString kMaxChannels = QStringLiteral("max_channels");
inline const QString kWatchdogMs = QStringLiteral("watchdog_ms");
inline const QString kMaxRestarts = QStringLiteral("max_restarts");
inline const QString kRestartWindowMs = QStringLiteral("restart_window_ms");
inline const QString kMaxChannelCrashes = QStringLiteral("max_channel_crashes");
inline const QString kChannelCrashWindowMs = QStringLiteral("channel_crash_window_ms");
inline const QString kMaxSendBufferBytes = QStringLiteral("max_send_buffer_bytes");
inline const QString kMaxMessagesPerSecond = QStringLiteral("max_messages_per_second");
inline const QString kCheckOrigin = QStringLiteral("check_origin");
inline const QString kMaxTopicBytes = QStringLiteral("max_topic_bytes");
inline const QString kAuth = QStringLiteral("auth");
inline const QString kJwtSecret = QStringLiteral("jwt_secret");
inline const QString kJwtPublicKey = QStringLiteral("jwt_public_key");
inline const QString kJwtAudience = QStringLiteral("jwt_audience");
inline const QString kJwtIssuer = QStringLiteral("jwt_issuer");
inline const QString kJwtLeewayS = QStringLiteral("jwt_leeway_s");
inline const QString kHistory = QStringLiteral("history");
inline const QString kHistoryTtlS = QStringLiteral("history_ttl_s");
inline const QString kWebRoot = QStringLiteral("web_root");
inline const QString kAnnounce = QStringLiteral("announce");
inline const QString kCluster = QStringLiteral("cluster");
} // namespace options

QList<OptionSpec> commonOptionSpecs();

// True for options whose values must never be shown (jwt_secret).
bool isSecretOption(const QString &name);

// The JWT settings of an instance with auth=jwt (the PEM file read), std::nullopt otherwise; *error is
// set when the key file cannot be read.
std::optional<auth::JwtConfig> jwtConfig(const InstanceConfig &config, QString *error);

// Instance ids are 1-64 characters of [A-Za-z0-9_-]; returns an empty string when valid, else the reason.
QString validateInstanceId(const QString &id);

// Converts raw option values (strings from the command line, or JSON values) to the spec's kind,
// checking names and bounds, and fills in defaults. On failure returns false and sets `error`.
// Why `path` cannot be an instance's web_root (missing, not a folder, unreadable); empty when it can (or
// is empty: no web_root). Checked when an instance is created or its options change.
QString webRootProblem(const QString &path);
bool resolveOptions(const QList<OptionSpec> &specs, const QVariantMap &raw, QVariantMap *resolved, QString *error);

} // namespace wsserve
