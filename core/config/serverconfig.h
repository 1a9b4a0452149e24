// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QHostAddress>
#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantMap>

namespace wsserve {

// An instance as the user asked for it (command line or config file); validated later by the registry.
struct InstanceSpec {
    QString id;
    QString type;
    QVariantMap options; // raw: strings from the command line, JSON values from a file
    bool start = true;
};

// Everything the headless server needs to start. Thread: a value.
struct ServerConfig {
    QHostAddress bind = QHostAddress::AnyIPv4;
    quint16 port = 4000;
    QString logLevel = QStringLiteral("info");
    // Where history, instance state and (headless) admin-created instances are kept; empty: headless runs
    // keep them in memory only, the window uses Store::defaultDir().
    QString dataDir;
    QList<InstanceSpec> instances;
    // DNS-SD announcement of the host and every running instance (--announce); off by default.
    bool announce = false;

    // Admin HTTP API. Port -1 means "not given": 4001, or a free port when `port` is 0.
    bool adminEnabled = true;
    QHostAddress adminBind = QHostAddress::LocalHost;
    int adminPort = -1;
    QString adminToken;
    QStringList adminHosts; // extra names accepted in the admin API's Host/Origin headers, normalized
    // Folders of JavaScript instance types; empty: the default (<app data>/types).
    QStringList typesDirs;
    // Scale-out (docs/design-notes.md "Cluster"): redis://HOST:PORT[/DB] shared by the nodes; empty: alone.
    // The password comes from WSSERVE_REDIS_PASSWORD or REDISCLI_AUTH, else cluster_password (never logged).
    QString cluster;
    QString clusterPassword;
    QString nodeName; // empty: <host name>:<port>
    // TLS on the game port: a PEM certificate and key, or tlsMode "self-signed" (made in the data folder).
    QString tlsCert;
    QString tlsKey;
    QString tlsMode;
    bool tlsEnabled() const { return !tlsCert.isEmpty() || tlsMode == QLatin1String("self-signed"); }
    // TLS on the admin API (https://): its own PEM pair, or adminTlsMode "self-signed" (the game port's
    // stored self-signed certificate, the same files).
    QString adminTlsCert;
    QString adminTlsKey;
    QString adminTlsMode;
    bool adminTlsEnabled() const { return !adminTlsCert.isEmpty() || adminTlsMode == QLatin1String("self-signed"); }

    static constexpr quint16 kDefaultAdminPort = 4001;
    quint16 effectiveAdminPort() const
    {
        return adminPort >= 0 ? static_cast<quint16>(adminPort) : (port == 0 ? 0 : kDefaultAdminPort);
    }
};

// Parses `ID:TYPE[:key=value,key=value...]`.
bool parseInstanceSpec(const QString &text, InstanceSpec *spec, QString *error);

// Parses a config file's JSON:
//   {"bind": "0.0.0.0", "port": 4000, "log_level": "info",
//    "admin": true, "admin_bind": "127.0.0.1", "admin_port": 4001, "admin_token": "secret",
//    "admin_hosts": ["wsserve.internal"], "types_dirs": ["types"], "data_dir": "/var/lib/wsserve",
//    "cluster": "redis://127.0.0.1:6379/0", "cluster_password": "...", "node_name": "a",
//    "tls_cert": "cert.pem", "tls_key": "key.pem" (or "tls": "self-signed"),
//    "admin_tls_cert": "admin.pem", "admin_tls_key": "admin.key" (or "admin_tls": "self-signed"),
//    "instances": [{"id": "lobby", "type": "chat", "options": {"presence": true}, "start": true}]}
// Unknown keys are errors, so typos do not pass silently. Errors name the key or the JSON offset.
bool parseServerConfigJson(const QByteArray &json, ServerConfig *config, QString *error);
// Relative types_dirs entries are taken from the file's folder.
bool loadServerConfigFile(const QString &path, ServerConfig *config, QString *error);

// Checks one --admin-host / "admin_hosts" entry: a DNS name (letters, digits, '-', dots; no scheme,
// port, path or wildcard) or an IP literal ([v6] brackets allowed). Returns an empty string and sets
// `normalized` (lower case, no trailing dot, no brackets) when it is valid; else what is wrong.
QString adminHostProblem(const QString &text, QString *normalized);

// Parses a bind address: an IPv4/IPv6 literal, "localhost", "any" or "*".
bool parseBindAddress(const QString &text, QHostAddress *address, QString *error);

// What is wrong with the TLS options together, the game port's and the admin API's (empty: nothing).
QString tlsOptionsProblem(const ServerConfig &config);

// The host part of a URL for an address: IPv6 in brackets ("[::1]"), IPv4 as it is.
QString urlHost(const QHostAddress &address);

} // namespace wsserve
