// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "behaviour.h"
#include "instanceconfig.h"

#include <QList>
#include <QString>

#include <functional>
#include <memory>

namespace wsserve {

// A registered instance type: name, one-line description, its own options and a factory.
struct BehaviourType {
    enum class Source { Builtin, Script };
    QString name;
    QString description;
    QList<OptionSpec> options; // type-specific; the common ones are added by the registry
    // Null for a script type whose file has never loaded (then `error` says why).
    std::function<std::unique_ptr<IBehaviour>(const InstanceConfig &)> create;
    Source source = Source::Builtin;
    // True for types whose state is only what their broadcasts and presence carry, so one instance id on
    // several nodes of a cluster behaves as one (option cluster=true; docs/design-notes.md "Cluster").
    bool clusterSafe = false;
    QString path;  // the file of a script type
    QString error; // "file:line: problem" when the file on disk does not load (create, if set, is the last
                   // version that did: running instances stay on it)
};

// Instance types by name. The GUI's type list, the CLI and the admin API read it. The built-in types are
// registered by behaviours/builtins.h (builtinRegistry()); this class knows none of them.
// Thread: built on the main thread before instances start; read-only afterwards (safe to share).
class BehaviourRegistry
{
public:
    // Returns false when the name is taken or invalid, or the type has neither a factory nor an error.
    bool add(BehaviourType type);
    // Replaces (or adds) the type of that name.
    void replace(BehaviourType type);
    const BehaviourType *find(const QString &name) const;
    QList<BehaviourType> types() const { return m_types; }
    QStringList names() const;
    // Common plus type-specific options of a type.
    QList<OptionSpec> optionSpecs(const QString &name) const;

    // Validates id, type and raw options into a full config. On failure sets `error` to a sentence
    // naming the problem.
    bool makeConfig(const QString &id, const QString &type, const QVariantMap &rawOptions, InstanceConfig *config,
                    QString *error) const;

private:
    QList<BehaviourType> m_types;
};

} // namespace wsserve
