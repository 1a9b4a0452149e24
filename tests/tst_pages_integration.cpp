// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Integration: the pages the game port serves (index, instance list, a page per type, assets, QR codes)
// and each instance's web_root under /play/<id>/, over raw sockets on 127.0.0.1: content types, ETag and
// 304, gzip, HEAD, 404, and every path-traversal trick refused with nothing outside the root readable.

#include "phoenixtestclient.h"
#include "rawhttp.h"
#include "testserver.h"
#include "web/gzip.h"
#include "web/pageserver.h"
#include "web/webroot.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QScopeGuard>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {
struct Reply {
    int status = 0;
    QByteArray head; // lower-cased header block
    QByteArray body;
    bool closed = false;

    QByteArray header(const QByteArray &name) const
    {
        for (const QByteArray &line : head.split('\n')) {
            if (line.startsWith(QByteArray(name + ':'))) {
                return line.mid(name.size() + 1).trimmed();
            }
        }
        return {};
    }
};

// One request on its own connection, read until the server closes it (every page answer closes).
Reply fetch(quint16 port, const QByteArray &request)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    Reply reply;
    if (!socket.waitForConnected(10000)) {
        return reply;
    }
    socket.write(request);
    QByteArray data;
    reply.closed = QTest::qWaitFor(
        [&] {
            data += socket.readAll();
            return socket.state() == QAbstractSocket::UnconnectedState;
        },
        20000);
    data += socket.readAll();
    const qsizetype end = data.indexOf("\r\n\r\n");
    if (!data.startsWith("HTTP/1.1 ") || end < 0) {
        return reply;
    }
    reply.status = data.mid(9, 3).toInt();
    reply.head = data.left(end).toLower().replace("\r", "");
    reply.body = data.mid(end + 4);
    return reply;
}

Reply get(quint16 port, const QByteArray &target, const QByteArray &extraHeaders = {}, const QByteArray &method = "GET")
{
    return fetch(port, method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extraHeaders + "\r\n");
}
} // namespace

class PagesIntegration : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        // The web root, and beside it (outside it) a secret that no request may read.
        QDir base(m_tmp.path());
        QVERIFY(base.mkpath(u"root/sub"_s));
        QVERIFY(base.mkpath(u"root/empty"_s));
        QVERIFY(base.mkpath(u"outside"_s));
        write(u"root/index.html"_s, "<!doctype html><title>my game</title>");
        write(u"root/sub/a.txt"_s, "inside");
        write(u"root/game.wasm"_s, QByteArray(2048, 'w'));
        write(u"outside/secret.txt"_s, kSecret);
        write(u"root-sibling.txt"_s, kSecret); // shares the root's name as a prefix
        QVERIFY(QFile::link(base.filePath(u"outside/secret.txt"_s), base.filePath(u"root/link-out.txt"_s)));
        QVERIFY(QFile::link(base.filePath(u"outside"_s), base.filePath(u"root/dir-out"_s)));
        QVERIFY(QFile::link(base.filePath(u"root/sub/a.txt"_s), base.filePath(u"root/link-in.txt"_s)));
        m_big.resize(3 * 1024 * 1024 + 17);
        for (qsizetype i = 0; i < m_big.size(); ++i) {
            m_big[i] = static_cast<char>(QRandomGenerator::global()->bounded(256));
        }
        write(u"root/big.bin"_s, m_big);

        m_server = std::make_unique<TestServer>();
        QVERIFY(m_server->start());
        QVERIFY(m_server->addInstance(u"lobby"_s, u"chat"_s));
        QVERIFY(m_server->addInstance(u"ttt"_s, u"tictactoe"_s));
        QVERIFY(m_server->addInstance(u"echo1"_s, u"echo"_s));
        QVERIFY(m_server->addInstance(u"game"_s, u"relay"_s, {{u"web_root"_s, base.filePath(u"root"_s)}}));
    }

    void index()
    {
        const Reply reply = get(port(), "/");
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.closed);
        QCOMPARE(reply.header("content-type"), "text/html; charset=utf-8");
        QCOMPARE(reply.header("cache-control"), "no-cache");
        QVERIFY(reply.header("etag").startsWith('"'));
        QCOMPARE(reply.header("content-length").toLongLong(), reply.body.size());
        QVERIFY(reply.body.contains("/static/index.js"));
        QVERIFY(reply.body.contains("role=\"status\""));
    }

    void etagAnswers304()
    {
        const Reply first = get(port(), "/static/site.css");
        QCOMPARE(first.status, 200);
        const QByteArray etag = first.header("etag");
        QVERIFY(!etag.isEmpty());
        const Reply again = get(port(), "/static/site.css", "If-None-Match: " + etag + "\r\n");
        QCOMPARE(again.status, 304);
        QVERIFY(again.body.isEmpty());
        QCOMPARE(again.header("etag"), etag);
        QCOMPARE(get(port(), "/static/site.css", "If-None-Match: \"other\"\r\n").status, 200);
        QCOMPARE(get(port(), "/static/site.css", "If-None-Match: W/" + etag + "\r\n").status, 304);
    }

    void gzipWhenAccepted()
    {
        const Reply plain = get(port(), "/static/phoenix.min.js");
        QCOMPARE(plain.status, 200);
        QCOMPARE(plain.header("content-type"), "text/javascript; charset=utf-8");
        QVERIFY(plain.header("content-encoding").isEmpty());
        QCOMPARE(plain.header("vary"), "accept-encoding");
        QVERIFY(plain.body.contains("Phoenix"));
        const Reply gzipped = get(port(), "/static/phoenix.min.js", "Accept-Encoding: br, gzip;q=0.8\r\n");
        QCOMPARE(gzipped.status, 200);
        QCOMPARE(gzipped.header("content-encoding"), "gzip");
        QVERIFY(gzipped.body.startsWith("\x1f\x8b")); // a gzip member, not qCompress's zlib stream
        QVERIFY(gzipped.body.size() < plain.body.size());
        QCOMPARE(web::gzipDecompress(gzipped.body), plain.body);
        QVERIFY(gzipped.header("etag") != plain.header("etag")); // one tag per representation
        // gzip;q=0 refuses it
        QVERIFY(get(port(), "/static/phoenix.min.js", "Accept-Encoding: gzip;q=0\r\n")
                    .header("content-encoding")
                    .isEmpty());
        // the gzip variant's tag revalidates too
        QCOMPARE(get(port(), "/static/phoenix.min.js", "If-None-Match: " + gzipped.header("etag") + "\r\n").status,
                 304);
    }

    void headHasNoBody()
    {
        const Reply get200 = get(port(), "/");
        const Reply head = get(port(), "/", {}, "HEAD");
        QCOMPARE(head.status, 200);
        QVERIFY(head.body.isEmpty());
        QCOMPARE(head.header("content-length"), get200.header("content-length"));
        QCOMPARE(head.header("etag"), get200.header("etag"));
    }

    void otherMethodsAre405()
    {
        const Reply reply = fetch(port(), "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
        QCOMPARE(reply.status, 405);
        QCOMPARE(reply.header("allow"), "get, head");
        QCOMPARE(get(port(), "/static/site.css", {}, "DELETE").status, 405);
    }

    void notFoundPage()
    {
        for (const QByteArray target : {"/nope", "/static/", "/static/nope.js", "/static/index.html", "/i/missing/",
                                        "/i/", "/socket", "/play/lobby/", "/play/nope/", "/i/bad%20id/"}) {
            const Reply reply = get(port(), target);
            QVERIFY2(reply.status == 404, target.constData());
            QCOMPARE(reply.header("content-type"), "text/html; charset=utf-8");
            QVERIFY(reply.body.contains("Not found"));
        }
    }

    void pagePerType()
    {
        QVERIFY(get(port(), "/i/lobby/").body.contains("/static/chat.js"));
        QVERIFY(get(port(), "/i/game/").body.contains("/static/chat.js")); // relay
        QVERIFY(get(port(), "/i/ttt/").body.contains("/static/tictactoe.js"));
        QVERIFY(get(port(), "/i/echo1/").body.contains("/static/console.js"));
        QVERIFY(get(port(), "/i/echo1").body.contains("/static/console.js"));
        for (const QByteArray page : {"/i/lobby/", "/i/ttt/", "/i/echo1/"}) {
            const QByteArray body = get(port(), page).body;
            QVERIFY(body.contains("/static/phoenix.min.js"));
            QVERIFY(body.contains("name=\"viewport\""));
        }
        QVERIFY(get(port(), "/i/lobby/").body.contains("role=\"log\""));
    }

    void instanceListIsLive()
    {
        const Reply reply = get(port(), "/instances.json");
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("content-type"), "application/json");
        const QJsonObject doc = QJsonDocument::fromJson(reply.body).object();
        QVERIFY(!doc.value(u"host"_s).toString().isEmpty());
        QHash<QString, QJsonObject> byId;
        for (const QJsonValue &value : doc.value(u"instances"_s).toArray()) {
            byId.insert(value[u"id"_s].toString(), value.toObject());
        }
        QCOMPARE(byId.value(u"lobby"_s).value(u"type"_s).toString(), u"chat"_s);
        QCOMPARE(byId.value(u"lobby"_s).value(u"state"_s).toString(), u"running"_s);
        QCOMPARE(byId.value(u"lobby"_s).value(u"page"_s).toString(), u"/i/lobby/"_s);
        QVERIFY(byId.value(u"lobby"_s).value(u"play"_s).isNull());
        QCOMPARE(byId.value(u"game"_s).value(u"play"_s).toString(), u"/play/game/"_s);
        const QByteArray etag = reply.header("etag");
        QCOMPARE(get(port(), "/instances.json", "If-None-Match: " + etag + "\r\n").status, 304);

        // A client joins: the count follows (stats are published every 500 ms), and the tag changes.
        auto client = m_server->joinedClient(u"lobby"_s, u"room:x"_s);
        QVERIFY(client);
        const auto field = [this](const QString &id, const QString &name) {
            const QJsonObject list = QJsonDocument::fromJson(get(port(), "/instances.json").body).object();
            for (const QJsonValue &value : list.value(u"instances"_s).toArray()) {
                if (value[u"id"_s].toString() == id) {
                    return value[name].toVariant();
                }
            }
            return QVariant();
        };
        const auto clientsOfLobby = [&field] {
            return field(u"lobby"_s, u"clients"_s).toInt();
        };
        QTRY_COMPARE_WITH_TIMEOUT(clientsOfLobby(), 1, 10000);
        QCOMPARE(get(port(), "/instances.json", "If-None-Match: " + etag + "\r\n").status, 200);
        client.reset();
        QTRY_COMPARE_WITH_TIMEOUT(clientsOfLobby(), 0, 10000);

        QVERIFY(m_server->controller().stopInstance(u"echo1"_s).isOk());
        QTRY_COMPARE(field(u"echo1"_s, u"state"_s).toString(), u"stopped"_s);
        QVERIFY(m_server->controller().startInstance(u"echo1"_s).isOk());
        QVERIFY(m_server->waitForState(u"echo1"_s, InstanceState::Running));
    }

    void qrCode()
    {
        const Reply reply = get(port(), "/qr.svg?text=http%3A%2F%2F192.168.1.20%3A4000%2F");
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("content-type"), "image/svg+xml");
        QVERIFY(reply.body.startsWith("<svg"));
        QVERIFY(reply.body.contains("<path"));
        QCOMPARE(get(port(), "/qr.svg").status, 400);
        QCOMPARE(get(port(), "/qr.svg?text=" + QByteArray(2000, 'a')).status, 400);
    }

    void socketsStillRouted()
    {
        QByteArray response;
        QCOMPARE(httpStatus(port(), upgradeHead("/socket/lobby/websocket?vsn=2.0.0"), 10000, &response), 101);
        QCOMPARE(httpStatus(port(), upgradeHead("/socket/nope/websocket")), 404);
        QCOMPARE(httpStatus(port(), "GET /socket/lobby HTTP/1.1\r\nHost: x\r\n\r\n"), 426);
    }

    void webRootServesFiles()
    {
        Reply reply = get(port(), "/play/game/");
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("content-type"), "text/html; charset=utf-8");
        QCOMPARE(reply.body, QByteArray("<!doctype html><title>my game</title>"));
        QCOMPARE(get(port(), "/play/game/index.html").body, reply.body);
        QCOMPARE(get(port(), "/play/game/sub/a.txt").body, QByteArray("inside"));
        QCOMPARE(get(port(), "/play/game/link-in.txt").body, QByteArray("inside")); // a link inside is fine
        QCOMPARE(get(port(), "/play/game/sub/a.txt?v=3").body, QByteArray("inside"));
        QCOMPARE(get(port(), "/play/game/game.wasm").header("content-type"), "application/wasm");
        reply = get(port(), "/play/game");
        QCOMPARE(reply.status, 301);
        QCOMPARE(reply.header("location"), "/play/game/");
        // no listings: a folder without index.html is 404
        QCOMPARE(get(port(), "/play/game/sub/").status, 404);
        QCOMPARE(get(port(), "/play/game/empty").status, 404);
        QCOMPARE(get(port(), "/play/game/missing.txt").status, 404);
        const QByteArray etag = get(port(), "/play/game/sub/a.txt").header("etag");
        QCOMPARE(get(port(), "/play/game/sub/a.txt", "If-None-Match: " + etag + "\r\n").status, 304);
    }

    void webRootStreamsLargeFiles()
    {
        const Reply reply = get(port(), "/play/game/big.bin", "Accept-Encoding: gzip\r\n");
        QCOMPARE(reply.status, 200);
        QCOMPARE(reply.header("content-type"), "application/octet-stream");
        QCOMPARE(reply.header("content-length").toLongLong(), m_big.size());
        QCOMPARE(reply.body.size(), m_big.size());
        QVERIFY(reply.body == m_big);
        const Reply head = get(port(), "/play/game/big.bin", {}, "HEAD");
        QCOMPARE(head.status, 200);
        QCOMPARE(head.header("content-length").toLongLong(), m_big.size());
        QVERIFY(head.body.isEmpty());
        QCOMPARE(get(port(), "/play/game/big.bin", "If-None-Match: " + reply.header("etag") + "\r\n").status, 304);
    }

    void stalledReaderIsClosed()
    {
        // Far bigger than the socket buffers on both sides; sparse, so it costs no disk.
        QFile huge(QDir(m_tmp.path()).filePath(u"root/huge.bin"_s));
        QVERIFY(huge.open(QIODevice::WriteOnly));
        constexpr qint64 kHugeBytes = 64LL * 1024 * 1024;
        QVERIFY(huge.resize(kHugeBytes));
        huge.close();
        web::PageServer::setStallTimeoutMs(500);
        const auto restore =
            qScopeGuard([] { web::PageServer::setStallTimeoutMs(web::PageServer::kDefaultStallTimeoutMs); });

        QTcpSocket reader;
        reader.setReadBufferSize(64 * 1024); // once full, Qt takes nothing more from the kernel: a stalled reader
        reader.connectToHost(QHostAddress::LocalHost, port());
        QVERIFY(reader.waitForConnected(10000));
        reader.write("GET /play/game/huge.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        // The server gives up on it and says so in the connection log, naming the file.
        QTRY_COMPARE_WITH_TIMEOUT(stallsLogged(), 1, 20000);
        // The reader wakes up: the connection ends, the download cut short.
        reader.setReadBufferSize(0);
        qint64 received = 0;
        QVERIFY(QTest::qWaitFor(
            [&] {
                received += reader.readAll().size();
                return reader.state() == QAbstractSocket::UnconnectedState;
            },
            20000));
        QVERIFY2(received < kHugeBytes, QByteArray::number(received).constData());
        // Nobody else noticed.
        QCOMPARE(get(port(), "/play/game/sub/a.txt").body, QByteArray("inside"));
        QVERIFY(QFile::remove(huge.fileName()));
    }

    void traversalRefused_data()
    {
        QTest::addColumn<QByteArray>("target");
        QTest::newRow("dot-dot") << QByteArray("/play/game/../root-sibling.txt");
        QTest::newRow("dot-dot deeper") << QByteArray("/play/game/sub/../../outside/secret.txt");
        QTest::newRow("encoded dot-dot") << QByteArray("/play/game/%2e%2e/outside/secret.txt");
        QTest::newRow("encoded upper case") << QByteArray("/play/game/%2E%2E/outside/secret.txt");
        QTest::newRow("encoded slash too") << QByteArray("/play/game/sub%2f..%2f..%2foutside%2fsecret.txt");
        QTest::newRow("half encoded") << QByteArray("/play/game/.%2e/outside/secret.txt");
        QTest::newRow("absolute") << QByteArray("/play/game//etc/passwd");
        QTest::newRow("encoded absolute") << QByteArray("/play/game/%2fetc%2fpasswd");
        QTest::newRow("backslash") << QByteArray("/play/game/..%5c..%5coutside%5csecret.txt");
        QTest::newRow("NUL") << QByteArray("/play/game/sub/a.txt%00.html");
        QTest::newRow("dot segment") << QByteArray("/play/game/./sub/a.txt");
        QTest::newRow("symlink to a file outside") << QByteArray("/play/game/link-out.txt");
        QTest::newRow("symlink to a folder outside") << QByteArray("/play/game/dir-out/secret.txt");
    }

    void traversalRefused()
    {
        QFETCH(QByteArray, target);
        m_refusals = refusalsLogged();
        const Reply reply = get(port(), target);
        QCOMPARE(reply.status, 404);
        QVERIFY(!reply.body.contains(kSecret));
        QVERIFY(!reply.body.contains("root:"));
        // logged as a refusal for the instance (the connection log), naming the reason
        QTRY_COMPARE(refusalsLogged(), m_refusals + 1);
        m_refusals = refusalsLogged();
    }

    void resolverUnit()
    {
        const QString root = QDir(m_tmp.path()).filePath(u"root"_s);
        using R = web::WebRootFile::Result;
        QCOMPARE(web::resolveWebRootFile(root, "").result, R::Found);
        QCOMPARE(web::resolveWebRootFile(root, "..").result, R::Refused);
        QCOMPARE(web::resolveWebRootFile(root, "sub/..").result, R::Refused);
        QCOMPARE(web::resolveWebRootFile(root, "%2E%2e").result, R::Refused);
        QCOMPARE(web::resolveWebRootFile(root, "a%00b").result, R::Refused);
        QCOMPARE(web::resolveWebRootFile(root, "a%0ab").result, R::Refused);
        QCOMPARE(web::resolveWebRootFile(root, "link-out.txt").result, R::Refused);
        QCOMPARE(web::resolveWebRootFile(root, "dir-out/").result, R::NotFound); // no index.html there, no listing
        QCOMPARE(web::resolveWebRootFile(root, "sub").result, R::NotFound);
        QCOMPARE(web::resolveWebRootFile(u"/nonexistent-root"_s, "index.html").result, R::NotFound);
    }

private:
    static constexpr char kSecret[] = "TOP-SECRET-OUTSIDE-THE-ROOT";

    quint16 port() const { return m_server->port(); }
    qsizetype refusalsLogged() const
    {
        const QList<ConnectionEvent> log = m_server->controller().connectionLog();
        return std::count_if(log.cbegin(), log.cend(), [](const ConnectionEvent &event) {
            return event.instanceId == u"game" && event.code == 404 && event.reason.startsWith(u"/play/game/:");
        });
    }
    qsizetype stallsLogged() const
    {
        const QList<ConnectionEvent> log = m_server->controller().connectionLog();
        return std::count_if(log.cbegin(), log.cend(), [](const ConnectionEvent &event) {
            return event.instanceId == u"game" && event.code == 408 && event.reason.startsWith(u"/play/game/huge.bin:");
        });
    }
    void write(const QString &relative, const QByteArray &content)
    {
        QFile file(QDir(m_tmp.path()).filePath(relative));
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(content), content.size());
    }

    qsizetype m_refusals = 0;
    QTemporaryDir m_tmp;
    QByteArray m_big;
    std::unique_ptr<TestServer> m_server;
};

QTEST_GUILESS_MAIN(PagesIntegration)
#include "tst_pages_integration.moc"
