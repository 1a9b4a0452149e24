// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Unit tests for query-string decoding (phoenix-protocol.md 1.1): percent-decoding, '+' as space,
// bracketed keys nesting like Plug, `list[]` arrays, skipped empty segments. Expected maps are hand-written JSON.

#include "protocol/queryparams.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

class tst_QueryParams : public QObject
{
    Q_OBJECT

private slots:
    void parseQueryParams_data();
    void parseQueryParams();
    void percentDecode_data();
    void percentDecode();
};

void tst_QueryParams::parseQueryParams_data()
{
    QTest::addColumn<QByteArray>("query");
    QTest::addColumn<QByteArray>("expectedJson");

    // The exact query the JS client 1.8.16 produced for
    // {token:"a b+c", user:{id:5, tags:["x","y"]}, n:null, u:undefined, flag:true} (protocol 1.1).
    QTest::newRow("protocol example")
        << QByteArray("token=a%20b%2Bc&user%5Bid%5D=5&user%5Btags%5D%5B0%5D=x&user%5Btags%5D%5B1%5D=y&&u=undefined"
                      "&flag=true&vsn=2.0.0")
        << QByteArray(R"({"token":"a b+c","user":{"id":"5","tags":{"0":"x","1":"y"}},"u":"undefined",)"
                      R"("flag":"true","vsn":"2.0.0"})");
    QTest::newRow("vsn only") << QByteArray("vsn=2.0.0") << QByteArray(R"({"vsn":"2.0.0"})");
    QTest::newRow("empty query") << QByteArray() << QByteArray("{}");
    QTest::newRow("plus in value is a space") << QByteArray("q=a+b+c") << QByteArray(R"({"q":"a b c"})");
    QTest::newRow("plus in key is a space") << QByteArray("a+b=1") << QByteArray(R"({"a b":"1"})");
    QTest::newRow("encoded plus stays a plus") << QByteArray("q=1%2B1") << QByteArray(R"({"q":"1+1"})");
    QTest::newRow("malformed %zz kept") << QByteArray("x=%zz") << QByteArray(R"({"x":"%zz"})");
    QTest::newRow("trailing %4 kept") << QByteArray("x=a%4") << QByteArray(R"({"x":"a%4"})");
    QTest::newRow("lone trailing % kept") << QByteArray("x=100%") << QByteArray(R"({"x":"100%"})");
    QTest::newRow("half-hex %4g kept") << QByteArray("x=%4g") << QByteArray(R"({"x":"%4g"})");
    QTest::newRow("%% then escape") << QByteArray("x=%%41") << QByteArray(R"({"x":"%A"})");
    QTest::newRow("escape at the very end") << QByteArray("x=%41") << QByteArray(R"({"x":"A"})");
    QTest::newRow("lower-case hex") << QByteArray("x=%2b%3d") << QByteArray(R"({"x":"+="})");
    QTest::newRow("list[] -> array") << QByteArray("list[]=a&list[]=b") << QByteArray(R"({"list":["a","b"]})");
    QTest::newRow("encoded list%5B%5D -> array")
        << QByteArray("list%5B%5D=a&list%5B%5D=b&list%5B%5D=c") << QByteArray(R"({"list":["a","b","c"]})");
    QTest::newRow("single list[]") << QByteArray("list[]=only") << QByteArray(R"({"list":["only"]})");
    QTest::newRow("nested list[]") << QByteArray("user[tags][]=x&user[tags][]=y&user[id]=5")
                                   << QByteArray(R"({"user":{"tags":["x","y"],"id":"5"}})");
    QTest::newRow("nested object") << QByteArray("user[id]=5&user[name]=bob")
                                   << QByteArray(R"({"user":{"id":"5","name":"bob"}})");
    QTest::newRow("three levels") << QByteArray("a[b][c]=d") << QByteArray(R"({"a":{"b":{"c":"d"}}})");
    QTest::newRow("array indices become map keys")
        << QByteArray("t[0]=x&t[1]=y") << QByteArray(R"({"t":{"0":"x","1":"y"}})");
    QTest::newRow("empty segments skipped") << QByteArray("&&a=1&&&b=2&") << QByteArray(R"({"a":"1","b":"2"})");
    QTest::newRow("only ampersands") << QByteArray("&&&") << QByteArray("{}");
    QTest::newRow("key without value") << QByteArray("flag") << QByteArray(R"({"flag":""})");
    QTest::newRow("key with empty value") << QByteArray("flag=&x=1") << QByteArray(R"({"flag":"","x":"1"})");
    QTest::newRow("value containing =") << QByteArray("a=b=c") << QByteArray(R"({"a":"b=c"})");
    QTest::newRow("unicode via %C3%A9") << QByteArray("name=Ren%C3%A9") << QByteArray(R"({"name":"René"})");
    QTest::newRow("unicode key") << QByteArray("%C3%A9t%C3%A9=1") << QByteArray(R"({"été":"1"})");
    QTest::newRow("4-byte utf8") << QByteArray("e=%F0%9F%98%80") << QByteArray("{\"e\":\"\xF0\x9F\x98\x80\"}");
    QTest::newRow("later key wins") << QByteArray("a=1&a=2") << QByteArray(R"({"a":"2"})");
    QTest::newRow("numbers and booleans stay strings")
        << QByteArray("n=5&b=true&z=null") << QByteArray(R"({"n":"5","b":"true","z":"null"})");
}

void tst_QueryParams::parseQueryParams()
{
    QFETCH(QByteArray, query);
    QFETCH(QByteArray, expectedJson);

    QJsonParseError parseError{};
    const QJsonDocument expectedDoc = QJsonDocument::fromJson(expectedJson, &parseError);
    QVERIFY2(parseError.error == QJsonParseError::NoError && expectedDoc.isObject(), "expected JSON does not parse");

    const QJsonObject actual = wsserve::parseQueryParams(query);
    QVERIFY2(
        actual == expectedDoc.object(),
        QByteArray("actual:   " + QJsonDocument(actual).toJson(QJsonDocument::Compact) + "\nexpected: " + expectedJson)
            .constData());
}

void tst_QueryParams::percentDecode_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<bool>("plusIsSpace");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("plain") << QByteArray("abc") << true << QByteArray("abc");
    QTest::newRow("empty") << QByteArray() << true << QByteArray();
    QTest::newRow("%20") << QByteArray("a%20b") << true << QByteArray("a b");
    QTest::newRow("plus is space") << QByteArray("a+b") << true << QByteArray("a b");
    QTest::newRow("plus kept (path)") << QByteArray("a+b") << false << QByteArray("a+b");
    QTest::newRow("%2B is plus either way") << QByteArray("%2B") << false << QByteArray("+");
    QTest::newRow("upper and lower hex") << QByteArray("%C3%a9") << true << QByteArray("\xC3\xA9");
    QTest::newRow("%00") << QByteArray("a%00b") << true << QByteArray("a\0b", 3);
    QTest::newRow("%FF") << QByteArray("%FF") << true << QByteArray("\xFF");
    QTest::newRow("%zz kept") << QByteArray("%zz") << true << QByteArray("%zz");
    QTest::newRow("%z1 kept") << QByteArray("%z1") << true << QByteArray("%z1");
    QTest::newRow("%1z kept") << QByteArray("%1z") << true << QByteArray("%1z");
    QTest::newRow("trailing %4 kept") << QByteArray("ab%4") << true << QByteArray("ab%4");
    QTest::newRow("trailing % kept") << QByteArray("ab%") << true << QByteArray("ab%");
    QTest::newRow("only %") << QByteArray("%") << true << QByteArray("%");
    QTest::newRow("%% then escape") << QByteArray("%%41") << true << QByteArray("%A");
    QTest::newRow("no double decoding") << QByteArray("%2541") << true << QByteArray("%41");
    QTest::newRow("escape at end") << QByteArray("a%41") << true << QByteArray("aA");
    QTest::newRow("plus after bad escape") << QByteArray("%+1") << true << QByteArray("% 1");
}

void tst_QueryParams::percentDecode()
{
    QFETCH(QByteArray, input);
    QFETCH(bool, plusIsSpace);
    QFETCH(QByteArray, expected);

    QCOMPARE(wsserve::percentDecode(input, plusIsSpace), expected);
}

QTEST_GUILESS_MAIN(tst_QueryParams)
#include "tst_queryparams.moc"
