// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// wsserve: one entry point; headless or GUI is chosen at run time before any application object exists.

#include "clirunner.h"
#include "cluster/clustersettings.h"
#include "config/serverconfig.h"
#include "listhosts.h"
#include "servercontroller.h"
#include "serverstart.h"
#include "signalwatcher.h"
#include "tokencommand.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QStandardPaths>
#include <QSysInfo>

#ifdef WSSERVE_HAS_GUI
#include "mainwindow.h"

#include <QApplication>
#include <QIcon>
#include <QMessageBox>
#include <QSettings>
#endif

#include <cstdio>
#include <cstring>

#ifdef Q_OS_WIN
#include <windows.h>
#endif
#include <memory>
#include <optional>

using namespace wsserve;

namespace {

constexpr int kExitBadStart = 2;

int failStart(const QString &message)
{
    std::fprintf(stderr, "wsserve: error: %s\n", qPrintable(message));
    std::fprintf(stderr, "Run 'wsserve --help' for usage.\n");
    return kExitBadStart;
}

bool applyLogLevel(const QString &level, QString *error)
{
    static const QStringList levels{QStringLiteral("debug"), QStringLiteral("info"), QStringLiteral("warning"),
                                    QStringLiteral("error")};
    const qsizetype index = levels.indexOf(level.toLower());
    if (index < 0) {
        *error = QStringLiteral("--log-level '%1' is not one of debug, info, warning, error").arg(level);
        return false;
    }
    QString rules;
    rules += QStringLiteral("wsserve.*.debug=%1\n").arg(index <= 0 ? u"true" : u"false");
    rules += QStringLiteral("wsserve.*.info=%1\n").arg(index <= 1 ? u"true" : u"false");
    rules += QStringLiteral("wsserve.*.warning=%1\n").arg(index <= 2 ? u"true" : u"false");
    QLoggingCategory::setFilterRules(rules);
    return true;
}

bool parsePort(QStringView option, const QString &text, quint16 *port, QString *error)
{
    bool ok = false;
    const uint value = text.toUInt(&ok);
    if (!ok || value > 65535) {
        *error = QStringLiteral("%1 '%2' is not a port number (0-65535)").arg(option, text);
        return false;
    }
    *port = static_cast<quint16>(value);
    return true;
}

// Where dropped-in JavaScript types live unless --types-dir / types_dirs say otherwise.
QString defaultTypesDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/types");
}

QString typeHelp(const BehaviourRegistry &registry)
{
    QString text = QStringLiteral("\nInstance types:\n");
    for (const BehaviourType &type : registry.types()) {
        text += QStringLiteral("  %1  %2\n").arg(type.name, -10).arg(type.description);
    }
    text += QStringLiteral("\nInstance options (key=value after ID:TYPE:, comma-separated):\n");
    for (const OptionSpec &spec : commonOptionSpecs()) {
        text +=
            QStringLiteral("  %1 (default %2)  %3\n").arg(spec.name, spec.defaultValue.toString(), spec.description);
    }
    for (const BehaviourType &type : registry.types()) {
        for (const OptionSpec &spec : type.options) {
            text += QStringLiteral("  %1 (%2 only, default %3)  %4\n")
                        .arg(spec.name, type.name, spec.defaultValue.toString(), spec.description);
        }
    }
    text += QStringLiteral("  (JavaScript types from --types-dir add their own options, script_timeout_ms and "
                           "script_memory_mb)\n");
    text += QStringLiteral("\nExample:\n  wsserve --headless --port 4000 --instance lobby:chat "
                           "--instance echo1:echo\n  then connect a Phoenix client to ws://HOST:4000/socket/lobby\n");
    return text;
}

[[maybe_unused]] bool hasArgument(int argc, char *argv[], std::initializer_list<const char *> names)
{
    for (int i = 1; i < argc; ++i) {
        for (const char *name : names) {
            if (std::strcmp(argv[i], name) == 0) {
                return true;
            }
        }
    }
    return false;
}

// A window can be shown: not asked to run headless, and (on X11/Wayland systems) a display to show it on.
bool wantsWindow(int argc, char *argv[])
{
#ifdef WSSERVE_HAS_GUI
    if (hasArgument(argc, argv, {"--headless", "--help", "-h", "--version", "-v", "--list-hosts"})) {
        return false;
    }
#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS)
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") ||
           !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
#else
    return true;
#endif
#else
    Q_UNUSED(argc)
    Q_UNUSED(argv)
    return false;
#endif
}

// --cluster and friends, checked against the Redis itself: a bad URL, an unreachable server or a refused
// password stops the start with one line (exit 2).
std::optional<wsserve::ClusterSettings> clusterSettings(const wsserve::ServerConfig &config, QString *error)
{
    wsserve::ClusterSettings settings;
    if (!wsserve::parseClusterUrl(config.cluster, &settings, error)) {
        return std::nullopt;
    }
    settings.password = wsserve::clusterPasswordFromEnvironment(config.clusterPassword);
    settings.nodeName = config.nodeName;
    if (settings.nodeName.isEmpty()) {
        QString host = QSysInfo::machineHostName().left(50);
        for (QChar &c : host) {
            if (!c.isLetterOrNumber() && c != u'.' && c != u'-' && c != u'_') {
                c = u'-';
            }
        }
        // With --port 0 several nodes of one host would share host:0; the process id tells them apart.
        const QString where = config.port != 0 ? QString::number(config.port)
                                               : QStringLiteral("pid%1").arg(QCoreApplication::applicationPid());
        settings.nodeName = QStringLiteral("%1:%2").arg(host.isEmpty() ? QStringLiteral("node") : host, where);
    }
    if (const QString problem = wsserve::validateNodeName(settings.nodeName); !problem.isEmpty()) {
        *error = problem;
        return std::nullopt;
    }
    if (!wsserve::checkClusterReachable(settings, error)) {
        return std::nullopt;
    }
    return settings;
}

} // namespace

int main(int argc, char *argv[])
{
#ifdef Q_OS_WIN
    // A GUI-subsystem program has no console; borrow the one it was started from, if any.
    if (AttachConsole(ATTACH_PARENT_PROCESS)) {
        std::freopen("CONOUT$", "w", stdout);
        std::freopen("CONOUT$", "w", stderr);
    }
#endif
    qSetMessagePattern(QStringLiteral("%{time yyyy-MM-ddThh:mm:ss.zzz} "
                                      "%{if-debug}debug%{endif}%{if-info}info %{endif}%{if-warning}warn "
                                      "%{endif}%{if-critical}error%{endif}%{if-fatal}fatal%{endif} "
                                      "%{category}: %{message}"));
    // `wsserve token ...` prints a player token and exits: no window, no server.
    if (argc > 1 && std::strcmp(argv[1], "token") == 0) {
        QCoreApplication tokenApp(argc, argv);
        return runTokenCommand(QCoreApplication::arguments());
    }
    // The application object is chosen before it exists: QApplication only when a window will be shown.
    [[maybe_unused]] const bool gui = wantsWindow(argc, argv);
#ifdef WSSERVE_HAS_GUI
    std::unique_ptr<QCoreApplication> app =
        gui ? std::make_unique<QApplication>(argc, argv) : std::make_unique<QCoreApplication>(argc, argv);
#else
    auto app = std::make_unique<QCoreApplication>(argc, argv);
#endif
    QCoreApplication::setApplicationName(QStringLiteral("wsserve"));
    QCoreApplication::setApplicationVersion(QStringLiteral(WSSERVE_VERSION));
    QCoreApplication::setOrganizationName(QStringLiteral("wsserve"));

    const BehaviourRegistry registry = builtinRegistry();

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Hosts real-time WebSocket servers speaking the Phoenix Channels protocol.\n"
                       "Clients connect to ws://HOST:PORT/socket/<instance-id>.\n"
                       "'wsserve token --instance-secret S --sub ID ...' prints a player token for an auth=jwt\n"
                       "instance and exits (see 'wsserve token --help')."));
    const QCommandLineOption headlessOption(QStringLiteral("headless"), QStringLiteral("Run without a window."));
    const QCommandLineOption bindOption(
        QStringLiteral("bind"), QStringLiteral("Address to listen on (default 0.0.0.0)."), QStringLiteral("address"));
    const QCommandLineOption portOption(QStringLiteral("port"),
                                        QStringLiteral("TCP port (default 4000; 0 picks a free port)."),
                                        QStringLiteral("port"));
    const QCommandLineOption instanceOption(
        QStringLiteral("instance"),
        QStringLiteral("Create and start an instance: ID:TYPE[:key=value,...]. Repeatable."), QStringLiteral("spec"));
    const QCommandLineOption configOption(QStringLiteral("config"),
                                          QStringLiteral("JSON config file (listen address, instances)."),
                                          QStringLiteral("file"));
    const QCommandLineOption logLevelOption(QStringLiteral("log-level"),
                                            QStringLiteral("debug, info (default), warning or error."),
                                            QStringLiteral("level"));
    const QCommandLineOption adminPortOption(
        QStringLiteral("admin-port"),
        QStringLiteral("Admin HTTP API port (default 4001; a free port when --port is 0)."), QStringLiteral("port"));
    const QCommandLineOption adminBindOption(
        QStringLiteral("admin-bind"),
        QStringLiteral("Admin API address (default 127.0.0.1); any other address needs --admin-token."),
        QStringLiteral("address"));
    const QCommandLineOption adminTokenOption(QStringLiteral("admin-token"),
                                              QStringLiteral("Require 'Authorization: Bearer TOKEN' on the admin API."),
                                              QStringLiteral("token"));
    const QCommandLineOption adminHostOption(
        QStringLiteral("admin-host"),
        QStringLiteral("Also accept this host name in the admin API's Host/Origin headers (besides its address and "
                       "localhost). Repeatable."),
        QStringLiteral("name"));
    const QCommandLineOption typesDirOption(
        QStringLiteral("types-dir"),
        QStringLiteral("Folder of JavaScript instance types (*.js), watched for changes. Repeatable (default: "
                       "<app data>/types)."),
        QStringLiteral("folder"));
    const QCommandLineOption dataDirOption(
        QStringLiteral("data-dir"),
        QStringLiteral("Folder for message history, instance state and admin-created instances (SQLite; created "
                       "when missing). Headless runs without it keep them in memory only."),
        QStringLiteral("dir"));
    const QCommandLineOption clusterOption(
        QStringLiteral("cluster"),
        QStringLiteral("Join the nodes meeting at this Redis: instances with cluster=true share broadcasts and "
                       "presence across them. Password from WSSERVE_REDIS_PASSWORD (or REDISCLI_AUTH)."),
        QStringLiteral("redis://HOST:PORT[/DB]"));
    const QCommandLineOption nodeNameOption(QStringLiteral("node-name"),
                                            QStringLiteral("This node's name in the cluster (default HOSTNAME:PORT)."),
                                            QStringLiteral("NAME"));
    const QCommandLineOption tlsCertOption(
        QStringLiteral("tls-cert"),
        QStringLiteral("Serve wss:// and https:// on the game port with this PEM certificate (chain allowed; "
                       "reloaded when the file changes). Needs --tls-key."),
        QStringLiteral("file"));
    const QCommandLineOption tlsKeyOption(QStringLiteral("tls-key"),
                                          QStringLiteral("The PEM private key of --tls-cert."), QStringLiteral("file"));
    const QCommandLineOption tlsOption(
        QStringLiteral("tls"),
        QStringLiteral("'self-signed': serve wss:// and https:// with a certificate made for this host's names and "
                       "LAN addresses (kept in the data folder and reused; its SHA-256 fingerprint is printed)."),
        QStringLiteral("mode"));
    const QCommandLineOption adminTlsCertOption(
        QStringLiteral("admin-tls-cert"),
        QStringLiteral("Serve the admin API over https:// with this PEM certificate (chain allowed; reloaded when "
                       "the file changes). Needs --admin-tls-key."),
        QStringLiteral("file"));
    const QCommandLineOption adminTlsKeyOption(QStringLiteral("admin-tls-key"),
                                               QStringLiteral("The PEM private key of --admin-tls-cert."),
                                               QStringLiteral("file"));
    const QCommandLineOption adminTlsOption(
        QStringLiteral("admin-tls"),
        QStringLiteral("'self-signed': serve the admin API over https:// with the same self-signed certificate as "
                       "--tls self-signed (made in the data folder if missing)."),
        QStringLiteral("mode"));
    const QCommandLineOption noAdminOption(QStringLiteral("no-admin"), QStringLiteral("Do not serve the admin API."));
    const QCommandLineOption announceOption(
        QStringLiteral("announce"),
        QStringLiteral("Announce this host and its running instances on the local network (DNS-SD _wsserve._tcp "
                       "through Avahi). Off by default."));
    const QCommandLineOption listHostsOption(
        QStringLiteral("list-hosts"),
        QStringLiteral("Look for other wsserve hosts on the local network (DNS-SD _wsserve._tcp through Avahi) for "
                       "--list-seconds, print one line per host (name, address:port, instance ids and types, URL) "
                       "and exit. Serves nothing."));
    const QCommandLineOption listSecondsOption(QStringLiteral("list-seconds"),
                                               QStringLiteral("How long --list-hosts looks, 1-600 (default 3)."),
                                               QStringLiteral("seconds"));
    const QCommandLineOption helpOption({QStringLiteral("h"), QStringLiteral("help")},
                                        QStringLiteral("Show this help and exit."));
    const QCommandLineOption versionOption({QStringLiteral("v"), QStringLiteral("version")},
                                           QStringLiteral("Show the version and exit."));
    parser.addOptions({headlessOption, bindOption,      portOption,      instanceOption,     configOption,
                       logLevelOption, adminPortOption, adminBindOption, adminTokenOption,   adminHostOption,
                       typesDirOption, dataDirOption,   clusterOption,   nodeNameOption,     tlsOption,
                       tlsCertOption,  tlsKeyOption,    adminTlsOption,  adminTlsCertOption, adminTlsKeyOption,
                       noAdminOption,  announceOption,  listHostsOption, listSecondsOption,  helpOption,
                       versionOption});

    if (!parser.parse(QCoreApplication::arguments())) {
        return failStart(parser.errorText());
    }
    if (parser.isSet(helpOption)) {
        std::fprintf(stdout, "%s%s", qPrintable(parser.helpText()), qPrintable(typeHelp(registry)));
        return 0;
    }
    if (parser.isSet(versionOption)) {
        std::fprintf(stdout, "wsserve %s\n", WSSERVE_VERSION);
        return 0;
    }
    if (!parser.positionalArguments().isEmpty()) {
        return failStart(QStringLiteral("unexpected argument '%1'").arg(parser.positionalArguments().first()));
    }

    if (parser.isSet(listSecondsOption) && !parser.isSet(listHostsOption)) {
        return failStart(QStringLiteral("--list-seconds needs --list-hosts"));
    }
    if (parser.isSet(listHostsOption)) {
        int seconds = 3;
        if (parser.isSet(listSecondsOption)) {
            bool ok = false;
            seconds = parser.value(listSecondsOption).toInt(&ok);
            if (!ok || seconds < 1 || seconds > 600) {
                return failStart(QStringLiteral("--list-seconds '%1': expected a whole number of seconds, 1-600")
                                     .arg(parser.value(listSecondsOption)));
            }
        }
        ServerController lister(registry);
        return runListHosts(lister.hostBrowser(), seconds);
    }

    ServerConfig config;
    QString error;
    if (parser.isSet(configOption) && !loadServerConfigFile(parser.value(configOption), &config, &error)) {
        return failStart(error);
    }
    if (parser.isSet(bindOption) && !parseBindAddress(parser.value(bindOption), &config.bind, &error)) {
        return failStart(error);
    }
    quint16 port = 0;
    if (parser.isSet(portOption)) {
        if (!parsePort(u"--port", parser.value(portOption), &port, &error)) {
            return failStart(error);
        }
        config.port = port;
    }
    if (parser.isSet(adminPortOption)) {
        if (!parsePort(u"--admin-port", parser.value(adminPortOption), &port, &error)) {
            return failStart(error);
        }
        config.adminPort = port;
    }
    if (parser.isSet(adminBindOption) && !parseBindAddress(parser.value(adminBindOption), &config.adminBind, &error)) {
        return failStart(error);
    }
    if (parser.isSet(adminTokenOption)) {
        config.adminToken = parser.value(adminTokenOption);
    }
    if (parser.isSet(adminHostOption)) {
        config.adminHosts.clear(); // the command line replaces the config file's list
        for (const QString &host : parser.values(adminHostOption)) {
            QString normalized;
            const QString problem = adminHostProblem(host, &normalized);
            if (!problem.isEmpty()) {
                return failStart(QStringLiteral("--admin-host '%1': %2").arg(host, problem));
            }
            config.adminHosts.append(normalized);
        }
    }
    if (parser.isSet(noAdminOption)) {
        config.adminEnabled = false;
    }
    if (parser.isSet(announceOption)) {
        config.announce = true;
    }
    if (parser.isSet(typesDirOption)) {
        config.typesDirs = parser.values(typesDirOption); // the command line replaces the config file's list
    }
    for (const QString &dir : std::as_const(config.typesDirs)) {
        if (!QFileInfo(dir).isDir()) {
            return failStart(QStringLiteral("types folder '%1' does not exist (or is not a folder)").arg(dir));
        }
    }
    for (const QString &text : parser.values(instanceOption)) {
        InstanceSpec spec;
        if (!parseInstanceSpec(text, &spec, &error)) {
            return failStart(error);
        }
        config.instances.append(spec);
    }
    if (parser.isSet(logLevelOption)) {
        config.logLevel = parser.value(logLevelOption);
    }
    if (parser.isSet(dataDirOption)) {
        config.dataDir = parser.value(dataDirOption);
    }
    if (parser.isSet(tlsCertOption) || parser.isSet(tlsKeyOption) || parser.isSet(tlsOption)) {
        // The command line replaces the config file's TLS settings.
        config.tlsCert = parser.value(tlsCertOption);
        config.tlsKey = parser.value(tlsKeyOption);
        config.tlsMode = parser.value(tlsOption);
    }
    if (parser.isSet(adminTlsCertOption) || parser.isSet(adminTlsKeyOption) || parser.isSet(adminTlsOption)) {
        config.adminTlsCert = parser.value(adminTlsCertOption);
        config.adminTlsKey = parser.value(adminTlsKeyOption);
        config.adminTlsMode = parser.value(adminTlsOption);
    }
    if (const QString problem = tlsOptionsProblem(config); !problem.isEmpty()) {
        return failStart(problem);
    }
    if (!applyLogLevel(config.logLevel, &error)) {
        return failStart(error);
    }
    if (parser.isSet(clusterOption)) {
        config.cluster = parser.value(clusterOption);
    }
    if (parser.isSet(nodeNameOption)) {
        config.nodeName = parser.value(nodeNameOption);
    }
    std::optional<ClusterSettings> cluster;
    if (!config.cluster.isEmpty()) {
        if (!(cluster = clusterSettings(config, &error))) {
            return failStart(error);
        }
    } else if (!config.nodeName.isEmpty()) {
        return failStart(QStringLiteral("--node-name needs --cluster"));
    }
    // As servers do: the common soft limit of 1 024 descriptors is far below what one instance serves.
    if (const QString limits = ServerController::raiseOpenFilesLimit(); !limits.isEmpty()) {
        qInfo().noquote() << limits;
    }
    ServerController controller(registry);
    controller.setTypeDirectories(config.typesDirs.isEmpty() ? QStringList{defaultTypesDirectory()} : config.typesDirs);
    if (cluster) {
        // Headless, a bad instance ends the start: checked first, so such a run never shows up as a node.
        for (const InstanceSpec &spec : std::as_const(config.instances)) {
            if (InstanceConfig checked;
                !gui && !controller.registry().makeConfig(spec.id, spec.type, spec.options, &checked, &error)) {
                return failStart(error);
            }
        }
        controller.joinCluster(*cluster);
    }
    Store::OpenError storeError = Store::OpenError::None;
#ifdef WSSERVE_HAS_GUI
    if (gui) {
        // The window keeps its data in the default folder unless told otherwise. A folder another wsserve
        // uses, or one of a newer wsserve, stops the start; other problems leave it without persistence.
        if (std::shared_ptr<Store> store =
                Store::open(config.dataDir.isEmpty() ? Store::defaultDir() : config.dataDir, &error, &storeError)) {
            controller.setStore(std::move(store));
        } else if (storeError == Store::OpenError::Locked || storeError == Store::OpenError::NewerSchema) {
            QMessageBox::critical(nullptr, QStringLiteral("wsserve"), error);
            return kExitBadStart;
        } else {
            QMessageBox::warning(nullptr, QStringLiteral("wsserve"),
                                 error + QStringLiteral("\n\nHistory and game state are kept in memory only."));
        }
        QGuiApplication::setDesktopFileName(QStringLiteral("io.github.wsserve.wsserve"));
        // PNGs, not the SVG: Debian's Qt needs an extra plugin for SVG icons. X11 drops the whole icon
        // when a 256 px size is included, so the set stops at 128.
        QIcon icon;
        for (const int size : {16, 32, 48, 64, 128}) {
            icon.addFile(QStringLiteral(":/icons/wsserve-%1.png").arg(size), QSize(size, size));
        }
        QApplication::setWindowIcon(icon);
        QSettings settings;
        MainWindow window(controller, settings);
        SignalWatcher signalWatcher;
        QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &window,
                         &MainWindow::closeWithoutAsking);
        // As in headless mode, the first stdout line says where the server listens (scripts read it).
        QObject::connect(&controller, &ServerController::listening, &window,
                         [&controller](const QHostAddress &listenAddress, quint16 listenPort) {
                             std::fprintf(stdout, "wsserve: listening on %s://%s:%u\n",
                                          controller.isTls() ? "wss" : "ws", qPrintable(urlHost(listenAddress)),
                                          static_cast<unsigned>(listenPort));
                             std::fflush(stdout);
                         });
        // The window shows problems (a saved instance that no longer fits, an admin port in use) and goes on.
        ServerStart serving(controller);
        const QStringList problems = serving.start(config, ServerStart::Mode::BestEffort, window.savedInstances());
        window.finishStart(problems, serving.adminUrl());
        window.show();
        return QCoreApplication::exec();
    }
#endif
    if (!parser.isSet(headlessOption)) {
        std::fprintf(stderr, "wsserve: note: no display found (or no window in this build); running headless\n");
    }

    if (!config.dataDir.isEmpty()) {
        std::shared_ptr<Store> store = Store::open(config.dataDir, &error, &storeError);
        if (!store) {
            return failStart(error);
        }
        controller.setStore(std::move(store));
    }
    CliRunner runner(controller, config);
    SignalWatcher signalWatcher;
    QObject::connect(&signalWatcher, &SignalWatcher::terminationRequested, &runner, &CliRunner::requestStop);
    if (!runner.start(&error)) {
        return failStart(error);
    }
    return QCoreApplication::exec();
}
