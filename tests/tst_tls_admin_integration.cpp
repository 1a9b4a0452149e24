// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// The admin API over TLS (--admin-tls-cert/--admin-tls-key, --admin-tls self-signed): Qt's HTTPS client
// trusting the test certificate, plain HTTP sent to the TLS admin port, clients stalling mid-handshake,
// certificate reload, the start-up errors of the CLI and its listening lines. Real sockets on 127.0.0.1.
#include "adminserver.h"
#include "runtoend.h"
#include "testserver.h"
#include "tlstools.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSslCipher>
#include <QSslError>
#include <QSslSocket>
#include <QTcpSocket>
#include <QTest>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fcntl.h>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {

struct Reply {
    int status = 0;
    QByteArray body;
    QString peerFingerprint; // SHA-256 of the certificate the server showed, upper-case hex
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
};

QMutex g_logMutex;
QStringList g_log;
QtMessageHandler g_previousHandler = nullptr;
void captureLog(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    {
        const QMutexLocker lock(&g_logMutex);
        g_log.append(message);
    }
    if (g_previousHandler) {
        g_previousHandler(type, context, message);
    }
}

qsizetype logLinesContaining(const QString &text)
{
    const QMutexLocker lock(&g_logMutex);
    return g_log.filter(text).size();
}

const QByteArray kToken = "admin-token-7c1e";

} // namespace

class tst_TlsAdminIntegration : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    CertPair m_pair;
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<AdminServer> m_admin;
    QNetworkAccessManager m_network;

    Reply get(quint16 port, const QString &path, const QString &trusted, const QByteArray &token,
              const QByteArray &origin = {})
    {
        QNetworkRequest request(QUrl(u"https://localhost:%1%2"_s.arg(port).arg(path)));
        request.setSslConfiguration(trustingConfiguration(trusted));
        if (!token.isEmpty()) {
            request.setRawHeader("Authorization", "Bearer " + token);
        }
        if (!origin.isEmpty()) {
            request.setRawHeader("Origin", origin);
        }
        QNetworkReply *reply = m_network.get(request);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        Reply result;
        if (!reply->isFinished() && !finished.wait(15000)) {
            reply->abort();
            reply->deleteLater();
            result.error = QNetworkReply::TimeoutError;
            return result;
        }
        result.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        result.body = reply->readAll();
        result.error = reply->error();
        result.peerFingerprint = QString::fromLatin1(
            reply->sslConfiguration().peerCertificate().digest(QCryptographicHash::Sha256).toHex().toUpper());
        reply->deleteLater();
        return result;
    }

    QString fingerprintHex() const { return m_admin->tlsFingerprint().remove(u':'); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QSslSocket::supportsSsl());
        g_previousHandler = qInstallMessageHandler(captureLog);
        m_pair = makeCertPair(m_dir, u"admin"_s);
        QVERIFY(!m_pair.cert.isEmpty());
        m_server = std::make_unique<TestServer>();
        QVERIFY(m_server->start());
        QVERIFY(m_server->addInstance(u"lobby"_s, u"chat"_s));
        m_admin = std::make_unique<AdminServer>(m_server->controller(), QString::fromLatin1(kToken));
        QString error;
        QVERIFY2(m_admin->enableTls(m_pair.cert, m_pair.key, &error), qPrintable(error));
        QVERIFY(m_admin->isTls());
        QVERIFY2(m_admin->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
    }

    void cleanupTestCase()
    {
        m_admin.reset();
        m_server.reset();
        qInstallMessageHandler(g_previousHandler);
    }

    void httpsWithTheToken()
    {
        const Reply reply = get(m_admin->port(), u"/api/instances"_s, m_pair.cert, kToken);
        QVERIFY2(reply.error == QNetworkReply::NoError, qPrintable(QString::number(reply.error)));
        QCOMPARE(reply.status, 200);
        const QJsonArray instances = QJsonDocument::fromJson(reply.body).array();
        QVERIFY2(instances.size() == 1 && instances.first()[u"id"_s].toString() == u"lobby"_s, reply.body.constData());
        QCOMPARE(reply.peerFingerprint, fingerprintHex());
        // The token is still required over TLS.
        QCOMPARE(get(m_admin->port(), u"/api/instances"_s, m_pair.cert, {}).status, 401);
        // The admin API's own origin is https:// now; http:// with the same host and port is another origin.
        const QByteArray port = QByteArray::number(m_admin->port());
        QCOMPARE(get(m_admin->port(), u"/api/instances"_s, m_pair.cert, kToken, "https://localhost:" + port).status,
                 200);
        QCOMPARE(get(m_admin->port(), u"/api/instances"_s, m_pair.cert, kToken, "http://localhost:" + port).status,
                 403);
    }

    void protocolsAndAlpn()
    {
        for (const QSsl::SslProtocol protocol : {QSsl::TlsV1_2, QSsl::TlsV1_3}) {
            QSslSocket socket;
            QSslConfiguration configuration = trustingConfiguration(m_pair.cert);
            configuration.setProtocol(protocol);
            configuration.setAllowedNextProtocols({"h2", "http/1.1"});
            socket.setSslConfiguration(configuration);
            QSignalSpy encrypted(&socket, &QSslSocket::encrypted);
            socket.connectToHostEncrypted(u"localhost"_s, m_admin->port());    // the server runs in this thread:
            QVERIFY2(encrypted.wait(10000), qPrintable(socket.errorString())); // wait in the event loop
            QCOMPARE(socket.sessionProtocol(), protocol);
            QCOMPARE(socket.sslConfiguration().nextNegotiatedProtocol(), QByteArray("http/1.1"));
            const QString cipher = socket.sessionCipher().name();
            QVERIFY2(protocol == QSsl::TlsV1_3 || (cipher.startsWith(u"ECDHE-"_s) &&
                                                   (cipher.contains(u"GCM"_s) || cipher.contains(u"CHACHA"_s))),
                     qPrintable(cipher));
            socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
            QByteArray response;
            QTRY_VERIFY_WITH_TIMEOUT((response += socket.readAll()).contains("\r\n\r\n"), 10000);
            QVERIFY2(response.startsWith("HTTP/1.1 "), response.constData());
        }
    }

    void plainHttpIsRefusedClearly()
    {
        const qsizetype loggedBefore = logLinesContaining(u"plain HTTP sent to the admin API's TLS port"_s);
        for (int attempt = 0; attempt < 2; ++attempt) {
            QTcpSocket plain;
            plain.connectToHost(QHostAddress::LocalHost, m_admin->port());
            QVERIFY(plain.waitForConnected(5000));
            plain.write("GET /api/instances HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + kToken +
                        "\r\n\r\n");
            QByteArray response;
            QTRY_VERIFY_WITH_TIMEOUT((response += plain.readAll(), plain.state() == QAbstractSocket::UnconnectedState),
                                     10000);
            response += plain.readAll();
            QVERIFY2(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response.constData());
            QVERIFY2(response.contains("this port speaks TLS: use https://"), response.constData());
            QVERIFY(!response.contains("lobby")); // nothing of the API in plain text
        }
        // Logged once for the address, not per request.
        QCOMPARE(logLinesContaining(u"plain HTTP sent to the admin API's TLS port"_s), loggedBefore + 1);
        // Bytes that are neither TLS nor HTTP: closed without an answer.
        QTcpSocket junk;
        junk.connectToHost(QHostAddress::LocalHost, m_admin->port());
        QVERIFY(junk.waitForConnected(5000));
        junk.write(QByteArray("\x00\x01\x02\x03", 4));
        QTRY_COMPARE_WITH_TIMEOUT(junk.state(), QAbstractSocket::UnconnectedState, 10000);
        QVERIFY(junk.readAll().isEmpty());
    }

    void stalledHandshakesNeverBlockOthers()
    {
        m_admin->setTimeouts(std::chrono::milliseconds(1500), std::chrono::milliseconds(30000));
        // One says nothing; one promises a ClientHello that never comes; one stops after its ClientHello.
        QTcpSocket silent;
        silent.connectToHost(QHostAddress::LocalHost, m_admin->port());
        QTcpSocket partial;
        partial.connectToHost(QHostAddress::LocalHost, m_admin->port());
        QVERIFY(silent.waitForConnected(5000) && partial.waitForConnected(5000));
        partial.write(QByteArray::fromHex("1603010200") + QByteArray(40, '\x01'));
        const int hello = connectBlocking(m_admin->port(), 15);
        QVERIFY(hello >= 0);
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, hello);
        ::fcntl(hello, F_SETFL, ::fcntl(hello, F_GETFL) | O_NONBLOCK);
        QCOMPARE(SSL_get_error(ssl, SSL_connect(ssl)), SSL_ERROR_WANT_READ); // the ClientHello went out
        ::fcntl(hello, F_SETFL, ::fcntl(hello, F_GETFL) & ~O_NONBLOCK);
        // Meanwhile other clients are served, several times over.
        for (int i = 0; i < 3; ++i) {
            m_network.clearConnectionCache();
            QCOMPARE(get(m_admin->port(), u"/api/instances"_s, m_pair.cert, kToken).status, 200);
        }
        // The head budget closes the stalled ones.
        QTRY_COMPARE_WITH_TIMEOUT(silent.state(), QAbstractSocket::UnconnectedState, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(partial.state(), QAbstractSocket::UnconnectedState, 10000);
        QVERIFY(peerCloses(hello));
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        ERR_clear_error();
        ::close(hello);
        QVERIFY(silent.readAll().isEmpty());
        QVERIFY(partial.readAll().isEmpty()); // no HTTP answer inside a handshake
        m_admin->setTimeouts(std::chrono::milliseconds(10000), std::chrono::milliseconds(30000));
    }

    void reloadServesTheNewCertificate()
    {
        QTemporaryDir dir;
        const CertPair first = makeCertPair(dir, u"live"_s);
        AdminServer admin(m_server->controller(), QString::fromLatin1(kToken));
        QString error;
        QVERIFY2(admin.enableTls(first.cert, first.key, &error), qPrintable(error));
        QVERIFY2(admin.listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
        const QString before = admin.tlsFingerprint();
        QCOMPARE(get(admin.port(), u"/healthz"_s, first.cert, kToken).peerFingerprint, QString(before).remove(u':'));
        const CertPair second = makeCertPair(dir, u"next"_s);
        QFile::remove(first.key);
        QVERIFY(QFile::copy(second.key, first.key));
        QFile::remove(first.cert);
        QVERIFY(QFile::copy(second.cert, first.cert));
        QTRY_VERIFY_WITH_TIMEOUT(admin.tlsFingerprint() != before, 10000);
        m_network.clearConnectionCache(); // a new connection, which gets the new certificate
        const Reply reply = get(admin.port(), u"/healthz"_s, second.cert, kToken);
        QVERIFY2(reply.error == QNetworkReply::NoError, qPrintable(QString::number(reply.error)));
        QCOMPARE(reply.peerFingerprint, admin.tlsFingerprint().remove(u':'));
    }

    void expiredCertificateStartsWithAWarning()
    {
        QTemporaryDir dir;
        const CertPair expired = makeCertPair(dir, u"old"_s, -10 * 24 * 3600, -24 * 3600);
        const qsizetype before = logLinesContaining(u"expired"_s);
        AdminServer admin(m_server->controller(), QString::fromLatin1(kToken));
        QString error;
        QVERIFY2(admin.enableTls(expired.cert, expired.key, &error), qPrintable(error));
        QVERIFY2(admin.listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
        QCOMPARE(logLinesContaining(u"expired"_s), before + 1);
        QVERIFY(logLinesContaining(expired.cert) >= 1);
        // It is served; a client that checks dates refuses it, as the warning says.
        QSslSocket socket;
        socket.setSslConfiguration(trustingConfiguration(expired.cert));
        QSignalSpy failed(&socket, &QSslSocket::sslErrors);
        socket.connectToHostEncrypted(u"localhost"_s, admin.port());
        QVERIFY(failed.wait(10000));
        const auto errors = failed.first().first().value<QList<QSslError>>();
        QVERIFY(std::any_of(errors.cbegin(), errors.cend(),
                            [](const QSslError &e) { return e.error() == QSslError::CertificateExpired; }));
    }

    void badFilesStopTheStart()
    {
        QTemporaryDir dir;
        const CertPair good = makeCertPair(dir, u"a"_s);
        const CertPair other = makeCertPair(dir, u"b"_s);
        const QString missing = dir.filePath(u"missing.pem"_s);
        QFile junk(dir.filePath(u"junk.pem"_s));
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not a certificate\n");
        junk.close();
        const QString unreadable = dir.filePath(u"unreadable.key"_s);
        QVERIFY(QFile::copy(good.key, unreadable));
        QVERIFY(QFile::setPermissions(unreadable, QFileDevice::WriteOwner));
        const bool root = QFile(unreadable).open(QIODevice::ReadOnly); // root reads anything
        QFile config(dir.filePath(u"config.json"_s));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(R"({"admin_tls_cert": "missing.pem", "admin_tls_key": "a.key"})");
        config.close();
        struct Case {
            QStringList args;
            QString file;
            QString problem;
        };
        QList<Case> cases = {
            {{u"--admin-tls-cert"_s, missing, u"--admin-tls-key"_s, good.key}, missing, u"no such file"_s},
            {{u"--admin-tls-cert"_s, good.cert, u"--admin-tls-key"_s, missing}, missing, u"no such file"_s},
            {{u"--admin-tls-cert"_s, junk.fileName(), u"--admin-tls-key"_s, good.key},
             junk.fileName(),
             u"not a usable PEM certificate"_s},
            {{u"--admin-tls-cert"_s, good.cert, u"--admin-tls-key"_s, junk.fileName()},
             junk.fileName(),
             u"not a usable PEM private key"_s},
            {{u"--admin-tls-cert"_s, good.cert, u"--admin-tls-key"_s, other.key}, other.key, u"does not match"_s},
            {{u"--admin-tls-cert"_s, dir.path(), u"--admin-tls-key"_s, good.key}, dir.path(), u"not a file"_s},
            {{u"--admin-tls-cert"_s, good.cert}, u"--admin-tls-key"_s, u"needs"_s},
            {{u"--admin-tls-key"_s, good.key}, u"--admin-tls-cert"_s, u"needs"_s},
            {{u"--admin-tls"_s, u"bogus"_s}, u"bogus"_s, u"self-signed"_s},
            {{u"--admin-tls"_s, u"self-signed"_s, u"--admin-tls-cert"_s, good.cert, u"--admin-tls-key"_s, good.key},
             u"--admin-tls"_s,
             u"exclude each other"_s},
            {{u"--config"_s, config.fileName()}, missing, u"no such file"_s}, // relative to the config file
        };
        if (!root) {
            cases.append(
                {{u"--admin-tls-cert"_s, good.cert, u"--admin-tls-key"_s, unreadable}, unreadable, u"not readable"_s});
        }
        for (const Case &each : std::as_const(cases)) {
            const RunResult result =
                runToEnd(QStringList{u"--headless"_s, u"--port"_s, u"0"_s, u"--admin-port"_s, u"0"_s} + each.args);
            QCOMPARE(result.exitCode, 2);
            const QStringList lines = result.err.split(u'\n').filter(u"wsserve: error:"_s);
            QVERIFY2(lines.size() == 1 && lines.first().contains(each.file) && lines.first().contains(each.problem),
                     qPrintable(each.args.join(u' ') + u" -> "_s + result.err));
        }
    }

    void cliListensOnHttpsAndSharesTheSelfSignedCertificate()
    {
        QTemporaryDir data;
        QProcess process;
        process.start(QStringLiteral(WSSERVE_BINARY),
                      {u"--headless"_s, u"--bind"_s, u"127.0.0.1"_s, u"--port"_s, u"0"_s, u"--admin-port"_s, u"0"_s,
                       u"--tls"_s, u"self-signed"_s, u"--admin-tls"_s, u"self-signed"_s, u"--data-dir"_s, data.path(),
                       u"--admin-token"_s, QString::fromLatin1(kToken), u"--instance"_s, u"e:echo"_s});
        QVERIFY(process.waitForStarted(10000));
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += process.readAllStandardOutput()).count('\n') >= 4, 30000);
        const QStringList lines = QString::fromUtf8(out).split(u'\n');
        static const QRegularExpression adminLine(u"^wsserve: admin API on https://127\\.0\\.0\\.1:(\\d+)$"_s);
        static const QRegularExpression fingerprint(u"SHA-256 fingerprint ([0-9A-F:]{95})$"_s);
        quint16 port = 0;
        QStringList fingerprints;
        for (const QString &line : lines) {
            if (const auto match = adminLine.match(line); match.hasMatch()) {
                port = static_cast<quint16>(match.captured(1).toUInt());
            }
            if (const auto match = fingerprint.match(line); match.hasMatch()) {
                fingerprints.append(match.captured(1));
            }
        }
        QVERIFY2(port != 0, out.constData());
        // The game port's line and the admin API's, with the same stored certificate.
        QVERIFY2(fingerprints.size() == 2 && fingerprints.first() == fingerprints.last(), out.constData());
        const QString cert = QDir(data.path()).filePath(u"tls-self-signed.crt"_s);
        QVERIFY(QFile::exists(cert));
        const Reply reply = get(port, u"/api/instances"_s, cert, kToken);
        QCOMPARE(reply.status, 200);
        QVERIFY(reply.body.contains("\"e\""));
        QCOMPARE(reply.peerFingerprint, fingerprints.first().remove(u':'));
        process.terminate();
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 0);
    }
};

QTEST_MAIN(tst_TlsAdminIntegration)
#include "tst_tls_admin_integration.moc"
