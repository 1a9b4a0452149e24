// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// parseHttpRequestHead: the bytes a client sends before the WebSocket upgrade. Invariants: a complete head
// ends inside the input and within kMaxRequestHeadBytes; header names are lower-case tokens; the parser
// gives the same answer on a copy of the input with trailing bytes (how the endpoint buffers).
#include "fuzzsupport.h"

#include "endpoint/httprequesthead.h"
#include "protocol/queryparams.h"

#include <QJsonObject>

using namespace wsserve;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray input = fuzz::wrap(data, size);
    const HttpParseResult result = parseHttpRequestHead(input);
    switch (result.status) {
    case HttpParseResult::Status::Complete: {
        WSSERVE_FUZZ_CHECK(result.headSize > 0 && result.headSize <= input.size());
        WSSERVE_FUZZ_CHECK(result.headSize <= kMaxRequestHeadBytes);
        WSSERVE_FUZZ_CHECK(input.mid(result.headSize - 4, 4) == "\r\n\r\n");
        const HttpRequestHead &head = result.head;
        WSSERVE_FUZZ_CHECK(head.target.startsWith('/'));
        for (const auto &[name, value] : head.headers) {
            WSSERVE_FUZZ_CHECK(!name.isEmpty() && name == name.toLower());
        }
        (void)head.isWebSocketUpgrade();
        (void)head.header("sec-websocket-key");
        (void)head.headerTokens("sec-websocket-protocol");
        (void)parseQueryParams(head.query);
        // More bytes after the blank line (a pipelined request, an early frame) do not change the head.
        const HttpParseResult again = parseHttpRequestHead(input + QByteArray("GET / HTTP/1.1\r\n"));
        WSSERVE_FUZZ_CHECK(again.status == HttpParseResult::Status::Complete);
        WSSERVE_FUZZ_CHECK(again.headSize == result.headSize);
        WSSERVE_FUZZ_CHECK(again.head.headers == head.headers);
        break;
    }
    case HttpParseResult::Status::Incomplete:
        WSSERVE_FUZZ_CHECK(input.size() < kMaxRequestHeadBytes);
        break;
    case HttpParseResult::Status::Malformed:
    case HttpParseResult::Status::TooLarge:
        WSSERVE_FUZZ_CHECK(!result.error.isEmpty());
        break;
    case HttpParseResult::Status::Invalid:
        WSSERVE_FUZZ_CHECK(false && "parser returned Status::Invalid");
        break;
    }
    return 0;
}
