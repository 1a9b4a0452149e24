// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

// The facade's private state; internal to servercontroller*.cpp.

#include "endpoint/routetable.h"
#include "net/acceptguard.h"
#include "net/tls.h"
#include "servercontroller.h"
#include "web/announcer.h"
#include "web/hostbrowser.h"
#include "web/sitedirectory.h"

#include <QThread>

#include <memory>

class QFileSystemWatcher;
class QTimer;

namespace wsserve {

class Endpoint;
class Supervisor;
namespace script {
class ScriptCatalog;
}

struct ServerController::Private {
    std::shared_ptr<RouteTable> routes = std::make_shared<RouteTable>();
    std::shared_ptr<net::ListenerHealth> listenerHealth = std::make_shared<net::ListenerHealth>();
    std::shared_ptr<web::SiteDirectory> site = std::make_shared<web::SiteDirectory>(); // what the pages show
    web::Announcer announcer; // DNS-SD, only while something is to be announced
    bool announceAll = false;
    web::HostBrowser hostBrowser; // opt-in: browses only once started
    Supervisor *supervisor = nullptr;
    QThread endpointThread;
    Endpoint *endpoint = nullptr;
    script::ScriptCatalog *scripts = nullptr;
    BehaviourRegistry baseRegistry; // what the controller was built with (the built-in types)
    bool shuttingDown = false;
    std::shared_ptr<Store> store = Store::inMemory();
    std::shared_ptr<ClusterLink> cluster;
    QList<ConnectionEvent> connectionLog;
    quint64 connectionDropped = 0;
    std::shared_ptr<const net::TlsContext> tls;
    QFileSystemWatcher *tlsWatcher = nullptr;
    QTimer *tlsReloadTimer = nullptr; // editors write a file in steps: reloaded once they settle
};

} // namespace wsserve
