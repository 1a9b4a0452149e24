// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QString>

namespace wsserve {

// Where the nodes of a cluster meet (`--cluster redis://HOST:PORT[/DB]`) and who this node is.
struct ClusterSettings {
    QString host;
    quint16 port = 6379;
    int db = 0;
    QString password; // never logged, never shown; from the environment or the config file
    QString nodeName;

    // redis://host:port/db, without the password: what logs and front ends show.
    QString url() const;
};

// Parses redis://HOST[:PORT][/DB] (HOST may be [v6]). A password in the URL is refused: it would show in
// process lists and logs (use WSSERVE_REDIS_PASSWORD). False and *error with the reason otherwise.
bool parseClusterUrl(const QString &text, ClusterSettings *settings, QString *error);

// Node names: 1-64 characters of letters, digits and ._:- ; empty when valid, else the reason.
QString validateNodeName(const QString &name);

// The password to use: WSSERVE_REDIS_PASSWORD, else REDISCLI_AUTH, else `configured`.
QString clusterPasswordFromEnvironment(const QString &configured);

// Connects once, synchronously (2 s timeout): AUTH when there is a password, SELECT, PING. For start-up,
// so a bad host, a refused connection or a wrong password stops the launch with one line. False and
// *error ("cannot reach Redis at ...: Connection refused", "Redis at ... refused the password: ...").
bool checkClusterReachable(const ClusterSettings &settings, QString *error);

} // namespace wsserve
