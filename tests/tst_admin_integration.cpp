// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Integration: the admin HTTP API over real HTTP (QNetworkAccessManager) against an in-process server,
// with real Phoenix clients where an endpoint affects them.

#include "adminserver.h"
#include "phoenixtestclient.h"
#include "testserver.h"

#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {
struct HttpResult {
    int status = 0;
    QByteArray body;
    QJsonValue json;
    QByteArray header(const QByteArray &name) const { return headers.value(name.toLower()); }
    QHash<QByteArray, QByteArray> headers;
};
} // namespace

class tst_AdminIntegration : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<AdminServer> m_admin;
    QNetworkAccessManager m_network;
    QByteArray m_token;

    HttpResult request(const QByteArray &method, const QString &path, const QByteArray &body = {},
                       const QByteArray &token = {})
    {
        QNetworkRequest req(QUrl(u"http://127.0.0.1:%1%2"_s.arg(m_admin->port()).arg(path)));
        req.setHeader(QNetworkRequest::ContentTypeHeader, u"application/json"_s);
        if (!token.isEmpty()) {
            req.setRawHeader("Authorization", "Bearer " + token);
        }
        QNetworkReply *reply = m_network.sendCustomRequest(req, method, body);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        HttpResult result;
        if (!reply->isFinished() && !finished.wait(15000)) {
            reply->deleteLater();
            return result;
        }
        result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        result.body = reply->readAll();
        for (const auto &[name, value] : reply->rawHeaderPairs()) {
            result.headers.insert(name.toLower(), value);
        }
        const QJsonDocument document = QJsonDocument::fromJson(result.body);
        result.json = document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object());
        reply->deleteLater();
        return result;
    }

    void startAdmin(const QByteArray &token)
    {
        m_token = token;
        m_admin = std::make_unique<AdminServer>(m_server->controller(), QString::fromUtf8(token));
        QString error;
        QVERIFY2(m_admin->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
    }

private slots:
    void init()
    {
        m_server = std::make_unique<TestServer>();
        QVERIFY(m_server->start());
        QVERIFY(m_server->addInstance(u"lobby"_s, u"chat"_s));
        startAdmin({});
    }
    void cleanup()
    {
        m_admin.reset();
        m_server.reset();
    }

    void listsTypesAndInstances()
    {
        const HttpResult types = request("GET", u"/api/types"_s);
        QCOMPARE(types.status, 200);
        QCOMPARE(types.header("content-type"), QByteArray("application/json"));
        QStringList names;
        for (const QJsonValue &type : types.json.toArray()) {
            names.append(type["name"_L1].toString());
            QVERIFY(!type["description"_L1].toString().isEmpty());
        }
        QCOMPARE(names, (QStringList{u"echo"_s, u"chat"_s, u"relay"_s, u"tictactoe"_s, u"chaos"_s}));
        const QJsonArray chatOptions = types.json[1]["options"_L1].toArray();
        QVERIFY(std::any_of(chatOptions.begin(), chatOptions.end(), [](const QJsonValue &o) {
            return o["name"_L1] == u"presence"_s && o["type"_L1] == u"bool"_s && o["default"_L1] == true;
        }));

        const HttpResult list = request("GET", u"/api/instances"_s);
        QCOMPARE(list.status, 200);
        QCOMPARE(list.json.toArray().size(), 1);
        const QJsonValue lobby = list.json[0];
        QCOMPARE(lobby["id"_L1].toString(), u"lobby"_s);
        QCOMPARE(lobby["type"_L1].toString(), u"chat"_s);
        QCOMPARE(lobby["state"_L1].toString(), u"Running"_s);
        QCOMPARE(lobby["options"_L1]["max_frame_bytes"_L1].toInt(), 1048576);
        for (const char *key : {"clients", "messages_in", "messages_out", "restarts", "uptime_s"}) {
            QVERIFY2(lobby[QLatin1String(key)].isDouble(), key);
        }
        QCOMPARE(request("GET", u"/api/instances/lobby"_s).json["id"_L1].toString(), u"lobby"_s);
        QCOMPARE(request("GET", u"/api/instances/nope"_s).status, 404);
    }

    void createValidatesInput_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("field");
        QTest::newRow("ok") << QByteArray(R"({"id":"room1","type":"relay","options":{"max_clients":5}})") << 201
                            << QString();
        QTest::newRow("taken") << QByteArray(R"({"id":"lobby","type":"chat"})") << 409 << u"id"_s;
        QTest::newRow("unknown type") << QByteArray(R"({"id":"x","type":"poker"})") << 422 << u"type"_s;
        QTest::newRow("bad id") << QByteArray(R"({"id":"a b","type":"echo"})") << 400 << u"id"_s;
        QTest::newRow("id not string") << QByteArray(R"({"id":5,"type":"echo"})") << 400 << u"id"_s;
        QTest::newRow("missing type") << QByteArray(R"({"id":"x"})") << 400 << u"type"_s;
        QTest::newRow("options not object")
            << QByteArray(R"({"id":"x","type":"echo","options":[]})") << 400 << u"options"_s;
        QTest::newRow("bad option") << QByteArray(R"({"id":"x","type":"echo","options":{"max_clients":"many"}})") << 400
                                    << u"options"_s;
        QTest::newRow("unknown field") << QByteArray(R"({"id":"x","type":"echo","colour":1})") << 400 << u"colour"_s;
        QTest::newRow("malformed") << QByteArray(R"({"id":"x",)") << 400 << QString();
        QTest::newRow("not an object") << QByteArray(R"([1,2])") << 400 << QString();
    }
    void createValidatesInput()
    {
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, field);
        const HttpResult result = request("POST", u"/api/instances"_s, body);
        QCOMPARE(result.status, status);
        if (status == 201) {
            QCOMPARE(result.json["id"_L1].toString(), u"room1"_s);
            QCOMPARE(result.json["options"_L1]["max_clients"_L1].toInt(), 5);
            QVERIFY(m_server->waitForState(u"room1"_s, InstanceState::Running));
            PhoenixTestClient client;
            QVERIFY(client.open(m_server->url(u"room1"_s)));
            return;
        }
        QVERIFY2(!result.json["error"_L1].toString().isEmpty(), result.body.constData());
        QCOMPARE(result.json["field"_L1].toString(), field);
        if (QTest::currentDataTag() == QByteArray("malformed")) {
            QVERIFY(result.json["error"_L1].toString().contains(u"offset 10"_s));
        }
    }

    void lifecycleEndpoints()
    {
        PhoenixTestClient client;
        QVERIFY(client.open(m_server->url(u"lobby"_s)));
        HttpResult stop = request("POST", u"/api/instances/lobby/stop"_s);
        QCOMPARE(stop.status, 200);
        QVERIFY(client.waitForDisconnected());
        QVERIFY(m_server->waitForState(u"lobby"_s, InstanceState::Stopped));
        QCOMPARE(request("GET", u"/api/instances/lobby"_s).json["state"_L1].toString(), u"Stopped"_s);
        QCOMPARE(request("POST", u"/api/instances/lobby/start"_s).status, 200);
        QVERIFY(m_server->waitForState(u"lobby"_s, InstanceState::Running));
        QCOMPARE(request("POST", u"/api/instances/lobby/start"_s).status, 409); // already running
        QCOMPARE(request("POST", u"/api/instances/lobby/restart"_s).status, 200);
        QVERIFY(m_server->waitForState(u"lobby"_s, InstanceState::Running));
        QTRY_COMPARE(request("GET", u"/api/instances/lobby"_s).json["restarts"_L1].toInt(), 1);
        QCOMPARE(request("GET", u"/api/instances/lobby/restart"_s).status, 405);
        QCOMPARE(request("POST", u"/api/instances/lobby/explode"_s).status, 404);
        const HttpResult removed = request("DELETE", u"/api/instances/lobby"_s);
        QCOMPARE(removed.status, 200);
        QTRY_VERIFY(!m_server->controller().instanceIds().contains(u"lobby"_s));
        QCOMPARE(request("DELETE", u"/api/instances/lobby"_s).status, 404);
    }

    void clientsAndKick()
    {
        PhoenixTestClient a;
        PhoenixTestClient b;
        QVERIFY(a.open(m_server->url(u"lobby"_s)) && b.open(m_server->url(u"lobby"_s)));
        const QString ref = a.join(u"room:1"_s);
        QVERIFY(a.waitForReply(u"room:1"_s, ref));
        HttpResult clients;
        QTRY_VERIFY_WITH_TIMEOUT((clients = request("GET", u"/api/instances/lobby/clients"_s)).json.toArray().size() ==
                                         2 &&
                                     clients.json[0]["topics"_L1].toArray().size() == 1,
                                 10000);
        QCOMPARE(clients.json[0]["id"_L1].toString(), u"1"_s);
        QCOMPARE(clients.json[0]["topics"_L1][0].toString(), u"room:1"_s);
        QCOMPARE(clients.json[0]["wire_format"_L1].toString(), u"V2"_s);
        QCOMPARE(clients.json[0]["remote_address"_L1].toString(), u"127.0.0.1"_s);
        QVERIFY(clients.json[0]["messages_in"_L1].toInt() >= 1);
        QCOMPARE(request("DELETE", u"/api/instances/lobby/clients/99"_s).status, 404);
        QCOMPARE(request("DELETE", u"/api/instances/lobby/clients/abc"_s).status, 404);
        QCOMPARE(request("DELETE", u"/api/instances/lobby/clients/2?reason=cheating"_s).status, 200);
        QVERIFY(b.waitForDisconnected());
        QCOMPARE(b.closeCode(), 1008);
        QCOMPARE(b.closeReason(), u"cheating"_s);
        QVERIFY(a.isConnected());
    }

    void broadcastReachesClients()
    {
        PhoenixTestClient client;
        QVERIFY(client.open(m_server->url(u"lobby"_s)));
        const QString ref = client.join(u"room:1"_s);
        QVERIFY(client.waitForReply(u"room:1"_s, ref));
        const HttpResult sent = request("POST", u"/api/instances/lobby/broadcast"_s,
                                        R"({"topic":"room:1","event":"announce","payload":{"round":2}})");
        QCOMPARE(sent.status, 202);
        const auto frame = client.waitFor([](const ReceivedFrame &f) { return f.event() == u"announce"; });
        QVERIFY(frame);
        QCOMPARE(frame->raw, QByteArray(R"([null,null,"room:1","announce",{"round":2}])"));
        QCOMPARE(request("POST", u"/api/instances/lobby/broadcast"_s, R"({"event":"x"})").json["field"_L1].toString(),
                 u"topic"_s);
        QCOMPARE(
            request("POST", u"/api/instances/lobby/broadcast"_s, R"({"topic":"t","event":"x","payload":3})").status,
            400);
        QCOMPARE(request("POST", u"/api/instances/nope/broadcast"_s, R"({"topic":"t","event":"x"})").status, 404);
    }

    void healthReflectsFailedInstances()
    {
        const HttpResult ok = request("GET", u"/healthz"_s);
        QCOMPARE(ok.status, 200);
        QCOMPARE(ok.json["status"_L1].toString(), u"ok"_s);
        QVERIFY(m_server->addInstance(u"c"_s, u"chaos"_s, {{u"max_restarts"_s, 0}}));
        PhoenixTestClient client;
        QVERIFY(client.open(m_server->url(u"c"_s)));
        const QString ref = client.join(u"r"_s);
        QVERIFY(client.waitForReply(u"r"_s, ref));
        client.sendV2(ref, u"9"_s, u"r"_s, u"fail"_s, QJsonObject{{u"reason"_s, u"broken"_s}});
        QVERIFY(m_server->waitForState(u"c"_s, InstanceState::Failed));
        const HttpResult failing = request("GET", u"/healthz"_s);
        QCOMPARE(failing.status, 503);
        QVERIFY(failing.json["reason"_L1].toString().contains(u"c"_s));
        QCOMPARE(request("POST", u"/healthz"_s).status, 405);
    }

    void metricsMoveAndParse()
    {
        const auto sample = [this](const QByteArray &name) {
            const QByteArray text = request("GET", u"/metrics"_s).body;
            const QRegularExpression line(
                QString::fromLatin1("^" + name + R"(\{instance="lobby",type="chat"\} (\S+)$)"),
                QRegularExpression::MultilineOption);
            const auto match = line.match(QString::fromUtf8(text));
            return match.hasMatch() ? match.captured(1).toDouble() : -1.0;
        };
        QCOMPARE(sample("wsserve_messages_received_total"), 0.0);
        PhoenixTestClient client;
        QVERIFY(client.open(m_server->url(u"lobby"_s)));
        const QString ref = client.join(u"room:1"_s);
        QVERIFY(client.waitForReply(u"room:1"_s, ref));
        client.sendV2(ref, u"5"_s, u"room:1"_s, u"shout"_s, QJsonObject{{u"a"_s, 1}});
        QVERIFY(client.waitForReply(u"room:1"_s, u"5"_s));
        QTRY_COMPARE(sample("wsserve_messages_received_total"), 2.0);
        QTRY_COMPARE(sample("wsserve_connections"), 1.0);
        QTRY_COMPARE(sample("wsserve_joins_total"), 1.0);
        QVERIFY(sample("wsserve_broadcasts_total") >= 1.0);
        QVERIFY(sample("wsserve_sent_bytes_total") > 0.0);

        // The exposition is valid Prometheus text: HELP and TYPE before each family's samples, names
        // and labels well formed, values numeric.
        const HttpResult metrics = request("GET", u"/metrics"_s);
        QVERIFY(metrics.header("content-type").startsWith("text/plain; version=0.0.4"));
        const QRegularExpression sampleLine(
            QStringLiteral("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(\\\\.|[^\"\\\\])*\",?)*\\})? "
                           "(-?[0-9.eE+-]+|NaN|[+-]Inf)$"));
        QSet<QString> typed;
        int samples = 0;
        for (const QByteArray &raw : metrics.body.split('\n')) {
            const QString text = QString::fromUtf8(raw);
            if (text.isEmpty()) {
                continue;
            }
            if (text.startsWith(u"# TYPE ")) {
                const QStringList parts = text.split(u' ');
                QCOMPARE(parts.size(), 4);
                QVERIFY(QStringList({u"counter"_s, u"gauge"_s}).contains(parts.at(3)));
                QVERIFY2(!typed.contains(parts.at(2)), qPrintable(text));
                typed.insert(parts.at(2));
                if (parts.at(3) == u"counter") {
                    QVERIFY2(parts.at(2).endsWith(u"_total"), qPrintable(text));
                }
                continue;
            }
            if (text.startsWith(u"# HELP ")) {
                continue;
            }
            const auto match = sampleLine.match(text);
            QVERIFY2(match.hasMatch(), qPrintable(text));
            QVERIFY2(typed.contains(match.captured(1)), qPrintable(text));
            ++samples;
        }
        QVERIFY(typed.contains(u"wsserve_process_resident_memory_bytes"_s));
        QVERIFY(samples > 10);
    }

    void protocolErrors()
    {
        QCOMPARE(request("GET", u"/nope"_s).status, 404);
        QCOMPARE(request("PUT", u"/api/instances"_s).status, 405);
        QCOMPARE(request("PUT", u"/api/instances"_s).header("allow"), QByteArray("GET, POST"));
        QCOMPARE(request("POST", u"/metrics"_s).status, 405);
        const HttpResult big = request("POST", u"/api/instances"_s, QByteArray(AdminServer::kMaxBodyBytes + 10, ' '));
        QCOMPARE(big.status, 413);
        // The server still answers after all that.
        QCOMPARE(request("GET", u"/healthz"_s).status, 200);
    }

    void tokenIsRequiredWhenSet()
    {
        m_admin.reset();
        startAdmin("s3cret-token");
        const HttpResult missing = request("GET", u"/api/instances"_s);
        QCOMPARE(missing.status, 401);
        QVERIFY(missing.header("www-authenticate").startsWith("Bearer"));
        QCOMPARE(request("GET", u"/api/instances"_s, {}, "wrong").status, 401);
        QCOMPARE(request("GET", u"/api/instances"_s, {}, "s3cret-token-longer").status, 401);
        QCOMPARE(request("GET", u"/api/instances"_s, {}, "s3cret-token").status, 200);
        QCOMPARE(request("GET", u"/metrics"_s, {}, "s3cret-token").status, 200);
    }

    void nonLoopbackNeedsToken()
    {
        AdminServer open(m_server->controller(), QString());
        QString error;
        QVERIFY(!open.listen(QHostAddress::AnyIPv4, 0, &error));
        QVERIFY2(error.contains(u"--admin-token"_s), qPrintable(error));
        AdminServer guarded(m_server->controller(), u"t"_s);
        QVERIFY2(guarded.listen(QHostAddress::AnyIPv4, 0, &error), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(tst_AdminIntegration)
#include "tst_admin_integration.moc"
