// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "scripttype.h"
#include "scriptwatchdog.h"

#include <QJSEngine>
#include <QJSValue>

#include <memory>
#include <stdexcept>

namespace wsserve {
class ChannelContext;
class InstanceContext;
} // namespace wsserve

namespace wsserve::script {

class ScriptBridge;

// A script error: what a log line and a crash reason show ("file:line: TypeError: ...", stack after).
class ScriptException : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// One JavaScript engine with the wsserve prelude and one type file evaluated in it. Every call into the
// script goes through call(): armed on the watchdog, errors turned into ScriptException.
// Thread: created, used and destroyed in one thread (the instance's, or the loader's).
class ScriptEngine
{
public:
    ScriptEngine(QString logTag, int timeoutMs);
    ~ScriptEngine();

    // Evaluates the prelude and the file; fills the declaration into `file` (name, description, options)
    // or sets its error and line. False when it does not load.
    bool load(ScriptFile *file);

    QJSEngine &js() { return *m_engine; }
    ScriptBridge &bridge() { return *m_bridge; }
    QJSValue runtimeFunction(const char *name) const { return m_runtime.property(QLatin1String(name)); }

    // Calls fn(args) under the watchdog. Throws ScriptException naming `callback` when the script throws
    // or runs past the timeout.
    QJSValue call(const QJSValue &fn, const QJSValueList &args, const char *callback);

    // The engine's JavaScript heap in bytes (objects and large items), as its memory manager counts it.
    qint64 heapBytes() const;
    void collectGarbage() { m_engine->collectGarbage(); }

    // "file:line: message" (with the stack on following lines) for an error value.
    QString describeError(const QJSValue &error) const;

private:
    std::unique_ptr<QJSEngine> m_engine;
    std::unique_ptr<ScriptBridge> m_bridge;
    std::unique_ptr<ScriptWatchdog::Registration> m_watch;
    QJSValue m_runtime;
    QString m_path;
    int m_timeoutMs;
};

} // namespace wsserve::script
