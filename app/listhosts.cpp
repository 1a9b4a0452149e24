// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "listhosts.h"

#include "web/hostbrowser.h"

#include <QCoreApplication>
#include <QTimer>

#include <cstdio>

namespace wsserve {

int runListHosts(web::HostBrowser &browser, int seconds)
{
    if (!web::HostBrowser::isAvailable()) {
        std::fprintf(stderr, "wsserve: --list-hosts: this build has no DNS-SD (built without Avahi)\n");
        return 2;
    }
    browser.start();
    if (!browser.isBrowsing()) {
        std::fprintf(stderr, "wsserve: --list-hosts: %s\n", qPrintable(browser.status()));
        return 1;
    }
    QTimer::singleShot(seconds * 1000, QCoreApplication::instance(), [] { QCoreApplication::exit(0); });
    QCoreApplication::exec();
    const QList<web::DiscoveredHost> hosts = browser.hosts();
    const bool reached = browser.isConnected();
    const QString status = browser.status();
    browser.stop();
    for (const web::DiscoveredHost &host : hosts) {
        std::fprintf(stdout, "%s%s\n", qPrintable(host.line()), host.own ? "\tthis-machine" : "");
    }
    std::fflush(stdout);
    if (!reached) {
        std::fprintf(stderr, "wsserve: --list-hosts: %s\n",
                     qPrintable(status.isEmpty() ? QStringLiteral("the Avahi daemon did not answer") : status));
        return 1;
    }
    if (hosts.isEmpty()) {
        std::fprintf(stderr, "wsserve: no wsserve hosts seen in %d s\n", seconds);
    }
    return 0;
}

} // namespace wsserve
