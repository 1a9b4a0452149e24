// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// JavaScript instance types without sockets: loading a type file (its declaration, and errors a person can
// act on, with file:line), the SDK calls from a script through the BehaviourHarness (replies, pushes,
// broadcasts, binary payloads, presence, timers, members), the sandbox (no require/fetch/XMLHttpRequest/
// files), a throwing callback and an endless loop crashing only their channel, and the heap limit.

#include "harnesstools.h"
#include "instance/behaviourharness.h"
#include "script/scripttype.h"

#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;
using Kind = BehaviourHarness::Frame::Kind;

// Declared before the scripts below: moc does not follow raw string literals.
class tst_Script : public QObject
{
    Q_OBJECT

private slots:
    void declarationIsRead();
    void loadErrors_data();
    void loadErrors();
    void sdkCallsFromAScript();
    void binaryPayloadsAreArrayBuffers();
    void timersAndTopicState();
    void joinResultForms();
    void sandboxHasNoWayOut_data();
    void sandboxHasNoWayOut();
    void throwingCallbackCrashesOnlyItsChannel();
    void endlessLoopIsInterrupted();
    void channelUsedOutsideItsCallback();
    void heapLimitFailsTheInstance();
};

namespace {

// A type file written into a temporary folder, loaded as the catalog would.
struct TypeFile {
    explicit TypeFile(const QByteArray &source, const QString &fileName = u"probe.js"_s)
    {
        path = dir.filePath(fileName);
        QFile out(path);
        if (out.open(QIODevice::WriteOnly)) {
            out.write(source);
        }
        out.close();
        file = script::loadScriptFile(path);
    }
    BehaviourType type() const { return script::scriptBehaviourType(std::make_shared<const script::ScriptFile>(file)); }
    QTemporaryDir dir;
    QString path;
    script::ScriptFile file;
};

// A type whose handleIn runs the probe named by the event; used for the sandbox and crash tests.
const QByteArray kProbes = R"js(
const probes = {
    ok: (channel) => channel.replyOk({ fine: true }),
    require: () => require("fs"),
    fetch: () => fetch("http://127.0.0.1:1/"),
    xhr: () => new XMLHttpRequest(),
    qt: () => Qt.openUrlExternally("file:///etc/passwd"),
    process: () => process.exit(1),
    print: () => print("hello"),
    file: () => readFile("/etc/passwd"),
    throw: () => { throw new Error("deliberate"); },
    loop: () => { for (;;) {} },
};
export default {
    join() { return true; },
    handleIn(channel, event, payload) {
        probes[event](channel, payload);
    },
};
)js";

} // namespace

void tst_Script::declarationIsRead()
{
    const TypeFile type(R"js(
export default {
    name: "quizzy",
    description: "asks things",
    options: {
        rounds: { type: "int", default: 5, min: 1, max: 50, description: "questions per game" },
        open: { type: "bool", default: true },
        title: { type: "string", default: "Quiz" },
    },
    join() { return true; },
    handleIn(channel) { channel.replyOk(); },
};
)js");
    QVERIFY2(type.file.ok(), qPrintable(type.file.error));
    QCOMPARE(type.file.name, u"quizzy"_s);
    QCOMPARE(type.file.description, u"asks things"_s);
    QCOMPARE(type.file.options.size(), 3);
    QCOMPARE(type.file.options.at(0).name, u"rounds"_s);
    QCOMPARE(type.file.options.at(0).kind, OptionSpec::Kind::Int);
    QCOMPARE(type.file.options.at(0).defaultValue.toLongLong(), 5);
    QCOMPARE(type.file.options.at(0).minimum, 1);
    QCOMPARE(type.file.options.at(0).maximum, 50);
    QCOMPARE(type.file.options.at(1).kind, OptionSpec::Kind::Bool);
    QCOMPARE(type.file.options.at(2).defaultValue.toString(), u"Quiz"_s);

    const BehaviourType entry = type.type();
    QCOMPARE(entry.source, BehaviourType::Source::Script);
    QCOMPARE(entry.path, type.path);
    QStringList names;
    for (const OptionSpec &spec : entry.options) {
        names.append(spec.name);
    }
    QVERIFY(names.contains(u"script_timeout_ms"_s));
    QVERIFY(names.contains(u"script_memory_mb"_s));

    // Options are validated like a C++ type's.
    BehaviourHarness bad(entry, {{u"rounds"_s, 99}});
    QVERIFY(!bad.isValid());
    QVERIFY2(bad.error().contains(u"rounds"_s), qPrintable(bad.error()));

    // Without a declared name, the file's name is the type's.
    const TypeFile unnamed("export default { join() {}, handleIn() {} };\n", u"my-game.js"_s);
    QVERIFY2(unnamed.file.ok(), qPrintable(unnamed.file.error));
    QCOMPARE(unnamed.file.name, u"my-game"_s);
}

void tst_Script::loadErrors_data()
{
    QTest::addColumn<QByteArray>("source");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("message");

    QTest::newRow("syntax error")
        << QByteArray("export default {\n  join() { return true; },\n  handleIn(channel) { channel.replyOk( }\n};\n")
        << 3 << u"SyntaxError"_s;
    QTest::newRow("missing handleIn") << QByteArray("// a type\nexport default {\n  join() {},\n};\n") << 2
                                      << u"missing callback 'handleIn'"_s;
    QTest::newRow("misspelt callback") << QByteArray("export default { join() {}, handleIn() {}, handlein() {} };\n")
                                       << 1 << u"unknown field 'handlein'"_s;
    QTest::newRow("bad option bounds")
        << QByteArray("\n\nexport default {\n options: { n: { type: \"int\", default: 5, min: 10, max: 1 } },\n"
                      " join() {}, handleIn() {} };\n")
        << 3 << u"option 'n': needs min <= default <= max"_s;
    QTest::newRow("bad option kind")
        << QByteArray("export default { options: { n: { type: \"integer\" } }, join() {}, handleIn() {} };\n") << 1
        << u"option 'n': type must be one of bool, int, string"_s;
    QTest::newRow("import") << QByteArray("const a = 1;\nimport fs from \"fs\";\nexport default {};\n") << 2
                            << u"import is not available"_s;
    QTest::newRow("no export") << QByteArray("const type = { join() {}, handleIn() {} };\n") << 1
                               << u"no `export default"_s;
    QTest::newRow("not an object") << QByteArray("export default 42;\n") << 1 << u"must be an object"_s;
    QTest::newRow("top level throws") << QByteArray(
                                             "const x = 1;\nthrow new Error(\"not today\");\nexport default {};\n")
                                      << 2 << u"Error: not today"_s;
    QTest::newRow("top level never ends")
        << QByteArray("while (true) {}\nexport default {};\n") << 2 << u"interrupted"_s;
    QTest::newRow("reserved option")
        << QByteArray(
               "export default { options: { script_timeout_ms: { type: \"int\" } }, join() {}, handleIn() {} };\n")
        << 1 << u"set by wsserve"_s;
}

void tst_Script::loadErrors()
{
    QFETCH(QByteArray, source);
    QFETCH(int, line);
    QFETCH(QString, message);
    const TypeFile type(source);
    QVERIFY(!type.file.ok());
    QCOMPARE(type.file.errorLine, line);
    QVERIFY2(type.file.error.startsWith(type.path + u':' + QString::number(line) + u": "), qPrintable(type.file.error));
    QVERIFY2(type.file.error.contains(message), qPrintable(type.file.error));
}

void tst_Script::sdkCallsFromAScript()
{
    const TypeFile type(R"js(
export default {
    topics: "room:*",
    join(channel, params) {
        channel.assigns.name = params.name;
        return JoinResult.accept({ hello: params.name, client: channel.clientId, token: channel.connectInfo.token });
    },
    afterJoin(channel) {
        channel.trackPresence(channel.assigns.name, { online_at: 1 });
        channel.push("welcome", { members: channel.instance.members(channel.topic).length });
    },
    handleIn(channel, event, payload) {
        switch (event) {
        case "shout": channel.broadcast("shout", payload); return channel.replyOk();
        case "whisper": channel.broadcastFrom("whisper", payload); return channel.replyOk();
        case "dm": return channel.replyOk({ sent: channel.instance.pushTo(payload.to, channel.topic, "dm", { from: channel.assigns.name }) });
        case "who": console.warn("who asked by", channel.assigns.name); return channel.replyOk({ presence: channel.instance.presenceList(channel.topic), id: channel.instance.id });
        case "stop": channel.replyOk(); return channel.stop();
        case "kick": channel.replyOk(); return channel.instance.kick(payload.who, "go away");
        default: return channel.replyError("no " + event);
        }
    },
};
)js");
    QVERIFY2(type.file.ok(), qPrintable(type.file.error));
    BehaviourHarness room(type.type(), {}, u"lobby"_s);
    QVERIFY2(room.isValid(), qPrintable(room.error()));
    const quint64 ann = room.connect({}, u"ann-token"_s);
    const quint64 bob = room.connect();
    QCOMPARE(room.join(ann, u"lobby:1"_s).reason(), u"unmatched topic"_s);
    const auto joined = room.join(ann, u"room:1"_s, {{u"name"_s, u"ann"_s}});
    QVERIFY(joined.isOk());
    QCOMPARE(joined.json()[u"hello"_s].toString(), u"ann"_s);
    QCOMPARE(joined.json()[u"client"_s].toInteger(), qint64(ann));
    QCOMPARE(joined.json()[u"token"_s].toString(), u"ann-token"_s);
    QCOMPARE(room.lastReceived(ann, u"room:1"_s, u"welcome"_s)->json()[u"members"_s].toInt(), 1);
    QVERIFY(room.join(bob, u"room:1"_s, {{u"name"_s, u"bob"_s}}).isOk());
    QCOMPARE(room.members(u"room:1"_s).at(0).assigns.value(u"name"_s).toString(), u"ann"_s);

    room.takeReceived(ann);
    room.takeReceived(bob);
    QVERIFY(room.push(ann, u"room:1"_s, u"shout"_s, QJsonObject{{u"text"_s, u"hi"_s}}).isOk());
    QCOMPARE(summary(room.takeReceived(ann)), QStringList({u"broadcast shout"_s, u"reply ok"_s}));
    QCOMPARE(summary(room.takeReceived(bob)), QStringList({u"broadcast shout"_s}));
    QVERIFY(room.push(ann, u"room:1"_s, u"whisper"_s, QJsonObject{}).isOk());
    QCOMPARE(summary(room.takeReceived(ann)), QStringList({u"reply ok"_s}));
    QCOMPARE(summary(room.takeReceived(bob)), QStringList({u"broadcast whisper"_s}));

    const auto dm = room.push(ann, u"room:1"_s, u"dm"_s, QJsonObject{{u"to"_s, double(bob)}});
    QVERIFY(dm.json()[u"sent"_s].toBool());
    QCOMPARE(room.lastReceived(bob, u"room:1"_s, u"dm"_s)->json()[u"from"_s].toString(), u"ann"_s);
    QVERIFY(!room.push(ann, u"room:1"_s, u"dm"_s, QJsonObject{{u"to"_s, 999}}).json()[u"sent"_s].toBool());

    const auto who = room.push(bob, u"room:1"_s, u"who"_s);
    QCOMPARE(room.notes(), QStringList({u"console.warn: who asked by bob"_s}));
    QCOMPARE(who.json()[u"id"_s].toString(), u"lobby"_s);
    QVERIFY(who.json()[u"presence"_s].toObject().contains(u"ann"_s));
    QVERIFY(who.json()[u"presence"_s].toObject().contains(u"bob"_s));
    QCOMPARE(room.push(bob, u"room:1"_s, u"dance"_s).reason(), u"no dance"_s);

    QVERIFY(room.push(bob, u"room:1"_s, u"stop"_s).isOk());
    QCOMPARE(room.members(u"room:1"_s).size(), 1);
    QVERIFY(room.push(ann, u"room:1"_s, u"kick"_s, QJsonObject{{u"who"_s, double(ann)}}).isOk());
    QVERIFY(room.isClosed(ann));
    QCOMPARE(room.closeReason(ann), u"go away"_s);
    QVERIFY(room.warnings().isEmpty());
}

void tst_Script::binaryPayloadsAreArrayBuffers()
{
    const TypeFile type(R"js(
export default {
    join() { return true; },
    handleIn(channel, event, payload) {
        if (!(payload instanceof ArrayBuffer)) { return channel.replyError("not binary"); }
        const bytes = new Uint8Array(payload);
        channel.push("reversed", new Uint8Array(bytes).reverse());
        channel.replyOk(payload);
    },
};
)js");
    BehaviourHarness echo(type.type());
    const quint64 a = echo.connect();
    QVERIFY(echo.join(a, u"t"_s).isOk());
    const QByteArray bytes("\x01\x02\x00\xff", 4);
    const auto reply = echo.pushBinary(a, u"t"_s, u"bytes"_s, bytes);
    QVERIFY(reply.isOk());
    QVERIFY(reply.response.isBinary);
    QCOMPARE(reply.response.bytes, bytes);
    const auto pushed = echo.lastReceived(a, u"t"_s, u"reversed"_s);
    QVERIFY(pushed && pushed->payload.isBinary);
    QCOMPARE(pushed->payload.bytes, QByteArray("\xff\x00\x02\x01", 4));
    QCOMPARE(echo.push(a, u"t"_s, u"json"_s).reason(), u"not binary"_s);
}

void tst_Script::timersAndTopicState()
{
    const TypeFile type(R"js(
export default {
    instanceStarted(instance) {
        instance.state.ticks = 0;
        instance.every(100, () => { instance.state.ticks += 1; });
    },
    join(channel) {
        const state = channel.topicState;
        state.joins = (state.joins || 0) + 1;
        return JoinResult.accept({ joins: state.joins });
    },
    topicStarted(instance, topic) {
        instance.topicState(topic).started = true;
    },
    handleIn(channel, event, payload) {
        const instance = channel.instance;
        if (event === "later") {
            const id = instance.after(payload.ms, (context) => context.broadcast(channel.topic, "done", { ticks: context.state.ticks }), channel.topic);
            return channel.replyOk({ id });
        }
        if (event === "cancel") { return channel.replyOk({ cancelled: instance.cancelTimer(payload.id) }); }
        if (event === "state") { return channel.replyOk({ started: channel.topicState.started === true, joins: channel.topicState.joins }); }
        channel.replyError("?");
    },
};
)js");
    BehaviourHarness clock(type.type());
    const quint64 a = clock.connect();
    QCOMPARE(clock.join(a, u"t"_s).json()[u"joins"_s].toInt(), 1);
    const quint64 b = clock.connect();
    QCOMPARE(clock.join(b, u"t"_s).json()[u"joins"_s].toInt(), 2);
    QVERIFY(clock.push(a, u"t"_s, u"state"_s).json()[u"started"_s].toBool());

    clock.push(a, u"t"_s, u"later"_s, QJsonObject{{u"ms"_s, 250}});
    const int cancelId = clock.push(a, u"t"_s, u"later"_s, QJsonObject{{u"ms"_s, 260}}).json()[u"id"_s].toInt();
    QVERIFY(clock.push(a, u"t"_s, u"cancel"_s, QJsonObject{{u"id"_s, cancelId}}).json()[u"cancelled"_s].toBool());
    clock.advance(300);
    QList<int> done;
    for (const auto &frame : clock.received(b)) {
        if (frame.event == u"done") {
            done.append(frame.json()[u"ticks"_s].toInt());
        }
    }
    QCOMPARE(done, QList<int>({2})); // one timer ran, after two instance ticks; the cancelled one did not

    // The topic's state goes with its last member.
    clock.leave(a, u"t"_s);
    clock.leave(b, u"t"_s);
    const quint64 c = clock.connect();
    QCOMPARE(clock.join(c, u"t"_s).json()[u"joins"_s].toInt(), 1);
    QVERIFY(clock.warnings().isEmpty());
}

void tst_Script::joinResultForms()
{
    const TypeFile type(R"js(
export default {
    join(channel, params) {
        switch (params.form) {
        case "nothing": return;
        case "true": return true;
        case "false": return false;
        case "refuse": return JoinResult.refuse("full");
        case "accept": return JoinResult.accept({ seat: 3 });
        default: return 42;
        }
    },
    handleIn() {},
};
)js");
    BehaviourHarness joins(type.type());
    const quint64 a = joins.connect();
    QVERIFY(joins.join(a, u"a"_s, {{u"form"_s, u"nothing"_s}}).isOk());
    QVERIFY(joins.join(a, u"b"_s, {{u"form"_s, u"true"_s}}).isOk());
    QCOMPARE(joins.join(a, u"c"_s, {{u"form"_s, u"false"_s}}).reason(), u"refused"_s);
    QCOMPARE(joins.join(a, u"d"_s, {{u"form"_s, u"refuse"_s}}).reason(), u"full"_s);
    QCOMPARE(joins.join(a, u"e"_s, {{u"form"_s, u"accept"_s}}).json()[u"seat"_s].toInt(), 3);
    QCOMPARE(joins.join(a, u"f"_s, {{u"form"_s, u"odd"_s}}).reason(), u"join crashed"_s);
    QVERIFY2(joins.warnings().join(u'\n').contains(u"join must return"_s), qPrintable(joins.warnings().join(u'\n')));
}

void tst_Script::sandboxHasNoWayOut_data()
{
    QTest::addColumn<QString>("probe");
    QTest::addColumn<QString>("error");
    QTest::newRow("require") << u"require"_s << u"ReferenceError: require is not defined"_s;
    QTest::newRow("fetch") << u"fetch"_s << u"ReferenceError: fetch is not defined"_s;
    QTest::newRow("XMLHttpRequest") << u"xhr"_s << u"ReferenceError: XMLHttpRequest is not defined"_s;
    QTest::newRow("Qt") << u"qt"_s << u"ReferenceError: Qt is not defined"_s;
    QTest::newRow("process") << u"process"_s << u"ReferenceError: process is not defined"_s;
    QTest::newRow("print") << u"print"_s << u"ReferenceError: print is not defined"_s;
    QTest::newRow("files") << u"file"_s << u"ReferenceError: readFile is not defined"_s;
}

void tst_Script::sandboxHasNoWayOut()
{
    QFETCH(QString, probe);
    QFETCH(QString, error);
    const TypeFile type(kProbes);
    BehaviourHarness box(type.type());
    const quint64 a = box.connect();
    QVERIFY(box.join(a, u"t"_s).isOk());
    QVERIFY(!box.push(a, u"t"_s, probe).received);
    QCOMPARE(box.crashes(), 1);
    QVERIFY2(box.warnings().join(u'\n').contains(error), qPrintable(box.warnings().join(u'\n')));
}

void tst_Script::throwingCallbackCrashesOnlyItsChannel()
{
    const TypeFile type(kProbes);
    BehaviourHarness box(type.type());
    const quint64 a = box.connect();
    const quint64 b = box.connect();
    QVERIFY(box.join(a, u"t"_s).isOk());
    QVERIFY(box.join(b, u"t"_s).isOk());
    box.takeReceived(a);
    QVERIFY(!box.push(a, u"t"_s, u"throw"_s).received);
    QCOMPARE(summary(box.takeReceived(a)), QStringList({u"control phx_error"_s}));
    QCOMPARE(box.members(u"t"_s).size(), 1);
    QVERIFY(box.push(b, u"t"_s, u"ok"_s).isOk());
    // The log line names the file and line of the throw, and the callback.
    const QString log = box.warnings().join(u'\n');
    QVERIFY2(log.contains(u"handleIn threw: "_s + type.path + u":11: Error: deliberate"_s), qPrintable(log));
}

void tst_Script::endlessLoopIsInterrupted()
{
    const TypeFile type(kProbes);
    BehaviourHarness box(type.type(), {{u"script_timeout_ms"_s, 50}});
    const quint64 a = box.connect();
    const quint64 b = box.connect();
    QVERIFY(box.join(a, u"t"_s).isOk());
    QVERIFY(box.join(b, u"t"_s).isOk());
    QVERIFY(!box.push(a, u"t"_s, u"loop"_s).received);
    QCOMPARE(box.crashes(), 1);
    QVERIFY2(box.warnings().join(u'\n').contains(u"ran longer than script_timeout_ms (50 ms)"_s),
             qPrintable(box.warnings().join(u'\n')));
    // The engine runs the next call normally.
    QVERIFY(box.push(b, u"t"_s, u"ok"_s).json()[u"fine"_s].toBool());
}

void tst_Script::channelUsedOutsideItsCallback()
{
    const TypeFile type(R"js(
let kept = null;
export default {
    join(channel) { if (kept === null) { kept = channel; } return true; },
    handleIn(channel) { kept.push("late", {}); channel.replyOk(); },
};
)js");
    BehaviourHarness box(type.type());
    const quint64 a = box.connect();
    const quint64 b = box.connect();
    QVERIFY(box.join(a, u"t"_s).isOk());
    QVERIFY(box.join(b, u"t"_s).isOk());
    QVERIFY(box.push(a, u"t"_s, u"x"_s).isOk()); // its own channel: fine
    QVERIFY(!box.push(b, u"t"_s, u"x"_s).received);
    QVERIFY2(box.warnings().join(u'\n').contains(u"channel.push() is only valid in a callback for that channel"_s),
             qPrintable(box.warnings().join(u'\n')));
}

void tst_Script::heapLimitFailsTheInstance()
{
    const TypeFile type(R"js(
const hoard = [];
export default {
    join() { return true; },
    handleIn(channel, event) {
        if (event === "grow") { for (let i = 0; i < 200000; i++) { hoard.push({ i, s: "x" + i }); } }
        channel.replyOk({ size: hoard.length });
    },
};
)js");
    BehaviourHarness box(type.type(), {{u"script_memory_mb"_s, 16}});
    const quint64 a = box.connect();
    QVERIFY(box.join(a, u"t"_s).isOk());
    QVERIFY(box.push(a, u"t"_s, u"grow"_s).isOk());
    // Measured at most every 100 ms: keep calling until the check has run.
    QTRY_VERIFY_WITH_TIMEOUT((box.push(a, u"t"_s, u"ping"_s), !box.faults().isEmpty()), 10000);
    QVERIFY2(box.faults().first().contains(u"over script_memory_mb (16 MiB)"_s), qPrintable(box.faults().first()));
}

QTEST_GUILESS_MAIN(tst_Script)
#include "tst_script.moc"
