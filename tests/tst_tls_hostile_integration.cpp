// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Hostile TLS clients on the game port: a raw OpenSSL client completes a real handshake (TLS 1.2 and
// 1.3), then writes bytes no TLS library would: garbage records, a truncated record followed by a close,
// a record header announcing 64 KiB, an unknown record type, an alert, in the endpoint's thread (before
// the upgrade) and in the instance's thread (after it). Each connection must be closed cleanly while a
// well-behaved wss:// client of the same instance goes on being served. Real sockets on 127.0.0.1.
#include "phoenixtestclient.h"
#include "testserver.h"
#include "tlstools.h"

#include <QJsonObject>
#include <QTest>

#include <openssl/err.h>
#include <openssl/ssl.h>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {

const QByteArray kUpgrade = "GET /socket/e/websocket?vsn=2.0.0 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                            "Sec-WebSocket-Version: 13\r\n\r\n";

QByteArray forgedApplicationData()
{
    QByteArray record = QByteArray::fromHex("1703030040");
    for (int i = 0; i < 64; ++i) {
        record.append(static_cast<char>(i * 37));
    }
    return record;
}

// What the hostile client writes, raw, on the socket under its established session.
struct Attack {
    const char *name;
    QByteArray bytes;
    bool closeAfter; // shut the write side after the bytes (a truncated record then a close)
};

QList<Attack> attacks()
{
    return {
        {"forged application data", forgedApplicationData(), false},
        {"truncated record then close", QByteArray::fromHex("1703030100") + QByteArray(10, '\x11'), true},
        {"record length 65535", QByteArray::fromHex("170303ffff") + QByteArray(4096, '\x00'), false},
        {"unknown record type", QByteArray::fromHex("9903030005") + "hello", false},
        {"fatal alert", QByteArray::fromHex("15030300020228"), false},
        {"half a record header then close", QByteArray::fromHex("1703"), true},
    };
}

} // namespace

class tst_TlsHostileIntegration : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    CertPair m_pair;
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<PhoenixTestClient> m_bystander;
    QString m_bystanderJoinRef;
    SSL_CTX *m_client = nullptr;

    std::unique_ptr<PhoenixTestClient> openClient()
    {
        auto client = std::make_unique<PhoenixTestClient>();
        client->socket().setSslConfiguration(trustingConfiguration(m_pair.cert));
        QUrl url = m_server->url(u"e"_s);
        url.setScheme(u"wss"_s);
        url.setHost(u"localhost"_s);
        if (!client->open(url)) {
            return nullptr;
        }
        return client;
    }

    // The joined client still gets its replies.
    bool bystanderServed()
    {
        const QString ref = m_bystander->nextRef();
        m_bystander->sendV2(m_bystanderJoinRef, ref, u"room:b"_s, u"ping"_s, QJsonObject{{u"n"_s, ref}});
        return m_bystander->waitForReply(u"room:b"_s, ref).has_value();
    }

    // A raw client with an established session (and, when `upgraded`, a WebSocket upgrade answered 101),
    // which then sends `attack` and must see the server close the connection.
    void runAttack(int version, bool upgraded, const Attack &attack)
    {
        SSL_CTX_set_min_proto_version(m_client, version);
        SSL_CTX_set_max_proto_version(m_client, version);
        const int fd = connectBlocking(m_server->port(), 15);
        QVERIFY(fd >= 0);
        SSL *ssl = SSL_new(m_client);
        SSL_set_fd(ssl, fd);
        QCOMPARE(SSL_connect(ssl), 1);
        if (upgraded) {
            QCOMPARE(SSL_write(ssl, kUpgrade.constData(), static_cast<int>(kUpgrade.size())),
                     static_cast<int>(kUpgrade.size()));
            char head[512];
            const int n = SSL_read(ssl, head, sizeof(head));
            QVERIFY(n > 0);
            QVERIFY2(QByteArray(head, n).startsWith("HTTP/1.1 101"), head);
        }
        QCOMPARE(::send(fd, attack.bytes.constData(), attack.bytes.size(), MSG_NOSIGNAL), attack.bytes.size());
        if (attack.closeAfter) {
            ::shutdown(fd, SHUT_WR);
        }
        QVERIFY2(peerCloses(fd), attack.name);
        SSL_free(ssl);
        ::close(fd);
        ERR_clear_error();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_pair = makeCertPair(m_dir, u"server"_s);
        QVERIFY(!m_pair.cert.isEmpty());
        m_server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(m_server->controller().enableTls(m_pair.cert, m_pair.key, &error), qPrintable(error));
        QVERIFY(m_server->start());
        QVERIFY(m_server->addInstance(u"e"_s, u"echo"_s));
        m_bystander = openClient();
        QVERIFY(m_bystander);
        m_bystanderJoinRef = m_bystander->join(u"room:b"_s);
        QVERIFY(m_bystander->waitForReply(u"room:b"_s, m_bystanderJoinRef));
        m_client = SSL_CTX_new(TLS_client_method());
        QVERIFY(m_client);
        SSL_CTX_set_verify(m_client, SSL_VERIFY_NONE, nullptr);
    }

    void cleanupTestCase()
    {
        SSL_CTX_free(m_client);
        m_bystander.reset();
        m_server.reset();
    }

    void hostileRecords_data()
    {
        QTest::addColumn<int>("version");
        QTest::addColumn<bool>("upgraded");
        QTest::addColumn<int>("attack");
        const QList<Attack> all = attacks();
        for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
            for (const bool upgraded : {false, true}) {
                for (int i = 0; i < all.size(); ++i) {
                    QTest::addRow("%s %s: %s", version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2",
                                  upgraded ? "after the upgrade" : "before the upgrade", all.at(i).name)
                        << version << upgraded << i;
                }
            }
        }
    }

    void hostileRecords()
    {
        QFETCH(int, version);
        QFETCH(bool, upgraded);
        QFETCH(int, attack);
        runAttack(version, upgraded, attacks().at(attack));
        QVERIFY(bystanderServed());
    }

    void truncatedClientHelloThenClose()
    {
        const int fd = connectBlocking(m_server->port(), 15);
        QVERIFY(fd >= 0);
        // A record header promising 512 bytes of ClientHello, 20 of them, then the end of the stream.
        const QByteArray partial = QByteArray::fromHex("1603010200010001fc0303") + QByteArray(9, '\x42');
        QCOMPARE(::send(fd, partial.constData(), partial.size(), MSG_NOSIGNAL), partial.size());
        ::shutdown(fd, SHUT_WR);
        QVERIFY(peerCloses(fd));
        ::close(fd);
        QVERIFY(bystanderServed());
    }

    void everyHostileConnectionIsGone()
    {
        // Only the bystander is left on the instance; a new client is served as the first was.
        QTRY_COMPARE_WITH_TIMEOUT(m_server->controller().instance(u"e"_s).stats.clients, 1, 10000);
        auto fresh = openClient();
        QVERIFY(fresh);
        const QString ref = fresh->join(u"room:c"_s);
        QVERIFY(fresh->waitForReply(u"room:c"_s, ref));
        QVERIFY(bystanderServed());
    }
};

QTEST_MAIN(tst_TlsHostileIntegration)
#include "tst_tls_hostile_integration.moc"
