// wsserve_loadgen: the Phoenix V2 side (join, pushes, publishing, replies and broadcasts; see loadgen.h).
#include "loadgen.h"

namespace loadgen {

namespace {
bool parseField(std::string_view s, size_t &i, std::string_view &out, bool &isNull)
{
    while (i < s.size() && (s[i] == ' ' || s[i] == ','))
        ++i;
    if (i >= s.size())
        return false;
    if (s[i] == '"') {
        size_t j = i + 1;
        while (j < s.size() && s[j] != '"')
            j += (s[j] == '\\') ? 2 : 1;
        if (j >= s.size())
            return false;
        out = s.substr(i + 1, j - i - 1);
        isNull = false;
        i = j + 1;
        return true;
    }
    if (s.compare(i, 4, "null") == 0) {
        out = {};
        isNull = true;
        i += 4;
        return true;
    }
    // a number (refs sent as numbers by some clients)
    size_t j = i;
    while (j < s.size() && s[j] != ',' && s[j] != ']')
        ++j;
    out = s.substr(i, j - i);
    isNull = false;
    i = j;
    return true;
}
} // namespace

bool parseMsg(std::string_view s, Msg &m)
{
    size_t i = 0;
    while (i < s.size() && s[i] == ' ')
        ++i;
    if (i >= s.size() || s[i] != '[')
        return false;
    ++i;
    bool n1 = false, n2 = false, n3 = false, n4 = false;
    if (!parseField(s, i, m.joinRef, n1) || !parseField(s, i, m.ref, n2) || !parseField(s, i, m.topic, n3) ||
        !parseField(s, i, m.event, n4))
        return false;
    while (i < s.size() && (s[i] == ' ' || s[i] == ','))
        ++i;
    size_t end = s.size();
    while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\n'))
        --end;
    if (end <= i || s[end - 1] != ']')
        return false;
    m.payload = s.substr(i, end - 1 - i);
    return true;
}

uint64_t toU64(std::string_view v)
{
    uint64_t r = 0;
    for (char ch : v) {
        if (ch < '0' || ch > '9')
            return UINT64_MAX;
        r = r * 10 + uint64_t(ch - '0');
    }
    return v.empty() ? UINT64_MAX : r;
}

bool replyOk(std::string_view payload)
{
    return payload.find("\"status\":\"ok\"") != std::string_view::npos;
}

void LoadGen::onOpen(size_t idx)
{
    if (opt.plain) { // no channel to join: the connection is the subscription
        conns[idx].joined = true;
        ++joinedCount;
        return;
    }
    std::string join = "[\"1\",\"1\",\"" + opt.topic + "\",\"phx_join\",{}]";
    sendText(idx, join);
}

void LoadGen::pushEcho(size_t idx)
{
    if (opt.plain)
        return pushPlainEcho(idx);
    Conn &c = conns[idx];
    const uint64_t ref = c.nextRef++;
    char head[96];
    int n = std::snprintf(head, sizeof head, "[\"1\",\"%llu\",\"", static_cast<unsigned long long>(ref));
    std::string msg;
    msg.reserve(size_t(n) + opt.topic.size() + pushPayloadJson.size() + 16);
    msg.append(head, size_t(n));
    msg += opt.topic;
    msg += "\",\"e\",";
    msg += pushPayloadJson;
    msg += ']';
    c.pending.emplace_back(ref, nowNs());
    sendText(idx, msg);
}

void LoadGen::publish()
{
    if (opt.plain)
        return publishPlain();
    Conn &c = conns[size_t(pubIdx)];
    const uint64_t seq = published++;
    const uint64_t ref = c.nextRef++;
    char head[128];
    int n =
        std::snprintf(head, sizeof head, "[\"1\",\"%llu\",\"%s\",\"e\",{\"s\":%llu,\"p\":\"",
                      static_cast<unsigned long long>(ref), opt.topic.c_str(), static_cast<unsigned long long>(seq));
    std::string msg(head, size_t(n));
    msg.append(size_t(opt.payload), 'x');
    msg += "\"}]";
    seqSent.push_back(nowNs());
    seqCount.push_back(0);
    c.pending.emplace_back(ref, seqSent.back());
    sendText(size_t(pubIdx), msg);
}

void LoadGen::deliver(uint64_t seq, uint64_t now)
{
    if (seq >= seqCount.size()) {
        error("broadcast with unknown sequence number");
        return;
    }
    ++deliveries;
    if (++seqCount[seq] == uint32_t(subscribers)) {
        ++fullyDelivered;
        if (seq >= windowStartSeq && seq < windowEndSeq)
            lat.add(now - seqSent[seq]);
    }
}

void LoadGen::onText(size_t idx, std::string_view text)
{
    if (opt.plain)
        return onPlainText(idx, text);
    Msg m;
    if (!parseMsg(text, m)) {
        error("unparseable frame from server");
        return;
    }
    Conn &c = conns[idx];
    const uint64_t now = nowNs();
    if (m.event == "phx_reply") {
        const uint64_t ref = toU64(m.ref);
        const bool ok = replyOk(m.payload);
        if (ref == 1 && m.topic == opt.topic) { // join reply
            if (!ok) {
                closeConn(idx, true, "join refused");
                return;
            }
            if (!c.joined) {
                c.joined = true;
                ++joinedCount;
                if (opt.scenario == "churn") {
                    ++churnJoins;
                    const uint64_t r = c.nextRef++;
                    char buf[96];
                    int n = std::snprintf(buf, sizeof buf, "[\"1\",\"%llu\",\"%s\",\"phx_leave\",{}]",
                                          static_cast<unsigned long long>(r), opt.topic.c_str());
                    c.leaving = true;
                    c.pending.emplace_back(r, now);
                    sendText(idx, std::string_view(buf, size_t(n)));
                }
            }
            return;
        }
        if (!ok) {
            error("error reply");
            return;
        }
        // match a pending push / heartbeat / leave
        auto it = c.pending.begin();
        while (it != c.pending.end() && it->first != ref)
            ++it;
        if (it == c.pending.end())
            return; // a reply we do not track
        const uint64_t sent = it->second;
        c.pending.erase(it);
        if (opt.scenario == "echo") {
            if (measuring) {
                ++msgs;
                lat.add(now - sent);
            }
            if (!stopping)
                pushEcho(idx);
        } else if (opt.scenario == "connect") {
            if (measuring)
                lat.add(now - sent);
        } else if (opt.scenario == "broadcast") {
            ++acked;
        } else if (opt.scenario == "churn") {
            // leave acknowledged: close the WebSocket; the server answers with its close frame
            std::string cl;
            appendFrame(cl, 0x8, std::string_view("\x03\xe8", 2));
            c.st = St::Closing;
            c.closeDeadline = now + 2'000'000'000ull;
            send(idx, cl);
        }
        return;
    }
    if (opt.scenario == "broadcast" && m.event == "e") {
        if (c.publisher)
            return;
        size_t s = m.payload.find("\"s\":");
        if (s == std::string_view::npos) {
            error("broadcast without sequence number");
            return;
        }
        size_t e = s + 4;
        while (e < m.payload.size() && m.payload[e] >= '0' && m.payload[e] <= '9')
            ++e;
        deliver(toU64(m.payload.substr(s + 4, e - s - 4)), now);
        return;
    }
    if (m.event == "phx_error")
        error("phx_error from server");
}

} // namespace loadgen
