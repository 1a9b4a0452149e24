// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "config/serverconfig.h"

#include <QObject>

namespace wsserve {

class ServerController;
class ServerStart;

// The headless front end: starts serving through ServerStart (strict: nothing starts when one thing is
// bad), prints the listening lines once every configured instance runs, and stops everything on
// SIGINT/SIGTERM. Exit codes: 0 clean stop, 2 bad start.
// Thread: main thread.
class CliRunner final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CliRunner)

public:
    CliRunner(ServerController &controller, ServerConfig config, QObject *parent = nullptr);

    // Validates every instance up front (nothing starts when one is bad), binds the admin API, creates
    // the instances and listens. Returns false, with `error` set, when the configuration is unusable.
    bool start(QString *error);
    void requestStop();

private:
    void checkAllRunning();
    // The instance comes from the command line or the config file (not kept in the data folder).
    bool configured(const QString &id) const;
    void fail(const QString &message);

    ServerController &m_controller;
    ServerConfig m_config;
    ServerStart *m_start = nullptr;
    bool m_announced = false;
    bool m_stopping = false;
};

} // namespace wsserve
