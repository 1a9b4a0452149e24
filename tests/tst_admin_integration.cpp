// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Integration: the admin HTTP API over real HTTP (QNetworkAccessManager) against an in-process server,
// with real Phoenix clients where an endpoint affects them.

#include "admingate.h"
#include "adminserver.h"
#include "auth/jwt.h"
#include "phoenixtestclient.h"
#include "testserver.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
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

// A raw HTTP/1.1 client on one connection, so a test controls every header byte (as a browser page
// or a hostile client would send them) and sees every response on the connection.
class RawClient
{
public:
    explicit RawClient(quint16 port) { m_socket.connectToHost(QHostAddress::LocalHost, port); }
    QTcpSocket &socket() { return m_socket; }
    bool waitConnected()
    {
        return QTest::qWaitFor([this] { return m_socket.state() == QAbstractSocket::ConnectedState; }, 10000);
    }
    void send(const QByteArray &bytes) { m_socket.write(bytes); }
    // Waits for the next complete response (head plus Content-Length body).
    HttpResult next(int timeoutMs = 10000)
    {
        HttpResult result;
        qsizetype end = -1;
        qsizetype length = 0;
        const auto complete = [&] {
            m_buffer += m_socket.readAll();
            end = m_buffer.indexOf("\r\n\r\n");
            if (end < 0) {
                return false;
            }
            result.headers.clear();
            const QList<QByteArray> lines = m_buffer.left(end).split('\n');
            for (qsizetype i = 1; i < lines.size(); ++i) {
                const qsizetype colon = lines.at(i).indexOf(':');
                result.headers.insert(lines.at(i).left(colon).trimmed().toLower(),
                                      lines.at(i).mid(colon + 1).trimmed());
            }
            length = result.header("content-length").toLongLong();
            return m_buffer.size() >= end + 4 + length;
        };
        if (!QTest::qWaitFor(complete, timeoutMs)) {
            return result;
        }
        if (m_buffer.startsWith("HTTP/1.1 ")) {
            result.status = m_buffer.mid(9, 3).toInt();
        }
        result.body = m_buffer.mid(end + 4, length);
        m_buffer.remove(0, end + 4 + length);
        const QJsonDocument document = QJsonDocument::fromJson(result.body);
        result.json = document.isArray() ? QJsonValue(document.array()) : QJsonValue(document.object());
        return result;
    }
    bool waitClosed(int timeoutMs = 10000)
    {
        return QTest::qWaitFor(
            [this] {
                m_buffer += m_socket.readAll();
                return m_socket.state() == QAbstractSocket::UnconnectedState;
            },
            timeoutMs);
    }
    QByteArray leftover() const { return m_buffer; }

private:
    QTcpSocket m_socket;
    QByteArray m_buffer;
};

// Every log line while a test runs (to prove secrets and tokens never reach the log). Instance threads
// log too: the list is guarded.
QMutex g_logMutex;
QStringList g_logLines;
QtMessageHandler g_previousHandler = nullptr;
void captureLog(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    {
        const QMutexLocker lock(&g_logMutex);
        g_logLines.append(message);
    }
    if (g_previousHandler) {
        g_previousHandler(type, context, message);
    }
}

const QString kPlayerSecret = u"player-secret-3f9a1c"_s;

QByteArray post(const QByteArray &path, const QByteArray &headers, const QByteArray &body)
{
    return "POST " + path + " HTTP/1.1\r\n" + headers + "Content-Length: " + QByteArray::number(body.size()) +
           "\r\n\r\n" + body;
}
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

    QByteArray hostLine() const { return "Host: 127.0.0.1:" + QByteArray::number(m_admin->port()) + "\r\n"; }
    QByteArray ownOrigin() const { return "http://127.0.0.1:" + QByteArray::number(m_admin->port()); }

    // One request on a fresh raw connection.
    HttpResult raw(const QByteArray &bytes)
    {
        RawClient client(m_admin->port());
        client.send(bytes);
        return client.next();
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

    void scriptTypesInTheTypeList()
    {
        QTemporaryDir types;
        QFile good(types.filePath(u"counter.js"_s));
        QVERIFY(good.open(QIODevice::WriteOnly));
        good.write("export default { options: { step: { type: \"int\", default: 1, min: 1, max: 9 } },\n"
                   "  join() { return true; }, handleIn(channel) { channel.replyOk(); } };\n");
        good.close();
        QFile bad(types.filePath(u"broken.js"_s));
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write("export default {\n  join() {},\n};\n");
        bad.close();
        m_server->controller().setTypeDirectories({types.path()});
        const HttpResult list = request("GET", u"/api/types"_s);
        QCOMPARE(list.status, 200);
        QJsonObject counter, broken;
        for (const QJsonValue &type : list.json.toArray()) {
            if (type["name"_L1] == u"counter"_s) {
                counter = type.toObject();
            } else if (type["name"_L1] == u"broken"_s) {
                broken = type.toObject();
            } else {
                QCOMPARE(type["source"_L1].toString(), u"builtin"_s);
            }
        }
        QCOMPARE(counter["source"_L1].toString(), u"script"_s);
        QCOMPARE(counter["path"_L1].toString(), types.filePath(u"counter.js"_s));
        QVERIFY(counter["loaded"_L1].toBool());
        QVERIFY(!counter.contains(u"error"_s));
        const QJsonArray options = counter["options"_L1].toArray();
        QVERIFY(std::any_of(options.begin(), options.end(),
                            [](const QJsonValue &o) { return o["name"_L1] == u"step"_s && o["maximum"_L1] == 9; }));
        QVERIFY(!broken["loaded"_L1].toBool());
        QVERIFY2(broken["error"_L1].toString().contains(u"broken.js:1: missing callback 'handleIn'"_s),
                 qPrintable(broken["error"_L1].toString()));
        // Creating an instance of it over the API names the problem.
        const HttpResult refused = request("POST", u"/api/instances"_s, R"({"id":"b","type":"broken"})");
        QVERIFY2(refused.status >= 400 && refused.json["error"_L1].toString().contains(u"does not load"_s),
                 refused.body.constData());
        m_server->controller().setTypeDirectories({});
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
        QCOMPARE(names, (QStringList{u"echo"_s, u"chat"_s, u"relay"_s, u"tictactoe"_s, u"chaos"_s, u"realtime"_s}));
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

    // The facade's refusal kinds, as statuses: the admin API does not check ids or states itself.
    void commandRefusalsMapToStatus()
    {
        QCOMPARE(request("POST", u"/api/instances/nope/start"_s).status, 404);
        QCOMPARE(request("POST", u"/api/instances/nope/stop"_s).status, 404);
        QCOMPARE(request("DELETE", u"/api/instances/nope/clients/1"_s).status, 404);
        QCOMPARE(request("GET", u"/api/instances/nope/clients"_s).status, 404);
        QCOMPARE(request("POST", u"/api/instances/lobby/stop"_s).status, 200);
        QVERIFY(m_server->waitForState(u"lobby"_s, InstanceState::Stopped));
        const HttpResult notRunning =
            request("POST", u"/api/instances/lobby/broadcast"_s, R"({"topic":"t","event":"x"})");
        QCOMPARE(notRunning.status, 409);
        QVERIFY(notRunning.json["error"_L1].toString().contains(u"not running"_s));
        QCOMPARE(request("DELETE", u"/api/instances/lobby/clients/1"_s).status, 404); // a stopped instance has none
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
        QVERIFY(clients.json[0]["id"_L1].toString().toULongLong() > 0); // unique for the process, not per instance
        QVERIFY(clients.json[0].toObject().contains(u"name"_s));        // the presence key, join or token name
        QCOMPARE(clients.json[0]["transport"_L1].toString(), u"websocket"_s);
        QCOMPARE(clients.json[0]["topics"_L1][0].toString(), u"room:1"_s);
        QCOMPARE(clients.json[0]["wire_format"_L1].toString(), u"V2"_s);
        QCOMPARE(clients.json[0]["remote_address"_L1].toString(), u"127.0.0.1"_s);
        QVERIFY(clients.json[0]["messages_in"_L1].toInt() >= 1);
        QCOMPARE(request("DELETE", u"/api/instances/lobby/clients/999999999"_s).status, 404);
        QCOMPARE(request("DELETE", u"/api/instances/lobby/clients/abc"_s).status, 404);
        const QString bId = clients.json[1]["id"_L1].toString(); // b connected second: the list is in id order
        QCOMPARE(request("DELETE", u"/api/instances/lobby/clients/%1?reason=cheating"_s.arg(bId)).status, 200);
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

    // A web page's "simple" cross-site requests (no preflight): text/plain and form bodies, no body.
    void crossSiteRequestsAreRefused()
    {
        const QByteArray evil = "Origin: https://evil.example\r\n";
        const HttpResult create = raw(post("/api/instances", hostLine() + evil + "Content-Type: text/plain\r\n",
                                           R"({"id":"pwned","type":"echo","options":{"check_origin":"any"}})"));
        QCOMPARE(create.status, 403);
        QVERIFY2(create.json["error"_L1].toString().contains(u"https://evil.example"_s), create.body.constData());
        // Even with the right content type: the Origin alone decides.
        QCOMPARE(raw(post("/api/instances", hostLine() + evil + "Content-Type: application/json\r\n",
                          R"({"id":"pwned","type":"echo"})"))
                     .status,
                 403);
        QVERIFY(!m_server->controller().instanceIds().contains(u"pwned"_s));
        QCOMPARE(request("GET", u"/api/instances"_s).json.toArray().size(), 1);

        QCOMPARE(raw(post("/api/instances/lobby/stop", hostLine() + evil, {})).status, 403);
        QCOMPARE(m_server->controller().instance(u"lobby"_s).state, InstanceState::Running);

        PhoenixTestClient client;
        QVERIFY(client.open(m_server->url(u"lobby"_s)));
        const QString ref = client.join(u"room:1"_s);
        QVERIFY(client.waitForReply(u"room:1"_s, ref));
        const QByteArray form = "topic=room%3A1&event=announce";
        const QByteArray formType = "Content-Type: application/x-www-form-urlencoded\r\n";
        QCOMPARE(raw(post("/api/instances/lobby/broadcast", hostLine() + evil + formType, form)).status, 403);
        const HttpResult noOrigin = raw(post("/api/instances/lobby/broadcast", hostLine() + formType, form));
        QCOMPARE(noOrigin.status, 415);
        QVERIFY2(noOrigin.json["error"_L1].toString().contains(u"application/json"_s), noOrigin.body.constData());
        QCOMPARE(raw(post("/api/instances/lobby/broadcast", hostLine() + "Content-Type: text/plain\r\n",
                          R"({"topic":"room:1","event":"announce"})"))
                     .status,
                 415);
        QVERIFY(!client.waitFor([](const ReceivedFrame &f) { return f.event() == u"announce"; }, 200));
        // The same body as JSON, parameters allowed, reaches the client.
        QCOMPARE(
            raw(post("/api/instances/lobby/broadcast", hostLine() + "Content-Type: Application/JSON; charset=utf-8\r\n",
                     R"({"topic":"room:1","event":"announce"})"))
                .status,
            202);
        QVERIFY(client.waitFor([](const ReceivedFrame &f) { return f.event() == u"announce"; }));
    }

    void preflightFromForeignOriginIsRefused()
    {
        const HttpResult preflight = raw("OPTIONS /api/instances HTTP/1.1\r\n" + hostLine() +
                                         "Origin: https://evil.example\r\nAccess-Control-Request-Method: POST\r\n"
                                         "Access-Control-Request-Headers: content-type\r\n\r\n");
        QCOMPARE(preflight.status, 403);
        QVERIFY(preflight.header("access-control-allow-origin").isEmpty());
        QVERIFY(preflight.header("access-control-allow-methods").isEmpty());
    }

    void sameOriginAndScriptsWork()
    {
        const QByteArray json = "Content-Type: application/json\r\n";
        const HttpResult created = raw(post("/api/instances", hostLine() + "Origin: " + ownOrigin() + "\r\n" + json,
                                            R"({"id":"room2","type":"echo"})"));
        QCOMPARE(created.status, 201);
        QVERIFY(m_server->controller().instanceIds().contains(u"room2"_s));
        const QByteArray port = QByteArray::number(m_admin->port());
        QCOMPARE(raw("GET /api/instances HTTP/1.1\r\nHost: localhost:" + port + "\r\nOrigin: http://localhost:" + port +
                     "\r\n\r\n")
                     .status,
                 200);
        // Our host on another port, another scheme, or an opaque origin is another origin.
        const QList<QByteArray> foreign{"http://127.0.0.1:1", "https://127.0.0.1:" + port, "null",
                                        "http://127.0.0.1:" + port + "/path"};
        for (const QByteArray &origin : foreign) {
            QCOMPARE(raw("GET /api/instances HTTP/1.1\r\n" + hostLine() + "Origin: " + origin + "\r\n\r\n").status,
                     403);
        }
        // No Origin (curl, scripts) and no body: any or no content type.
        QCOMPARE(raw(post("/api/instances/room2/stop", hostLine(), {})).status, 200);
        QCOMPARE(raw(post("/api/instances/room2/start", hostLine() + "Content-Type: text/plain\r\n", {})).status, 200);
    }

    void hostMustNameTheApi()
    {
        const HttpResult rebound =
            raw("GET /api/instances HTTP/1.1\r\nHost: attacker.example:" + QByteArray::number(m_admin->port()) +
                "\r\n\r\n");
        QCOMPARE(rebound.status, 421);
        QVERIFY2(rebound.json["error"_L1].toString().contains(u"attacker.example"_s), rebound.body.constData());
        QVERIFY2(rebound.json["error"_L1].toString().contains(u"--admin-host"_s), rebound.body.constData());
        QCOMPARE(raw("GET /api/instances HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status, 200);
        QCOMPARE(raw("GET /api/instances HTTP/1.1\r\nHost: LOCALHOST\r\n\r\n").status, 200);
        QCOMPARE(raw("GET /api/instances HTTP/1.1\r\nHost: 127.0.0.2\r\n\r\n").status, 421);
        QCOMPARE(raw("GET /api/instances HTTP/1.1\r\nHost: [::1]\r\n\r\n").status, 421); // bound to 127.0.0.1
        QCOMPARE(raw("GET /api/instances HTTP/1.1\r\n\r\n").status, 400);                // HTTP/1.1 needs Host
        QCOMPARE(raw("GET /api/instances HTTP/1.0\r\n\r\n").status, 200);
        // Control characters from the client are escaped in the answer.
        const HttpResult control = raw("GET /api/instances HTTP/1.1\r\nHost: a\x01\x7f"
                                       "b\r\n\r\n");
        QCOMPARE(control.status, 421);
        QVERIFY2(control.json["error"_L1].toString().contains(u"a\\x01\\x7fb"_s), control.body.constData());
        QVERIFY(std::none_of(control.body.begin(), control.body.end() - 1,
                             [](char c) { return static_cast<unsigned char>(c) < 0x20; }));

        m_admin.reset();
        m_admin = std::make_unique<AdminServer>(m_server->controller(), QString());
        m_admin->setAllowedHosts({u"admin.test"_s});
        QString error;
        QVERIFY2(m_admin->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
        const QByteArray port = QByteArray::number(m_admin->port());
        QCOMPARE(raw("GET /api/instances HTTP/1.1\r\nHost: Admin.Test:" + port + "\r\n\r\n").status, 200);
        QCOMPARE(
            raw("GET /api/instances HTTP/1.1\r\nHost: admin.test\r\nOrigin: http://admin.test:" + port + "\r\n\r\n")
                .status,
            200);
        QCOMPARE(raw("GET /api/instances HTTP/1.1\r\nHost: other.test\r\n\r\n").status, 421);
    }

    void oversizedBodyIsRefusedFromTheHead()
    {
        RawClient client(m_admin->port());
        client.send("POST /api/instances HTTP/1.1\r\n" + hostLine() +
                    "Content-Type: application/json\r\nContent-Length: 314572800\r\n\r\n");
        const HttpResult refused = client.next();
        QCOMPARE(refused.status, 413);
        QCOMPARE(refused.header("connection"), QByteArray("close"));
        QVERIFY(client.waitClosed());
        QCOMPARE(request("GET", u"/healthz"_s).status, 200);
    }

    void lyingContentLengthStaysBounded()
    {
        // Two declared body bytes, then 64 KiB without a line end: the extra bytes are the next head.
        RawClient client(m_admin->port());
        client.send(post("/api/instances/lobby/broadcast", hostLine() + "Content-Type: application/json\r\n", "{}") +
                    QByteArray(64 * 1024, 'x'));
        const HttpResult first = client.next();
        QCOMPARE(first.status, 400); // the {} body: no topic
        QCOMPARE(first.json["field"_L1].toString(), u"topic"_s);
        QCOMPARE(client.next().status, 431);
        QVERIFY(client.waitClosed());

        // A pipelined garbage line after a good request: the good one is answered, then 400.
        RawClient garbage(m_admin->port());
        garbage.send("GET /healthz HTTP/1.1\r\n" + hostLine() + "\r\nNOT HTTP AT ALL\r\n\r\n");
        QCOMPARE(garbage.next().status, 200);
        QCOMPARE(garbage.next().status, 400);
        QVERIFY(garbage.waitClosed());
    }

    void transferEncodingIsRefused()
    {
        const HttpResult chunked = raw("POST /api/instances HTTP/1.1\r\n" + hostLine() +
                                       "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                       "2\r\n{}\r\n0\r\n\r\n");
        QCOMPARE(chunked.status, 411);
        QVERIFY2(chunked.json["error"_L1].toString().contains(u"Content-Length"_s), chunked.body.constData());
        QCOMPARE(
            raw("GET /healthz HTTP/1.1\r\n" + hostLine() + "Content-Length: 1\r\nContent-Length: 2\r\n\r\n").status,
            400);
    }

    void slowHeadTimesOutAndIdleCloses()
    {
        m_admin->setTimeouts(std::chrono::milliseconds(300), std::chrono::milliseconds(300));
        RawClient half(m_admin->port());
        half.send("GET /api/instances HTTP/1.1\r\n" + hostLine()); // no blank line: the head never ends
        const HttpResult timedOut = half.next();
        QCOMPARE(timedOut.status, 408);
        QVERIFY(half.waitClosed());

        RawClient body(m_admin->port()); // a declared body that never arrives
        body.send("POST /api/instances HTTP/1.1\r\n" + hostLine() +
                  "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{");
        QCOMPARE(body.next().status, 408);
        QVERIFY(!m_server->controller().instanceIds().contains(u"x"_s));

        RawClient idle(m_admin->port());
        idle.send("GET /healthz HTTP/1.1\r\n" + hostLine() + "\r\n");
        QCOMPARE(idle.next().status, 200);
        QVERIFY(idle.waitClosed()); // closed quietly after the idle time
        QVERIFY(idle.leftover().isEmpty());
    }

    void connectionCapRefusesWith503()
    {
        std::vector<std::unique_ptr<RawClient>> held;
        for (int i = 0; i < AdminListener::kMaxConnections; ++i) {
            held.push_back(std::make_unique<RawClient>(m_admin->port()));
            QVERIFY(held.back()->waitConnected());
        }
        RawClient extra(m_admin->port());
        const HttpResult refused = extra.next();
        QCOMPARE(refused.status, 503);
        QVERIFY(!refused.json["error"_L1].toString().isEmpty());
        QVERIFY(extra.waitClosed());
        // The held connections were accepted and still work.
        held.front()->send("GET /healthz HTTP/1.1\r\n" + hostLine() + "\r\n");
        QCOMPARE(held.front()->next().status, 200);
        held.clear();
        QTRY_COMPARE(raw("GET /healthz HTTP/1.1\r\n" + hostLine() + "\r\n").status, 200);
        QCOMPARE(request("GET", u"/api/instances"_s).status, 200);
    }
    // Issue #17 item 6: a minted player token opens an auth=jwt instance, carries its claims, and neither
    // the token nor the secret shows up in the API's lists or the log.
    void playerTokenOpensAJwtInstance()
    {
        {
            const QMutexLocker lock(&g_logMutex);
            g_logLines.clear();
        }
        g_previousHandler = qInstallMessageHandler(captureLog);
        const auto restore = qScopeGuard([] { qInstallMessageHandler(g_previousHandler); });
        QVERIFY(m_server->addInstance(u"quiz"_s, u"chat"_s,
                                      {{u"auth"_s, u"jwt"_s},
                                       {u"jwt_secret"_s, kPlayerSecret},
                                       {u"jwt_audience"_s, u"quiz-night"_s},
                                       {u"jwt_issuer"_s, u"host"_s}}));
        const qint64 before = QDateTime::currentSecsSinceEpoch();
        const HttpResult minted = request("POST", u"/api/instances/quiz/tokens"_s,
                                          R"({"sub":"alice","name":"Alice","topics":["room:*"],"ttl_s":600})");
        QCOMPARE(minted.status, 201);
        const QString token = minted.json["token"_L1].toString();
        QCOMPARE(token.count(u'.'), 2);
        const qint64 expiresAt = minted.json["expires_at"_L1].toInteger();
        QVERIFY(expiresAt >= before + 600 && expiresAt <= QDateTime::currentSecsSinceEpoch() + 600);

        PhoenixTestClient player;
        QVERIFY(player.open(m_server->url(u"quiz"_s, u"vsn=2.0.0&token="_s + token)));
        const auto joined = player.waitForReply(u"room:1"_s, player.join(u"room:1"_s));
        QVERIFY(joined);
        QCOMPARE(joined->payload()["status"_L1].toString(), u"ok"_s);
        QCOMPARE(joined->payload()["response"_L1]["name"_L1].toString(), u"Alice"_s); // the name claim
        const auto outside = player.waitForReply(u"game:1"_s, player.join(u"game:1"_s));
        QVERIFY(outside);
        QCOMPARE(outside->payload()["response"_L1]["reason"_L1].toString(), u"unauthorized"_s); // topics claim
        PhoenixTestClient anonymous;
        QVERIFY(!anonymous.open(m_server->url(u"quiz"_s)));

        const HttpResult list = request("GET", u"/api/instances"_s);
        QVERIFY(!list.body.contains(kPlayerSecret.toUtf8()));
        QVERIFY(list.body.contains(R"("jwt_secret":"***")"));
        QVERIFY(!request("GET", u"/api/instances/quiz"_s).body.contains(kPlayerSecret.toUtf8()));
        const QStringList logged = [] {
            const QMutexLocker lock(&g_logMutex);
            return g_logLines;
        }();
        for (const QString &line : logged) {
            QVERIFY2(!line.contains(token) && !line.contains(kPlayerSecret), qPrintable(line));
        }
    }

    void playerTokenRefusals_data()
    {
        QTest::addColumn<QString>("id");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("field");
        const QString jwt = u"quiz"_s;
        QTest::newRow("not jwt") << u"lobby"_s << QByteArray(R"({"sub":"a"})") << 409 << QString();
        QTest::newRow("unknown") << u"nope"_s << QByteArray(R"({"sub":"a"})") << 404 << QString();
        QTest::newRow("sub missing") << jwt << QByteArray(R"({"name":"a"})") << 400 << u"sub"_s;
        QTest::newRow("sub empty") << jwt << QByteArray(R"({"sub":""})") << 400 << u"sub"_s;
        QTest::newRow("sub too long") << jwt << "{\"sub\":\"" + QByteArray(257, 'a') + "\"}" << 400 << u"sub"_s;
        QTest::newRow("ttl zero") << jwt << QByteArray(R"({"sub":"a","ttl_s":0})") << 400 << u"ttl_s"_s;
        QTest::newRow("ttl 31 days") << jwt << QByteArray(R"({"sub":"a","ttl_s":2678400})") << 400 << u"ttl_s"_s;
        QTest::newRow("ttl text") << jwt << QByteArray(R"({"sub":"a","ttl_s":"1h"})") << 400 << u"ttl_s"_s;
        QTest::newRow("topics string") << jwt << QByteArray(R"({"sub":"a","topics":"room:*"})") << 400 << u"topics"_s;
        QTest::newRow("topics numbers") << jwt << QByteArray(R"({"sub":"a","topics":[1]})") << 400 << u"topics"_s;
        QTest::newRow("unknown field") << jwt << QByteArray(R"({"sub":"a","admin":true})") << 400 << u"admin"_s;
    }
    void playerTokenRefusals()
    {
        QFETCH(QString, id);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, field);
        QVERIFY(m_server->addInstance(u"quiz"_s, u"echo"_s, {{u"auth"_s, u"jwt"_s}, {u"jwt_secret"_s, kPlayerSecret}}));
        const HttpResult result = request("POST", u"/api/instances/%1/tokens"_s.arg(id), body);
        QCOMPARE(result.status, status);
        QVERIFY(!result.json["token"_L1].isString());
        QCOMPARE(result.json["field"_L1].toString(), field);
        if (status == 409) {
            QCOMPARE(result.json["error"_L1].toString(), u"instance 'lobby' does not use auth=jwt with jwt_secret"_s);
        }
        QCOMPARE(request("GET", u"/api/instances/quiz/tokens"_s).status, 405);
    }

    // Issue #17 item 7: the admin API's bearer token is its own; no instance JWT opens it.
    void instanceJwtNeverOpensTheAdminApi()
    {
        m_admin.reset();
        startAdmin("admin-bearer");
        QVERIFY(m_server->addInstance(u"quiz"_s, u"echo"_s, {{u"auth"_s, u"jwt"_s}, {u"jwt_secret"_s, kPlayerSecret}}));
        const HttpResult minted =
            request("POST", u"/api/instances/quiz/tokens"_s, R"({"sub":"admin"})", "admin-bearer");
        QCOMPARE(minted.status, 201);
        const QByteArray playerJwt = minted.json["token"_L1].toString().toLatin1();
        QCOMPARE(request("GET", u"/api/instances"_s, {}, playerJwt).status, 401);
        // Not even a JWT signed with the admin token itself.
        const QByteArray forged = auth::signHs256("admin-bearer", QJsonObject{{u"sub"_s, u"admin"_s}});
        QCOMPARE(request("GET", u"/api/instances"_s, {}, forged).status, 401);
        QCOMPARE(request("POST", u"/api/instances/quiz/tokens"_s, R"({"sub":"x"})", playerJwt).status, 401);
        QCOMPARE(request("GET", u"/api/instances"_s, {}, "admin-bearer").status, 200);
    }
};

QTEST_GUILESS_MAIN(tst_AdminIntegration)
#include "tst_admin_integration.moc"
