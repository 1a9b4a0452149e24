// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "scriptengine.h"

#include "scriptbridge.h"

#include <QFileInfo>
#include <QRegularExpression>
#include <QUrl>

#include <private/qv4engine_p.h>
#include <private/qv4mm_p.h>

namespace wsserve::script {

extern const char *const kPrelude; // prelude.js, embedded by CMake (scriptprelude.cpp)

namespace {

const QString kPreludeName = QStringLiteral("wsserve-prelude.js");

struct Wrapped {
    QString code;
    int declarationLine = 1;
    QString error;
    int errorLine = 0;
};

int lineOf(const QString &text, qsizetype offset)
{
    return static_cast<int>(QStringView(text).left(offset).count(u'\n')) + 1;
}

// A type file is ES-module shaped: one `export default <object>`, no imports. It is run as the body of a
// strict function (the engine has no module loader to reach other files through), with the export
// turned into an assignment; line numbers stay those of the file.
Wrapped wrap(const QString &source)
{
    Wrapped result;
    static const QRegularExpression exportDefault(QStringLiteral(R"(^[ \t]*export[ \t]+default\b)"),
                                                  QRegularExpression::MultilineOption);
    static const QRegularExpression otherExport(QStringLiteral(R"(^[ \t]*export\b(?![ \t]+default\b))"),
                                                QRegularExpression::MultilineOption);
    static const QRegularExpression importStatement(QStringLiteral(R"(^[ \t]*import\b[ \t]*[\w{*"'])"),
                                                    QRegularExpression::MultilineOption);
    if (const auto match = importStatement.match(source); match.hasMatch()) {
        result.errorLine = lineOf(source, match.capturedStart());
        result.error = QStringLiteral("import is not available: a type is one file, and scripts reach nothing "
                                      "outside the wsserve API");
        return result;
    }
    if (const auto match = otherExport.match(source); match.hasMatch()) {
        result.errorLine = lineOf(source, match.capturedStart());
        result.error = QStringLiteral("only `export default { ... }` is supported");
        return result;
    }
    auto matches = exportDefault.globalMatch(source);
    if (!matches.hasNext()) {
        result.errorLine = 1;
        result.error = QStringLiteral("no `export default { ... }` declaring the type (name, options, callbacks)");
        return result;
    }
    const QRegularExpressionMatch first = matches.next();
    if (matches.hasNext()) {
        result.errorLine = lineOf(source, matches.next().capturedStart());
        result.error = QStringLiteral("a second `export default`; a file declares one type");
        return result;
    }
    result.declarationLine = lineOf(source, first.capturedStart());
    QString body = source;
    body.replace(first.capturedStart(), first.capturedLength(), QStringLiteral("__exports.default ="));
    result.code = QStringLiteral("(function (__exports) {\"use strict\";") + body +
                  QStringLiteral("\n;return __exports.default;})");
    return result;
}

} // namespace

ScriptEngine::ScriptEngine(QString logTag, int timeoutMs)
    : m_engine(std::make_unique<QJSEngine>())
    , m_bridge(std::make_unique<ScriptBridge>(m_engine.get(), std::move(logTag)))
    , m_watch(std::make_unique<ScriptWatchdog::Registration>(m_engine.get()))
    , m_timeoutMs(timeoutMs)
{}

ScriptEngine::~ScriptEngine()
{
    m_watch.reset(); // before the engine goes: the watchdog may be looking at it
    m_runtime = QJSValue();
}

bool ScriptEngine::load(ScriptFile *file)
{
    m_path = file->path;
    const auto fail = [file](int line, const QString &message) {
        file->errorLine = line;
        file->error = QStringLiteral("%1:%2: %3").arg(file->path).arg(line).arg(message);
        return false;
    };
    QJSValue prelude = m_engine->evaluate(QString::fromUtf8(kPrelude), kPreludeName, 1);
    if (prelude.isError() || !prelude.isCallable()) {
        return fail(0, QStringLiteral("internal error: the script prelude does not load: ") + prelude.toString());
    }
    QJSEngine::setObjectOwnership(m_bridge.get(), QJSEngine::CppOwnership); // never collected by the engine
    m_runtime = prelude.call({m_engine->newQObject(m_bridge.get())});
    if (m_runtime.isError()) {
        return fail(0, QStringLiteral("internal error: ") + m_runtime.toString());
    }
    m_engine->globalObject().setProperty(QStringLiteral("console"), m_runtime.property(QStringLiteral("console")));
    m_engine->globalObject().setProperty(QStringLiteral("JoinResult"),
                                         m_runtime.property(QStringLiteral("JoinResult")));

    const QString source = QString::fromUtf8(file->content);
    const Wrapped wrapped = wrap(source);
    if (!wrapped.error.isEmpty()) {
        return fail(wrapped.errorLine, wrapped.error);
    }
    m_watch->arm(m_timeoutMs);
    QJSValue declaration;
    QJSValue factory = m_engine->evaluate(wrapped.code, file->path, 1);
    if (!factory.isError()) {
        declaration = factory.call({m_engine->newObject()});
    }
    if (m_watch->disarm()) {
        return fail(wrapped.declarationLine,
                    QStringLiteral("the file's top level ran longer than %1 ms and was interrupted").arg(m_timeoutMs));
    }
    const QJSValue &error = factory.isError() ? factory : declaration;
    if (error.isError()) {
        return fail(error.property(QStringLiteral("lineNumber")).toInt(), error.toString());
    }
    const QString fallbackName = QFileInfo(file->path).completeBaseName();
    const QJSValue defined = runtimeFunction("define").call({declaration, fallbackName});
    if (defined.isError()) {
        return fail(wrapped.declarationLine, defined.property(QStringLiteral("message")).toString());
    }
    file->name = defined.property(QStringLiteral("name")).toString();
    file->description = defined.property(QStringLiteral("description")).toString();
    file->options.clear();
    const QJSValue options = defined.property(QStringLiteral("options"));
    const int count = options.property(QStringLiteral("length")).toInt();
    for (int i = 0; i < count; ++i) {
        const QJSValue entry = options.property(static_cast<quint32>(i));
        OptionSpec spec;
        spec.name = entry.property(QStringLiteral("name")).toString();
        spec.description = entry.property(QStringLiteral("description")).toString();
        const QString kind = entry.property(QStringLiteral("kind")).toString();
        if (kind == u"int") {
            spec.kind = OptionSpec::Kind::Int;
            spec.defaultValue = static_cast<qint64>(entry.property(QStringLiteral("default")).toNumber());
            spec.minimum = static_cast<qint64>(entry.property(QStringLiteral("min")).toNumber());
            spec.maximum = static_cast<qint64>(entry.property(QStringLiteral("max")).toNumber());
        } else if (kind == u"bool") {
            spec.kind = OptionSpec::Kind::Bool;
            spec.defaultValue = entry.property(QStringLiteral("default")).toBool();
        } else {
            spec.kind = OptionSpec::Kind::String;
            spec.defaultValue = entry.property(QStringLiteral("default")).toString();
        }
        file->options.append(spec);
    }
    return true;
}

QJSValue ScriptEngine::call(const QJSValue &fn, const QJSValueList &args, const char *callback)
{
    m_watch->arm(m_timeoutMs);
    QJSValue result = fn.call(args);
    if (m_watch->disarm()) {
        throw ScriptException(QStringLiteral("%1: %2 ran longer than script_timeout_ms (%3 ms) and was interrupted")
                                  .arg(m_path, QLatin1String(callback))
                                  .arg(m_timeoutMs)
                                  .toStdString());
    }
    if (result.isError()) {
        const QString what = QLatin1String(callback) + QStringLiteral(" threw: ") + describeError(result);
        throw ScriptException(what.toStdString());
    }
    return result;
}

qint64 ScriptEngine::heapBytes() const
{
    const QV4::MemoryManager *memory = m_engine->handle()->memoryManager;
    return static_cast<qint64>(memory->getUsedMem() + memory->getLargeItemsMem());
}

QString ScriptEngine::describeError(const QJSValue &error) const
{
    QString fileName = error.property(QStringLiteral("fileName")).toString();
    if (fileName.isEmpty() || fileName == u"undefined") {
        fileName = m_path;
    } else if (fileName.startsWith(u"file:")) {
        fileName = QUrl(fileName).toLocalFile();
    }
    QString text = QStringLiteral("%1:%2: %3")
                       .arg(fileName)
                       .arg(error.property(QStringLiteral("lineNumber")).toInt())
                       .arg(error.toString());
    const QStringList stack = error.property(QStringLiteral("stack")).toString().split(u'\n', Qt::SkipEmptyParts);
    for (const QString &frame : stack) {
        if (!frame.contains(kPreludeName) && frame != u"undefined") {
            text += QStringLiteral("\n    at ") + QString(frame).replace(QStringLiteral("file://"), QString());
        }
    }
    return text;
}

} // namespace wsserve::script
