// wsserve_loadgen --plain: raw text frames, no Phoenix join or envelope (see loadgen.h), for the plain
// servers (bench/baselines/plain, qtraw --plain).
#include "loadgen.h"

namespace loadgen {

void LoadGen::pushPlainEcho(size_t idx)
{
    Conn &c = conns[idx];
    // a plain echo comes back in order: the reply to the oldest outstanding frame (ref unused)
    c.pending.emplace_back(0, nowNs());
    if (plainEchoFrame.empty())
        plainEchoFrame.assign(size_t(opt.payload), 'x');
    sendText(idx, plainEchoFrame);
}

void LoadGen::publishPlain()
{
    Conn &c = conns[size_t(pubIdx)];
    const uint64_t seq = published++;
    char head[32];
    const int n = std::snprintf(head, sizeof head, "%llu:", static_cast<unsigned long long>(seq));
    std::string msg(head, size_t(n));
    if (msg.size() < size_t(opt.payload))
        msg.append(size_t(opt.payload) - msg.size(), 'x');
    seqSent.push_back(nowNs());
    seqCount.push_back(0);
    c.pending.emplace_back(seq, seqSent.back());
    sendText(size_t(pubIdx), msg);
}

void LoadGen::onPlainText(size_t idx, std::string_view text)
{
    Conn &c = conns[idx];
    const uint64_t now = nowNs();
    if (opt.scenario == "echo") {
        if (c.pending.empty()) {
            error("plain echo: a frame nobody sent");
            return;
        }
        const uint64_t sent = c.pending.front().second;
        c.pending.pop_front();
        if (text.size() != size_t(opt.payload))
            error("plain echo: the frame came back changed");
        if (measuring) {
            ++msgs;
            lat.add(now - sent);
        }
        if (!stopping)
            pushEcho(idx);
        return;
    }
    // broadcast: "SEQ:xxx"
    const size_t colon = text.find(':');
    const uint64_t seq = colon == std::string_view::npos ? UINT64_MAX : toU64(text.substr(0, colon));
    if (c.publisher) { // its own copy: the server has sent this one to everybody (the publisher's ack)
        if (!c.pending.empty() && c.pending.front().first == seq)
            c.pending.pop_front();
        ++acked;
        return;
    }
    deliver(seq, now);
}

} // namespace loadgen
