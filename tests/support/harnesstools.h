// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// Small helpers for tests that run instance types through BehaviourHarness.

#include "behaviours/builtins.h"
#include "instance/behaviourharness.h"
#include "script/scripttype.h"

#include <QStringList>

namespace wsserve::test {

// A built-in type by name; a test that asks for a missing one stops.
inline BehaviourType builtinType(const QString &name)
{
    for (const BehaviourType &type : builtinBehaviourTypes()) {
        if (type.name == name) {
            return type;
        }
    }
    qFatal("no built-in type %s", qPrintable(name));
}

#ifdef WSSERVE_SOURCE_DIR
// A script type from the source tree (e.g. "examples/types/counter.js"); a file that does not load stops.
inline BehaviourType sourceScriptType(const QString &relativePath)
{
    const script::ScriptFile file =
        script::loadScriptFile(QStringLiteral(WSSERVE_SOURCE_DIR) + QLatin1Char('/') + relativePath);
    if (!file.ok()) {
        qFatal("%s", qPrintable(file.error));
    }
    return script::scriptBehaviourType(std::make_shared<const script::ScriptFile>(file));
}
#endif

// "reply ok", "push hello", "broadcast news", "control phx_close": what a client got, readable in a failure.
inline QStringList summary(const QList<BehaviourHarness::Frame> &frames)
{
    using Kind = BehaviourHarness::Frame::Kind;
    QStringList list;
    for (const BehaviourHarness::Frame &frame : frames) {
        const char *kind = frame.kind == Kind::Reply       ? "reply"
                           : frame.kind == Kind::Push      ? "push"
                           : frame.kind == Kind::Broadcast ? "broadcast"
                                                           : "control";
        list.append(QLatin1String(kind) + u' ' + (frame.kind == Kind::Reply ? frame.status : frame.event));
    }
    return list;
}

} // namespace wsserve::test
