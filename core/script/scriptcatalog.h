// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "scripttype.h"

#include <QFileSystemWatcher>
#include <QMap>
#include <QObject>
#include <QStringList>
#include <QTimer>

#include <memory>

namespace wsserve::script {

// The script types found in the types folders: every `*.js` file directly in them. Watches the folders
// and files; a change (an editor saving, a file copied in or removed) rescans after a short quiet time.
// A file that stops loading keeps its last good version for running and new instances, with the error
// attached. Thread: main thread.
class ScriptCatalog final : public QObject
{
    Q_OBJECT

public:
    explicit ScriptCatalog(QObject *parent = nullptr);

    // Scans at once, then watches. Missing folders are skipped (and not watched).
    void setDirectories(const QStringList &directories);
    QStringList directories() const { return m_directories; }
    // Reads every file again now; emits changed() when something did.
    void rescan();

    // The registry entries: loaded types (the last version that loaded, with the current error if any) and
    // files that never loaded (no factory, the error). A name used by a built-in type in `reserved`, or by
    // an earlier file (by path), makes the later file broken.
    QList<BehaviourType> types(const QStringList &reserved) const;

Q_SIGNALS:
    // Something in the folders changed; `reloaded` names the types whose code changed and loads (their
    // running instances restart onto it), `failed` the files that no longer load ("file:line: problem").
    void changed(const QStringList &reloaded, const QStringList &failed);

private:
    struct Entry {
        std::shared_ptr<const ScriptFile> good; // last version that loaded
        ScriptFile current;                     // what is on disk now
    };
    void watch();

    QStringList m_directories;
    QMap<QString, Entry> m_entries; // by path
    QFileSystemWatcher m_watcher;
    QTimer m_settle;
};

} // namespace wsserve::script
