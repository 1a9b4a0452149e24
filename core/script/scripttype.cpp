// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "scripttype.h"

#include "scriptbehaviour.h"
#include "scriptengine.h"

#include <QFile>
#include <QFileInfo>

namespace wsserve::script {

namespace {
constexpr int kLoadTimeoutMs = 1000;              // a file's top level; an endless loop there is interrupted
constexpr qint64 kMaxFileBytes = 4 * 1024 * 1024; // a type is a script, not a data file

QList<OptionSpec> runtimeOptionSpecs()
{
    using K = OptionSpec::Kind;
    return {
        {.name = options::kScriptTimeoutMs,
         .kind = K::Int,
         .defaultValue = 1000,
         .description = QStringLiteral("interrupt a script callback that runs longer than this (its channel "
                                       "crashes); keep it below watchdog_ms"),
         .minimum = 10,
         .maximum = 60000},
        {.name = options::kScriptMemoryMb,
         .kind = K::Int,
         .defaultValue = 256,
         .description = QStringLiteral("fail the instance when the script's heap stays above this many MiB "
                                       "after a collection (0 = no limit)"),
         .minimum = 0,
         .maximum = 16384},
    };
}
} // namespace

ScriptFile parseScriptFile(const QString &path, const QByteArray &content)
{
    ScriptFile file;
    file.path = path;
    file.content = content;
    file.name = QFileInfo(path).completeBaseName();
    ScriptEngine engine(QStringLiteral("[%1]").arg(QFileInfo(path).fileName()), kLoadTimeoutMs);
    engine.load(&file);
    for (const OptionSpec &runtime : runtimeOptionSpecs()) {
        for (const OptionSpec &declared : std::as_const(file.options)) {
            if (declared.name == runtime.name && file.ok()) {
                file.error = QStringLiteral("%1:1: option '%2' is set by wsserve for every script type")
                                 .arg(path, declared.name);
                file.errorLine = 1;
            }
        }
    }
    return file;
}

ScriptFile loadScriptFile(const QString &path)
{
    QFile handle(path);
    if (!handle.open(QIODevice::ReadOnly)) {
        ScriptFile file;
        file.path = path;
        file.name = QFileInfo(path).completeBaseName();
        file.error = QStringLiteral("%1: cannot read: %2").arg(path, handle.errorString());
        return file;
    }
    if (handle.size() > kMaxFileBytes) {
        ScriptFile file;
        file.path = path;
        file.name = QFileInfo(path).completeBaseName();
        file.error = QStringLiteral("%1: %2 bytes; a type file may have at most %3")
                         .arg(path)
                         .arg(handle.size())
                         .arg(kMaxFileBytes);
        return file;
    }
    return parseScriptFile(path, handle.readAll());
}

BehaviourType scriptBehaviourType(std::shared_ptr<const ScriptFile> file)
{
    BehaviourType type;
    type.name = file->name;
    type.description = file->description;
    type.options = file->options + runtimeOptionSpecs();
    type.source = BehaviourType::Source::Script;
    type.path = file->path;
    type.create = [file](const InstanceConfig &config) {
        return std::make_unique<ScriptBehaviour>(file, config);
    };
    return type;
}

} // namespace wsserve::script
