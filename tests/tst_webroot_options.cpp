// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Issue #18: web_root is checked when an instance is created or its options change (a missing folder, a
// file, an unreadable folder), so the create path answers with a clear error naming web_root (the CLI
// exits 2, the admin API answers 400 with the message, the window's dialog shows it) instead of an
// instance whose pages all answer 404.

#include "instance/instanceconfig.h"
#include "runtoend.h"
#include "servercontroller.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

class tst_WebRootOptions : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QDir(m_dir.path()).mkpath(u"site"_s));
        QFile file(m_dir.filePath(u"file.txt"_s));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a folder");
    }

    void problems()
    {
        QVERIFY(webRootProblem(QString()).isEmpty());
        QVERIFY(webRootProblem(m_dir.filePath(u"site"_s)).isEmpty());
        QVERIFY(webRootProblem(m_dir.filePath(u"missing"_s)).contains(u"does not exist"_s));
        QVERIFY(webRootProblem(m_dir.filePath(u"file.txt"_s)).contains(u"is not a folder"_s));
        if (::geteuid() == 0) {
            return; // root reads any folder: the permission case cannot be shown here
        }
        const QString locked = m_dir.filePath(u"locked"_s);
        QVERIFY(QDir(m_dir.path()).mkpath(u"locked"_s));
        QVERIFY(QFile::setPermissions(locked, QFileDevice::WriteOwner));
        QVERIFY(webRootProblem(locked).contains(u"cannot be read"_s));
        QFile::setPermissions(locked, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }

    void createAndUpdateRefuseABadWebRoot()
    {
        BehaviourRegistry registry = builtinRegistry();
        ServerController controller(registry);
        const QString missing = m_dir.filePath(u"missing"_s);
        CommandResult result = controller.createInstance(u"g"_s, u"relay"_s, {{u"web_root"_s, missing}}, false);
        QVERIFY(!result);
        QCOMPARE(result.error, CommandResult::Error::InvalidOption);
        QVERIFY2(result.message.contains(u"web_root"_s) && result.message.contains(missing),
                 qPrintable(result.message));
        QVERIFY(!controller.instanceIds().contains(u"g"_s));

        result = controller.createInstance(u"g"_s, u"relay"_s, {{u"web_root"_s, m_dir.filePath(u"file.txt"_s)}}, false);
        QVERIFY(!result);
        QVERIFY(result.message.contains(u"is not a folder"_s));

        QVERIFY(controller.createInstance(u"g"_s, u"relay"_s, {{u"web_root"_s, m_dir.filePath(u"site"_s)}}, false));
        const OptionsUpdate update = controller.updateInstanceOptions(u"g"_s, {{u"web_root"_s, missing}});
        QVERIFY(!update.isOk());
        QCOMPARE(update.field, u"web_root"_s);
        QCOMPARE(controller.instance(u"g"_s).config.stringOption(u"web_root"_s), m_dir.filePath(u"site"_s));
    }

    void cliExitsTwoNamingWebRoot()
    {
        const RunResult run = runToEnd({u"--headless"_s, u"--port"_s, u"0"_s, u"--no-admin"_s, u"--instance"_s,
                                        u"g:relay:web_root=%1"_s.arg(m_dir.filePath(u"missing"_s))});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains(u"web_root"_s) && run.err.contains(u"does not exist"_s), qPrintable(run.err));
    }
};

QTEST_MAIN(tst_WebRootOptions)
#include "tst_webroot_options.moc"
