// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "testserver.h"

#include "phoenixtestclient.h"

#include <QSignalSpy>
#include <QTest>

namespace wsserve::test {

TestServer::TestServer(BehaviourRegistry registry)
    : m_controller(std::make_unique<ServerController>(std::move(registry)))
{}

TestServer::~TestServer()
{
    QSignalSpy done(m_controller.get(), &ServerController::shutdownComplete);
    m_controller->shutdown();
    (void)done.wait(10000);
}

bool TestServer::start()
{
    QSignalSpy listening(m_controller.get(), &ServerController::listening);
    m_controller->listen(QHostAddress::LocalHost, 0);
    return listening.wait(10000) || m_controller->isListening();
}

bool TestServer::addInstance(const QString &id, const QString &type, const QVariantMap &options)
{
    if (const CommandResult result = m_controller->createInstance(id, type, options, true); !result) {
        qWarning("createInstance failed: %s", qPrintable(result.message));
        return false;
    }
    return waitForState(id, InstanceState::Running);
}

bool TestServer::waitForState(const QString &id, InstanceState state, int timeoutMs)
{
    return QTest::qWaitFor([&] { return m_controller->instance(id).state == state; }, timeoutMs);
}

std::unique_ptr<PhoenixTestClient> TestServer::joinedClient(const QString &id, const QString &topic)
{
    auto client = std::make_unique<PhoenixTestClient>();
    if (!client->open(url(id))) {
        return nullptr;
    }
    const QString ref = client->join(topic);
    const auto reply = client->waitForReply(topic, ref);
    if (!reply || reply->payload()[QLatin1String("status")].toString() != QLatin1String("ok")) {
        return nullptr;
    }
    return client;
}

QUrl TestServer::url(const QString &id, const QString &query) const
{
    QUrl result(QStringLiteral("ws://127.0.0.1:%1/socket/%2/websocket").arg(port()).arg(id));
    if (!query.isEmpty()) {
        result.setQuery(query);
    }
    return result;
}

} // namespace wsserve::test
