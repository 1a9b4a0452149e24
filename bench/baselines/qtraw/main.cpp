// wsserve_bench_qtraw: the "raw Qt" baseline for bench/run. One thread, one QWebSocketServer, no channels,
// no supervision, no limits: what a naive Qt server speaking just enough Phoenix V2 costs.
//   --mode echo       every text frame [join_ref, ref, topic, event, payload] is answered
//                     [join_ref, ref, topic, "phx_reply", {"status":"ok","response":payload}]
//                     (heartbeats, joins and leaves included, as wsserve's echo instance does).
//   --mode broadcast  joins, leaves and heartbeats are answered ok with {}; any other event is sent as
//                     [null, null, topic, event, payload] to every connected client (sender included,
//                     encoded once) and the sender gets an ok reply.
//   --plain           no Phoenix at all (bench/run's plain-frames rows): in echo mode every text/binary
//                     message goes back to its sender as it came; in broadcast mode every text message
//                     goes to every connected client (sender included), as raw QtWebSockets code would.
// Prints `qtraw: listening on PORT` once listening (127.0.0.1 only).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QTcpServer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <cstdio>

namespace {

QString okReply(const QJsonArray &in, const QJsonValue &response)
{
    QJsonArray out{
        in.at(0), in.at(1), in.at(2), QStringLiteral("phx_reply"),
        QJsonObject{{QStringLiteral("status"), QStringLiteral("ok")}, {QStringLiteral("response"), response}}};
    return QString::fromUtf8(QJsonDocument(out).toJson(QJsonDocument::Compact));
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    QCommandLineOption modeOpt(QStringLiteral("mode"), QStringLiteral("echo or broadcast"), QStringLiteral("mode"),
                               QStringLiteral("echo"));
    QCommandLineOption portOpt(QStringLiteral("port"), QStringLiteral("TCP port (0 = any free)"),
                               QStringLiteral("port"), QStringLiteral("0"));
    parser.addOption(modeOpt);
    parser.addOption(portOpt);
    QCommandLineOption plainOpt(QStringLiteral("plain"), QStringLiteral("raw frames, no Phoenix envelope"));
    parser.addOption(plainOpt);
    parser.process(app);
    const bool plain = parser.isSet(plainOpt);
    const QString mode = parser.value(modeOpt);
    if (mode != QStringLiteral("echo") && mode != QStringLiteral("broadcast")) {
        std::fprintf(stderr, "qtraw: --mode must be echo or broadcast\n");
        return 2;
    }
    const bool broadcast = mode == QStringLiteral("broadcast");

    // Our own listener so the backlog can be raised (QWebSocketServer's default is 50), handing each
    // accepted socket to the QWebSocketServer for the upgrade.
    QTcpServer tcp;
    tcp.setListenBacklogSize(4096);
    tcp.setMaxPendingConnections(100000);
    QWebSocketServer ws(QStringLiteral("qtraw"), QWebSocketServer::NonSecureMode);
    ws.setMaxPendingConnections(100000);
    QList<QWebSocket *> clients;

    QObject::connect(&tcp, &QTcpServer::pendingConnectionAvailable, &ws, [&] {
        while (QTcpSocket *s = tcp.nextPendingConnection()) {
            ws.handleConnection(s);
        }
    });
    QObject::connect(&ws, &QWebSocketServer::newConnection, &ws, [&] {
        while (QWebSocket *c = ws.nextPendingConnection()) {
            clients.append(c);
            QObject::connect(c, &QWebSocket::disconnected, c, [&clients, c] {
                clients.removeOne(c);
                c->deleteLater();
            });
            if (plain) {
                QObject::connect(c, &QWebSocket::textMessageReceived, c, [&clients, c, broadcast](const QString &text) {
                    if (!broadcast) {
                        c->sendTextMessage(text);
                        return;
                    }
                    for (QWebSocket *other : std::as_const(clients))
                        other->sendTextMessage(text);
                });
                QObject::connect(c, &QWebSocket::binaryMessageReceived, c,
                                 [c](const QByteArray &data) { c->sendBinaryMessage(data); });
                continue;
            }
            QObject::connect(c, &QWebSocket::textMessageReceived, c, [&clients, c, broadcast](const QString &text) {
                const QJsonArray msg = QJsonDocument::fromJson(text.toUtf8()).array();
                if (msg.size() < 5)
                    return;
                const QString event = msg.at(3).toString();
                if (!broadcast) {
                    c->sendTextMessage(okReply(msg, msg.at(4)));
                    return;
                }
                if (event == QStringLiteral("phx_join") || event == QStringLiteral("phx_leave") ||
                    event == QStringLiteral("heartbeat")) {
                    c->sendTextMessage(okReply(msg, QJsonObject{}));
                    return;
                }
                const QString frame = QString::fromUtf8(
                    QJsonDocument(QJsonArray{QJsonValue::Null, QJsonValue::Null, msg.at(2), msg.at(3), msg.at(4)})
                        .toJson(QJsonDocument::Compact));
                for (QWebSocket *other : std::as_const(clients))
                    other->sendTextMessage(frame);
                c->sendTextMessage(okReply(msg, QJsonObject{}));
            });
        }
    });
    if (!tcp.listen(QHostAddress::LocalHost, quint16(parser.value(portOpt).toUShort()))) {
        std::fprintf(stderr, "qtraw: listen failed: %s\n", qPrintable(tcp.errorString()));
        return 2;
    }
    std::printf("qtraw: listening on %u\n", unsigned(tcp.serverPort()));
    std::fflush(stdout);
    return app.exec();
}
