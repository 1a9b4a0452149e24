// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// The instance's own WebSocket layer: RFC 6455 framing (core/net/wsframe) and the connection's write
// queue on a real socket pair (core/net/wsconnection).
#include "net/wsconnection.h"
#include "net/wsframe.h"
#include "phoenixtestclient.h"

#include <QTest>

#ifdef Q_OS_UNIX
#include <sys/socket.h>
#include <unistd.h>
#endif

using namespace Qt::StringLiterals;
using namespace wsserve;
using namespace wsserve::ws;
using Kind = FrameParser::Event::Kind;

namespace {

// A client frame (masked unless told otherwise), as the protocol tests send them.
QByteArray clientFrame(quint8 firstByte, const QByteArray &payload, bool masked = true)
{
    return test::RawWebSocketClient::frame(firstByte, payload, masked);
}

QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    QByteArray payload;
    payload.append(static_cast<char>(code >> 8));
    payload.append(static_cast<char>(code & 0xFF));
    return payload + reason;
}

// Parses every complete frame in `buffer` (as WsConnection does with what arrived), appends the events
// and stops after an error; returns the bytes consumed.
qsizetype drain(FrameParser &parser, QByteArray &buffer, QList<FrameParser::Event> &events)
{
    qsizetype offset = 0;
    while (offset < buffer.size()) {
        qsizetype used = 0;
        FrameParser::Event event = parser.next(buffer.data() + offset, buffer.size() - offset, &used);
        offset += used;
        if (event.kind == Kind::NeedMore) {
            if (used == 0) {
                break;
            }
            continue;
        }
        if (event.kind == Kind::Fragment) {
            continue; // counted by the instance; the message comes whole
        }
        events.append(event);
        if (event.kind == Kind::Error) {
            break;
        }
    }
    return offset;
}

// Feeds the whole stream at once.
QList<FrameParser::Event> parseAll(QByteArray stream, qint64 maxMessage = 1 << 20)
{
    FrameParser parser(maxMessage);
    QList<FrameParser::Event> events;
    drain(parser, stream, events);
    return events;
}

} // namespace

class tst_WsFrame : public QObject
{
    Q_OBJECT

private slots:
    void acceptKeyMatchesTheRfcExample()
    {
        // RFC 6455 section 1.3.
        QCOMPARE(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), QByteArrayLiteral("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
        QVERIFY(isValidClientKey("dGhlIHNhbXBsZSBub25jZQ=="));
        QVERIFY(!isValidClientKey("dGhl"));
        QVERIFY(!isValidClientKey("!!!!!!!!!!!!!!!!!!!!!!=="));
        QVERIFY(!isValidClientKey(""));
    }

    void preparedFramesUseTheShortestLength_data()
    {
        QTest::addColumn<int>("size");
        QTest::addColumn<int>("header");
        QTest::newRow("0") << 0 << 2;
        QTest::newRow("125") << 125 << 2;
        QTest::newRow("126") << 126 << 4;
        QTest::newRow("65535") << 65535 << 4;
        QTest::newRow("65536") << 65536 << 10;
    }
    void preparedFramesUseTheShortestLength()
    {
        QFETCH(int, size);
        QFETCH(int, header);
        const QByteArray payload(size, 'x');
        const QByteArray frame = prepareFrame(Opcode::Text, payload);
        QCOMPARE(frame.size(), header + size);
        QCOMPARE(static_cast<quint8>(frame.at(0)), quint8(0x81)); // FIN + text
        QCOMPARE(static_cast<quint8>(frame.at(1)) & 0x80, 0);     // servers never mask
        QCOMPARE(frame.mid(header), payload);
    }

    void closeFrameReasonIsCutAtACharacterBoundary()
    {
        const QString reason = QString(60, QChar(0x00E9)); // 120 bytes of "é"
        const QByteArray frame = prepareClose(1008, reason + reason);
        QVERIFY(frame.size() - 2 <= kMaxControlPayload);
        QCOMPARE(static_cast<quint8>(frame.at(2)), quint8(1008 >> 8));
        QCOMPARE(static_cast<quint8>(frame.at(3)), quint8(1008 & 0xFF));
        QVERIFY(isValidUtf8(QByteArrayView(frame).sliced(4)));
    }

    void utf8Validation_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<bool>("valid");
        QTest::newRow("ascii") << QByteArray("hello, world and more than eight bytes") << true;
        QTest::newRow("two-byte") << QByteArray("caf\xC3\xA9") << true;
        QTest::newRow("three-byte") << QByteArray("\xE2\x82\xAC") << true;
        QTest::newRow("four-byte") << QByteArray("\xF0\x9F\x98\x80") << true;
        QTest::newRow("max code point") << QByteArray("\xF4\x8F\xBF\xBF") << true;
        QTest::newRow("overlong 2") << QByteArray("\xC0\x80") << false;
        QTest::newRow("overlong 3") << QByteArray("\xE0\x80\x80") << false;
        QTest::newRow("overlong 4") << QByteArray("\xF0\x80\x80\x80") << false;
        QTest::newRow("surrogate") << QByteArray("\xED\xA0\x80") << false;
        QTest::newRow("above U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << false;
        QTest::newRow("five-byte lead") << QByteArray("\xF8\x88\x80\x80\x80") << false;
        QTest::newRow("lone continuation") << QByteArray("a\x80") << false;
        QTest::newRow("truncated") << QByteArray("abcdefgh\xE2\x82") << false;
        QTest::newRow("bad continuation") << QByteArray("\xE2\x28\xA1") << false;
    }
    void utf8Validation()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(bool, valid);
        QCOMPARE(isValidUtf8(bytes), valid);
    }

    void parsesMaskedMessagesAndControlFrames()
    {
        const QByteArray stream = clientFrame(0x81, "hello") + clientFrame(0x82, QByteArray("\x00\x01\x02", 3)) +
                                  clientFrame(0x89, "ping!") + clientFrame(0x8A, "") +
                                  clientFrame(0x88, closePayload(1000, "bye"));
        const auto events = parseAll(stream);
        QCOMPARE(events.size(), 5);
        QCOMPARE(events[0].kind, Kind::Text);
        QCOMPARE(events[0].payload, QByteArrayLiteral("hello"));
        QCOMPARE(events[1].kind, Kind::Binary);
        QCOMPARE(events[1].payload, QByteArray("\x00\x01\x02", 3));
        QCOMPARE(events[2].kind, Kind::Ping);
        QCOMPARE(events[2].payload, QByteArrayLiteral("ping!"));
        QCOMPARE(events[3].kind, Kind::Pong);
        QCOMPARE(events[4].kind, Kind::Close);
        QCOMPARE(events[4].code, quint16(1000));
        QCOMPARE(events[4].payload, QByteArrayLiteral("bye"));
    }

    void parsesLongLengths()
    {
        const QByteArray medium(300, 'm');
        const QByteArray large(70000, 'L');
        const auto events = parseAll(clientFrame(0x81, medium) + clientFrame(0x82, large));
        QCOMPARE(events.size(), 2);
        QCOMPARE(events[0].payload, medium);
        QCOMPARE(events[1].payload, large);
    }

    void everySplitOfTheStreamGivesTheSameEvents()
    {
        // The stream arrives in two reads cut at every possible byte: the caller keeps what was not
        // consumed and appends the rest, as WsConnection does.
        const QByteArray stream = clientFrame(0x01, "frag") + clientFrame(0x89, "p") + clientFrame(0x80, "mented") +
                                  clientFrame(0x81, QByteArray(200, 'z'));
        for (qsizetype cut = 0; cut <= stream.size(); ++cut) {
            FrameParser parser(1 << 20);
            QList<FrameParser::Event> events;
            QByteArray pending;
            for (const QByteArray &piece : {stream.left(cut), stream.mid(cut)}) {
                pending += piece;
                pending.remove(0, drain(parser, pending, events));
            }
            QVERIFY2(pending.isEmpty(), qPrintable(QString::number(cut)));
            QCOMPARE(events.size(), 3);
            QCOMPARE(events[0].kind, Kind::Ping); // control frames may come between fragments
            QCOMPARE(events[1].kind, Kind::Text);
            QCOMPARE(events[1].payload, QByteArrayLiteral("fragmented"));
            QCOMPARE(events[2].payload, QByteArray(200, 'z'));
        }
    }

    void everyFrameOfAFragmentedMessageIsReported()
    {
        // The instance counts every frame toward the client's rate limit: a message that never ends must
        // not be free to send.
        QByteArray stream = clientFrame(0x01, "a") + clientFrame(0x00, "") + clientFrame(0x00, "b");
        FrameParser parser(1 << 20);
        QList<Kind> kinds;
        qsizetype offset = 0;
        while (offset < stream.size()) {
            qsizetype used = 0;
            const FrameParser::Event event = parser.next(stream.data() + offset, stream.size() - offset, &used);
            QVERIFY(used > 0);
            offset += used;
            kinds.append(event.kind);
        }
        QCOMPARE(kinds, (QList<Kind>{Kind::Fragment, Kind::Fragment, Kind::Fragment}));
        QByteArray last = clientFrame(0x80, "c");
        qsizetype used = 0;
        const FrameParser::Event event = parser.next(last.data(), last.size(), &used);
        QCOMPARE(event.kind, Kind::Text);
        QCOMPARE(event.payload, QByteArrayLiteral("abc"));
    }

    void protocolErrors_data()
    {
        QTest::addColumn<QByteArray>("stream");
        QTest::addColumn<int>("code");
        QTest::newRow("unmasked") << clientFrame(0x81, "x", false) << 1002;
        QTest::newRow("reserved bit") << clientFrame(0xC1, "x") << 1002;
        QTest::newRow("opcode 3") << clientFrame(0x83, "x") << 1002;
        QTest::newRow("opcode 11") << clientFrame(0x8B, "x") << 1002;
        QTest::newRow("continuation first") << clientFrame(0x80, "x") << 1002;
        QTest::newRow("text inside fragments") << clientFrame(0x01, "a") + clientFrame(0x81, "b") << 1002;
        QTest::newRow("fragmented ping") << clientFrame(0x09, "x") << 1002;
        QTest::newRow("long ping") << clientFrame(0x89, QByteArray(126, 'p')) << 1002;
        QTest::newRow("close with 1 byte") << clientFrame(0x88, "x") << 1002;
        QTest::newRow("close code 1005") << clientFrame(0x88, closePayload(1005)) << 1002;
        QTest::newRow("close code 999") << clientFrame(0x88, closePayload(999)) << 1002;
        QTest::newRow("close reason not utf-8") << clientFrame(0x88, closePayload(1000, "\xC0\x80")) << 1007;
        QTest::newRow("text not utf-8") << clientFrame(0x81, "\xFF") << 1007;
        QTest::newRow("fragments not utf-8") << clientFrame(0x01, "\xE2\x82") + clientFrame(0x80, "\x28") << 1007;
        QTest::newRow("too big") << clientFrame(0x82, QByteArray(101, 'b')) << 1009;
        QTest::newRow("too big in pieces")
            << clientFrame(0x02, QByteArray(60, 'b')) + clientFrame(0x80, QByteArray(60, 'b')) << 1009;
        QByteArray msb = clientFrame(0x82, "");
        msb[1] = static_cast<char>(0x80 | 127);
        msb.insert(2, QByteArray("\x80\x00\x00\x00\x00\x00\x00\x01", 8));
        QTest::newRow("length msb") << msb << 1002;
    }
    void protocolErrors()
    {
        QFETCH(QByteArray, stream);
        QFETCH(int, code);
        const auto events = parseAll(stream, 100);
        QVERIFY(!events.isEmpty());
        QCOMPARE(events.last().kind, Kind::Error);
        QCOMPARE(events.last().code, quint16(code));
        QVERIFY(!events.last().error.isEmpty());
    }

    void tooBigIsRefusedBeforeThePayloadArrives()
    {
        // Only the header of a 10 MB frame: refused at once, nothing buffered.
        QByteArray header = clientFrame(0x82, "");
        header[1] = static_cast<char>(0x80 | 127);
        header.insert(2, QByteArray("\x00\x00\x00\x00\x00\x98\x96\x80", 8));
        FrameParser parser(1 << 20);
        qsizetype used = 0;
        const auto event = parser.next(header.data(), header.size(), &used);
        QCOMPARE(event.kind, Kind::Error);
        QCOMPARE(event.code, quint16(1009));
    }

    void messageBufferIsReusedOnlyOnceLetGo()
    {
        // A message's payload lands in the buffer of the previous one when nobody holds that any more; one
        // that is still held (a type kept the payload) is never written into.
        QByteArray stream = clientFrame(0x81, "first message") + clientFrame(0x81, "second") +
                            clientFrame(0x82, "third, binary") + clientFrame(0x81, "fourth");
        FrameParser parser(1 << 20);
        qsizetype offset = 0;
        const auto next = [&] {
            qsizetype used = 0;
            FrameParser::Event event = parser.next(stream.data() + offset, stream.size() - offset, &used);
            offset += used;
            return event;
        };
        const FrameParser::Event first = next();
        FrameParser::Event second = next();
        QCOMPARE(first.payload, QByteArray("first message"));
        QCOMPARE(second.payload, QByteArray("second"));
        QVERIFY(second.payload.constData() != first.payload.constData());
        const char *secondStorage = second.payload.constData();
        second = {}; // handled, not kept
        FrameParser::Event third = next();
        QCOMPARE(third.kind, Kind::Binary);
        QCOMPARE(third.payload, QByteArray("third, binary"));
        QCOMPARE(third.payload.constData(), secondStorage);
        const QByteArray kept = third.payload; // kept, as a history keeps a payload
        third = {};
        const FrameParser::Event fourth = next();
        QCOMPARE(fourth.payload, QByteArray("fourth"));
        QCOMPARE(kept, QByteArray("third, binary"));
        QCOMPARE(first.payload, QByteArray("first message"));
    }

#ifdef Q_OS_UNIX
    void smallFramesRoundTripThroughReusedBuffers()
    {
        // Batches of small messages, each framed into a buffer a previous batch wrote out, interleaved
        // with a shared (broadcast) frame the caller keeps: every byte arrives in order and the shared
        // frame is never written into.
        int pair[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
        net::WsConnection connection(pair[0], 1 << 20, {});
        const QByteArray broadcast = prepareFrame(Opcode::Text, "shared broadcast frame");
        const QByteArray broadcastCopy(broadcast.constData(), broadcast.size());
        for (int round = 0; round < 50; ++round) {
            QByteArray expected;
            for (int i = 0; i < 20; ++i) {
                const QByteArray payload = QByteArray::number(round) + ':' + QByteArray(i * 7, 'a' + i % 26);
                connection.queueMessage(i % 3 ? Opcode::Text : Opcode::Binary, payload);
                expected += prepareFrame(i % 3 ? Opcode::Text : Opcode::Binary, payload);
                if (i == 10 && round % 2 == 0) {
                    connection.queue(broadcast);
                    expected += broadcast;
                }
            }
            QCOMPARE(connection.flush(), net::WsConnection::FlushStatus::Drained);
            QByteArray received;
            char buffer[4096];
            while (received.size() < expected.size()) {
                const ssize_t n = ::read(pair[1], buffer, sizeof(buffer));
                QVERIFY(n > 0); // drained: everything is in the socket already
                received.append(buffer, n);
            }
            QCOMPARE(received, expected);
        }
        QCOMPARE(broadcast, broadcastCopy);
        ::close(pair[1]);
    }

    void queuedFramesSurviveAFullKernelBuffer()
    {
        // A peer that does not read: the queue keeps what the kernel refused and writes it, in order,
        // once the peer reads.
        int pair[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
        net::WsConnection connection(pair[0], 1 << 20, {});
        QByteArray expected;
        for (int i = 0; i < 400; ++i) {
            const QByteArray frame = prepareFrame(Opcode::Binary, QByteArray(4000, static_cast<char>('a' + i % 26)));
            connection.queue(frame);
            expected += frame;
        }
        QCOMPARE(connection.queuedBytes(), expected.size());
        QCOMPARE(connection.flush(), net::WsConnection::FlushStatus::Pending);
        QVERIFY(connection.queuedBytes() > 0);
        QVERIFY(connection.queuedBytes() < expected.size());
        QByteArray received;
        char buffer[65536];
        // Bounded: each round either reads something or the queue is stuck (a failure, not a hang).
        for (int idle = 0; received.size() < expected.size() && idle < 1000;) {
            const ssize_t n = ::read(pair[1], buffer, sizeof(buffer));
            if (n > 0) {
                received.append(buffer, n);
                idle = 0;
            } else {
                ++idle;
            }
            connection.flush();
        }
        QCOMPARE(connection.queuedBytes(), 0);
        QCOMPARE(connection.flush(), net::WsConnection::FlushStatus::Drained);
        QVERIFY(received == expected);
        ::close(pair[1]);
        connection.queue(prepareFrame(Opcode::Text, "late"));
        QCOMPARE(connection.flush(), net::WsConnection::FlushStatus::Failed); // the peer is gone
    }

    void queueStaysBoundedUnderASteadyBacklog()
    {
        // A peer that reads exactly as much as is sent, behind a backlog of 1 000 frames: the queue never
        // drains, and its written slots must not pile up with every frame ever sent.
        int pair[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
        const int smallest = 1; // the kernel rounds it up to its minimum: a few KB in flight at most
        QCOMPARE(::setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &smallest, sizeof(smallest)), 0);
        net::WsConnection connection(pair[0], 1 << 20, {});
        const QByteArray frame = prepareFrame(Opcode::Text, QByteArray(100, 'q'));
        while (connection.flush() != net::WsConnection::FlushStatus::Pending) {
            connection.queue(frame); // fill the kernel buffer first
        }
        constexpr int kBacklog = 1000;
        for (int i = 0; i < kBacklog; ++i) {
            connection.queue(frame);
        }
        char buffer[256];
        for (int round = 0; round < 20000; ++round) {
            connection.queue(frame);
            qsizetype wanted = frame.size();
            while (wanted > 0) {
                const ssize_t n = ::read(pair[1], buffer, static_cast<size_t>(wanted));
                QVERIFY(n > 0);
                wanted -= n;
            }
            QCOMPARE(connection.flush(), net::WsConnection::FlushStatus::Pending);
        }
        QVERIFY(connection.queuedBytes() >= kBacklog * frame.size() / 2);
        QVERIFY2(connection.queueSlots() < 4 * kBacklog, qPrintable(QString::number(connection.queueSlots())));
        ::close(pair[1]);
    }

    void pumpDeliversWhatArrivesAndSeesThePeerLeave()
    {
        int pair[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
        // One frame arrived with the request head, split from its second half.
        const QByteArray first = clientFrame(0x81, "one");
        const QByteArray second = clientFrame(0x81, "two");
        net::WsConnection connection(pair[0], 1 << 20, first + second.left(3));
        QStringList seen;
        auto sink = [&](FrameParser::Event &event) {
            seen.append(QString::fromUtf8(event.payload));
            return true;
        };
        connection.deliverBuffered(sink);
        QCOMPARE(seen, QStringList{u"one"_s});
        QCOMPARE(::write(pair[1], second.constData() + 3, second.size() - 3), second.size() - 3);
        QByteArray scratch(1024, Qt::Uninitialized);
        QCOMPARE(connection.pump(scratch.data(), scratch.size(), sink), net::WsConnection::ReadStatus::Open);
        QCOMPARE(seen, (QStringList{u"one"_s, u"two"_s}));
        ::close(pair[1]);
        QCOMPARE(connection.pump(scratch.data(), scratch.size(), sink), net::WsConnection::ReadStatus::PeerGone);
    }
#endif
};

QTEST_GUILESS_MAIN(tst_WsFrame)
#include "tst_wsframe.moc"
