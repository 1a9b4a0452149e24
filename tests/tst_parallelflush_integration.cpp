// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Integration: a broadcast flush over the parallel-flush threshold is written by several threads
// (instance/parallelflush.h). The threshold is lowered to 8 and the pool given 3 workers, so a few dozen
// real WebSocket clients take the split path: every subscriber still gets every message in order, a
// reader that stops (its flushes go Pending) gets the rest in order once it reads again, and a client
// that goes away mid-run (Failed) is dropped while the others keep receiving.

#include "instance/parallelflush.h"
#include "net/wsconnection.h"
#include "net/wsframe.h"
#include "phoenixtestclient.h"
#include "testserver.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

using namespace wsserve;
using namespace wsserve::test;
using namespace Qt::StringLiterals;

namespace {

// The most a socket's send buffer may grow to (net.ipv4.tcp_wmem's maximum).
qint64 maxSendBuffer()
{
    QFile file(u"/proc/sys/net/ipv4/tcp_wmem"_s);
    if (!file.open(QIODevice::ReadOnly)) {
        return 4 << 20;
    }
    return file.readAll().simplified().split(' ').value(2).toLongLong();
}

// A client that stops reading: a blocking POSIX socket with a tiny, fixed receive buffer. It upgrades,
// joins, and then reads only when told to, parsing the server's (unmasked) frames itself.
class PausedReader
{
public:
    ~PausedReader()
    {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    bool open(quint16 port, const QByteArray &target)
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        const int small = 4096;
        ::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(m_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
            return false;
        }
        const QByteArray head = "GET " + target +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        if (::write(m_fd, head.constData(), static_cast<size_t>(head.size())) != head.size()) {
            return false;
        }
        while (!m_buffer.contains("\r\n\r\n")) {
            if (!readSome(10000)) {
                return false;
            }
        }
        const qsizetype end = m_buffer.indexOf("\r\n\r\n") + 4;
        const bool upgraded = m_buffer.startsWith("HTTP/1.1 101");
        m_buffer.remove(0, end);
        return upgraded;
    }
    void sendText(const QByteArray &text)
    {
        QByteArray masked; // client frames are masked
        masked.append(char(0x81));
        Q_ASSERT(text.size() < 126);
        masked.append(char(0x80 | text.size()));
        const char mask[4] = {1, 2, 3, 4};
        masked.append(mask, 4);
        for (qsizetype i = 0; i < text.size(); ++i) {
            masked.append(char(text.at(i) ^ mask[i % 4]));
        }
        QVERIFY(::write(m_fd, masked.constData(), static_cast<size_t>(masked.size())) == masked.size());
    }
    // Bytes that reached this client but were not read yet (in the kernel, or buffered here).
    qint64 unread() const
    {
        int queued = 0;
        ::ioctl(m_fd, FIONREAD, &queued);
        return queued + m_buffer.size();
    }
    // Reads until a text frame satisfying `done` arrived; every text frame goes to `texts`.
    bool readUntil(QList<QByteArray> *texts, const std::function<bool(const QByteArray &)> &done, int timeoutMs)
    {
        for (;;) {
            while (const std::optional<QByteArray> text = nextText()) {
                texts->append(*text);
                if (done(*text)) {
                    return true;
                }
            }
            if (!readSome(timeoutMs)) {
                return false;
            }
        }
    }

private:
    bool readSome(int timeoutMs)
    {
        pollfd entry{m_fd, POLLIN, 0};
        if (::poll(&entry, 1, timeoutMs) <= 0) {
            return false;
        }
        char chunk[65536];
        const ssize_t n = ::read(m_fd, chunk, sizeof chunk);
        if (n <= 0) {
            return false;
        }
        m_buffer.append(chunk, n);
        return true;
    }
    std::optional<QByteArray> nextText()
    {
        for (;;) {
            if (m_buffer.size() < 2) {
                return std::nullopt;
            }
            const auto *bytes = reinterpret_cast<const uchar *>(m_buffer.constData());
            qsizetype header = 2;
            quint64 length = bytes[1] & 0x7f;
            if (length == 126) {
                header = 4;
                if (m_buffer.size() < header) {
                    return std::nullopt;
                }
                length = (quint64(bytes[2]) << 8) | bytes[3];
            } else if (length == 127) {
                header = 10;
                if (m_buffer.size() < header) {
                    return std::nullopt;
                }
                length = 0;
                for (int i = 2; i < 10; ++i) {
                    length = (length << 8) | bytes[i];
                }
            }
            if (quint64(m_buffer.size() - header) < length) {
                return std::nullopt;
            }
            const int opcode = bytes[0] & 0x0f;
            const QByteArray payload = m_buffer.mid(header, qsizetype(length));
            m_buffer.remove(0, header + qsizetype(length));
            if (opcode == 0x1) {
                return payload;
            }
        }
    }

    int m_fd = -1;
    QByteArray m_buffer;
};

// The sequence number of a V2 "shout" broadcast, or -1 for any other frame.
int sequenceOf(const QJsonValue &message)
{
    const QJsonArray array = message.toArray();
    if (array.at(3).toString() != u"shout"_s) {
        return -1;
    }
    return array.at(4).toObject().value(u"n"_s).toInt(-1);
}

} // namespace

class ParallelFlushIntegrationTest : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        // Read once per process, at the first flush: set before any server runs.
        qputenv("WSSERVE_PARALLEL_FLUSH_MIN", "8");
        qputenv("WSSERVE_PARALLEL_FLUSH_THREADS", "3");
        QCOMPARE(parallelflush::threshold(), 8);
        QCOMPARE(parallelflush::workerCount(), 3);
        QCOMPARE(parallelflush::chunksFor(7), 1);
        QCOMPARE(parallelflush::chunksFor(8), 2);
        QCOMPARE(parallelflush::chunksFor(40), 4);
    }

    // The pool on its own, over socket pairs: each connection's result lands in its own slot, and what
    // each peer reads is exactly what was queued for it, in order.
    void statusesLandInTheirSlots()
    {
        constexpr int kCount = 48;
        std::vector<std::unique_ptr<net::WsConnection>> connections;
        std::vector<int> peers;
        for (int i = 0; i < kCount; ++i) {
            int pair[2];
            QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
            connections.push_back(std::make_unique<net::WsConnection>(pair[0], 1 << 20, QByteArray()));
            peers.push_back(pair[1]);
        }
        const QByteArray shared = ws::prepareFrame(ws::Opcode::Text, "shared");
        const QByteArray big(4 << 20, 'x'); // more than a socket pair buffers: the flush stays pending
        for (int i = 0; i < kCount; ++i) {
            connections[size_t(i)]->queue(shared);
            connections[size_t(i)]->queue(ws::prepareFrame(ws::Opcode::Text, QByteArray::number(i)));
            if (i % 12 == 5) {
                connections[size_t(i)]->queue(big);
            }
            if (i % 12 == 7) {
                ::close(peers[size_t(i)]); // the peer is gone: the flush fails
                peers[size_t(i)] = -1;
            }
        }
        std::vector<net::WsConnection *> raw;
        for (const auto &connection : connections) {
            raw.push_back(connection.get());
        }
        std::vector<net::WsConnection::FlushStatus> statuses(kCount, net::WsConnection::FlushStatus::Drained);
        parallelflush::flush(raw, statuses);
        for (int i = 0; i < kCount; ++i) {
            const auto expected = i % 12 == 5   ? net::WsConnection::FlushStatus::Pending
                                  : i % 12 == 7 ? net::WsConnection::FlushStatus::Failed
                                                : net::WsConnection::FlushStatus::Drained;
            QCOMPARE(statuses[size_t(i)], expected);
            if (peers[size_t(i)] < 0) {
                continue;
            }
            const QByteArray want = shared + ws::prepareFrame(ws::Opcode::Text, QByteArray::number(i));
            QByteArray got(want.size(), '\0');
            QCOMPARE(::read(peers[size_t(i)], got.data(), size_t(got.size())), want.size());
            QCOMPARE(got, want);
            ::close(peers[size_t(i)]);
        }
    }

    void everySubscriberGetsEveryMessageInOrder()
    {
        TestServer server;
        QVERIFY(server.start());
        QVERIFY(server.addInstance(u"room"_s, u"chat"_s,
                                   {{u"presence"_s, false},
                                    {u"max_messages_per_second"_s, 0},
                                    {u"max_send_buffer_bytes"_s, 256 * 1024 * 1024},
                                    {u"idle_timeout_ms"_s, 600000}})); // nobody heartbeats; sanitizer runs are slow

        constexpr int kFast = 40;
        std::vector<std::unique_ptr<PhoenixTestClient>> fast;
        for (int i = 0; i < kFast; ++i) {
            fast.push_back(server.joinedClient(u"room"_s, u"room:1"_s));
            QVERIFY(fast.back());
        }
        // The talker is on both topics; so is the paused reader, which only the "bulk" topic's large
        // messages fill (the others get the small ones, so the run stays light).
        auto talker = server.joinedClient(u"room"_s, u"room:1"_s);
        QVERIFY(talker);
        const QString bulkRef = talker->join(u"bulk"_s);
        QVERIFY(talker->waitForReply(u"bulk"_s, bulkRef));
        PausedReader paused;
        QVERIFY(paused.open(server.port(), "/socket/room/websocket?vsn=2.0.0"));
        paused.sendText(R"(["1","1","room:1","phx_join",{}])");
        paused.sendText(R"(["2","2","bulk","phx_join",{}])");
        QList<QByteArray> pausedTexts;
        QVERIFY(paused.readUntil(
            &pausedTexts, [](const QByteArray &text) { return text.startsWith(R"(["2","2")"); }, 10000));
        pausedTexts.clear();
        QTRY_COMPARE(server.controller().instance(u"room"_s).stats.clients, kFast + 2);

        // Every tenth message is a large one on "bulk", so far more than the kernel can hold for the
        // paused reader is queued for it: its flushes go Pending, on whichever thread writes its chunk.
        constexpr int kBlob = 64 * 1024;
        const int bulkMessages = int((maxSendBuffer() + (2 << 20)) / kBlob) + 1;
        const int total = bulkMessages * 10;
        const QJsonObject blob{{u"blob"_s, QString(kBlob, u'b')}};
        const int leaver = 7;            // disconnects halfway through
        std::vector<int> next(kFast, 1); // 0 is a bulk one
        auto drain = [&](int i) {
            // Checks and forgets what client i received: every room:1 message, in order.
            for (const ReceivedFrame &frame : fast[size_t(i)]->frames()) {
                const int n = sequenceOf(frame.json);
                if (n < 0) {
                    continue;
                }
                if (n != next[size_t(i)]) {
                    qWarning("client %d: message %d where %d was due", i, n, next[size_t(i)]);
                    return false;
                }
                next[size_t(i)] = n + 1;
                while (next[size_t(i)] % 10 == 0 && next[size_t(i)] < total) {
                    ++next[size_t(i)]; // the bulk ones are not for it
                }
            }
            fast[size_t(i)]->clearFrames();
            return true;
        };
        for (int n = 0; n < total; ++n) {
            const bool bulk = n % 10 == 0;
            const QString ref = QString::number(100 + n);
            talker->sendV2(bulk ? bulkRef : u"1"_s, ref, bulk ? u"bulk"_s : u"room:1"_s, u"shout"_s,
                           bulk ? QJsonObject{{u"n"_s, n}, {u"blob"_s, blob.value(u"blob"_s)}}
                                : QJsonObject{{u"n"_s, n}});
            if (n % 50 == 49) {
                QVERIFY(talker->waitForReply(bulk ? u"bulk"_s : u"room:1"_s, ref, 20000));
                talker->clearFrames();
                for (int i = 0; i < kFast; ++i) {
                    if (fast[size_t(i)]) {
                        QVERIFY2(drain(i), qPrintable(u"client %1 out of order"_s.arg(i)));
                    }
                }
            }
            if (n == total / 2) {
                // Gone without a close: its next write fails, or the read side sees the end first.
                fast[size_t(leaver)]->socket().abort();
                fast[size_t(leaver)].reset();
            }
        }
        // Every client still there gets everything, in order; the one that left is dropped.
        const int last = total - 1; // a room:1 message (total is a multiple of 10)
        for (int i = 0; i < kFast; ++i) {
            if (!fast[size_t(i)]) {
                continue;
            }
            QTRY_VERIFY_WITH_TIMEOUT(!drain(i) || next[size_t(i)] > last, 20000);
            QVERIFY2(next[size_t(i)] == last + 1, qPrintable(u"client %1 stopped at %2"_s.arg(i).arg(next[size_t(i)])));
        }
        QTRY_COMPARE(server.controller().instance(u"room"_s).stats.clients, kFast - 1 + 2);

        // The paused reader holds a few KiB; the server holds the rest for it (more than a send buffer
        // can take, so its flushes returned Pending). Reading again, it gets every message, in order.
        QVERIFY(paused.unread() < qint64(bulkMessages) * kBlob / 2);
        QVERIFY(paused.readUntil(
            &pausedTexts,
            [&](const QByteArray &text) { return sequenceOf(QJsonDocument::fromJson(text).array()) == last; }, 30000));
        int expected = 0;
        for (const QByteArray &text : std::as_const(pausedTexts)) {
            const int n = sequenceOf(QJsonDocument::fromJson(text).array());
            if (n >= 0) {
                QCOMPARE(n, expected);
                ++expected;
            }
        }
        QCOMPARE(expected, total);
        QCOMPARE(server.controller().instance(u"room"_s).stats.clients, kFast - 1 + 2);
    }
};

QTEST_GUILESS_MAIN(ParallelFlushIntegrationTest)
#include "tst_parallelflush_integration.moc"
