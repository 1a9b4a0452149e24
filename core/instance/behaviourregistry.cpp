// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "behaviourregistry.h"

namespace wsserve {

bool BehaviourRegistry::add(BehaviourType type)
{
    if (type.name.isEmpty() || (!type.create && type.error.isEmpty()) || find(type.name)) {
        return false;
    }
    m_types.append(std::move(type));
    return true;
}

void BehaviourRegistry::replace(BehaviourType type)
{
    for (BehaviourType &existing : m_types) {
        if (existing.name == type.name) {
            existing = std::move(type);
            return;
        }
    }
    m_types.append(std::move(type));
}

const BehaviourType *BehaviourRegistry::find(const QString &name) const
{
    for (const BehaviourType &type : m_types) {
        if (type.name == name) {
            return &type;
        }
    }
    return nullptr;
}

QStringList BehaviourRegistry::names() const
{
    QStringList result;
    for (const BehaviourType &type : m_types) {
        result.append(type.name);
    }
    return result;
}

QList<OptionSpec> BehaviourRegistry::optionSpecs(const QString &name) const
{
    QList<OptionSpec> specs = commonOptionSpecs();
    if (const BehaviourType *type = find(name)) {
        specs.append(type->options);
    }
    return specs;
}

bool BehaviourRegistry::makeConfig(const QString &id, const QString &type, const QVariantMap &rawOptions,
                                   InstanceConfig *config, QString *error) const
{
    if (const QString idError = validateInstanceId(id); !idError.isEmpty()) {
        *error = idError;
        return false;
    }
    const BehaviourType *known = find(type);
    if (!known) {
        *error = QStringLiteral("unknown instance type '%1' (known: %2)").arg(type, names().join(u", "));
        return false;
    }
    if (!known->create) {
        *error = QStringLiteral("instance type '%1' does not load: %2").arg(type, known->error);
        return false;
    }
    QVariantMap resolved;
    QString optionError;
    if (!resolveOptions(optionSpecs(type), rawOptions, &resolved, &optionError)) {
        *error = QStringLiteral("instance '%1': %2").arg(id, optionError);
        return false;
    }
    if (resolved.value(options::kCluster).toBool() && !known->clusterSafe) {
        QStringList safe;
        for (const BehaviourType &candidate : m_types) {
            if (candidate.clusterSafe) {
                safe.append(candidate.name);
            }
        }
        *error = QStringLiteral("instance '%1': type '%2' keeps its state on one node and cannot take cluster=true "
                                "(cluster-safe types: %3); route its players to one node instead")
                     .arg(id, type, safe.join(u", "));
        return false;
    }
    *config = InstanceConfig{id, type, resolved};
    return true;
}

} // namespace wsserve
