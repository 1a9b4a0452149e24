// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// ws::FrameParser: every byte a client sends after the handshake. The first input byte picks where the
// stream is split in two reads (how WsConnection sees it). Invariants: consumption stays inside the input;
// payloads respect the message limit; text and close reasons are valid UTF-8; nothing follows an error;
// parsing in two reads gives the same events as in one.
#include "fuzzsupport.h"

#include "net/wsframe.h"

#include <QList>

using namespace wsserve;
using Kind = ws::FrameParser::Event::Kind;

namespace {
constexpr qint64 kMaxMessage = 4096;

QList<ws::FrameParser::Event> run(const QByteArray &stream, qsizetype cut)
{
    ws::FrameParser parser(kMaxMessage);
    QList<ws::FrameParser::Event> events;
    QByteArray pending;
    bool failed = false;
    for (const QByteArray &piece : {stream.left(cut), stream.mid(cut)}) {
        pending += piece;
        qsizetype offset = 0;
        while (!failed) {
            qsizetype used = 0;
            ws::FrameParser::Event event = parser.next(pending.data() + offset, pending.size() - offset, &used);
            WSSERVE_FUZZ_CHECK(used >= 0 && used <= pending.size() - offset);
            offset += used;
            if (event.kind == Kind::NeedMore) {
                if (used == 0) {
                    break;
                }
                continue;
            }
            if (event.kind == Kind::Fragment) {
                WSSERVE_FUZZ_CHECK(used > 0 && event.payload.isEmpty());
            }
            WSSERVE_FUZZ_CHECK(used > 0 || event.kind == Kind::Error);
            if (event.kind == Kind::Text || event.kind == Kind::Binary) {
                WSSERVE_FUZZ_CHECK(event.payload.size() <= kMaxMessage);
            }
            if (event.kind == Kind::Text || event.kind == Kind::Close) {
                WSSERVE_FUZZ_CHECK(ws::isValidUtf8(event.payload));
            }
            if (event.kind == Kind::Error) {
                WSSERVE_FUZZ_CHECK(event.code == 1002 || event.code == 1007 || event.code == 1009);
                failed = true;
            }
            events.append(event);
        }
        pending.remove(0, offset);
    }
    return events;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    // A copy: the parser unmasks in place.
    const QByteArray stream(reinterpret_cast<const char *>(data) + 1, static_cast<qsizetype>(size) - 1);
    const qsizetype cut = stream.isEmpty() ? 0 : data[0] % (stream.size() + 1);
    const auto whole = run(stream, stream.size());
    const auto split = run(stream, cut);
    WSSERVE_FUZZ_CHECK(whole.size() == split.size());
    for (qsizetype i = 0; i < whole.size(); ++i) {
        WSSERVE_FUZZ_CHECK(whole[i].kind == split[i].kind);
        WSSERVE_FUZZ_CHECK(whole[i].payload == split[i].payload);
        WSSERVE_FUZZ_CHECK(whole[i].code == split[i].code);
    }
    return 0;
}
