// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// JavaScript instance types on real sockets and real instance threads: a types folder loaded and watched
// by the controller, a saved file reloading its running instances (clients closed with 1012 come back to
// the new code), a broken save leaving them on the last good version, an endless loop interrupted while
// the other clients are served, and the command line refusing a broken type with exit 2 and file:line.

#include "phoenixtestclient.h"
#include "testserver.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

class tst_ScriptIntegration : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void typesFolderIsListed();
    void savedFileReloadsRunningInstances();
    void endlessLoopOnlyCrashesItsChannel();
    void brokenTypeOnTheCommandLineExits2();

private:
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<QTemporaryDir> m_types;
};

namespace {

// A type that answers `version` with the version it was written with, and `loop` by never returning.
QByteArray versioned(int version)
{
    return QByteArrayLiteral("export default {\n"
                             "    description: \"versioned\",\n"
                             "    join() { return JoinResult.accept({ version: ") +
           QByteArray::number(version) +
           QByteArrayLiteral(" }); },\n"
                             "    handleIn(channel, event) {\n"
                             "        if (event === \"loop\") { for (;;) {} }\n"
                             "        channel.replyOk({ version: ") +
           QByteArray::number(version) + QByteArrayLiteral(" });\n    },\n};\n");
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(content) == content.size();
}

// The version a freshly joined client sees, or -1.
int joinedVersion(TestServer &server, const QString &id)
{
    PhoenixTestClient client;
    if (!client.open(server.url(id))) {
        return -1;
    }
    const QString ref = client.join(u"room:1"_s);
    const auto reply = client.waitForReply(u"room:1"_s, ref);
    return reply ? reply->payload().toObject()[u"response"_s].toObject()[u"version"_s].toInt(-1) : -1;
}

} // namespace

void tst_ScriptIntegration::init()
{
    m_types = std::make_unique<QTemporaryDir>();
    QVERIFY(writeFile(m_types->filePath(u"versioned.js"_s), versioned(1)));
    m_server = std::make_unique<TestServer>();
    m_server->controller().setTypeDirectories({m_types->path()});
    QVERIFY(m_server->start());
}

void tst_ScriptIntegration::cleanup()
{
    m_server.reset();
    m_types.reset();
}

void tst_ScriptIntegration::typesFolderIsListed()
{
    const BehaviourType *type = m_server->controller().registry().find(u"versioned"_s);
    QVERIFY(type);
    QCOMPARE(type->source, BehaviourType::Source::Script);
    QCOMPARE(type->description, u"versioned"_s);
    QVERIFY(type->error.isEmpty());
    QVERIFY(m_server->controller().registry().find(u"chat"_s)); // beside the built-in ones

    // A file dropped into the folder appears; one that does not load is listed with its error.
    QSignalSpy types(&m_server->controller(), &ServerController::typesChanged);
    QVERIFY(writeFile(m_types->filePath(u"broken.js"_s), "export default {\n  join() {},\n  handleIn( {\n};\n"));
    QTRY_VERIFY(m_server->controller().registry().find(u"broken"_s));
    const BehaviourType *broken = m_server->controller().registry().find(u"broken"_s);
    QVERIFY(!broken->create);
    QVERIFY2(broken->error.startsWith(m_types->filePath(u"broken.js"_s) + u':'), qPrintable(broken->error));
    const CommandResult refused = m_server->controller().createInstance(u"b"_s, u"broken"_s, {}, true);
    QVERIFY(!refused.isOk());
    QVERIFY2(refused.message.contains(u"does not load"_s), qPrintable(refused.message));
    QVERIFY(types.count() >= 1);
}

void tst_ScriptIntegration::savedFileReloadsRunningInstances()
{
    QVERIFY(m_server->addInstance(u"v"_s, u"versioned"_s));
    RawWebSocketClient client; // QWebSocket (Qt 6.4) reports 1012 as 1002
    QVERIFY(client.open(m_server->port(), "/socket/v/websocket?vsn=2.0.0"));
    client.sendText(R"(["1","1","room:1","phx_join",{}])");
    QVERIFY(client.waitForText(R"("version":1)"));
    QCOMPARE(joinedVersion(*m_server, u"v"_s), 1);

    QSignalSpy events(&m_server->controller(), &ServerController::supervisorEvent);
    QVERIFY(writeFile(m_types->filePath(u"versioned.js"_s), versioned(2)));
    QCOMPARE(client.waitForClose(), 1012);
    QVERIFY(m_server->waitForState(u"v"_s, InstanceState::Running));
    QTRY_COMPARE(joinedVersion(*m_server, u"v"_s), 2);
    bool logged = false;
    for (const QList<QVariant> &args : std::as_const(events)) {
        logged = logged || args.at(0).value<SupervisorEvent>().message.contains(u"reloaded"_s);
    }
    QVERIFY(logged);

    // A save that does not load: the instance stays up on version 2, and the type shows the error.
    QSignalSpy types(&m_server->controller(), &ServerController::typesChanged);
    QVERIFY(writeFile(m_types->filePath(u"versioned.js"_s), "export default { join() {} \n"));
    QVERIFY(types.wait());
    const BehaviourType *type = m_server->controller().registry().find(u"versioned"_s);
    QVERIFY(type && type->create);
    QVERIFY2(type->error.contains(u"versioned.js:"_s), qPrintable(type->error));
    QCOMPARE(m_server->controller().instance(u"v"_s).state, InstanceState::Running);
    QCOMPARE(joinedVersion(*m_server, u"v"_s), 2);
}

void tst_ScriptIntegration::endlessLoopOnlyCrashesItsChannel()
{
    QVERIFY(m_server->addInstance(u"v"_s, u"versioned"_s, {{u"script_timeout_ms"_s, 200}}));
    auto looper = m_server->joinedClient(u"v"_s, u"room:1"_s);
    auto other = m_server->joinedClient(u"v"_s, u"room:1"_s);
    QVERIFY(looper && other);
    const QString joinRef = looper->frames().first().joinRef().toString();
    looper->sendV2(joinRef, looper->nextRef(), u"room:1"_s, u"loop"_s, QJsonObject{});
    QVERIFY(looper->waitFor([](const ReceivedFrame &frame) { return frame.event() == u"phx_error"; }));
    const QString ref = other->nextRef();
    other->sendV2(other->frames().first().joinRef(), ref, u"room:1"_s, u"version"_s, QJsonObject{});
    const auto reply = other->waitForReply(u"room:1"_s, ref);
    QVERIFY(reply);
    QCOMPARE(reply->payload().toObject()[u"status"_s].toString(), u"ok"_s);
    QCOMPARE(m_server->controller().instance(u"v"_s).state, InstanceState::Running);
    QTRY_COMPARE(m_server->controller().instance(u"v"_s).stats.channelCrashes, 1ULL);
    QVERIFY(looper->isConnected()); // only the channel crashed, not the connection
}

void tst_ScriptIntegration::brokenTypeOnTheCommandLineExits2()
{
    const QString path = m_types->filePath(u"quizz.js"_s);
    QVERIFY(writeFile(path,
                      "export default {\n  join() { return true; },\n  handleIn(channel) { channel.replyOk( }\n};\n"));
    QProcess process;
    process.start(QStringLiteral(WSSERVE_BINARY), {u"--headless"_s, u"--port"_s, u"0"_s, u"--no-admin"_s,
                                                   u"--types-dir"_s, m_types->path(), u"--instance"_s, u"q:quizz"_s});
    QVERIFY(process.waitForFinished(20000));
    QCOMPARE(process.exitCode(), 2);
    const QStringList errors =
        QString::fromUtf8(process.readAllStandardError()).split(u'\n', Qt::SkipEmptyParts).filter(u"wsserve: error"_s);
    QCOMPARE(errors.size(), 1);
    QVERIFY2(errors.first().contains(path + u":3: SyntaxError"_s), qPrintable(errors.first()));

    // A folder that does not exist is named too.
    process.start(QStringLiteral(WSSERVE_BINARY),
                  {u"--headless"_s, u"--port"_s, u"0"_s, u"--types-dir"_s, m_types->filePath(u"nope"_s)});
    QVERIFY(process.waitForFinished(20000));
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(QString::fromUtf8(process.readAllStandardError()).contains(u"nope' does not exist"_s));
}

QTEST_GUILESS_MAIN(tst_ScriptIntegration)
#include "tst_script_integration.moc"
