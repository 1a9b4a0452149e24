// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// check_origin (phoenix-protocol.md 7.3): which pages may open a socket to an instance.
#include "http/originpolicy.h"
#include "instance/instanceconfig.h"

#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

class tst_OriginPolicy : public QObject
{
    Q_OBJECT

private slots:
    void decisions_data()
    {
        QTest::addColumn<QString>("policy");
        QTest::addColumn<QString>("origin");
        QTest::addColumn<QString>("host");
        QTest::addColumn<bool>("allowed");
        // No Origin: a native client (Godot, Swift, a script); always allowed.
        QTest::newRow("no origin") << u"host"_s << QString() << u"192.168.1.5:4000"_s << true;
        QTest::newRow("same host, other port")
            << u"host"_s << u"http://192.168.1.5:8080"_s << u"192.168.1.5:4000"_s << true;
        QTest::newRow("same host, other case") << u"host"_s << u"http://Game.Local"_s << u"game.local:4000"_s << true;
        QTest::newRow("ipv6 host") << u"host"_s << u"http://[::1]:5173"_s << u"[::1]:4000"_s << true;
        QTest::newRow("foreign site") << u"host"_s << u"http://evil.example"_s << u"192.168.1.5:4000"_s << false;
        QTest::newRow("file page") << u"host"_s << u"null"_s << u"localhost:4000"_s << false;
        QTest::newRow("any") << u"any"_s << u"http://evil.example"_s << u"192.168.1.5:4000"_s << true;
        QTest::newRow("listed") << u"https://game.example http://localhost:5173"_s << u"https://game.example"_s
                                << u"x"_s << true;
        QTest::newRow("listed, wrong scheme")
            << u"https://game.example"_s << u"http://game.example"_s << u"x"_s << false;
        QTest::newRow("listed port") << u"localhost:5173"_s << u"http://localhost:5173"_s << u"x"_s << true;
        QTest::newRow("listed port, other port")
            << u"localhost:5173"_s << u"http://localhost:3000"_s << u"x"_s << false;
        QTest::newRow("default port") << u"https://game.example:443"_s << u"https://game.example"_s << u"x"_s << true;
        QTest::newRow("wildcard subdomain")
            << u"*.itch.zone"_s << u"https://html-classic.itch.zone"_s << u"x"_s << true;
        QTest::newRow("wildcard bare domain") << u"*.itch.zone"_s << u"https://itch.zone"_s << u"x"_s << true;
        QTest::newRow("wildcard lookalike") << u"*.itch.zone"_s << u"https://evilitch.zone"_s << u"x"_s << false;
        QTest::newRow("listed ipv6") << u"http://[::1]:5173"_s << u"http://[::1]:5173"_s << u"x"_s << true;
        QTest::newRow("listed ipv6, other port") << u"[::1]:5173"_s << u"http://[::1]:3000"_s << u"x"_s << false;
        QTest::newRow("not listed") << u"https://game.example"_s << u"https://evil.example"_s << u"x"_s << false;
    }
    void decisions()
    {
        QFETCH(QString, policy);
        QFETCH(QString, origin);
        QFETCH(QString, host);
        QFETCH(bool, allowed);
        QString why;
        QCOMPARE(originAllowed(policy, origin, host, &why), allowed);
        if (!allowed) {
            QVERIFY2(why.contains(origin), qPrintable(why)); // the refusal names the origin
            QVERIFY(why.contains(u"check_origin"));          // and the option that decides
        }
    }

    void policiesAreValidated_data()
    {
        QTest::addColumn<QString>("policy");
        QTest::addColumn<bool>("valid");
        QTest::newRow("host") << u"host"_s << true;
        QTest::newRow("any") << u"any"_s << true;
        QTest::newRow("list") << u"https://a.example b.example:8080 *.c.example"_s << true;
        QTest::newRow("empty") << u"  "_s << false;
        QTest::newRow("bad port") << u"a.example:99999"_s << false;
        QTest::newRow("path") << u"https://a.example/game"_s << false;
        QTest::newRow("inner wildcard") << u"a.*.example"_s << false;
        QTest::newRow("bare wildcard") << u"*."_s << false;
        QTest::newRow("ipv6") << u"[::1] http://[fe80::1]:8080"_s << true;
        QTest::newRow("ipv6 unclosed") << u"[::1"_s << false;
    }
    void policiesAreValidated()
    {
        QFETCH(QString, policy);
        QFETCH(bool, valid);
        QCOMPARE(validateOriginPolicy(policy).isEmpty(), valid);
    }

    void instanceOptionIsCheckedWhenResolved()
    {
        QVariantMap resolved;
        QString error;
        QVERIFY(resolveOptions(commonOptionSpecs(), {}, &resolved, &error));
        QCOMPARE(resolved.value(u"check_origin"_s).toString(), u"host"_s);
        QVERIFY(
            !resolveOptions(commonOptionSpecs(), {{u"check_origin"_s, u"https://a.example/x"_s}}, &resolved, &error));
        QVERIFY2(error.contains(u"https://a.example/x"), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(tst_OriginPolicy)
#include "tst_originpolicy.moc"
