// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "instance/behaviourregistry.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace wsserve::script {

// Options every script type has besides those it declares.
namespace options {
inline const QString kScriptTimeoutMs = QStringLiteral("script_timeout_ms");
inline const QString kScriptMemoryMb = QStringLiteral("script_memory_mb");
} // namespace options

// One type file as read from disk: its declaration when it loads, or the problem ("file:line: message").
// Thread: a value; shared read-only between the catalog and the instances created from it.
struct ScriptFile {
    QString path;
    QByteArray content;
    QString name; // declared, or the file's base name
    QString description;
    QList<OptionSpec> options; // declared ones; the runtime options are added by scriptBehaviourType()
    QString error;             // empty when the file loads
    int errorLine = 0;

    bool ok() const { return error.isEmpty(); }
};

// Reads and checks a type file: syntax, the `export default` declaration, callbacks and options. The
// file's top level runs once, in a throwaway engine, under the script watchdog.
// Thread: any (the engine lives and dies in the calling thread).
ScriptFile loadScriptFile(const QString &path);
ScriptFile parseScriptFile(const QString &path, const QByteArray &content);

// The registry entry for a file that loads: instances get a ScriptBehaviour with their own engine.
BehaviourType scriptBehaviourType(std::shared_ptr<const ScriptFile> file);

} // namespace wsserve::script
