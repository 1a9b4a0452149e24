// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// TLS on the game port: wss:// with Qt's own TLS client (QWebSocket/QSslSocket), https:// long-poll, the
// certificate problems the CLI refuses, plain HTTP sent to the TLS port, stalled handshakes, garbage
// records from a raw OpenSSL client, and certificate reload. Real sockets on 127.0.0.1.
#include "net/tls.h"
#include "phoenixtestclient.h"
#include "runtoend.h"
#include "testserver.h"

#include <QFile>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslCipher>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTemporaryDir>
#include <QTest>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {

struct CertPair {
    QString cert;
    QString key;
};

CertPair makePair(const QTemporaryDir &dir, const QString &name, qint64 notBefore = -3600, qint64 notAfter = 24 * 3600)
{
    CertPair pair{dir.filePath(name + u".crt"_s), dir.filePath(name + u".key"_s)};
    QString error;
    if (!net::writeSelfSignedCertificate(pair.cert, pair.key, {u"localhost"_s}, {u"127.0.0.1"_s}, notBefore, notAfter,
                                         &error)) {
        qWarning() << error;
        return {};
    }
    return pair;
}

QSslConfiguration trusting(const QString &certFile)
{
    QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
    configuration.setCaCertificates(QSslCertificate::fromPath(certFile));
    return configuration;
}

// A blocking TCP connection to 127.0.0.1:port with a receive timeout (for the raw OpenSSL client).
int connectBlocking(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{15, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads until the peer closes (true) or the receive timeout passes (false).
bool peerCloses(int fd)
{
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return true;
        }
        if (n < 0) {
            return false; // timed out
        }
    }
}

const QByteArray kUpgrade = "GET /socket/e/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 13\r\n\r\n";

} // namespace

class tst_TlsIntegration : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    CertPair m_pair;
    std::unique_ptr<TestServer> m_server;

    QUrl wss(const QString &id) const
    {
        QUrl url = m_server->url(id);
        url.setScheme(u"wss"_s);
        url.setHost(u"localhost"_s);
        return url;
    }

    std::unique_ptr<PhoenixTestClient> openClient(const QString &id)
    {
        auto client = std::make_unique<PhoenixTestClient>();
        client->socket().setSslConfiguration(trusting(m_pair.cert));
        if (!client->open(wss(id))) {
            return nullptr;
        }
        return client;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QSslSocket::supportsSsl());
        m_pair = makePair(m_dir, u"server"_s);
        QVERIFY(!m_pair.cert.isEmpty());
        m_server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(m_server->controller().enableTls(m_pair.cert, m_pair.key, &error), qPrintable(error));
        QVERIFY(m_server->controller().isTls());
        QVERIFY(m_server->controller().tlsSelfSigned());
        QCOMPARE(m_server->controller().tlsFingerprint().size(), 32 * 3 - 1);
        QVERIFY(m_server->start());
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s));
        QVERIFY(m_server->addInstance(u"c"_s, u"chat"_s));
    }

    void cleanupTestCase() { m_server.reset(); }

    void wssJoinPushAndLargeMessages()
    {
        auto client = openClient(u"e"_s);
        QVERIFY(client);
        const QString ref = client->join(u"room:1"_s);
        const auto joined = client->waitForReply(u"room:1"_s, ref);
        QVERIFY(joined);
        QCOMPARE(joined->payload()[u"status"_s].toString(), u"ok"_s);
        // Large payloads: several TLS records each way, and replies bigger than one record.
        for (const int size : {10, 20000, 300000}) {
            const QString text(size, u'x');
            const QString pushRef = client->nextRef();
            client->sendV2(ref, pushRef, u"room:1"_s, u"ping"_s, QJsonObject{{u"text"_s, text}});
            const auto reply = client->waitForReply(u"room:1"_s, pushRef);
            QVERIFY2(reply, qPrintable(QString::number(size)));
            QCOMPARE(reply->payload()[u"response"_s][u"text"_s].toString().size(), size);
        }
        // A burst of pushes: many replies written together (batched into shared records).
        QStringList refs;
        for (int i = 0; i < 200; ++i) {
            refs.append(client->nextRef());
            client->sendV2(ref, refs.last(), u"room:1"_s, u"ping"_s, QJsonObject{{u"i"_s, i}});
        }
        for (const QString &each : std::as_const(refs)) {
            QVERIFY(client->waitForReply(u"room:1"_s, each));
        }
    }

    void broadcastReachesEveryTlsClient()
    {
        std::vector<std::unique_ptr<PhoenixTestClient>> clients;
        for (int i = 0; i < 20; ++i) {
            auto client = openClient(u"c"_s);
            QVERIFY(client);
            const QString ref = client->join(u"room:all"_s);
            QVERIFY(client->waitForReply(u"room:all"_s, ref));
            clients.push_back(std::move(client));
        }
        QVERIFY(m_server->controller().broadcast(u"c"_s, u"room:all"_s, u"news"_s, QJsonObject{{u"n"_s, 7}}));
        for (auto &client : clients) {
            QVERIFY(client->waitFor([](const ReceivedFrame &frame) { return frame.event() == u"news"_s; }));
        }
    }

    void plainHttpToTlsPortIsAnswered400()
    {
        QByteArray response;
        QCOMPARE(httpStatus(m_server->port(), kUpgrade, 10000, &response), 400);
        QVERIFY2(response.contains("this port speaks TLS"), response.constData());
        // The attempt is in the connection log.
        QStringList reasons;
        const auto connection = connect(&m_server->controller(), &ServerController::connectionEvents, this,
                                        [&reasons](const QList<ConnectionEvent> &events, quint64) {
                                            for (const ConnectionEvent &event : events) {
                                                reasons.append(event.reason);
                                            }
                                        });
        QCOMPARE(httpStatus(m_server->port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
        QTRY_VERIFY_WITH_TIMEOUT(reasons.contains(u"plain HTTP sent to the TLS port"_s), 5000);
        disconnect(connection);
    }

    void stalledHandshakeIsClosedAndNeverBlocksOthers()
    {
        // A record header promising a ClientHello that never comes.
        QTcpSocket staller;
        staller.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(staller.waitForConnected(5000));
        staller.write(QByteArray::fromHex("1603010200"));
        QVERIFY(staller.waitForBytesWritten(5000));
        // Meanwhile TLS clients connect and talk.
        auto client = openClient(u"e"_s);
        QVERIFY(client);
        const QString ref = client->join(u"room:2"_s);
        QVERIFY(client->waitForReply(u"room:2"_s, ref));
        // The head budget (10 s) ends the stalled one.
        QTRY_COMPARE_WITH_TIMEOUT(staller.state(), QAbstractSocket::UnconnectedState, 20000);
        QVERIFY(staller.readAll().isEmpty()); // no HTTP answer inside a handshake
    }

    void garbageRecordsCloseTheConnection()
    {
        // Before the handshake: bytes that are not TLS.
        {
            const int fd = connectBlocking(m_server->port());
            QVERIFY(fd >= 0);
            const QByteArray garbage = QByteArray::fromHex("17030300ff") + QByteArray(300, '\x5a');
            QCOMPARE(::send(fd, garbage.constData(), garbage.size(), MSG_NOSIGNAL), garbage.size());
            QVERIFY(peerCloses(fd));
            ::close(fd);
        }
        // After the handshake and the upgrade, in the instance thread: a forged application-data record.
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        QVERIFY(ctx);
        for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
            SSL_CTX_set_min_proto_version(ctx, version);
            SSL_CTX_set_max_proto_version(ctx, version);
            const int fd = connectBlocking(m_server->port());
            QVERIFY(fd >= 0);
            SSL *ssl = SSL_new(ctx);
            SSL_set_fd(ssl, fd);
            QCOMPARE(SSL_connect(ssl), 1);
            QCOMPARE(SSL_write(ssl, kUpgrade.constData(), static_cast<int>(kUpgrade.size())),
                     static_cast<int>(kUpgrade.size()));
            char head[512];
            const int n = SSL_read(ssl, head, sizeof(head));
            QVERIFY(n > 0);
            QVERIFY2(QByteArray(head, n).startsWith("HTTP/1.1 101"), head);
            QByteArray forged = QByteArray::fromHex("1703030040");
            for (int i = 0; i < 64; ++i) {
                forged.append(static_cast<char>(i * 37));
            }
            QCOMPARE(::send(fd, forged.constData(), forged.size(), MSG_NOSIGNAL), forged.size());
            QVERIFY(peerCloses(fd));
            SSL_free(ssl);
            ::close(fd);
        }
        SSL_CTX_free(ctx);
        ERR_clear_error();
        // The instance goes on serving.
        auto client = openClient(u"e"_s);
        QVERIFY(client);
        const QString ref = client->join(u"room:3"_s);
        QVERIFY(client->waitForReply(u"room:3"_s, ref));
    }

    void httpsLongPoll()
    {
        QSslSocket socket;
        socket.setSslConfiguration(trusting(m_pair.cert));
        socket.connectToHostEncrypted(u"localhost"_s, m_server->port());
        QVERIFY2(socket.waitForEncrypted(10000), qPrintable(socket.errorString()));
        QCOMPARE(socket.sslConfiguration().nextNegotiatedProtocol(), QByteArray()); // no ALPN offered
        QVERIFY(socket.sessionProtocol() == QSsl::TlsV1_3 || socket.sessionProtocol() == QSsl::TlsV1_2);
        socket.write("GET /socket/e/longpoll?vsn=2.0.0 HTTP/1.1\r\nHost: localhost\r\n\r\n");
        QByteArray response;
        QTRY_VERIFY_WITH_TIMEOUT((response += socket.readAll()).contains("\"token\""), 10000);
        QVERIFY2(response.startsWith("HTTP/1.1 410"), response.constData()); // a new session's first answer
    }

    void alpnHttp11AndModernSuites()
    {
        QSslSocket socket;
        QSslConfiguration configuration = trusting(m_pair.cert);
        configuration.setAllowedNextProtocols({"h2", "http/1.1"});
        socket.setSslConfiguration(configuration);
        socket.connectToHostEncrypted(u"localhost"_s, m_server->port());
        QVERIFY2(socket.waitForEncrypted(10000), qPrintable(socket.errorString()));
        QCOMPARE(socket.sslConfiguration().nextNegotiatedProtocol(), QByteArray("http/1.1"));
        // TLS 1.2 offered alone gets an AEAD suite with forward secrecy.
        QSslSocket twelve;
        QSslConfiguration twelveConfiguration = trusting(m_pair.cert);
        twelveConfiguration.setProtocol(QSsl::TlsV1_2);
        twelve.setSslConfiguration(twelveConfiguration);
        twelve.connectToHostEncrypted(u"localhost"_s, m_server->port());
        QVERIFY2(twelve.waitForEncrypted(10000), qPrintable(twelve.errorString()));
        QCOMPARE(twelve.sessionProtocol(), QSsl::TlsV1_2);
        const QString cipher = twelve.sessionCipher().name();
        QVERIFY2(cipher.startsWith(u"ECDHE-"_s) && (cipher.contains(u"GCM"_s) || cipher.contains(u"CHACHA"_s)),
                 qPrintable(cipher));
    }

    void reloadServesTheNewCertificate()
    {
        QTemporaryDir dir;
        const CertPair first = makePair(dir, u"live"_s);
        TestServer server;
        QString error;
        QVERIFY2(server.controller().enableTls(first.cert, first.key, &error), qPrintable(error));
        QVERIFY(server.start());
        const QString before = server.controller().tlsFingerprint();
        QSignalSpy changed(&server.controller(), &ServerController::tlsChanged);
        const CertPair second = makePair(dir, u"next"_s);
        // Replaced in place, key first (a moment where the pair does not match must not break anything).
        QFile::remove(first.key);
        QVERIFY(QFile::copy(second.key, first.key));
        QFile::remove(first.cert);
        QVERIFY(QFile::copy(second.cert, first.cert));
        QTRY_VERIFY_WITH_TIMEOUT(!changed.isEmpty() && server.controller().tlsFingerprint() != before, 10000);
        QSslSocket socket;
        socket.setSslConfiguration(trusting(second.cert));
        socket.connectToHostEncrypted(u"localhost"_s, server.port());
        QVERIFY2(socket.waitForEncrypted(10000), qPrintable(socket.errorString()));
        const QString seen = QString::fromLatin1(socket.peerCertificate().digest(QCryptographicHash::Sha256).toHex());
        QCOMPARE(seen.toUpper(), server.controller().tlsFingerprint().remove(u':'));
    }

    void badCertificatesStopTheStart()
    {
        QTemporaryDir dir;
        const CertPair good = makePair(dir, u"a"_s);
        const CertPair other = makePair(dir, u"b"_s);
        const QString missing = dir.filePath(u"missing.pem"_s);
        QFile junk(dir.filePath(u"junk.pem"_s));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not a certificate\n");
        junk.close();
        struct Case {
            QStringList args;
            QString file;
            QString problem;
        };
        const QList<Case> cases = {
            {{u"--tls-cert"_s, missing, u"--tls-key"_s, good.key}, missing, u"no such file"_s},
            {{u"--tls-cert"_s, good.cert, u"--tls-key"_s, missing}, missing, u"no such file"_s},
            {{u"--tls-cert"_s, junk.fileName(), u"--tls-key"_s, good.key},
             junk.fileName(),
             u"not a usable PEM certificate"_s},
            {{u"--tls-cert"_s, good.cert, u"--tls-key"_s, junk.fileName()},
             junk.fileName(),
             u"not a usable PEM private key"_s},
            {{u"--tls-cert"_s, good.cert, u"--tls-key"_s, other.key}, other.key, u"does not match"_s},
            {{u"--tls-cert"_s, dir.path(), u"--tls-key"_s, good.key}, dir.path(), u"not a file"_s},
            {{u"--tls-cert"_s, good.cert}, u"--tls-key"_s, u"needs"_s},
            {{u"--tls"_s, u"bogus"_s}, u"bogus"_s, u"self-signed"_s},
        };
        for (const Case &each : cases) {
            const RunResult result =
                runToEnd(QStringList{u"--headless"_s, u"--port"_s, u"0"_s, u"--no-admin"_s} + each.args);
            QCOMPARE(result.exitCode, 2);
            const QStringList lines = result.err.split(u'\n').filter(u"wsserve: error:"_s);
            QVERIFY2(lines.size() == 1 && lines.first().contains(each.file) && lines.first().contains(each.problem),
                     qPrintable(result.err));
        }
    }

    void expiredCertificateStartsWithAWarning()
    {
        QTemporaryDir dir;
        const CertPair expired = makePair(dir, u"old"_s, -10 * 24 * 3600, -24 * 3600);
        QProcess process;
        process.start(QStringLiteral(WSSERVE_BINARY),
                      {u"--headless"_s, u"--bind"_s, u"127.0.0.1"_s, u"--port"_s, u"0"_s, u"--no-admin"_s,
                       u"--tls-cert"_s, expired.cert, u"--tls-key"_s, expired.key});
        QVERIFY(process.waitForStarted(10000));
        QTRY_VERIFY_WITH_TIMEOUT(process.canReadLine(), 20000);
        const QString line = QString::fromUtf8(process.readLine()).trimmed();
        static const QRegularExpression pattern(u"^wsserve: listening on wss://127\\.0\\.0\\.1:\\d+$"_s);
        QVERIFY2(pattern.match(line).hasMatch(), qPrintable(line));
        QByteArray err;
        QTRY_VERIFY_WITH_TIMEOUT((err += process.readAllStandardError()).contains("expired"), 10000);
        QVERIFY(err.contains(expired.cert.toUtf8()));
        process.terminate();
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 0);
    }

    void selfSignedIsMadeOnceAndReused()
    {
        QTemporaryDir dir;
        QString cert;
        QString key;
        QString error;
        QVERIFY2(ServerController::selfSignedCertificate(dir.path(), &cert, &key, &error), qPrintable(error));
        const auto first = net::TlsContext::load(cert, key, &error);
        QVERIFY(first);
        QVERIFY(first->isSelfSigned());
        QVERIFY(!first->isExpired());
        QString cert2;
        QString key2;
        QVERIFY(ServerController::selfSignedCertificate(dir.path(), &cert2, &key2, &error));
        QCOMPARE(cert2, cert);
        QCOMPARE(net::TlsContext::load(cert2, key2, &error)->fingerprint(), first->fingerprint());
        // It names localhost and 127.0.0.1: a client checking the host name accepts it.
        const QSslCertificate parsed = QSslCertificate::fromPath(cert).value(0);
        const auto names = parsed.subjectAlternativeNames();
        QVERIFY(names.values(QSsl::DnsEntry).contains(u"localhost"_s));
        QVERIFY(names.values(QSsl::IpAddressEntry).contains(u"127.0.0.1"_s));
        QCOMPARE(QFile::permissions(key) & (QFileDevice::ReadOther | QFileDevice::ReadGroup),
                 QFileDevice::Permissions{});
    }
};

QTEST_MAIN(tst_TlsIntegration)
#include "tst_tls_integration.moc"
