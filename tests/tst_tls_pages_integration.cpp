// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// The game port's pages over TLS (https://): the key cases of tst_pages_integration (index, an asset with
// gzip, 304, HEAD, 404, a big web_root file streamed byte-identical) through Qt's own TLS clients
// (QSslSocket and QNetworkAccessManager) trusting the test certificate, plus peers that go away in the
// middle of a streamed file. Real sockets on 127.0.0.1.
#include "net/tls.h"
#include "phoenixtestclient.h"
#include "testserver.h"
#include "web/gzip.h"

#include <QDir>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QSslConfiguration>
#include <QSslSocket>
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

// Descriptors open in this process (the server runs in it): a connection that is never closed shows here.
qsizetype openDescriptors()
{
    return QDir(u"/proc/self/fd"_s).entryList(QDir::Files | QDir::System | QDir::NoDotAndDotDot).size();
}

QSslConfiguration trusting(const QString &certFile)
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setCaCertificates(QSslCertificate::fromPath(certFile));
    return configuration;
}
} // namespace

class TlsPagesIntegration : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    QString m_cert;
    QByteArray m_big;
    std::unique_ptr<TestServer> m_server;

    quint16 port() const { return m_server->port(); }

    // One request on its own TLS connection, read until the server closes it (every page answer closes).
    Reply fetch(const QByteArray &target, const QByteArray &extraHeaders = {}, const QByteArray &method = "GET")
    {
        QSslSocket socket;
        socket.setSslConfiguration(trusting(m_cert));
        socket.connectToHostEncrypted(u"localhost"_s, port());
        Reply reply;
        if (!socket.waitForEncrypted(10000)) {
            qWarning() << "no TLS session:" << socket.errorString();
            return reply;
        }
        socket.write(method + ' ' + target + " HTTP/1.1\r\nHost: localhost\r\n" + extraHeaders + "\r\n");
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

    QNetworkRequest request(const QString &path) const
    {
        QNetworkRequest request(QUrl(u"https://localhost:%1%2"_s.arg(port()).arg(path)));
        request.setSslConfiguration(trusting(m_cert));
        return request;
    }

    void write(const QString &relative, const QByteArray &content)
    {
        QFile file(QDir(m_tmp.path()).filePath(relative));
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(content), content.size());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        QVERIFY(QSslSocket::supportsSsl());
        m_cert = m_tmp.filePath(u"server.crt"_s);
        const QString key = m_tmp.filePath(u"server.key"_s);
        QString error;
        QVERIFY2(
            net::writeSelfSignedCertificate(m_cert, key, {u"localhost"_s}, {u"127.0.0.1"_s}, -3600, 24 * 3600, &error),
            qPrintable(error));
        QVERIFY(QDir(m_tmp.path()).mkpath(u"root"_s));
        write(u"root/index.html"_s, "<!doctype html><title>my game</title>");
        m_big.resize(3 * 1024 * 1024 + 17); // well past kWholeFileBytes: streamed in chunks
        for (qsizetype i = 0; i < m_big.size(); ++i) {
            m_big[i] = static_cast<char>(QRandomGenerator::global()->bounded(256));
        }
        write(u"root/big.bin"_s, m_big);

        m_server = std::make_unique<TestServer>();
        QVERIFY2(m_server->controller().enableTls(m_cert, key, &error), qPrintable(error));
        QVERIFY(m_server->start());
        QVERIFY(m_server->addInstance(u"lobby"_s, u"chat"_s));
        QVERIFY(m_server->addInstance(u"game"_s, u"relay"_s, {{u"web_root"_s, m_tmp.filePath(u"root"_s)}}));
    }

    void cleanupTestCase() { m_server.reset(); }

    void index()
    {
        const Reply reply = fetch("/");
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.closed);
        QCOMPARE(reply.header("content-type"), "text/html; charset=utf-8");
        QVERIFY(reply.header("etag").startsWith('"'));
        QCOMPARE(reply.header("content-length").toLongLong(), reply.body.size());
        QVERIFY(reply.body.contains("/static/index.js"));
    }

    void instanceListAndPage()
    {
        const Reply list = fetch("/instances.json");
        QCOMPARE(list.status, 200);
        QVERIFY(list.body.contains("\"lobby\""));
        const Reply page = fetch("/i/lobby/");
        QCOMPARE(page.status, 200);
        QVERIFY(page.body.contains("chat.js"));
    }

    void assetWithGzip()
    {
        const Reply plain = fetch("/static/phoenix.min.js");
        QCOMPARE(plain.status, 200);
        QVERIFY(plain.header("content-encoding").isEmpty());
        const Reply gzipped = fetch("/static/phoenix.min.js", "Accept-Encoding: gzip\r\n");
        QCOMPARE(gzipped.status, 200);
        QCOMPARE(gzipped.header("content-encoding"), "gzip");
        QCOMPARE(gzipped.header("content-length").toLongLong(), gzipped.body.size());
        QCOMPARE(web::gzipDecompress(gzipped.body), plain.body);
    }

    void etagAnswers304()
    {
        const Reply first = fetch("/static/site.css");
        QCOMPARE(first.status, 200);
        const QByteArray etag = first.header("etag");
        QVERIFY(!etag.isEmpty());
        const Reply again = fetch("/static/site.css", "If-None-Match: " + etag + "\r\n");
        QCOMPARE(again.status, 304);
        QVERIFY(again.closed);
        QVERIFY(again.body.isEmpty());
        // The streamed file's tag too.
        const Reply big = fetch("/play/game/big.bin", {}, "HEAD");
        QCOMPARE(big.status, 200);
        QCOMPARE(fetch("/play/game/big.bin", "If-None-Match: " + big.header("etag") + "\r\n").status, 304);
    }

    void headHasNoBody()
    {
        const Reply head = fetch("/play/game/big.bin", {}, "HEAD");
        QCOMPARE(head.status, 200);
        QVERIFY(head.closed);
        QCOMPARE(head.header("content-length").toLongLong(), m_big.size());
        QVERIFY(head.body.isEmpty());
        const Reply index = fetch("/", {}, "HEAD");
        QCOMPARE(index.status, 200);
        QVERIFY(index.body.isEmpty());
    }

    void notFound()
    {
        const Reply reply = fetch("/no/such/page");
        QCOMPARE(reply.status, 404);
        QVERIFY(reply.closed);
        QCOMPARE(fetch("/play/game/missing.bin").status, 404);
        QCOMPARE(fetch("/play/game/../../etc/passwd").status, 404);
    }

    void bigFileStreamedByteIdentical()
    {
        const Reply reply = fetch("/play/game/big.bin");
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.closed);
        QCOMPARE(reply.body.size(), m_big.size());
        QVERIFY(reply.body == m_big);
    }

    void networkAccessManagerDownloadsInParallel()
    {
        // Qt's HTTP client (ALPN offers h2; the server picks http/1.1): several big downloads at once,
        // each byte-identical, and the small page beside them.
        QNetworkAccessManager manager;
        std::vector<QNetworkReply *> replies;
        for (int i = 0; i < 4; ++i) {
            replies.push_back(manager.get(request(u"/play/game/big.bin"_s)));
        }
        replies.push_back(manager.get(request(u"/play/game/"_s)));
        for (QNetworkReply *reply : replies) {
            QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 30000);
            QCOMPARE(reply->error(), QNetworkReply::NoError);
            QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        }
        for (int i = 0; i < 4; ++i) {
            QVERIFY(replies[i]->readAll() == m_big);
        }
        QCOMPARE(replies[4]->readAll(), QByteArray("<!doctype html><title>my game</title>"));
        qDeleteAll(replies);
    }

    void peersLeavingMidStreamDoNotStopTheServer()
    {
        // Ten clients ask for the big file, read a little and vanish (abort, or a clean close); the
        // server closes its side of each (no descriptor left behind).
        const qsizetype before = openDescriptors();
        for (int i = 0; i < 10; ++i) {
            QSslSocket socket;
            socket.setSslConfiguration(trusting(m_cert));
            socket.connectToHostEncrypted(u"localhost"_s, port());
            QVERIFY2(socket.waitForEncrypted(10000), qPrintable(socket.errorString()));
            socket.write("GET /play/game/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
            QTRY_VERIFY_WITH_TIMEOUT(socket.bytesAvailable() > 0, 10000); // the stream has begun
            if (i % 2 == 0) {
                socket.abort();
            } else {
                socket.disconnectFromHost();
            }
        }
        QTRY_VERIFY_WITH_TIMEOUT(openDescriptors() <= before, 10000);
        // Pages and sockets still work, over the same port.
        QVERIFY(fetch("/play/game/big.bin").body == m_big);
        auto client = std::make_unique<PhoenixTestClient>();
        client->socket().setSslConfiguration(trusting(m_cert));
        QUrl url = m_server->url(u"lobby"_s);
        url.setScheme(u"wss"_s);
        url.setHost(u"localhost"_s);
        QVERIFY(client->open(url));
    }
};

QTEST_MAIN(TlsPagesIntegration)
#include "tst_tls_pages_integration.moc"
