// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// wsserve_bench_codec: the cost of decoding one Phoenix V2 text frame and encoding its reply, per frame, on
// one core, three ways (issue 13, "measure both, choose"):
//   qjson    - what wsserve did before: QJsonDocument parses the whole frame, the reply is a new document
//   envelope - codec::decodeText (one validating pass, payload kept as bytes) + codec::encodeReply (splice)
//   simdjson - simdjson's DOM parser validating the same frame (a reused parser and padded buffer): the
//              lower bound of a simdjson-based decoder, before any envelope extraction or encoding
// Prints one line per payload size: `codecbench: payload=N qjson_ns=.. envelope_ns=.. simdjson_ns=..`.
#include "protocol/codec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace wsserve;

namespace {

// A chat-like payload of about `size` bytes: a few fields and a text body.
QByteArray frameWithPayload(int size)
{
    QByteArray body(std::max(1, size - 40), 'x');
    for (qsizetype i = 7; i < body.size(); i += 11) {
        body[i] = ' ';
    }
    const QByteArray payload = R"({"user":"ann","n":42,"ok":true,"body":")" + body + R"("})";
    return R"(["3","17","room:lobby","new_msg",)" + payload + "]";
}

template <typename F> double nsPerCall(F &&work)
{
    using Clock = std::chrono::steady_clock;
    long iterations = 1000;
    for (;;) {
        const auto start = Clock::now();
        for (long i = 0; i < iterations; ++i) {
            work();
        }
        const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
        if (ns > 3e8) {
            return ns / static_cast<double>(iterations);
        }
        iterations *= 4;
    }
}

volatile qsizetype g_sink = 0;

} // namespace

int main(int argc, char **argv)
{
    QList<int> sizes{32, 256, 4096, 65536};
    if (argc > 1 && std::strcmp(argv[1], "--smoke") == 0) {
        sizes = {32};
    }
    simdjson::dom::parser parser;
    for (const int size : sizes) {
        const QByteArray frame = frameWithPayload(size);
        const double qjson = nsPerCall([&] {
            const QJsonDocument document = QJsonDocument::fromJson(frame);
            const QJsonArray array = document.array();
            const QJsonObject reply{{u"status"_qs, u"ok"_qs}, {u"response"_qs, array.at(4)}};
            const QByteArray out =
                QJsonDocument(QJsonArray{array.at(0), array.at(1), array.at(2), u"phx_reply"_qs, reply})
                    .toJson(QJsonDocument::Compact);
            g_sink = g_sink + out.size();
        });
        const double envelope = nsPerCall([&] {
            const DecodeResult decoded = codec::decodeText(WireFormat::V2Json, frame);
            const Frame out = codec::encodeReply(WireFormat::V2Json, decoded.message.joinRef, decoded.message.ref,
                                                 decoded.message.topic, u"ok"_qs, decoded.message.payload);
            g_sink = g_sink + out.data.size();
        });
        const simdjson::padded_string padded(frame.constData(), static_cast<size_t>(frame.size()));
        const double simd = nsPerCall([&] {
            const simdjson::dom::element root = parser.parse(padded);
            g_sink = g_sink + static_cast<qsizetype>(root.is_array());
        });
        std::printf("codecbench: payload=%d frame_bytes=%lld qjson_ns=%.0f envelope_ns=%.0f simdjson_validate_ns=%.0f "
                    "envelope_vs_qjson=%.1fx\n",
                    size, static_cast<long long>(frame.size()), qjson, envelope, simd, qjson / envelope);
    }
    return 0;
}
