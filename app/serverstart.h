// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "config/serverconfig.h"

#include <QObject>
#include <QStringList>

namespace wsserve {

class AdminServer;
class ServerController;

// The one routine that starts serving, for the window and the headless CLI alike:
//   1. Strict only: every configured instance is validated (id, type, options, no id twice); a bad one
//      stops the launch with nothing started.
//   2. The admin API is bound when the config enables it (before any instance starts).
//   3. The given saved instances (the window's, restored in their saved running/stopped state), then
//      the configured ones (skipped when a saved one has the id), are created through the facade.
//   4. The game port is asked to listen; ServerController::listening()/listenFailed() answer.
// Strict (the CLI): the first problem ends the launch and is the one entry returned. BestEffort (the
// window): every problem is collected and the rest goes on. Owns the admin server. Thread: main thread.
class ServerStart final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerStart)

public:
    enum class Mode { Strict, BestEffort };

    explicit ServerStart(ServerController &controller, QObject *parent = nullptr);
    ~ServerStart() override;

    // Returns the problems met (empty: everything asked for was started or is starting).
    QStringList start(const ServerConfig &config, Mode mode, const QList<InstanceSpec> &saved = {});

    // Where the admin API answers, e.g. "http://127.0.0.1:4001" (https:// with admin TLS); empty when it is off or
    // failed.
    QString adminUrl() const;
    // The admin API's TLS certificate (file, SHA-256 fingerprint); empty without admin TLS.
    QString adminTlsCertFile() const;
    QString adminTlsFingerprint() const;

private:
    ServerController &m_controller;
    AdminServer *m_admin = nullptr;
    QHostAddress m_adminBind;
};

} // namespace wsserve
