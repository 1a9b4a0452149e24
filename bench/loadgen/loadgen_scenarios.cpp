// wsserve_loadgen: the scenarios (see loadgen.h).
#include "loadgen.h"

namespace loadgen {

int LoadGen::runConnect()
{
    const size_t n = size_t(opt.clients);
    conns.resize(n);
    const long rssBefore = readRssKb(opt.serverPid);
    const long fdsBefore = countFds(opt.serverPid);
    const uint64_t t0 = nowNs();
    const uint64_t deadline = t0 + 120'000'000'000ull;
    size_t next = 0;
    while (joinedCount + failed < n && nowNs() < deadline) {
        while (next < n && (opened - joinedCount - failed) < uint64_t(opt.connectConcurrency)) {
            if (startConn(next++) != 0)
                ++failed;
        }
        poll(10);
    }
    const uint64_t tJoined = nowNs();
    const double connectS = double(tJoined - t0) / 1e9;
    // let the server settle, then read its memory
    const uint64_t settle = nowNs() + 1'000'000'000ull;
    while (nowNs() < settle)
        poll(50);
    const long rssAfter = readRssKb(opt.serverPid);
    const long fdsAfter = countFds(opt.serverPid);
    // heartbeats: one per client per 30 s like the JS client, at least 50/s, round-robin over all clients
    const double rate = std::max(50.0, double(n) / 30.0);
    const uint64_t interval = uint64_t(1e9 / rate);
    measuring = true;
    const uint64_t hbStart = nowNs();
    const uint64_t hbEnd = hbStart + uint64_t(opt.seconds * 1e9);
    uint64_t nextHb = hbStart;
    size_t rr = 0;
    uint64_t hbSent = 0;
    while (nowNs() < hbEnd) {
        uint64_t now = nowNs();
        while (nextHb <= now) {
            for (size_t tries = 0; tries < n; ++tries) {
                size_t i = rr++ % n;
                if (conns[i].fd >= 0 && conns[i].joined) {
                    Conn &c = conns[i];
                    const uint64_t ref = c.nextRef++;
                    char buf[80];
                    int len = std::snprintf(buf, sizeof buf, "[null,\"%llu\",\"phoenix\",\"heartbeat\",{}]",
                                            static_cast<unsigned long long>(ref));
                    c.pending.emplace_back(ref, nowNs());
                    sendText(i, std::string_view(buf, size_t(len)));
                    ++hbSent;
                    break;
                }
            }
            nextHb += interval;
        }
        poll(1);
    }
    // wait for outstanding heartbeat replies
    const uint64_t drainEnd = nowNs() + 2'000'000'000ull;
    while (lat.us.size() < hbSent && nowNs() < drainEnd)
        poll(5);
    const uint64_t hbLost = hbSent - lat.us.size();
    if (hbLost)
        error("heartbeat replies missing");
    const long rssEnd = readRssKb(opt.serverPid);
    stopping = true;
    char kbPer[32] = "-1";
    if (rssBefore >= 0 && rssAfter >= 0 && joinedCount > 0)
        std::snprintf(kbPer, sizeof kbPer, "%.2f", double(rssAfter - rssBefore) / double(joinedCount));
    std::printf(
        "loadgen: scenario=connect clients=%zu joined=%llu failed=%llu connect_s=%.3f joins_per_s=%.0f "
        "rss_before_kb=%ld rss_after_kb=%ld rss_end_kb=%ld kb_per_conn=%s fds_before=%ld fds_after=%ld "
        "hb_per_s=%.0f hb_samples=%zu hb_p50_us=%ld hb_p99_us=%ld hb_max_us=%ld seconds=%g load1=%s errors=%llu%s%s\n",
        n, static_cast<unsigned long long>(joinedCount), static_cast<unsigned long long>(failed), connectS,
        double(joinedCount) / connectS, rssBefore, rssAfter, rssEnd, kbPer, fdsBefore, fdsAfter, rate, lat.us.size(),
        lat.pct(50), lat.pct(99), lat.pct(100), opt.seconds, loadAvg1().c_str(),
        static_cast<unsigned long long>(errors),
        firstError.empty() ? "" : " first_error=", firstError.empty() ? "" : ("\"" + firstError + "\"").c_str());
    return errors == 0 && joinedCount == n ? 0 : 1;
}

int LoadGen::runEcho()
{
    const size_t n = size_t(opt.clients);
    conns.resize(n);
    const uint64_t deadline = nowNs() + 60'000'000'000ull;
    size_t next = 0;
    while (joinedCount + failed < n && nowNs() < deadline) {
        while (next < n && (opened - joinedCount - failed) < uint64_t(opt.connectConcurrency))
            if (startConn(next++) != 0)
                ++failed;
        poll(10);
    }
    if (joinedCount == 0)
        error("no client joined");
    // warm-up 0.5 s, then measure
    for (size_t i = 0; i < n; ++i)
        if (conns[i].joined)
            for (int k = 0; k < opt.inFlight; ++k)
                pushEcho(i);
    const uint64_t warm = nowNs() + 500'000'000ull;
    while (nowNs() < warm)
        poll(5);
    while (!startDue())
        poll(1);
    openWindow();
    const uint64_t t0 = windowStartNs;
    const uint64_t end = t0 + uint64_t(opt.seconds * 1e9);
    while (nowNs() < end)
        poll(int(std::clamp<int64_t>(int64_t(end - nowNs()) / 1'000'000, 0, 5)));
    closeWindow();
    const double el = double(windowEndNs - t0) / 1e9;
    stopping = true;
    const uint64_t drain = nowNs() + 1'000'000'000ull;
    auto outstanding = [&] {
        size_t k = 0;
        for (auto &c : conns)
            k += c.fd >= 0 ? c.pending.size() : 0;
        return k;
    };
    while (outstanding() > 0 && nowNs() < drain)
        poll(5);
    if (outstanding() > 0)
        error("replies missing after drain");
    std::printf(
        "loadgen: scenario=echo clients=%zu joined=%llu in_flight=%d payload=%d seconds=%g msgs_per_s=%.0f "
        "p50_us=%ld p99_us=%ld max_us=%ld msgs=%llu %s load1=%s errors=%llu%s%s\n",
        n, static_cast<unsigned long long>(joinedCount), opt.inFlight, opt.payload, opt.seconds, double(msgs) / el,
        lat.pct(50), lat.pct(99), lat.pct(100), static_cast<unsigned long long>(msgs), windowFields().c_str(),
        loadAvg1().c_str(), static_cast<unsigned long long>(errors),
        firstError.empty() ? "" : " first_error=", firstError.empty() ? "" : ("\"" + firstError + "\"").c_str());
    return errors == 0 ? 0 : 1;
}

int LoadGen::runBroadcast()
{
    const size_t n = size_t(opt.clients);
    subscribers = opt.clients;
    conns.resize(n + 1);
    pubIdx = int(n);
    conns[n].publisher = true;
    const uint64_t deadline = nowNs() + 120'000'000'000ull;
    size_t next = 0;
    while (joinedCount + failed < n + 1 && nowNs() < deadline) {
        while (next < n + 1 && (opened - joinedCount - failed) < uint64_t(opt.connectConcurrency))
            if (startConn(next++) != 0)
                ++failed;
        poll(10);
    }
    if (failed > 0 || !conns[n].joined) {
        error("not every subscriber joined");
        // a broadcast's completion is counted against the joined subscribers only
        subscribers = int(joinedCount) - (conns[n].joined ? 1 : 0);
    }
    seqSent.reserve(1 << 20);
    seqCount.reserve(1 << 20);
    const uint64_t maxIncomplete = uint64_t(opt.maxUndelivered > 0 ? opt.maxUndelivered : 4 * opt.inFlight);
    auto pump = [&] {
        while (conns[n].fd >= 0 && conns[n].joined && published - acked < uint64_t(opt.inFlight) &&
               published - fullyDelivered < maxIncomplete)
            publish();
    };
    // warm-up 0.5 s
    uint64_t t = nowNs() + 500'000'000ull;
    while (nowNs() < t || !startDue()) {
        pump();
        poll(1);
    }
    openWindow();
    const uint64_t firstSeq = published;
    windowStartSeq = firstSeq;
    const uint64_t t0 = windowStartNs;
    const uint64_t end = t0 + uint64_t(opt.seconds * 1e9);
    const uint64_t delivBefore = deliveries;
    while (nowNs() < end) {
        pump();
        poll(1);
    }
    closeWindow();
    windowEndSeq = published;
    const double el = double(windowEndNs - t0) / 1e9;
    const uint64_t delivWindow = deliveries - delivBefore;
    stopping = true;
    // drain: wait while deliveries still arrive (a server may be seconds behind with 10 000 subscribers);
    // give up after --drain-seconds without progress, or 60 s in all
    const uint64_t hardEnd = nowNs() + 60'000'000'000ull;
    uint64_t lastProgress = nowNs(), seen = deliveries + acked;
    while ((fullyDelivered < published || acked < published) && nowNs() < hardEnd &&
           nowNs() - lastProgress < uint64_t(opt.drainSeconds * 1e9)) {
        poll(5);
        if (deliveries + acked != seen) {
            seen = deliveries + acked;
            lastProgress = nowNs();
        }
    }
    const uint64_t expected = published * uint64_t(subscribers);
    const uint64_t lost = expected > deliveries ? expected - deliveries : 0;
    std::printf(
        "loadgen: scenario=broadcast subscribers=%d in_flight=%d payload=%d seconds=%g broadcasts=%llu "
        "broadcasts_per_s=%.0f deliveries_per_s=%.0f p50_us=%ld p99_us=%ld max_us=%ld lost=%llu deliveries=%llu %s "
        "load1=%s errors=%llu%s%s\n",
        subscribers, opt.inFlight, opt.payload, opt.seconds, static_cast<unsigned long long>(windowEndSeq - firstSeq),
        double(windowEndSeq - firstSeq) / el, double(delivWindow) / el, lat.pct(50), lat.pct(99), lat.pct(100),
        static_cast<unsigned long long>(lost), static_cast<unsigned long long>(delivWindow), windowFields().c_str(),
        loadAvg1().c_str(), static_cast<unsigned long long>(errors),
        firstError.empty() ? "" : " first_error=", firstError.empty() ? "" : ("\"" + firstError + "\"").c_str());
    return errors == 0 && lost == 0 ? 0 : 1;
}

int LoadGen::runChurn()
{
    const size_t n = size_t(opt.clients);
    conns.resize(n);
    const long rssStart = readRssKb(opt.serverPid);
    const long fdsStart = countFds(opt.serverPid);
    const uint64_t t0 = nowNs();
    const uint64_t end = t0 + uint64_t(opt.seconds * 1e9);
    for (size_t i = 0; i < n; ++i)
        startConn(i);
    uint64_t lastSweep = t0;
    while (nowNs() < end) {
        poll(5);
        const uint64_t now = nowNs();
        for (size_t i = 0; i < n; ++i) {
            Conn &c = conns[i];
            if (c.fd < 0) {
                startConn(i); // finished (or failed): start the next cycle in this slot
            }
        }
        if (now - lastSweep > 100'000'000ull) {
            lastSweep = now;
            for (size_t i = 0; i < n; ++i) {
                Conn &c = conns[i];
                if (c.fd >= 0 && c.st == St::Closing && now > c.closeDeadline) {
                    if (c.closeAcked) {
                        closeConn(i, false, "");
                        ++churnCycles;
                    } else {
                        closeConn(i, true, "server did not answer the close frame");
                    }
                } else if (c.fd >= 0 && c.st != St::Closing && now > c.tStart + 10'000'000'000ull)
                    closeConn(i, true, "cycle stuck for 10 s");
            }
        }
    }
    const double el = double(nowNs() - t0) / 1e9;
    const uint64_t joins = churnJoins;
    const uint64_t cyclesInWindow = churnCycles;
    stopping = true;
    // let cycles in progress finish, then drop whatever is left
    const uint64_t drain = nowNs() + 3'000'000'000ull;
    auto active = [&] {
        size_t k = 0;
        for (auto &c : conns)
            k += c.fd >= 0;
        return k;
    };
    while (active() > 0 && nowNs() < drain)
        poll(5);
    for (size_t i = 0; i < n; ++i)
        if (conns[i].fd >= 0)
            closeConn(i, true, "cycle unfinished at the end");
    // the server needs a moment to tear the last sockets down
    const uint64_t settle = nowNs() + 1'500'000'000ull;
    while (nowNs() < settle)
        poll(50);
    const long rssEnd = readRssKb(opt.serverPid);
    const long fdsEnd = countFds(opt.serverPid);
    std::printf("loadgen: scenario=churn clients=%zu seconds=%g joins=%llu joins_per_s=%.0f cycles=%llu "
                "rss_start_kb=%ld rss_end_kb=%ld fds_start=%ld fds_end=%ld load1=%s errors=%llu%s%s\n",
                n, opt.seconds, static_cast<unsigned long long>(joins), double(joins) / el,
                static_cast<unsigned long long>(cyclesInWindow), rssStart, rssEnd, fdsStart, fdsEnd, loadAvg1().c_str(),
                static_cast<unsigned long long>(errors), firstError.empty() ? "" : " first_error=",
                firstError.empty() ? "" : ("\"" + firstError + "\"").c_str());
    const bool fdLeak = fdsStart >= 0 && fdsEnd > fdsStart;
    return errors == 0 && !fdLeak ? 0 : 1;
}

} // namespace loadgen
