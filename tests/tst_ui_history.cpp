// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The window's History tab (HistoryPanel) over a real ServerController and store: topics with counts,
// the selected topic's messages, clearing one topic and all, and the warning of a paused history (a
// store whose SQLite file is made "full").

#include "historypanel.h"
#include "servercontroller.h"

#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace wsserve;
using namespace Qt::StringLiterals;

class tst_UiHistory : public QObject
{
    Q_OBJECT

private slots:
    void showsAndClearsHistory()
    {
        ServerController controller;
        QVERIFY(controller.createInstance(u"room"_s, u"chat"_s, {{u"history"_s, 10}}, true));
        QTRY_COMPARE(controller.instance(u"room"_s).state, InstanceState::Running);
        for (int n = 1; n <= 3; ++n) {
            QVERIFY(controller.broadcast(u"room"_s, u"a"_s, u"news"_s, QJsonObject{{u"n"_s, n}}));
        }
        QVERIFY(controller.broadcast(u"room"_s, u"b"_s, u"news"_s, QJsonObject{{u"n"_s, 9}}));
        HistoryPanel panel(controller);
        panel.setInstance(u"room"_s);
        panel.show();
        QTRY_COMPARE(panel.topics()->rowCount(), 2); // broadcasts reach the instance thread queued
        QTRY_COMPARE(panel.topics()->item(0, 1)->text(), u"3"_s);
        QCOMPARE(panel.topics()->item(0, 0)->text(), u"a"_s);
        QVERIFY(!panel.warning()->isVisible());
        QVERIFY(!panel.clearTopicButton()->isEnabled());
        panel.topics()->selectRow(0);
        QCOMPARE(panel.messages()->rowCount(), 3);
        QCOMPARE(panel.messages()->item(2, 2)->text(), u"news"_s);
        QCOMPARE(panel.messages()->item(2, 3)->text(), uR"({"n":3})"_s);
        QVERIFY(panel.clearTopicButton()->isEnabled());
        QTest::mouseClick(panel.clearTopicButton(), Qt::LeftButton);
        QCOMPARE(panel.topics()->rowCount(), 1);
        QCOMPARE(panel.messages()->rowCount(), 0);
        QTest::mouseClick(panel.clearAllButton(), Qt::LeftButton);
        QCOMPARE(panel.topics()->rowCount(), 0);
        QVERIFY(controller.historyTopics(u"room"_s).isEmpty());
        controller.shutdown();
        QSignalSpy done(&controller, &ServerController::shutdownComplete);
        QVERIFY(done.wait(10000));
    }

    void warnsWhenHistoryIsPaused()
    {
        QTemporaryDir dir;
        QString error;
        Store::OpenOptions options;
        options.maxPageCount = 30; // a "full disk"
        std::shared_ptr<Store> store = Store::open(dir.path(), &error, nullptr, options);
        QVERIFY2(store, qPrintable(error));
        QTest::ignoreMessage(QtCriticalMsg, QRegularExpression(u"cannot write to .*history pauses"_s));
        const Payload big = Payload::fromJson(QJsonObject{{u"text"_s, QString(4000, u'x')}});
        for (int i = 0; i < 100 && !store->stats().paused; ++i) {
            store->appendHistory(u"room"_s, u"t"_s, u"e"_s, big, 1000 + i, 10000, 0);
            QVERIFY(store->flush());
        }
        ServerController controller;
        controller.setStore(store);
        HistoryPanel panel(controller);
        panel.setInstance(u"room"_s);
        panel.show();
        QVERIFY(panel.warning()->isVisible());
        QVERIFY2(panel.warning()->text().contains(u"History is paused"_s), qPrintable(panel.warning()->text()));
    }
};

QTEST_MAIN(tst_UiHistory)
#include "tst_ui_history.moc"
