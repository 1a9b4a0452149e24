// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "config/serverconfig.h"

#include <QObject>

namespace wsserve {

class AdminServer;
class ServerController;

// The headless front end: starts the listener and the configured instances through the facade, prints
// the listening line, and stops everything on SIGINT/SIGTERM. Exit codes: 0 clean stop, 2 bad start.
// Thread: main thread.
class CliRunner final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CliRunner)

public:
    CliRunner(ServerController &controller, ServerConfig config, QObject *parent = nullptr);

    // Validates every instance up front (nothing starts when one is bad), then listens.
    // Returns false, with `error` set, when the configuration is unusable.
    bool start(QString *error);
    void requestStop();

private:
    void onListening();
    void checkAllRunning();
    void fail(const QString &message);

    ServerController &m_controller;
    ServerConfig m_config;
    AdminServer *m_admin = nullptr;
    bool m_announced = false;
    bool m_stopping = false;
};

} // namespace wsserve
