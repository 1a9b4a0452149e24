// The buzzer's unit test: no sockets, a virtual clock (BehaviourHarness).
#include "buzzer.h"
#include "instance/behaviourharness.h"

#include <QTest>

class tst_Buzzer : public QObject
{
    Q_OBJECT
private slots:
    void firstBuzzWinsAndTheRoundOpensAgain()
    {
        wsserve::BehaviourHarness quiz(buzzerType(), {{u"round_ms"_s, 1000}});
        QVERIFY2(quiz.isValid(), qPrintable(quiz.error()));
        const quint64 ann = quiz.connect(), bob = quiz.connect();
        QVERIFY(quiz.join(ann, u"buzzer:math"_s).isOk());
        QVERIFY(quiz.join(bob, u"buzzer:math"_s).isOk());

        QCOMPARE(quiz.push(bob, u"buzzer:math"_s, u"buzz"_s).json()[u"first"_s], true);
        QCOMPARE(quiz.push(ann, u"buzzer:math"_s, u"buzz"_s).json()[u"first"_s], false);
        QCOMPARE(quiz.lastReceived(ann, u"buzzer:math"_s, u"winner"_s)->json()[u"client_id"_s], qint64(bob));
        QCOMPARE(quiz.push(ann, u"buzzer:math"_s, u"shout"_s).reason(), u"unknown event 'shout'"_s);

        quiz.advance(999);
        QVERIFY(!quiz.lastReceived(ann, u"buzzer:math"_s, u"open"_s));
        quiz.advance(1);
        QVERIFY(quiz.lastReceived(ann, u"buzzer:math"_s, u"open"_s));
        QCOMPARE(quiz.push(ann, u"buzzer:math"_s, u"buzz"_s).json()[u"first"_s], true);
    }

    void roundMsIsValidated()
    {
        wsserve::BehaviourHarness quiz(buzzerType(), {{u"round_ms"_s, 5}});
        QVERIFY(!quiz.isValid());
        QVERIFY2(quiz.error().contains(u"round_ms"_s), qPrintable(quiz.error()));
    }
};

QTEST_GUILESS_MAIN(tst_Buzzer)
#include "tst_buzzer.moc"
