// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for the HTTP/1.1 request-head parser the endpoint runs before a WebSocket upgrade:
// completeness and the 8 KiB limit, malformed request and header lines, header normalisation,
// comma-separated tokens, upgrade detection, path decoding and headSize.

#include "endpoint/httprequesthead.h"

#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

using Status = HttpParseResult::Status;
Q_DECLARE_METATYPE(wsserve::HttpParseResult::Status)

namespace {

QByteArray repeated(char c, qsizetype count)
{
    return QByteArray(count, c);
}

// A complete head of exactly `size` bytes: request line, one padding header, blank line.
QByteArray headOfSize(qsizetype size)
{
    const QByteArray prefix = QByteArrayLiteral("GET / HTTP/1.1\r\nX-Pad: "); // 23 bytes
    const QByteArray suffix = QByteArrayLiteral("\r\n\r\n");                  // 4 bytes
    return prefix + repeated('a', size - 23 - 4) + suffix;
}

} // namespace

class tst_HttpRequestHead : public QObject
{
    Q_OBJECT

private slots:
    void status_data();
    void status();
    void completeUpgradeRequest();
    void headSizeExcludesFollowingBytes();
    void sizeLimitBoundary();
    void headerNormalisation();
    void headerTokens_data();
    void headerTokens();
    void isWebSocketUpgrade_data();
    void isWebSocketUpgrade();
    void targetSplitting_data();
    void targetSplitting();
};

void tst_HttpRequestHead::status_data()
{
    QTest::addColumn<QByteArray>("data");
    QTest::addColumn<Status>("expected");

    QTest::newRow("minimal complete") << QByteArrayLiteral("GET / HTTP/1.1\r\n\r\n") << Status::Complete;
    QTest::newRow("HTTP/1.0 complete") << QByteArrayLiteral("GET / HTTP/1.0\r\nHost: a\r\n\r\n") << Status::Complete;
    QTest::newRow("empty input") << QByteArray() << Status::Incomplete;
    QTest::newRow("request line only") << QByteArrayLiteral("GET / HTTP/1.1\r\n") << Status::Incomplete;
    QTest::newRow("headers without blank line")
        << QByteArrayLiteral("GET / HTTP/1.1\r\nHost: a\r\n") << Status::Incomplete;
    QTest::newRow("blank line half there")
        << QByteArrayLiteral("GET / HTTP/1.1\r\nHost: a\r\n\r") << Status::Incomplete;
    QTest::newRow("partial request line") << QByteArrayLiteral("GE") << Status::Incomplete;
    QTest::newRow("no blank line within 8 KiB") << repeated('a', 8192) << Status::TooLarge;
    QTest::newRow("no blank line, 9000 bytes")
        << QByteArray(QByteArrayLiteral("GET / HTTP/1.1\r\nX: ") + repeated('a', 9000)) << Status::TooLarge;
    QTest::newRow("8191 bytes, no blank line yet") << repeated('a', 8191) << Status::Incomplete;
    QTest::newRow("complete head over 8 KiB") << QByteArray(QByteArrayLiteral("GET / HTTP/1.1\r\nX-Big: ") +
                                                            repeated('a', 9000) + QByteArrayLiteral("\r\n\r\n"))
                                              << Status::TooLarge;

    // Malformed request lines.
    QTest::newRow("only a blank line") << QByteArrayLiteral("\r\n\r\n") << Status::Malformed;
    QTest::newRow("two parts") << QByteArrayLiteral("GET /\r\n\r\n") << Status::Malformed;
    QTest::newRow("four parts") << QByteArrayLiteral("GET / HTTP/1.1 extra\r\n\r\n") << Status::Malformed;
    QTest::newRow("double space") << QByteArrayLiteral("GET  / HTTP/1.1\r\n\r\n") << Status::Malformed;
    QTest::newRow("method with separator") << QByteArrayLiteral("GE(T / HTTP/1.1\r\n\r\n") << Status::Malformed;
    QTest::newRow("method with colon") << QByteArrayLiteral("GET: / HTTP/1.1\r\n\r\n") << Status::Malformed;
    QTest::newRow("not HTTP") << QByteArrayLiteral("GET / FTP/1.0\r\n\r\n") << Status::Malformed;
    QTest::newRow("HTTP/2.0") << QByteArrayLiteral("GET / HTTP/2.0\r\n\r\n") << Status::Malformed;
    QTest::newRow("lower-case http") << QByteArrayLiteral("GET / http/1.1\r\n\r\n") << Status::Malformed;
    QTest::newRow("relative target") << QByteArrayLiteral("GET socket HTTP/1.1\r\n\r\n") << Status::Malformed;
    QTest::newRow("space before colon") << QByteArrayLiteral("GET / HTTP/1.1\r\nHost : x\r\n\r\n") << Status::Malformed;
    QTest::newRow("folded header") << QByteArrayLiteral("GET / HTTP/1.1\r\nHost: x\r\n  y\r\n\r\n")
                                   << Status::Malformed;
    QTest::newRow("binary garbage") << QByteArrayLiteral("\x16\x03\x01\x02\x00\r\n\r\n") << Status::Malformed;

    // Malformed header lines.
    QTest::newRow("header without colon")
        << QByteArrayLiteral("GET / HTTP/1.1\r\nNoColonHere\r\n\r\n") << Status::Malformed;
    QTest::newRow("header with empty name")
        << QByteArrayLiteral("GET / HTTP/1.1\r\n: value\r\n\r\n") << Status::Malformed;
    QTest::newRow("header name with space")
        << QByteArrayLiteral("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n") << Status::Malformed;
    QTest::newRow("header name with separator")
        << QByteArrayLiteral("GET / HTTP/1.1\r\nNa(me: x\r\n\r\n") << Status::Malformed;
    QTest::newRow("second header bad") << QByteArrayLiteral("GET / HTTP/1.1\r\nHost: a\r\ngarbage\r\n\r\n")
                                       << Status::Malformed;
}

void tst_HttpRequestHead::status()
{
    QFETCH(QByteArray, data);
    QFETCH(Status, expected);

    const HttpParseResult result = parseHttpRequestHead(data);
    QCOMPARE(result.status, expected);
    if (expected == Status::Malformed || expected == Status::TooLarge) {
        QVERIFY(!result.error.isEmpty());
        QCOMPARE(result.headSize, 0);
    }
    if (expected == Status::Incomplete) {
        QCOMPARE(result.headSize, 0);
    }
}

void tst_HttpRequestHead::completeUpgradeRequest()
{
    const QByteArray head = QByteArrayLiteral("GET /socket/lobby/websocket?token=a%20b&vsn=2.0.0 HTTP/1.1\r\n"
                                              "Host: 127.0.0.1:4000\r\n"
                                              "Upgrade: websocket\r\n"
                                              "Connection: Upgrade\r\n"
                                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                              "Sec-WebSocket-Version: 13\r\n"
                                              "\r\n");
    const HttpParseResult result = parseHttpRequestHead(head);
    QCOMPARE(result.status, Status::Complete);
    QVERIFY(result.error.isEmpty());
    QCOMPARE(result.headSize, head.size());
    QCOMPARE(result.head.method, QByteArrayLiteral("GET"));
    QCOMPARE(result.head.target, QByteArrayLiteral("/socket/lobby/websocket?token=a%20b&vsn=2.0.0"));
    QCOMPARE(result.head.path, QByteArrayLiteral("/socket/lobby/websocket"));
    QCOMPARE(result.head.query, QByteArrayLiteral("token=a%20b&vsn=2.0.0"));
    QCOMPARE(result.head.version, QByteArrayLiteral("HTTP/1.1"));
    const QList<std::pair<QByteArray, QByteArray>> expectedHeaders{
        {"host", "127.0.0.1:4000"},      {"upgrade", "websocket"},
        {"connection", "Upgrade"},       {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
        {"sec-websocket-version", "13"},
    };
    QCOMPARE(result.head.headers, expectedHeaders);
    QCOMPARE(result.head.header("sec-websocket-key"), QByteArrayLiteral("dGhlIHNhbXBsZSBub25jZQ=="));
    QVERIFY(result.head.header("origin").isNull());
    QVERIFY(result.head.isWebSocketUpgrade());
}

void tst_HttpRequestHead::headSizeExcludesFollowingBytes()
{
    // Counted by hand: "GET /x HTTP/1.1\r\n" = 17, "A: b\r\n" = 6, "\r\n" = 2; 25 bytes in all.
    const QByteArray head = QByteArrayLiteral("GET /x HTTP/1.1\r\nA: b\r\n\r\n");
    QCOMPARE(head.size(), 25);
    const HttpParseResult result = parseHttpRequestHead(head + QByteArrayLiteral("\x81\x85garbage after head"));
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.headSize, 25);
    QCOMPARE(result.head.header("a"), QByteArrayLiteral("b"));

    // A second request pipelined behind the first: only the first head counts.
    const HttpParseResult pipelined = parseHttpRequestHead(head + head);
    QCOMPARE(pipelined.status, Status::Complete);
    QCOMPARE(pipelined.headSize, 25);
    QCOMPARE(pipelined.head.headers.size(), 1);
}

void tst_HttpRequestHead::sizeLimitBoundary()
{
    const QByteArray exact = headOfSize(8192);
    QCOMPARE(exact.size(), 8192);
    const HttpParseResult atLimit = parseHttpRequestHead(exact);
    QCOMPARE(atLimit.status, Status::Complete);
    QCOMPARE(atLimit.headSize, 8192);
    QCOMPARE(atLimit.head.header("x-pad").size(), 8192 - 27);

    const QByteArray over = headOfSize(8193);
    QCOMPARE(over.size(), 8193);
    const HttpParseResult overLimit = parseHttpRequestHead(over);
    QCOMPARE(overLimit.status, Status::TooLarge);
    QVERIFY(!overLimit.error.isEmpty());

    // The 8192-byte head still complete when followed by more data (the limit is on the head).
    const HttpParseResult withBody = parseHttpRequestHead(exact + repeated('b', 100));
    QCOMPARE(withBody.status, Status::Complete);
    QCOMPARE(withBody.headSize, 8192);
}

void tst_HttpRequestHead::headerNormalisation()
{
    const QByteArray head = QByteArrayLiteral("GET / HTTP/1.1\r\n"
                                              "HOST:example.com\r\n"
                                              "Sec-WebSocket-Key:   dGhl  \r\n"
                                              "X-Tabbed:\tvalue with  inner  spaces\t\r\n"
                                              "X-Empty:\r\n"
                                              "X-Empty-Spaces:    \r\n"
                                              "X-Colon: a:b:c\r\n"
                                              "x-dup: first\r\n"
                                              "X-Dup: second\r\n"
                                              "\r\n");
    const HttpParseResult result = parseHttpRequestHead(head);
    QCOMPARE(result.status, Status::Complete);
    const QList<std::pair<QByteArray, QByteArray>> expected{
        {"host", "example.com"}, {"sec-websocket-key", "dGhl"}, {"x-tabbed", "value with  inner  spaces"},
        {"x-empty", ""},         {"x-empty-spaces", ""},        {"x-colon", "a:b:c"},
        {"x-dup", "first"},      {"x-dup", "second"},
    };
    QCOMPARE(result.head.headers, expected);
    QCOMPARE(result.head.header("host"), QByteArrayLiteral("example.com"));
    QCOMPARE(result.head.header("x-dup"), QByteArrayLiteral("first"));
    QVERIFY(!result.head.header("x-empty").isNull());
    QVERIFY(result.head.header("x-empty").isEmpty());
    QVERIFY(result.head.header("HOST").isNull()); // lookups take the lower-case name
    QCOMPARE(result.headSize, head.size());
}

void tst_HttpRequestHead::headerTokens_data()
{
    QTest::addColumn<QByteArray>("headerLines");
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QList<QByteArray>>("expected");

    QTest::newRow("single") << QByteArrayLiteral("Connection: Upgrade\r\n") << QByteArrayLiteral("connection")
                            << QList<QByteArray>{"Upgrade"};
    QTest::newRow("comma separated") << QByteArrayLiteral("Connection: keep-alive, Upgrade\r\n")
                                     << QByteArrayLiteral("connection") << QList<QByteArray>{"keep-alive", "Upgrade"};
    QTest::newRow("repeated header")
        << QByteArrayLiteral("Sec-WebSocket-Protocol: phoenix\r\nSec-WebSocket-Protocol: base64url.bearer.phx.c2Vj\r\n")
        << QByteArrayLiteral("sec-websocket-protocol") << QList<QByteArray>{"phoenix", "base64url.bearer.phx.c2Vj"};
    QTest::newRow("repeated and comma separated") << QByteArrayLiteral("X-T: a, b\r\nOther: z\r\nx-t: c ,d\r\n")
                                                  << QByteArrayLiteral("x-t") << QList<QByteArray>{"a", "b", "c", "d"};
    QTest::newRow("empty tokens skipped")
        << QByteArrayLiteral("X-T: ,a,, b ,\r\n") << QByteArrayLiteral("x-t") << QList<QByteArray>{"a", "b"};
    QTest::newRow("absent header") << QByteArrayLiteral("Host: a\r\n") << QByteArrayLiteral("x-t")
                                   << QList<QByteArray>{};
    QTest::newRow("empty value") << QByteArrayLiteral("X-T:\r\n") << QByteArrayLiteral("x-t") << QList<QByteArray>{};
}

void tst_HttpRequestHead::headerTokens()
{
    QFETCH(QByteArray, headerLines);
    QFETCH(QByteArray, name);
    QFETCH(QList<QByteArray>, expected);

    const HttpParseResult result =
        parseHttpRequestHead(QByteArrayLiteral("GET / HTTP/1.1\r\n") + headerLines + QByteArrayLiteral("\r\n"));
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.head.headerTokens(name), expected);
}

void tst_HttpRequestHead::isWebSocketUpgrade_data()
{
    QTest::addColumn<QByteArray>("headerLines");
    QTest::addColumn<bool>("expected");

    QTest::newRow("canonical") << QByteArrayLiteral("Connection: Upgrade\r\nUpgrade: websocket\r\n") << true;
    QTest::newRow("keep-alive, Upgrade (Firefox)")
        << QByteArrayLiteral("Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n") << true;
    QTest::newRow("case-insensitive values")
        << QByteArrayLiteral("connection: UPGRADE\r\nupgrade: WebSocket\r\n") << true;
    QTest::newRow("case-insensitive names")
        << QByteArrayLiteral("CONNECTION: upgrade\r\nUPGRADE: websocket\r\n") << true;
    QTest::newRow("upgrade token in second Connection header")
        << QByteArrayLiteral("Connection: keep-alive\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n") << true;
    QTest::newRow("several upgrade protocols")
        << QByteArrayLiteral("Connection: Upgrade\r\nUpgrade: h2c, websocket\r\n") << true;
    QTest::newRow("no Upgrade header") << QByteArrayLiteral("Connection: Upgrade\r\n") << false;
    QTest::newRow("no Connection header") << QByteArrayLiteral("Upgrade: websocket\r\n") << false;
    QTest::newRow("Connection: keep-alive only")
        << QByteArrayLiteral("Connection: keep-alive\r\nUpgrade: websocket\r\n") << false;
    QTest::newRow("Upgrade: h2c") << QByteArrayLiteral("Connection: Upgrade\r\nUpgrade: h2c\r\n") << false;
    QTest::newRow("token prefix is not a token")
        << QByteArrayLiteral("Connection: Upgrades\r\nUpgrade: websockets\r\n") << false;
    QTest::newRow("plain request") << QByteArrayLiteral("Host: a\r\n") << false;
}

void tst_HttpRequestHead::isWebSocketUpgrade()
{
    QFETCH(QByteArray, headerLines);
    QFETCH(bool, expected);

    const HttpParseResult result = parseHttpRequestHead(QByteArrayLiteral("GET /socket/websocket HTTP/1.1\r\n") +
                                                        headerLines + QByteArrayLiteral("\r\n"));
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.head.isWebSocketUpgrade(), expected);
}

void tst_HttpRequestHead::targetSplitting_data()
{
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<bool>("hasQuery");

    QTest::newRow("no query") << QByteArrayLiteral("/socket/websocket") << QByteArrayLiteral("/socket/websocket")
                              << QByteArray() << false;
    QTest::newRow("query kept raw") << QByteArrayLiteral("/socket/websocket?token=a%20b%2Bc&x=1+2")
                                    << QByteArrayLiteral("/socket/websocket")
                                    << QByteArrayLiteral("token=a%20b%2Bc&x=1+2") << true;
    QTest::newRow("path percent-decoded")
        << QByteArrayLiteral("/socket/my%20room/websocket?vsn=2.0.0") << QByteArrayLiteral("/socket/my room/websocket")
        << QByteArrayLiteral("vsn=2.0.0") << true;
    QTest::newRow("plus in path stays plus")
        << QByteArrayLiteral("/a+b") << QByteArrayLiteral("/a+b") << QByteArray() << false;
    QTest::newRow("utf8 in path") << QByteArrayLiteral("/caf%C3%A9") << QByteArrayLiteral("/caf\xC3\xA9")
                                  << QByteArray() << false;
    QTest::newRow("encoded question mark in path")
        << QByteArrayLiteral("/a%3Fb?c=d") << QByteArrayLiteral("/a?b") << QByteArrayLiteral("c=d") << true;
    QTest::newRow("empty query after ?") << QByteArrayLiteral("/x?") << QByteArrayLiteral("/x") << QByteArray() << true;
    QTest::newRow("second ? belongs to the query")
        << QByteArrayLiteral("/x?a=1?b") << QByteArrayLiteral("/x") << QByteArrayLiteral("a=1?b") << true;
    QTest::newRow("root") << QByteArrayLiteral("/") << QByteArrayLiteral("/") << QByteArray() << false;
}

void tst_HttpRequestHead::targetSplitting()
{
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, query);
    QFETCH(bool, hasQuery);

    const HttpParseResult result =
        parseHttpRequestHead(QByteArrayLiteral("GET ") + target + QByteArrayLiteral(" HTTP/1.1\r\nHost: h\r\n\r\n"));
    QCOMPARE(result.status, Status::Complete);
    QCOMPARE(result.head.target, target);
    QCOMPARE(result.head.path, path);
    QCOMPARE(result.head.query, query);
    if (!hasQuery) {
        QVERIFY(result.head.query.isEmpty());
    }
}

QTEST_GUILESS_MAIN(tst_HttpRequestHead)
#include "tst_httprequesthead.moc"
