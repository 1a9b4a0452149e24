// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Issue #18, "the GUI lists other wsserve hosts it sees": what a resolved `_wsserve._tcp` service becomes
// (TXT records, URL, the --list-hosts line), the opt-in browser and its "Hosts on this network" panel,
// and --list-hosts' errors. Browsing that sees another host runs only inside network namespaces
// (tests/discovery/test_browse_netns.sh): here the system bus points at nothing, so no Avahi daemon is
// reached and nothing is sent on the machine's interfaces.

#include "connectpanel.h"
#include "hostspanel.h"
#include "runtoend.h"
#include "servercontroller.h"
#include "web/hostbrowser.h"

#include <QCheckBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>
#include <QTreeWidget>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

class tst_UiHostBrowser : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        // No daemon can be reached: the browser waits and says so; no query leaves this machine.
        qputenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/wsserve-test-bus");
    }

    void txtRecordsAreRead()
    {
        web::DiscoveredHost host;
        host.readTxt({"version=0.1.0", "path=/", "socket=/socket/", "ids=lobby,ttt", "types=chat,tictactoe", "junk",
                      "=novalue", "IDS=ignored-case-dup"});
        QCOMPARE(host.version, u"0.1.0"_s);
        QCOMPARE(host.socket, u"/socket/"_s);
        // Keys are case-insensitive (DNS-SD): the later IDS wins.
        QCOMPARE(host.ids, QStringList{u"ignored-case-dup"_s});
        QCOMPARE(host.types, (QStringList{u"chat"_s, u"tictactoe"_s}));

        web::DiscoveredHost relative;
        relative.readTxt({"path=relative", "socket=nope", "ids=", "types=a,,b"});
        QCOMPARE(relative.path, u"/"_s); // a path must start with '/'
        QCOMPARE(relative.socket, u"/socket/"_s);
        QVERIFY(relative.ids.isEmpty());
        QCOMPARE(relative.types, (QStringList{u"a"_s, u"b"_s}));

        QByteArray many = "ids=";
        for (int i = 0; i < 150; ++i) {
            many += (i ? "," : "") + QByteArray::number(i);
        }
        web::DiscoveredHost capped;
        capped.readTxt({many});
        QCOMPARE(capped.ids.size(), 100);
    }

    void urlAndLine()
    {
        web::DiscoveredHost host;
        host.name = u"wsserve on box"_s;
        host.address = QHostAddress(u"10.0.0.7"_s);
        host.port = 4000;
        host.ids = {u"lobby"_s, u"ttt"_s};
        host.types = {u"chat"_s, u"tictactoe"_s};
        QCOMPARE(host.url(), u"http://10.0.0.7:4000/"_s);
        QCOMPARE(host.line(),
                 u"wsserve on box\t10.0.0.7:4000\tids=lobby,ttt\ttypes=chat,tictactoe\thttp://10.0.0.7:4000/"_s);

        web::DiscoveredHost six;
        six.name = u"six"_s;
        six.address = QHostAddress(u"fe80::1%1"_s);
        six.port = 4100;
        six.path = u"/lobby/"_s;
        QCOMPARE(six.url(), u"http://[fe80::1]:4100/lobby/"_s);
        QVERIFY(six.line().contains(u"\t[fe80::1]:4100\t"_s));
    }

    void browsingIsOptInAndSaysWhyNothingIsSeen()
    {
        if (!web::HostBrowser::isAvailable()) {
            web::HostBrowser browser;
            browser.start();
            QVERIFY(!browser.isBrowsing());
            QVERIFY(browser.status().contains(u"without Avahi"_s));
            return;
        }
        BehaviourRegistry registry = builtinRegistry();
        ServerController controller(registry);
        web::HostBrowser &browser = controller.hostBrowser();
        QVERIFY(!browser.isBrowsing()); // nothing is looked up until asked
        QVERIFY(browser.status().isEmpty());
        QSignalSpy browsing(&browser, &web::HostBrowser::browsingChanged);
        browser.start(); // no bus, so no daemon: it says so and does not pretend to look
        QVERIFY(!browser.isBrowsing());
        QVERIFY(browsing.isEmpty());
        QVERIFY2(browser.status().contains(u"Avahi daemon cannot be reached"_s), qPrintable(browser.status()));
        QVERIFY(browser.hosts().isEmpty());
        browser.stop();
        QVERIFY(browser.status().isEmpty());
    }

    void panelLooksOnlyWhenTicked()
    {
        BehaviourRegistry registry = builtinRegistry();
        ServerController controller(registry);
        ConnectPanel connect(controller);
        HostsPanel *panel = connect.hostsPanel();
        QVERIFY(panel);
        QVERIFY(!panel->lookBox()->isChecked());
        QVERIFY(!controller.hostBrowser().isBrowsing());
        QVERIFY(panel->statusLabel()->text().contains(u"Not looking"_s));
        if (!web::HostBrowser::isAvailable()) {
            QVERIFY(!panel->lookBox()->isEnabled());
            return;
        }
        // Ticked without a reachable daemon: the box falls back to off and the panel says why.
        panel->lookBox()->click();
        QVERIFY(!panel->lookBox()->isChecked());
        QVERIFY(!controller.hostBrowser().isBrowsing());
        QVERIFY2(panel->statusLabel()->text().contains(u"Avahi daemon cannot be reached"_s),
                 qPrintable(panel->statusLabel()->text()));
        // A second panel over the same browser follows it.
        HostsPanel other(controller.hostBrowser());
        QVERIFY(!other.lookBox()->isChecked());
        QVERIFY(other.statusLabel()->text().contains(u"Avahi daemon"_s));
    }

    void panelRows()
    {
        web::HostBrowser browser;
        HostsPanel panel(browser);
        web::DiscoveredHost a;
        a.name = u"wsserve on a"_s;
        a.address = QHostAddress(u"10.1.2.3"_s);
        a.port = 4000;
        a.ids = {u"lobby"_s, u"ttt"_s};
        a.types = {u"chat"_s, u"tictactoe"_s};
        web::DiscoveredHost own = a;
        own.name = u"wsserve on me"_s;
        own.own = true;
        own.address = QHostAddress(u"10.1.2.4"_s);
        panel.showHosts({a, own});
        QTreeWidget *list = panel.list();
        QCOMPARE(list->topLevelItemCount(), 2);
        QTreeWidgetItem *first = list->topLevelItem(0);
        QCOMPARE(first->text(HostsPanel::Name), u"wsserve on a"_s);
        QCOMPARE(first->text(HostsPanel::Address), u"10.1.2.3:4000"_s);
        QCOMPARE(first->text(HostsPanel::Instances), u"lobby (chat), ttt (tictactoe)"_s);
        QCOMPARE(first->text(HostsPanel::Url), u"http://10.1.2.3:4000/"_s);
        QVERIFY(list->topLevelItem(1)->text(HostsPanel::Name).contains(u"this machine"_s));
        QVERIFY(panel.selectedUrl().isEmpty());
        first->setSelected(true);
        QCOMPARE(panel.selectedUrl(), u"http://10.1.2.3:4000/"_s);
        panel.showHosts({a}); // an update keeps the selection
        QCOMPARE(panel.selectedUrl(), u"http://10.1.2.3:4000/"_s);
    }

    void listHostsCommandLine()
    {
        RunResult run = runToEnd({u"--list-seconds"_s, u"2"_s});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.contains(u"--list-seconds needs --list-hosts"_s), qPrintable(run.err));
        for (const QString &bad : {u"0"_s, u"601"_s, u"soon"_s}) {
            run = runToEnd({u"--list-hosts"_s, u"--list-seconds"_s, bad});
            QCOMPARE(run.exitCode, 2);
            QVERIFY2(run.err.contains(u"--list-seconds"_s), qPrintable(run.err));
        }
        // No daemon reachable: one second of looking, then the reason and exit 1; nothing on stdout.
        run = runToEnd({u"--list-hosts"_s, u"--list-seconds"_s, u"1"_s});
        if (!web::HostBrowser::isAvailable()) {
            QCOMPARE(run.exitCode, 2);
            return;
        }
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(u"Avahi daemon cannot be reached"_s), qPrintable(run.err));
        QVERIFY(run.out.isEmpty());
    }
};

QTEST_MAIN(tst_UiHostBrowser)
#include "tst_ui_hostbrowser.moc"
