// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "serverconfig.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace wsserve {

bool parseInstanceSpec(const QString &text, InstanceSpec *spec, QString *error)
{
    const qsizetype firstColon = text.indexOf(u':');
    if (firstColon <= 0) {
        *error = QStringLiteral("--instance '%1' must look like ID:TYPE[:key=value,...]").arg(text);
        return false;
    }
    const qsizetype secondColon = text.indexOf(u':', firstColon + 1);
    InstanceSpec result;
    result.id = text.left(firstColon);
    result.type = secondColon < 0 ? text.mid(firstColon + 1) : text.mid(firstColon + 1, secondColon - firstColon - 1);
    if (result.type.isEmpty()) {
        *error = QStringLiteral("--instance '%1' names no type (ID:TYPE)").arg(text);
        return false;
    }
    if (secondColon >= 0) {
        const QString optionText = text.mid(secondColon + 1);
        for (const QString &pair : optionText.split(u',', Qt::SkipEmptyParts)) {
            const qsizetype eq = pair.indexOf(u'=');
            if (eq <= 0) {
                *error = QStringLiteral("--instance '%1': option '%2' must look like key=value").arg(text, pair);
                return false;
            }
            result.options.insert(pair.left(eq).trimmed(), pair.mid(eq + 1).trimmed());
        }
    }
    *spec = result;
    return true;
}

bool parseBindAddress(const QString &text, QHostAddress *address, QString *error)
{
    const QString trimmed = text.trimmed();
    if (trimmed == u"any" || trimmed == u"*") {
        *address = QHostAddress::Any;
        return true;
    }
    if (trimmed == u"localhost") {
        *address = QHostAddress::LocalHost;
        return true;
    }
    QString literal = trimmed;
    if (literal.startsWith(u'[') && literal.endsWith(u']')) {
        literal = literal.mid(1, literal.size() - 2);
    }
    QHostAddress parsed;
    if (!parsed.setAddress(literal)) {
        *error = QStringLiteral("bind address '%1' is not an IPv4 or IPv6 address").arg(text);
        return false;
    }
    *address = parsed;
    return true;
}

QString adminHostProblem(const QString &text, QString *normalized)
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        return QStringLiteral("the host name is empty");
    }
    if (trimmed.contains(u"://") || trimmed.contains(u'/')) {
        return QStringLiteral("give a host name only, without a scheme or path");
    }
    QString literal = trimmed;
    if (literal.startsWith(u'[') && literal.endsWith(u']')) {
        literal = literal.mid(1, literal.size() - 2);
    }
    QHostAddress address;
    if (address.setAddress(literal) && !literal.contains(u'%')) {
        *normalized = address.toString().toLower();
        return {};
    }
    if (trimmed.contains(u':')) {
        return QStringLiteral("give the name without a port (the admin port is implied)");
    }
    if (trimmed.contains(u'*')) {
        return QStringLiteral("wildcards are not supported; list each name");
    }
    QString name = trimmed.toLower();
    if (name.endsWith(u'.')) {
        name.chop(1);
    }
    const QStringList labels = name.split(u'.');
    const bool valid = name.size() <= 253 && std::all_of(labels.cbegin(), labels.cend(), [](const QString &label) {
                           return !label.isEmpty() && label.size() <= 63 && !label.startsWith(u'-') &&
                                  !label.endsWith(u'-') && std::all_of(label.cbegin(), label.cend(), [](QChar c) {
                                      return (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'-';
                                  });
                       });
    if (!valid) {
        return QStringLiteral("not a host name (letters, digits and '-' in dot-separated labels)");
    }
    *normalized = name;
    return {};
}

namespace {

bool checkKeys(const QJsonObject &object, const QStringList &allowed, const QString &where, QString *error)
{
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (!allowed.contains(it.key())) {
            *error = QStringLiteral("%1: unknown key '%2' (allowed: %3)").arg(where, it.key(), allowed.join(u", "));
            return false;
        }
    }
    return true;
}

// Each reader leaves `out` alone when the key is absent, and names the key when its value is wrong.
bool readString(const QJsonObject &object, const QString &key, QString *out, QString *error)
{
    if (!object.contains(key)) {
        return true;
    }
    if (!object.value(key).isString()) {
        *error = QStringLiteral("'%1' must be a string").arg(key);
        return false;
    }
    *out = object.value(key).toString();
    return true;
}

bool readBool(const QJsonObject &object, const QString &key, bool *out, QString *error)
{
    if (!object.contains(key)) {
        return true;
    }
    if (!object.value(key).isBool()) {
        *error = QStringLiteral("'%1' must be true or false").arg(key);
        return false;
    }
    *out = object.value(key).toBool();
    return true;
}

bool readPort(const QJsonObject &object, const QString &key, int *out, QString *error)
{
    if (!object.contains(key)) {
        return true;
    }
    const double port = object.value(key).toDouble(-1);
    if (!object.value(key).isDouble() || port < 0 || port > 65535 || port != static_cast<int>(port)) {
        *error = QStringLiteral("'%1' must be a whole number from 0 to 65535").arg(key);
        return false;
    }
    *out = static_cast<int>(port);
    return true;
}

bool readBind(const QJsonObject &object, const QString &key, QHostAddress *out, QString *error)
{
    QString text;
    if (!object.contains(key)) {
        return true;
    }
    return readString(object, key, &text, error) && parseBindAddress(text, out, error);
}

} // namespace

bool parseServerConfigJson(const QByteArray &json, ServerConfig *config, QString *error)
{
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        *error = QStringLiteral("invalid JSON at offset %1: %2").arg(parseError.offset).arg(parseError.errorString());
        return false;
    }
    if (!document.isObject()) {
        *error = QStringLiteral("the top level must be a JSON object");
        return false;
    }
    const QJsonObject root = document.object();
    if (!checkKeys(root,
                   {u"bind"_s,         u"port"_s,       u"log_level"_s,        u"instances"_s,   u"admin"_s,
                    u"admin_bind"_s,   u"admin_port"_s, u"admin_token"_s,      u"admin_hosts"_s, u"types_dirs"_s,
                    u"data_dir"_s,     u"cluster"_s,    u"cluster_password"_s, u"node_name"_s,   u"announce"_s,
                    u"tls"_s,          u"tls_cert"_s,   u"tls_key"_s,          u"admin_tls"_s,   u"admin_tls_cert"_s,
                    u"admin_tls_key"_s},
                   QStringLiteral("config"), error)) {
        return false;
    }
    ServerConfig result = *config;
    int port = result.port;
    if (!readBind(root, u"bind"_s, &result.bind, error) || !readPort(root, u"port"_s, &port, error) ||
        !readBool(root, u"admin"_s, &result.adminEnabled, error) ||
        !readBool(root, u"announce"_s, &result.announce, error) ||
        !readBind(root, u"admin_bind"_s, &result.adminBind, error) ||
        !readPort(root, u"admin_port"_s, &result.adminPort, error) ||
        !readString(root, u"admin_token"_s, &result.adminToken, error) ||
        !readString(root, u"log_level"_s, &result.logLevel, error) ||
        !readString(root, u"data_dir"_s, &result.dataDir, error) ||
        !readString(root, u"cluster"_s, &result.cluster, error) ||
        !readString(root, u"cluster_password"_s, &result.clusterPassword, error) ||
        !readString(root, u"node_name"_s, &result.nodeName, error) ||
        !readString(root, u"tls"_s, &result.tlsMode, error) ||
        !readString(root, u"tls_cert"_s, &result.tlsCert, error) ||
        !readString(root, u"tls_key"_s, &result.tlsKey, error) ||
        !readString(root, u"admin_tls"_s, &result.adminTlsMode, error) ||
        !readString(root, u"admin_tls_cert"_s, &result.adminTlsCert, error) ||
        !readString(root, u"admin_tls_key"_s, &result.adminTlsKey, error)) {
        return false;
    }
    if (const QString problem = tlsOptionsProblem(result); !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    result.port = static_cast<quint16>(port);
    if (root.contains(u"admin_hosts")) {
        if (!root.value(u"admin_hosts").isArray()) {
            *error = QStringLiteral("'admin_hosts' must be an array of host names");
            return false;
        }
        const QJsonArray hosts = root.value(u"admin_hosts").toArray();
        result.adminHosts.clear();
        for (qsizetype i = 0; i < hosts.size(); ++i) {
            if (!hosts.at(i).isString()) {
                *error = QStringLiteral("admin_hosts[%1] must be a string").arg(i);
                return false;
            }
            QString normalized;
            const QString problem = adminHostProblem(hosts.at(i).toString(), &normalized);
            if (!problem.isEmpty()) {
                *error = QStringLiteral("admin_hosts[%1] '%2': %3").arg(i).arg(hosts.at(i).toString(), problem);
                return false;
            }
            result.adminHosts.append(normalized);
        }
    }
    if (root.contains(u"types_dirs")) {
        const QJsonValue dirs = root.value(u"types_dirs");
        if (!dirs.isArray()) {
            *error = QStringLiteral("'types_dirs' must be an array of folder paths");
            return false;
        }
        result.typesDirs.clear();
        for (qsizetype i = 0; i < dirs.toArray().size(); ++i) {
            const QJsonValue dir = dirs.toArray().at(i);
            if (!dir.isString() || dir.toString().isEmpty()) {
                *error = QStringLiteral("types_dirs[%1] must be a folder path").arg(i);
                return false;
            }
            result.typesDirs.append(dir.toString());
        }
    }
    if (root.contains(u"instances")) {
        if (!root.value(u"instances").isArray()) {
            *error = QStringLiteral("'instances' must be an array");
            return false;
        }
        const QJsonArray instances = root.value(u"instances").toArray();
        for (qsizetype i = 0; i < instances.size(); ++i) {
            const QString where = QStringLiteral("instances[%1]").arg(i);
            if (!instances.at(i).isObject()) {
                *error = where + QStringLiteral(" must be an object");
                return false;
            }
            const QJsonObject object = instances.at(i).toObject();
            if (!checkKeys(object, {u"id"_s, u"type"_s, u"options"_s, u"start"_s}, where, error)) {
                return false;
            }
            InstanceSpec spec;
            if (!object.value(u"id").isString() || !object.value(u"type").isString()) {
                *error = where + QStringLiteral(" needs string 'id' and 'type'");
                return false;
            }
            spec.id = object.value(u"id").toString();
            spec.type = object.value(u"type").toString();
            if (object.contains(u"options")) {
                if (!object.value(u"options").isObject()) {
                    *error = where + QStringLiteral(".options must be an object");
                    return false;
                }
                spec.options = object.value(u"options").toObject().toVariantMap();
            }
            if (object.contains(u"start")) {
                if (!object.value(u"start").isBool()) {
                    *error = where + QStringLiteral(".start must be true or false");
                    return false;
                }
                spec.start = object.value(u"start").toBool();
            }
            result.instances.append(spec);
        }
    }
    *config = result;
    return true;
}

bool loadServerConfigFile(const QString &path, ServerConfig *config, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read config file '%1': %2").arg(path, file.errorString());
        return false;
    }
    constexpr qint64 kMaxConfigBytes = 4 * 1024 * 1024;
    if (file.size() > kMaxConfigBytes) {
        *error = QStringLiteral("config file '%1' is larger than 4 MiB").arg(path);
        return false;
    }
    QString parseError;
    if (!parseServerConfigJson(file.readAll(), config, &parseError)) {
        *error = QStringLiteral("config file '%1': %2").arg(path, parseError);
        return false;
    }
    const QDir folder = QFileInfo(path).absoluteDir();
    for (QString &dir : config->typesDirs) {
        dir = QDir::cleanPath(folder.absoluteFilePath(dir));
    }
    for (QString *tlsFile : {&config->tlsCert, &config->tlsKey, &config->adminTlsCert, &config->adminTlsKey}) {
        if (!tlsFile->isEmpty()) {
            *tlsFile = QDir::cleanPath(folder.absoluteFilePath(*tlsFile));
        }
    }
    return true;
}

namespace {
// One TLS option set: the game port's (prefix "--tls") or the admin API's ("--admin-tls").
QString tlsPairProblem(const QString &prefix, const QString &mode, const QString &cert, const QString &key)
{
    if (!mode.isEmpty() && mode != QLatin1String("self-signed")) {
        return QStringLiteral("%1 '%2': the only value is 'self-signed' (or give %1-cert and %1-key)")
            .arg(prefix, mode);
    }
    if (cert.isEmpty() != key.isEmpty()) {
        return cert.isEmpty() ? QStringLiteral("%1-key needs %1-cert (the certificate it belongs to)").arg(prefix)
                              : QStringLiteral("%1-cert needs %1-key (the certificate's private key)").arg(prefix);
    }
    if (!mode.isEmpty() && !cert.isEmpty()) {
        return QStringLiteral("%1 self-signed and %1-cert/%1-key exclude each other").arg(prefix);
    }
    return {};
}
} // namespace

QString tlsOptionsProblem(const ServerConfig &config)
{
    if (QString problem = tlsPairProblem(QStringLiteral("--tls"), config.tlsMode, config.tlsCert, config.tlsKey);
        !problem.isEmpty()) {
        return problem;
    }
    return tlsPairProblem(QStringLiteral("--admin-tls"), config.adminTlsMode, config.adminTlsCert, config.adminTlsKey);
}

QString urlHost(const QHostAddress &address)
{
    return address.protocol() == QAbstractSocket::IPv6Protocol ? u'[' + address.toString() + u']' : address.toString();
}

} // namespace wsserve
