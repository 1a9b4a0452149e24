// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// auth=jwt in the channel engine, without sockets (BehaviourHarness): which tokens connect, the topics
// and name claims, refreshing through access_token, a token for another subject, option validation.

#include "auth/jwt.h"
#include "behaviours/builtins.h"
#include "harnesstools.h"
#include "instance/behaviourharness.h"

#include <QDateTime>
#include <QJsonArray>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {
const QByteArray kSecret = "a-test-secret-of-some-length-0123456789";

QVariantMap jwtOptions()
{
    return {{u"auth"_s, u"jwt"_s}, {u"jwt_secret"_s, QString::fromUtf8(kSecret)}};
}

QString token(QJsonObject claims, qint64 lifetime = 600)
{
    claims.insert(u"exp"_s, QDateTime::currentSecsSinceEpoch() + lifetime);
    return QString::fromLatin1(auth::signHs256(kSecret, claims));
}
} // namespace

class tst_AuthEngine : public QObject
{
    Q_OBJECT

private slots:
    void connectNeedsAValidToken()
    {
        BehaviourHarness game(builtinType(u"echo"_s), jwtOptions());
        QVERIFY2(game.isValid(), qPrintable(game.error()));
        QCOMPARE(game.connect(), 0u);
        QCOMPARE(game.refusal(), u"missing token"_s);
        QCOMPARE(game.connect({{u"token"_s, token({{u"sub"_s, u"a"_s}}, -120)}}), 0u);
        QCOMPARE(game.refusal(), u"expired"_s);
        QCOMPARE(game.connect({}, QString::fromLatin1(auth::signHs256("another secret", {{u"sub"_s, u"a"_s}}))), 0u);
        QCOMPARE(game.refusal(), u"bad signature"_s);
        const quint64 alice = game.connect({}, token({{u"sub"_s, u"alice"_s}, {u"level"_s, 3}}));
        QVERIFY2(alice != 0, qPrintable(game.refusal()));
        QVERIFY(game.join(alice, u"room:1"_s).isOk());
    }

    void topicsClaimLimitsJoins()
    {
        BehaviourHarness game(builtinType(u"echo"_s), jwtOptions());
        const quint64 bob = game.connect(
            {{u"token"_s, token({{u"sub"_s, u"bob"_s}, {u"topics"_s, QJsonArray{u"room:*"_s, u"game:42"_s}}})}});
        QVERIFY(bob != 0);
        QVERIFY(game.join(bob, u"room:anything"_s).isOk());
        QVERIFY(game.join(bob, u"game:42"_s).isOk());
        QCOMPARE(game.join(bob, u"game:420"_s).reason(), u"unauthorized"_s);
        QCOMPARE(game.join(bob, u"lobby"_s).reason(), u"unauthorized"_s);
    }

    void nameClaimIsThePresenceKey()
    {
        BehaviourHarness chat(builtinType(u"chat"_s), jwtOptions());
        const quint64 carol = chat.connect({{u"token"_s, token({{u"sub"_s, u"c"_s}, {u"name"_s, u"Carol"_s}})}});
        QCOMPARE(chat.join(carol, u"room:1"_s, {{u"name"_s, u"Mallory"_s}}).reason(),
                 u"name does not match the token"_s);
        const auto joined = chat.join(carol, u"room:1"_s);
        QVERIFY(joined.isOk());
        QCOMPARE(joined.json().value(u"name"_s).toString(), u"Carol"_s);
        QVERIFY(chat.presence(u"room:1"_s).contains(u"Carol"_s));
    }

    void accessTokenRefreshesAndAnotherSubjectCloses()
    {
        BehaviourHarness game(builtinType(u"echo"_s), jwtOptions());
        const quint64 dave = game.connect({{u"token"_s, token({{u"sub"_s, u"dave"_s}}, 60)}});
        QVERIFY(game.join(dave, u"t"_s).isOk());
        const auto refreshed = game.push(dave, u"t"_s, u"access_token"_s,
                                         QJsonObject{{u"access_token"_s, token({{u"sub"_s, u"dave"_s}}, 3600)}});
        QVERIFY2(refreshed.isOk(), qPrintable(refreshed.reason()));
        QCOMPARE(game.push(dave, u"t"_s, u"access_token"_s, QJsonObject{{u"access_token"_s, u"garbage"_s}}).reason(),
                 u"malformed token"_s);
        QVERIFY(!game.isClosed(dave));
        const auto stolen =
            game.push(dave, u"t"_s, u"access_token"_s, QJsonObject{{u"access_token"_s, token({{u"sub"_s, u"eve"_s}})}});
        QCOMPARE(stolen.reason(), u"token for another subject"_s);
        QVERIFY(game.isClosed(dave));
        // A join carrying access_token (Supabase clients) is checked the same way.
        const quint64 erin = game.connect({{u"token"_s, token({{u"sub"_s, u"erin"_s}})}});
        QCOMPARE(game.join(erin, u"x"_s, {{u"access_token"_s, u"nope"_s}}).reason(), u"malformed token"_s);
        QVERIFY(game.join(erin, u"x"_s, {{u"access_token"_s, token({{u"sub"_s, u"erin"_s}})}}).isOk());
    }

    void optionsAreValidated_data()
    {
        QTest::addColumn<QVariantMap>("options");
        QTest::addColumn<QString>("error");
        QTest::newRow("unknown mode") << QVariantMap{{u"auth"_s, u"basic"_s}} << u"must be none or jwt"_s;
        QTest::newRow("no key") << QVariantMap{{u"auth"_s, u"jwt"_s}}
                                << u"exactly one of jwt_secret or jwt_public_key"_s;
        QTest::newRow("both keys") << QVariantMap{{u"auth"_s, u"jwt"_s},
                                                  {u"jwt_secret"_s, u"s"_s},
                                                  {u"jwt_public_key"_s, u"/nonexistent.pem"_s}}
                                   << u"exactly one of"_s;
        QTest::newRow("unreadable key") << QVariantMap{{u"auth"_s, u"jwt"_s},
                                                       {u"jwt_public_key"_s, u"/nonexistent.pem"_s}}
                                        << u"cannot read"_s;
    }

    void optionsAreValidated()
    {
        QFETCH(QVariantMap, options);
        QFETCH(QString, error);
        BehaviourHarness game(builtinType(u"echo"_s), options);
        QVERIFY(!game.isValid());
        QVERIFY2(game.error().contains(error), qPrintable(game.error()));
    }

    void secretsAreRedacted()
    {
        InstanceConfig config;
        config.options = jwtOptions();
        QCOMPARE(config.redactedOptions().value(u"jwt_secret"_s).toString(), u"***"_s);
        QCOMPARE(config.redactedOptions().value(u"auth"_s).toString(), u"jwt"_s);
    }
};

QTEST_GUILESS_MAIN(tst_AuthEngine)
#include "tst_auth_engine.moc"
