// wsserve_bench_plain: wsserve's own I/O layer with no Phoenix envelope, for bench/run's plain-frames
// rows (issue 13). One thread, as one instance: the listener's descriptors are taken by net::AcceptGuard,
// the request head is parsed with the endpoint's parseHttpRequestHead, and every upgraded socket is a
// net::WsConnection watched by a net::Poller; what a batch of socket events queues is flushed at the end
// of the batch (and a client's own replies right after its read), one vectored send per client, as
// core/instance does. No limits, no channels, no supervision.
//   --mode echo    every text/binary frame goes back to its sender unchanged.
//   --mode fanout  every text/binary frame goes to every connected client (sender included), framed
//                  once: one prepared buffer shared by all queues, as wsserve's broadcast does.
// Pings are answered, close frames answered and the socket shut down. Prints
// `plain: listening on PORT` once listening (127.0.0.1 only).
#include "endpoint/httprequesthead.h"
#include "net/acceptguard.h"
#include "net/poller.h"
#include "net/socketio.h"
#include "net/wsconnection.h"
#include "net/wsframe.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTcpServer>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <unordered_map>
#include <vector>

namespace {

using namespace wsserve;

constexpr qint64 kMaxMessageBytes = 16 * 1024 * 1024;
constexpr qsizetype kScratchBytes = 64 * 1024; // as core/instance

struct Client {
    qintptr fd = net::kInvalidDescriptor;
    QByteArray head;                         // the request head while it arrives
    std::unique_ptr<net::WsConnection> conn; // after the upgrade; owns (and closes) the descriptor
    bool dirty = false;
    bool wantWrite = false;
    bool closing = false;
    bool shutDown = false;
    ~Client()
    {
        if (!conn) {
            net::closeDescriptor(fd);
        }
    }
};

class PlainServer
{
public:
    explicit PlainServer(bool fanout)
        : m_fanout(fanout)
        , m_scratch(kScratchBytes, Qt::Uninitialized)
    {
        m_poller =
            new net::Poller([this](qintptr fd, quint32 events) { onEvent(fd, events); }, [this] { batchDone(); });
    }
    ~PlainServer()
    {
        m_clients.clear();
        delete m_poller;
    }

    void accepted(qintptr fd)
    {
        const int one = 1;
        ::setsockopt(static_cast<int>(fd), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!m_poller->add(fd)) {
            net::closeDescriptor(fd);
            return;
        }
        auto client = std::make_unique<Client>();
        client->fd = fd;
        m_clients.emplace(fd, std::move(client));
    }

private:
    void onEvent(qintptr fd, quint32 events)
    {
        const auto it = m_clients.find(fd);
        if (it == m_clients.end()) {
            return;
        }
        Client &client = *it->second;
        if (!client.conn) {
            readHead(client);
            return;
        }
        if (events & net::Poller::Writable) {
            flushClient(client);
        }
        if (events & net::Poller::Readable) {
            const auto status =
                client.conn->pump(m_scratch.data(), m_scratch.size(),
                                  [this, &client](ws::FrameParser::Event &e) { return onFrame(client, e); });
            if (status == net::WsConnection::ReadStatus::PeerGone) {
                m_gone.push_back(fd);
                return;
            }
            if (client.dirty) {
                flushClient(client); // its own replies first, as core/instance does
            }
        }
    }

    void readHead(Client &client)
    {
        net::IoStatus status = net::IoStatus::Ok;
        const qsizetype n = net::receive(client.fd, m_scratch.data(), m_scratch.size(), &status);
        if (status == net::IoStatus::Closed) {
            m_gone.push_back(client.fd);
            return;
        }
        client.head.append(m_scratch.constData(), n);
        const HttpParseResult parsed = parseHttpRequestHead(client.head);
        if (parsed.status == HttpParseResult::Status::Incomplete) {
            return;
        }
        const QByteArray key = parsed.head.header("sec-websocket-key");
        if (parsed.status != HttpParseResult::Status::Complete || !parsed.head.isWebSocketUpgrade() ||
            !ws::isValidClientKey(key)) {
            net::sendAll(client.fd, QByteArrayLiteral("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
            m_gone.push_back(client.fd);
            return;
        }
        client.conn =
            std::make_unique<net::WsConnection>(client.fd, kMaxMessageBytes, client.head.mid(parsed.headSize));
        client.head = QByteArray();
        m_open.push_back(&client);
        queue(client, QByteArrayLiteral("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                        "Connection: Upgrade\r\nSec-WebSocket-Accept: ") +
                          ws::acceptKey(key) + "\r\n\r\n");
        client.conn->deliverBuffered([this, &client](ws::FrameParser::Event &e) { return onFrame(client, e); });
    }

    bool onFrame(Client &client, ws::FrameParser::Event &event)
    {
        using Kind = ws::FrameParser::Event::Kind;
        switch (event.kind) {
        case Kind::Text:
        case Kind::Binary: {
            if (client.closing) {
                return true;
            }
            const QByteArray frame =
                ws::prepareFrame(event.kind == Kind::Text ? ws::Opcode::Text : ws::Opcode::Binary, event.payload);
            if (!m_fanout) {
                queue(client, frame);
                return true;
            }
            for (Client *other : m_open) {
                if (!other->closing) {
                    queue(*other, frame); // the same buffer in every queue
                }
            }
            return true;
        }
        case Kind::Ping:
            queue(client, ws::prepareFrame(ws::Opcode::Pong, event.payload));
            return true;
        case Kind::Close:
        case Kind::Error:
            if (!client.closing) {
                client.closing = true;
                const quint16 code = event.kind == Kind::Error                ? event.code
                                     : event.code == ws::closecode::kNoStatus ? ws::closecode::kNormal
                                                                              : event.code;
                queue(client, ws::prepareClose(code, event.error));
            }
            return false;
        case Kind::Pong:
        case Kind::Fragment:
        case Kind::NeedMore:
            break;
        }
        return true;
    }

    void queue(Client &client, const QByteArray &frame)
    {
        client.conn->queue(frame);
        if (!client.dirty) {
            client.dirty = true;
            m_dirty.push_back(client.fd);
        }
    }

    void flushClient(Client &client)
    {
        client.dirty = false;
        switch (client.conn->flush()) {
        case net::WsConnection::FlushStatus::Failed:
            m_gone.push_back(client.fd);
            return;
        case net::WsConnection::FlushStatus::Pending:
            if (!client.wantWrite) {
                client.wantWrite = true;
                m_poller->setInterest(client.fd, true, true);
            }
            return;
        case net::WsConnection::FlushStatus::Drained:
            break;
        }
        if (client.wantWrite) {
            client.wantWrite = false;
            m_poller->setInterest(client.fd, true, false);
        }
        if (client.closing && !client.shutDown) {
            client.shutDown = true;
            net::shutdownWrite(client.fd);
        }
    }

    void batchDone()
    {
        for (const qintptr fd : m_dirty) {
            const auto it = m_clients.find(fd);
            if (it != m_clients.end() && it->second->dirty) {
                flushClient(*it->second);
            }
        }
        m_dirty.clear();
        for (const qintptr fd : std::exchange(m_gone, {})) {
            const auto it = m_clients.find(fd);
            if (it == m_clients.end()) {
                continue;
            }
            m_poller->remove(fd);
            m_open.erase(std::remove(m_open.begin(), m_open.end(), it->second.get()), m_open.end());
            m_clients.erase(it);
        }
    }

    bool m_fanout;
    QByteArray m_scratch;
    net::Poller *m_poller = nullptr;
    std::unordered_map<qintptr, std::unique_ptr<Client>> m_clients;
    std::vector<Client *> m_open; // upgraded, in connection order (the fan-out order)
    std::vector<qintptr> m_dirty;
    std::vector<qintptr> m_gone;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption modeOpt(QStringLiteral("mode"), QStringLiteral("echo or fanout"), QStringLiteral("mode"),
                                     QStringLiteral("echo"));
    const QCommandLineOption portOpt(QStringLiteral("port"), QStringLiteral("TCP port (0 = any free)"),
                                     QStringLiteral("port"), QStringLiteral("0"));
    parser.addOption(modeOpt);
    parser.addOption(portOpt);
    parser.process(app);
    const QString mode = parser.value(modeOpt);
    if (mode != QStringLiteral("echo") && mode != QStringLiteral("fanout")) {
        std::fprintf(stderr, "plain: --mode must be echo or fanout\n");
        return 2;
    }
    std::fprintf(stderr, "plain: %s\n", qPrintable(net::raiseOpenFilesLimit()));
    PlainServer server(mode == QStringLiteral("fanout"));
    QTcpServer tcp;
    tcp.setListenBacklogSize(4096);
    net::AcceptGuard acceptor(&tcp, QStringLiteral("plain"), std::make_shared<net::ListenerHealth>(),
                              [&server](qintptr fd) { server.accepted(fd); });
    if (!tcp.listen(QHostAddress::LocalHost, quint16(parser.value(portOpt).toUShort()))) {
        std::fprintf(stderr, "plain: listen failed: %s\n", qPrintable(tcp.errorString()));
        return 2;
    }
    acceptor.start();
    std::printf("plain: listening on %u\n", unsigned(tcp.serverPort()));
    std::fflush(stdout);
    return app.exec();
}
