// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for server configuration parsing: --instance specs, the JSON config file, bind addresses,
// instance ids and option resolution through builtinRegistry().makeConfig.

#include "behaviours/builtins.h"
#include "config/serverconfig.h"
#include "instance/instanceconfig.h"

#include <QJsonDocument>
#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

class tst_ServerConfig : public QObject
{
    Q_OBJECT

private slots:
    void parseInstanceSpec_data();
    void parseInstanceSpec();

    void parseServerConfigJsonFull();
    void parseServerConfigJsonEmptyKeepsDefaults();
    void parseServerConfigJsonErrors_data();
    void parseServerConfigJsonErrors();
    void parseServerConfigJsonPort_data();
    void parseServerConfigJsonPort();
    void parseServerConfigJsonInvalidJsonOffset_data();
    void parseServerConfigJsonInvalidJsonOffset();

    void parseBindAddress_data();
    void parseBindAddress();

    void adminHosts();
    void adminHostProblems_data();
    void adminHostProblems();

    void validateInstanceId_data();
    void validateInstanceId();

    void makeConfigDefaults();
    void makeConfigOptions_data();
    void makeConfigOptions();
    void makeConfigErrors_data();
    void makeConfigErrors();
};

// ---------------------------------------------------------------------------------------------------------------
// ID:TYPE[:key=value,...]

void tst_ServerConfig::parseInstanceSpec_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QVariantMap>("options");
    QTest::addColumn<QString>("errorMentions");

    QTest::newRow("lobby:chat") << u"lobby:chat"_s << true << u"lobby"_s << u"chat"_s << QVariantMap{} << QString();
    QTest::newRow("with options") << u"a:chaos:watchdog_ms=1000,max_restarts=3"_s << true << u"a"_s << u"chaos"_s
                                  << QVariantMap{{u"watchdog_ms"_s, u"1000"_s}, {u"max_restarts"_s, u"3"_s}}
                                  << QString();
    QTest::newRow("option value with =") << u"e:echo:k=a=b"_s << true << u"e"_s << u"echo"_s
                                         << QVariantMap{{u"k"_s, u"a=b"_s}} << QString();
    QTest::newRow("option string false") << u"lobby:chat:presence=false"_s << true << u"lobby"_s << u"chat"_s
                                         << QVariantMap{{u"presence"_s, u"false"_s}} << QString();
    QTest::newRow("nocolon") << u"nocolon"_s << false << QString() << QString() << QVariantMap{} << u"nocolon"_s;
    QTest::newRow(":chat (empty id)") << u":chat"_s << false << QString() << QString() << QVariantMap{} << u":chat"_s;
    QTest::newRow("id: (empty type)") << u"id:"_s << false << QString() << QString() << QVariantMap{} << u"id:"_s;
    QTest::newRow("empty") << QString() << false << QString() << QString() << QVariantMap{} << QString();
    QTest::newRow("id:chat:badpair") << u"id:chat:badpair"_s << false << QString() << QString() << QVariantMap{}
                                     << u"badpair"_s;
    QTest::newRow("id:chat:=value") << u"id:chat:=value"_s << false << QString() << QString() << QVariantMap{}
                                    << u"=value"_s;
    QTest::newRow("second pair bad") << u"id:chat:presence=true,oops"_s << false << QString() << QString()
                                     << QVariantMap{} << u"oops"_s;
}

void tst_ServerConfig::parseInstanceSpec()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QString, id);
    QFETCH(QString, type);
    QFETCH(QVariantMap, options);
    QFETCH(QString, errorMentions);

    InstanceSpec spec;
    QString error;
    QCOMPARE(wsserve::parseInstanceSpec(text, &spec, &error), ok);
    if (!ok) {
        QVERIFY(!error.isEmpty());
        QVERIFY2(error.contains(errorMentions), qPrintable(error));
        return;
    }
    QVERIFY(error.isEmpty());
    QCOMPARE(spec.id, id);
    QCOMPARE(spec.type, type);
    QCOMPARE(spec.options, options);
    QCOMPARE(spec.start, true);
}

// ---------------------------------------------------------------------------------------------------------------
// Config file JSON.

void tst_ServerConfig::parseServerConfigJsonFull()
{
    const QByteArray json = R"({
        "bind": "127.0.0.1",
        "port": 4100,
        "log_level": "debug",
        "instances": [
            {"id": "lobby", "type": "chat", "options": {"presence": false, "max_clients": 50, "note": "x"},
             "start": false},
            {"id": "e", "type": "echo"}
        ]
    })";
    ServerConfig config;
    QString error;
    QVERIFY2(parseServerConfigJson(json, &config, &error), qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(config.bind, QHostAddress(u"127.0.0.1"_s));
    QCOMPARE(config.port, quint16(4100));
    QCOMPARE(config.logLevel, u"debug"_s);
    QCOMPARE(config.instances.size(), 2);

    const InstanceSpec &lobby = config.instances.at(0);
    QCOMPARE(lobby.id, u"lobby"_s);
    QCOMPARE(lobby.type, u"chat"_s);
    QCOMPARE(lobby.start, false);
    QCOMPARE(lobby.options.size(), 3);
    QCOMPARE(lobby.options.value(u"presence"_s).typeId(), int(QMetaType::Bool));
    QCOMPARE(lobby.options.value(u"presence"_s).toBool(), false);
    QCOMPARE(lobby.options.value(u"max_clients"_s).toLongLong(), 50);
    QCOMPARE(lobby.options.value(u"note"_s).toString(), u"x"_s);

    const InstanceSpec &echo = config.instances.at(1);
    QCOMPARE(echo.id, u"e"_s);
    QCOMPARE(echo.type, u"echo"_s);
    QCOMPARE(echo.start, true);
    QVERIFY(echo.options.isEmpty());

    // The admin API's TLS keys, apart from the game port's.
    ServerConfig tls;
    QVERIFY2(parseServerConfigJson(R"({"admin_tls_cert": "a.pem", "admin_tls_key": "a.key"})", &tls, &error),
             qPrintable(error));
    QCOMPARE(tls.adminTlsCert, u"a.pem"_s);
    QCOMPARE(tls.adminTlsKey, u"a.key"_s);
    QVERIFY(tls.adminTlsEnabled());
    QVERIFY(!tls.tlsEnabled());
    ServerConfig selfSigned;
    QVERIFY2(parseServerConfigJson(R"({"admin_tls": "self-signed"})", &selfSigned, &error), qPrintable(error));
    QVERIFY(selfSigned.adminTlsEnabled());
    QVERIFY(!selfSigned.tlsEnabled());
}

void tst_ServerConfig::parseServerConfigJsonEmptyKeepsDefaults()
{
    ServerConfig config;
    QString error;
    QVERIFY2(parseServerConfigJson("{}", &config, &error), qPrintable(error));
    QCOMPARE(config.bind, QHostAddress(QHostAddress::AnyIPv4));
    QCOMPARE(config.port, quint16(4000));
    QCOMPARE(config.logLevel, u"info"_s);
    QVERIFY(config.instances.isEmpty());

    QVERIFY2(parseServerConfigJson(R"({"instances": []})", &config, &error), qPrintable(error));
    QVERIFY(config.instances.isEmpty());
}

void tst_ServerConfig::parseServerConfigJsonErrors_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QString>("errorMentions");

    QTest::newRow("unknown top-level key") << QByteArray(R"({"port": 4000, "prot": 4001})") << u"prot"_s;
    QTest::newRow("unknown key, typo of instances")
        << QByteArray(R"({"instance": [{"id": "a", "type": "chat"}]})") << u"instance"_s;
    QTest::newRow("top level is an array") << QByteArray("[]") << QString();
    QTest::newRow("instances not an array")
        << QByteArray(R"({"instances": {"id": "a", "type": "chat"}})") << u"instances"_s;
    QTest::newRow("instances a string") << QByteArray(R"({"instances": "a:chat"})") << u"instances"_s;
    QTest::newRow("instance not an object") << QByteArray(R"({"instances": [1]})") << u"instances[0]"_s;
    QTest::newRow("instance without id") << QByteArray(R"({"instances": [{"type": "chat"}]})") << u"id"_s;
    QTest::newRow("instance id not a string") << QByteArray(R"({"instances": [{"id": 5, "type": "chat"}]})") << u"id"_s;
    QTest::newRow("instance without type") << QByteArray(R"({"instances": [{"id": "a"}]})") << u"type"_s;
    QTest::newRow("second instance bad") << QByteArray(
                                                R"({"instances": [{"id": "a", "type": "chat"}, {"type": "echo"}]})")
                                         << u"instances[1]"_s;
    QTest::newRow("unknown instance key")
        << QByteArray(R"({"instances": [{"id": "a", "type": "chat", "optoins": {}}]})") << u"optoins"_s;
    QTest::newRow("options not an object")
        << QByteArray(R"({"instances": [{"id": "a", "type": "chat", "options": ["presence"]}]})") << u"options"_s;
    QTest::newRow("options a string")
        << QByteArray(R"({"instances": [{"id": "a", "type": "chat", "options": "presence=false"}]})") << u"options"_s;
    QTest::newRow("start not a bool") << QByteArray(R"({"instances": [{"id": "a", "type": "chat", "start": "yes"}]})")
                                      << u"start"_s;
    QTest::newRow("bind not a string") << QByteArray(R"({"bind": 5})") << u"bind"_s;
    QTest::newRow("bind garbage") << QByteArray(R"({"bind": "garbage"})") << u"garbage"_s;
    QTest::newRow("log_level not a string") << QByteArray(R"({"log_level": 3})") << u"log_level"_s;
    QTest::newRow("admin_hosts not an array") << QByteArray(R"({"admin_hosts": "a.test"})") << u"'admin_hosts' must"_s;
    QTest::newRow("admin_hosts entry not a string")
        << QByteArray(R"({"admin_hosts": ["a.test", 5]})") << u"admin_hosts[1] must be a string"_s;
    QTest::newRow("admin_hosts entry with port") << QByteArray(R"({"admin_hosts": ["a.test:4001"]})")
                                                 << u"admin_hosts[0] 'a.test:4001': give the name without a port"_s;
    QTest::newRow("admin_hosts entry a URL")
        << QByteArray(R"({"admin_hosts": ["http://a.test"]})") << u"without a scheme or path"_s;
    QTest::newRow("admin_tls_cert without its key")
        << QByteArray(R"({"admin_tls_cert": "a.pem"})") << u"--admin-tls-cert needs --admin-tls-key"_s;
    QTest::newRow("admin_tls_key without its certificate")
        << QByteArray(R"({"admin_tls_key": "a.key"})") << u"--admin-tls-key needs --admin-tls-cert"_s;
    QTest::newRow("admin_tls not self-signed") << QByteArray(R"({"admin_tls": "yes"})") << u"--admin-tls 'yes'"_s;
    QTest::newRow("admin_tls both ways")
        << QByteArray(R"({"admin_tls": "self-signed", "admin_tls_cert": "a.pem", "admin_tls_key": "a.key"})")
        << u"exclude each other"_s;
    QTest::newRow("admin_tls_cert not a string") << QByteArray(R"({"admin_tls_cert": 5})") << u"admin_tls_cert"_s;
}

void tst_ServerConfig::parseServerConfigJsonErrors()
{
    QFETCH(QByteArray, json);
    QFETCH(QString, errorMentions);

    ServerConfig config;
    config.port = 1234; // must survive a failed parse untouched
    QString error;
    QVERIFY(!parseServerConfigJson(json, &config, &error));
    QVERIFY(!error.isEmpty());
    QVERIFY2(error.contains(errorMentions), qPrintable(error));
    QCOMPARE(config.port, quint16(1234));
    QVERIFY(config.instances.isEmpty());
}

void tst_ServerConfig::parseServerConfigJsonPort_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<int>("port");

    QTest::newRow("0 (any free port)") << QByteArray(R"({"port": 0})") << true << 0;
    QTest::newRow("4000") << QByteArray(R"({"port": 4000})") << true << 4000;
    QTest::newRow("65535") << QByteArray(R"({"port": 65535})") << true << 65535;
    QTest::newRow("4000.0 is whole") << QByteArray(R"({"port": 4000.0})") << true << 4000;
    QTest::newRow("65536") << QByteArray(R"({"port": 65536})") << false << 0;
    QTest::newRow("-1") << QByteArray(R"({"port": -1})") << false << 0;
    QTest::newRow("1.5") << QByteArray(R"({"port": 1.5})") << false << 0;
    QTest::newRow("string") << QByteArray(R"({"port": "4000"})") << false << 0;
    QTest::newRow("null") << QByteArray(R"({"port": null})") << false << 0;
    QTest::newRow("true") << QByteArray(R"({"port": true})") << false << 0;
    QTest::newRow("huge") << QByteArray(R"({"port": 1e12})") << false << 0;
}

void tst_ServerConfig::parseServerConfigJsonPort()
{
    QFETCH(QByteArray, json);
    QFETCH(bool, ok);
    QFETCH(int, port);

    ServerConfig config;
    QString error;
    QCOMPARE(parseServerConfigJson(json, &config, &error), ok);
    if (ok) {
        QCOMPARE(int(config.port), port);
    } else {
        QVERIFY2(error.contains(u"port"), qPrintable(error));
        QCOMPARE(config.port, quint16(4000));
    }
}

void tst_ServerConfig::parseServerConfigJsonInvalidJsonOffset_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::newRow("truncated") << QByteArray(R"({"port": )");
    QTest::newRow("trailing comma") << QByteArray(R"({"port": 4000,})");
    QTest::newRow("missing comma") << QByteArray("{\n  \"port\": 4000\n  \"bind\": \"any\"\n}");
    QTest::newRow("comment") << QByteArray("{ // c\n}");
    QTest::newRow("empty file") << QByteArray();
}

void tst_ServerConfig::parseServerConfigJsonInvalidJsonOffset()
{
    QFETCH(QByteArray, json);

    // Qt's parser (not the code under test) says where the error is.
    QJsonParseError reference{};
    QJsonDocument::fromJson(json, &reference);
    QVERIFY(reference.error != QJsonParseError::NoError);

    ServerConfig config;
    QString error;
    QVERIFY(!parseServerConfigJson(json, &config, &error));
    QVERIFY2(error.contains(QString(u"offset " + QString::number(reference.offset))), qPrintable(error));
}

// ---------------------------------------------------------------------------------------------------------------
// Bind addresses.

void tst_ServerConfig::parseBindAddress_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QHostAddress>("expected");

    QTest::newRow("0.0.0.0") << u"0.0.0.0"_s << true << QHostAddress(QHostAddress::AnyIPv4);
    QTest::newRow("127.0.0.1") << u"127.0.0.1"_s << true << QHostAddress(QHostAddress::LocalHost);
    QTest::newRow("192.168.1.20") << u"192.168.1.20"_s << true << QHostAddress(quint32(0xC0A80114));
    QTest::newRow("::1") << u"::1"_s << true << QHostAddress(QHostAddress::LocalHostIPv6);
    QTest::newRow("[::1]") << u"[::1]"_s << true << QHostAddress(QHostAddress::LocalHostIPv6);
    QTest::newRow("::") << u"::"_s << true << QHostAddress(QHostAddress::AnyIPv6);
    QTest::newRow("localhost") << u"localhost"_s << true << QHostAddress(QHostAddress::LocalHost);
    QTest::newRow("any") << u"any"_s << true << QHostAddress(QHostAddress::Any);
    QTest::newRow("*") << u"*"_s << true << QHostAddress(QHostAddress::Any);
    QTest::newRow("surrounding spaces") << u" 127.0.0.1 "_s << true << QHostAddress(QHostAddress::LocalHost);
    QTest::newRow("garbage") << u"garbage"_s << false << QHostAddress();
    QTest::newRow("empty") << QString() << false << QHostAddress();
    QTest::newRow("256.0.0.1") << u"256.0.0.1"_s << false << QHostAddress();
    QTest::newRow("[::1 unbalanced") << u"[::1"_s << false << QHostAddress();
    QTest::newRow("host name") << u"example.com"_s << false << QHostAddress();
    QTest::newRow("with port") << u"127.0.0.1:4000"_s << false << QHostAddress();
}

void tst_ServerConfig::parseBindAddress()
{
    QFETCH(QString, text);
    QFETCH(bool, ok);
    QFETCH(QHostAddress, expected);

    QHostAddress address(u"10.9.8.7"_s);
    QString error;
    QCOMPARE(wsserve::parseBindAddress(text, &address, &error), ok);
    if (ok) {
        QVERIFY(error.isEmpty());
        QVERIFY2(address == expected, qPrintable(address.toString() + u" != "_s + expected.toString()));
    } else {
        QVERIFY(!error.isEmpty());
        QCOMPARE(address, QHostAddress(u"10.9.8.7"_s)); // untouched on failure
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Instance ids: 1-64 of [A-Za-z0-9_-].

void tst_ServerConfig::validateInstanceId_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<bool>("valid");

    QTest::newRow("lobby") << u"lobby"_s << true;
    QTest::newRow("all allowed classes") << u"Az09_-"_s << true;
    QTest::newRow("single char") << u"a"_s << true;
    QTest::newRow("64 chars") << QString(64, u'a') << true;
    QTest::newRow("65 chars") << QString(65, u'a') << false;
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("space inside") << u"my lobby"_s << false;
    QTest::newRow("leading space") << u" lobby"_s << false;
    QTest::newRow("trailing space") << u"lobby "_s << false;
    QTest::newRow("slash") << u"a/b"_s << false;
    QTest::newRow("dot dot") << u".."_s << false;
    QTest::newRow("colon") << u"a:b"_s << false;
    QTest::newRow("unicode e-acute") << u"caf\u00e9"_s << false;
    QTest::newRow("unicode fullwidth a") << u"\uff41bc"_s << false;
    QTest::newRow("64 non-ascii chars") << QString(64, QChar(char16_t(0xe9))) << false;
    QTest::newRow("trailing newline") << u"lobby\n"_s << false;
    QTest::newRow("leading newline") << u"\nlobby"_s << false;
}

void tst_ServerConfig::validateInstanceId()
{
    QFETCH(QString, id);
    QFETCH(bool, valid);

    // Regression: a pattern ending in '$' once accepted "lobby\n" ('$' also matches before a final newline).
    const QString reason = wsserve::validateInstanceId(id);
    QVERIFY2(reason.isEmpty() == valid, qPrintable(u"reason: '"_s + reason + u"'"_s));

    // makeConfig applies the same rule.
    const BehaviourRegistry registry = builtinRegistry();
    InstanceConfig config;
    QString error;
    QCOMPARE(registry.makeConfig(id, u"echo"_s, {}, &config, &error), valid);
    QCOMPARE(error.isEmpty(), valid);
}

// ---------------------------------------------------------------------------------------------------------------
// builtinRegistry().makeConfig

void tst_ServerConfig::makeConfigDefaults()
{
    const BehaviourRegistry registry = builtinRegistry();
    const QStringList expectedTypes{u"echo"_s, u"chat"_s, u"relay"_s, u"tictactoe"_s, u"chaos"_s};
    for (const QString &type : expectedTypes) {
        QVERIFY2(registry.find(type), qPrintable(type));
    }

    InstanceConfig config;
    QString error;
    QVERIFY2(registry.makeConfig(u"lobby"_s, u"chat"_s, {}, &config, &error), qPrintable(error));
    QVERIFY(error.isEmpty());
    QCOMPARE(config.id, u"lobby"_s);
    QCOMPARE(config.type, u"chat"_s);
    QCOMPARE(config.intOption(u"max_frame_bytes"_s), 1048576);
    QCOMPARE(config.intOption(u"idle_timeout_ms"_s), 60000);
    QCOMPARE(config.intOption(u"max_channels"_s), 100);
    QCOMPARE(config.intOption(u"watchdog_ms"_s), 5000);
    QVERIFY(config.options.contains(u"max_clients"_s));
    QVERIFY(config.options.contains(u"max_restarts"_s));
    QVERIFY(config.options.contains(u"presence"_s));
    QCOMPARE(config.boolOption(u"presence"_s), true);

    // Common defaults apply to every type; type-specific options only to their type.
    for (const QString &type : expectedTypes) {
        InstanceConfig typed;
        QVERIFY2(registry.makeConfig(u"i"_s, type, {}, &typed, &error), qPrintable(error));
        QCOMPARE(typed.intOption(u"max_frame_bytes"_s), 1048576);
        QCOMPARE(typed.intOption(u"idle_timeout_ms"_s), 60000);
        QCOMPARE(typed.intOption(u"max_channels"_s), 100);
        QCOMPARE(typed.intOption(u"watchdog_ms"_s), 5000);
        QCOMPARE(typed.options.contains(u"presence"_s), type == u"chat" || type == u"relay");
    }
}

void tst_ServerConfig::makeConfigOptions_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QVariantMap>("raw");
    QTest::addColumn<QString>("option");
    QTest::addColumn<QVariant>("expected");

    QTest::newRow("presence=false string")
        << u"chat"_s << QVariantMap{{u"presence"_s, u"false"_s}} << u"presence"_s << QVariant(false);
    QTest::newRow("presence=FALSE string")
        << u"chat"_s << QVariantMap{{u"presence"_s, u"FALSE"_s}} << u"presence"_s << QVariant(false);
    QTest::newRow("presence=0 string") << u"relay"_s << QVariantMap{{u"presence"_s, u"0"_s}} << u"presence"_s
                                       << QVariant(false);
    QTest::newRow("presence=true string")
        << u"chat"_s << QVariantMap{{u"presence"_s, u"true"_s}} << u"presence"_s << QVariant(true);
    QTest::newRow("presence JSON false") << u"chat"_s << QVariantMap{{u"presence"_s, false}} << u"presence"_s
                                         << QVariant(false);
    QTest::newRow("max_clients string") << u"echo"_s << QVariantMap{{u"max_clients"_s, u"50"_s}} << u"max_clients"_s
                                        << QVariant(qint64(50));
    QTest::newRow("max_clients string with spaces")
        << u"echo"_s << QVariantMap{{u"max_clients"_s, u" 50 "_s}} << u"max_clients"_s << QVariant(qint64(50));
    QTest::newRow("max_clients JSON number")
        << u"echo"_s << QVariantMap{{u"max_clients"_s, 50.0}} << u"max_clients"_s << QVariant(qint64(50));
    QTest::newRow("max_clients JSON integer")
        << u"echo"_s << QVariantMap{{u"max_clients"_s, qlonglong(50)}} << u"max_clients"_s << QVariant(qint64(50));
    QTest::newRow("watchdog_ms from spec")
        << u"chaos"_s << QVariantMap{{u"watchdog_ms"_s, u"1000"_s}} << u"watchdog_ms"_s << QVariant(qint64(1000));
    QTest::newRow("max_restarts 0 allowed")
        << u"chaos"_s << QVariantMap{{u"max_restarts"_s, u"0"_s}} << u"max_restarts"_s << QVariant(qint64(0));
}

void tst_ServerConfig::makeConfigOptions()
{
    QFETCH(QString, type);
    QFETCH(QVariantMap, raw);
    QFETCH(QString, option);
    QFETCH(QVariant, expected);

    const BehaviourRegistry registry = builtinRegistry();
    InstanceConfig config;
    QString error;
    QVERIFY2(registry.makeConfig(u"inst"_s, type, raw, &config, &error), qPrintable(error));
    const QVariant actual = config.options.value(option);
    if (expected.typeId() == QMetaType::Bool) {
        QCOMPARE(actual.typeId(), int(QMetaType::Bool));
        QCOMPARE(actual.toBool(), expected.toBool());
    } else {
        bool isInt = false;
        const qint64 value = actual.toLongLong(&isInt);
        QVERIFY2(isInt, actual.typeName());
        QCOMPARE(value, expected.toLongLong());
        QCOMPARE(config.intOption(option), expected.toLongLong());
    }
    // Options not given keep their defaults.
    if (option != u"watchdog_ms") {
        QCOMPARE(config.intOption(u"watchdog_ms"_s), 5000);
    }
}

void tst_ServerConfig::makeConfigErrors_data()
{
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("type");
    QTest::addColumn<QVariantMap>("raw");
    QTest::addColumn<QStringList>("errorMentions");

    const QStringList knownTypes{u"echo"_s, u"chat"_s, u"relay"_s, u"tictactoe"_s, u"chaos"_s};
    QTest::newRow("unknown type") << u"a"_s << u"nosuchtype"_s << QVariantMap{}
                                  << (QStringList{u"nosuchtype"_s} + knownTypes);
    QTest::newRow("type is case-sensitive") << u"a"_s << u"Chat"_s << QVariantMap{} << QStringList{u"Chat"_s};
    QTest::newRow("unknown option") << u"a"_s << u"chat"_s << QVariantMap{{u"colour"_s, u"red"_s}}
                                    << QStringList{u"colour"_s};
    QTest::newRow("presence on echo is unknown")
        << u"a"_s << u"echo"_s << QVariantMap{{u"presence"_s, u"true"_s}} << QStringList{u"presence"_s};
    QTest::newRow("max_clients=abc") << u"a"_s << u"chat"_s << QVariantMap{{u"max_clients"_s, u"abc"_s}}
                                     << QStringList{u"max_clients"_s, u"abc"_s};
    QTest::newRow("max_clients=1.5") << u"a"_s << u"chat"_s << QVariantMap{{u"max_clients"_s, 1.5}}
                                     << QStringList{u"max_clients"_s};
    QTest::newRow("max_clients empty") << u"a"_s << u"chat"_s << QVariantMap{{u"max_clients"_s, u""_s}}
                                       << QStringList{u"max_clients"_s};
    QTest::newRow("max_clients JSON bool")
        << u"a"_s << u"chat"_s << QVariantMap{{u"max_clients"_s, true}} << QStringList{u"max_clients"_s};
    QTest::newRow("presence=maybe") << u"a"_s << u"chat"_s << QVariantMap{{u"presence"_s, u"maybe"_s}}
                                    << QStringList{u"presence"_s, u"maybe"_s};
    QTest::newRow("presence JSON number")
        << u"a"_s << u"chat"_s << QVariantMap{{u"presence"_s, 1.0}} << QStringList{u"presence"_s};
    QTest::newRow("max_clients=-5 out of range")
        << u"a"_s << u"chat"_s << QVariantMap{{u"max_clients"_s, u"-5"_s}} << QStringList{u"max_clients"_s};
    QTest::newRow("max_clients=0 out of range")
        << u"a"_s << u"chat"_s << QVariantMap{{u"max_clients"_s, u"0"_s}} << QStringList{u"max_clients"_s};
    QTest::newRow("max_clients huge") << u"a"_s << u"chat"_s << QVariantMap{{u"max_clients"_s, u"99999999999"_s}}
                                      << QStringList{u"max_clients"_s};
    QTest::newRow("max_clients JSON 1e30")
        << u"a"_s << u"chat"_s << QVariantMap{{u"max_clients"_s, 1e30}} << QStringList{u"max_clients"_s};
    QTest::newRow("max_frame_bytes=0") << u"a"_s << u"echo"_s << QVariantMap{{u"max_frame_bytes"_s, u"0"_s}}
                                       << QStringList{u"max_frame_bytes"_s};
    QTest::newRow("max_channels=0") << u"a"_s << u"echo"_s << QVariantMap{{u"max_channels"_s, u"0"_s}}
                                    << QStringList{u"max_channels"_s};
    QTest::newRow("watchdog_ms=0") << u"a"_s << u"echo"_s << QVariantMap{{u"watchdog_ms"_s, u"0"_s}}
                                   << QStringList{u"watchdog_ms"_s};
    QTest::newRow("idle_timeout_ms=-1") << u"a"_s << u"echo"_s << QVariantMap{{u"idle_timeout_ms"_s, u"-1"_s}}
                                        << QStringList{u"idle_timeout_ms"_s};
    QTest::newRow("max_restarts=-1") << u"a"_s << u"echo"_s << QVariantMap{{u"max_restarts"_s, -1.0}}
                                     << QStringList{u"max_restarts"_s};
    QTest::newRow("invalid id") << u"bad id"_s << u"chat"_s << QVariantMap{} << QStringList{u"bad id"_s};
}

void tst_ServerConfig::makeConfigErrors()
{
    QFETCH(QString, id);
    QFETCH(QString, type);
    QFETCH(QVariantMap, raw);
    QFETCH(QStringList, errorMentions);

    const BehaviourRegistry registry = builtinRegistry();
    InstanceConfig config;
    config.id = u"untouched"_s;
    QString error;
    QVERIFY(!registry.makeConfig(id, type, raw, &config, &error));
    QVERIFY(!error.isEmpty());
    for (const QString &word : errorMentions) {
        QVERIFY2(error.contains(word), qPrintable(u"'"_s + word + u"' not in: "_s + error));
    }
    QCOMPARE(config.id, u"untouched"_s);
}

// ---------------------------------------------------------------------------------------------------------------
// admin_hosts / --admin-host

void tst_ServerConfig::adminHosts()
{
    ServerConfig config;
    QString error;
    QVERIFY2(parseServerConfigJson(R"({"admin_hosts": ["Admin.Example.", "ops-1.internal", "10.0.0.5", "[::1]"]})",
                                   &config, &error),
             qPrintable(error));
    QCOMPARE(config.adminHosts, (QStringList{u"admin.example"_s, u"ops-1.internal"_s, u"10.0.0.5"_s, u"::1"_s}));
    QVERIFY2(parseServerConfigJson(R"({"admin_hosts": []})", &config, &error), qPrintable(error));
    QVERIFY(config.adminHosts.isEmpty());
    ServerConfig defaults;
    QVERIFY(defaults.adminHosts.isEmpty());
}

void tst_ServerConfig::adminHostProblems_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("problem");
    QTest::newRow("empty") << u"  "_s << u"empty"_s;
    QTest::newRow("port") << u"a.test:80"_s << u"without a port"_s;
    QTest::newRow("scheme") << u"http://a.test"_s << u"scheme"_s;
    QTest::newRow("path") << u"a.test/x"_s << u"path"_s;
    QTest::newRow("wildcard") << u"*.a.test"_s << u"wildcards"_s;
    QTest::newRow("space") << u"a test"_s << u"not a host name"_s;
    QTest::newRow("empty label") << u"a..test"_s << u"not a host name"_s;
    QTest::newRow("leading dash") << u"-a.test"_s << u"not a host name"_s;
    QTest::newRow("underscore") << u"a_b.test"_s << u"not a host name"_s;
    QTest::newRow("long label") << QString(64, u'a') << u"not a host name"_s;
    QTest::newRow("control") << u"a\r\nb"_s << u"not a host name"_s;
}

void tst_ServerConfig::adminHostProblems()
{
    QFETCH(QString, text);
    QFETCH(QString, problem);
    QString normalized = u"untouched"_s;
    const QString found = adminHostProblem(text, &normalized);
    QVERIFY2(found.contains(problem), qPrintable(found));
    QCOMPARE(normalized, u"untouched"_s);
}

QTEST_GUILESS_MAIN(tst_ServerConfig)
#include "tst_serverconfig.moc"
