// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "servercontroller.h"

#include <QUrl>

#include <memory>

namespace wsserve::test {

class PhoenixTestClient;

// An in-process server on 127.0.0.1:0 for integration tests: the real controller, endpoint thread,
// supervisor and instance threads. Thread: the test's thread.
class TestServer
{
public:
    explicit TestServer(BehaviourRegistry registry = builtinRegistry());
    ~TestServer();

    // Listens and waits for it; false when listening failed.
    bool start();
    // Creates an instance and waits until it is Running.
    bool addInstance(const QString &id, const QString &type, const QVariantMap &options = {});
    bool waitForState(const QString &id, InstanceState state, int timeoutMs = 15000);

    // A client connected to instance `id` and joined to `topic` (join replied ok), or nullptr.
    std::unique_ptr<PhoenixTestClient> joinedClient(const QString &id, const QString &topic);

    ServerController &controller() { return *m_controller; }
    quint16 port() const { return m_controller->listenPort(); }
    // ws://127.0.0.1:PORT/socket/<id>/websocket?<query> (query defaults to vsn=2.0.0)
    QUrl url(const QString &id, const QString &query = QStringLiteral("vsn=2.0.0")) const;

private:
    std::unique_ptr<ServerController> m_controller;
};

} // namespace wsserve::test
