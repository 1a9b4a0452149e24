// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "scriptcatalog.h"

#include "logging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace wsserve::script {

namespace {
constexpr int kSettleMs = 150; // editors write a file in several steps (truncate, write, rename)
} // namespace

ScriptCatalog::ScriptCatalog(QObject *parent)
    : QObject(parent)
{
    m_settle.setSingleShot(true);
    m_settle.setInterval(kSettleMs);
    connect(&m_settle, &QTimer::timeout, this, &ScriptCatalog::rescan);
    connect(&m_watcher, &QFileSystemWatcher::directoryChanged, &m_settle, qOverload<>(&QTimer::start));
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, &m_settle, qOverload<>(&QTimer::start));
}

void ScriptCatalog::setDirectories(const QStringList &directories)
{
    m_directories.clear();
    for (const QString &directory : directories) {
        const QString absolute = QFileInfo(directory).absoluteFilePath();
        if (!m_directories.contains(absolute)) {
            m_directories.append(absolute);
        }
    }
    m_entries.clear();
    rescan();
}

void ScriptCatalog::rescan()
{
    QStringList paths;
    for (const QString &directory : std::as_const(m_directories)) {
        const QFileInfoList files =
            QDir(directory).entryInfoList({QStringLiteral("*.js")}, QDir::Files | QDir::Readable, QDir::Name);
        for (const QFileInfo &info : files) {
            paths.append(info.absoluteFilePath());
        }
    }
    bool anything = false;
    QStringList reloaded;
    QStringList failed;
    for (auto it = m_entries.begin(); it != m_entries.end();) {
        if (!paths.contains(it.key())) {
            qCInfo(lcCore).noquote() << "script type file removed:" << it.key();
            it = m_entries.erase(it);
            anything = true;
        } else {
            ++it;
        }
    }
    for (const QString &path : std::as_const(paths)) {
        QFile file(path);
        QByteArray content;
        if (file.open(QIODevice::ReadOnly)) {
            content = file.readAll();
        }
        const auto existing = m_entries.constFind(path);
        if (existing != m_entries.cend() && existing->current.content == content && file.isOpen()) {
            continue;
        }
        anything = true;
        ScriptFile loaded = loadScriptFile(path);
        Entry &entry = m_entries[path];
        const bool wasLoaded = entry.good != nullptr;
        entry.current = loaded;
        if (loaded.ok()) {
            entry.good = std::make_shared<const ScriptFile>(std::move(loaded));
            if (wasLoaded) {
                reloaded.append(entry.good->name);
                qCInfo(lcCore).noquote() << "script type" << entry.good->name << "reloaded from" << path;
            } else {
                qCInfo(lcCore).noquote() << "script type" << entry.good->name << "loaded from" << path;
            }
        } else {
            failed.append(entry.current.error);
            qCWarning(lcCore).noquote() << "script type file does not load:" << entry.current.error
                                        << (wasLoaded ? "(running instances stay on the last version that loaded)"
                                                      : "");
        }
    }
    watch();
    if (anything) {
        emit changed(reloaded, failed);
    }
}

void ScriptCatalog::watch()
{
    if (!m_watcher.files().isEmpty()) {
        m_watcher.removePaths(m_watcher.files());
    }
    if (!m_watcher.directories().isEmpty()) {
        m_watcher.removePaths(m_watcher.directories());
    }
    QStringList paths;
    for (const QString &directory : std::as_const(m_directories)) {
        if (QFileInfo(directory).isDir()) {
            paths.append(directory);
        }
    }
    paths += m_entries.keys();
    if (!paths.isEmpty()) {
        m_watcher.addPaths(paths);
    }
}

QList<BehaviourType> ScriptCatalog::types(const QStringList &reserved) const
{
    QList<BehaviourType> result;
    QMap<QString, QString> used; // name -> path
    for (auto it = m_entries.cbegin(); it != m_entries.cend(); ++it) {
        const Entry &entry = it.value();
        const QString name = entry.good ? entry.good->name : entry.current.name;
        QString clash;
        if (reserved.contains(name)) {
            clash = QStringLiteral("%1:1: the name '%2' is taken by a built-in type; give the file another name "
                                   "or declare name: \"...\"")
                        .arg(it.key(), name);
        } else if (used.contains(name)) {
            clash = QStringLiteral("%1:1: the name '%2' is taken by %3").arg(it.key(), name, used.value(name));
        }
        if (!clash.isEmpty()) {
            BehaviourType broken;
            broken.name = QStringLiteral("%1 (%2)").arg(name, QFileInfo(it.key()).fileName());
            broken.source = BehaviourType::Source::Script;
            broken.path = it.key();
            broken.error = clash;
            result.append(broken);
            continue;
        }
        used.insert(name, it.key());
        BehaviourType type;
        if (entry.good) {
            type = scriptBehaviourType(entry.good);
        } else {
            type.name = name;
            type.source = BehaviourType::Source::Script;
            type.path = it.key();
        }
        type.error = entry.current.error;
        result.append(type);
    }
    return result;
}

} // namespace wsserve::script
