// wsserve_loadgen: options, connections and framing (the scenarios are in loadgen_scenarios.cpp; see
// loadgen.h for what the tool does).
#include "loadgen.h"

namespace loadgen {

[[noreturn]] void usage(const char *msg)
{
    std::fprintf(
        stderr,
        "loadgen: %s\nusage: wsserve_loadgen --scenario connect|echo|broadcast|churn --port P [--host 127.0.0.1]\n"
        "  [--path /socket/ID/websocket?vsn=2.0.0] [--topic bench] [--clients N] [--in-flight K] [--payload BYTES]\n"
        "  [--seconds S] [--server-pid PID] [--source-addresses 16] [--connect-concurrency 256] [--drain-seconds 3]\n"
        "  [--max-undelivered 4xK] [--port2 P (odd-numbered connections to a second node)] [--tls]\n"
        "  [--plain (raw frames, echo/broadcast)] [--start-at UNIX_TIME (echo/broadcast window start)]\n",
        msg);
    std::exit(2);
}

Options parseArgs(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto val = [&]() -> const char * {
            if (i + 1 >= argc)
                usage("missing value");
            return argv[++i];
        };
        if (a == "--scenario")
            o.scenario = val();
        else if (a == "--host")
            o.host = val();
        else if (a == "--port")
            o.port = std::atoi(val());
        else if (a == "--path")
            o.path = val();
        else if (a == "--topic")
            o.topic = val();
        else if (a == "--clients")
            o.clients = std::atoi(val());
        else if (a == "--in-flight")
            o.inFlight = std::atoi(val());
        else if (a == "--payload")
            o.payload = std::atoi(val());
        else if (a == "--seconds")
            o.seconds = std::atof(val());
        else if (a == "--server-pid")
            o.serverPid = std::atol(val());
        else if (a == "--source-addresses")
            o.sourceAddresses = std::atoi(val());
        else if (a == "--connect-concurrency")
            o.connectConcurrency = std::atoi(val());
        else if (a == "--drain-seconds")
            o.drainSeconds = std::atof(val());
        else if (a == "--max-undelivered")
            o.maxUndelivered = std::atoi(val());
        else if (a == "--port2")
            o.port2 = std::atoi(val());
        else if (a == "--tls")
            o.tls = true;
        else if (a == "--plain")
            o.plain = true;
        else if (a == "--start-at")
            o.startAt = std::atof(val());
        else if (a == "--help" || a == "-h")
            usage("help");
        else
            usage("unknown flag");
    }
    if (o.scenario != "connect" && o.scenario != "echo" && o.scenario != "broadcast" && o.scenario != "churn")
        usage("bad --scenario");
    if (o.port <= 0 || o.port > 65535)
        usage("bad --port");
    if (o.clients < 1 || o.inFlight < 1 || o.payload < 0 || o.seconds <= 0 || o.sourceAddresses < 1 ||
        o.sourceAddresses > 254 || o.connectConcurrency < 1 || o.payload > (16 << 20) || o.startAt < 0)
        usage("bad numeric flag");
    if (o.plain && o.scenario != "echo" && o.scenario != "broadcast")
        usage("--plain works with --scenario echo or broadcast");
    in_addr tmp{};
    if (inet_pton(AF_INET, o.host.c_str(), &tmp) != 1 || (ntohl(tmp.s_addr) >> 24) != 127)
        usage("--host must be an IPv4 loopback address (127.x.x.x)");
    return o;
}

// ---------------------------------------------------------------------------------------------- helpers
uint64_t nowNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

long readRssKb(long pid)
{
    if (pid <= 0)
        return -1;
    char p[64];
    std::snprintf(p, sizeof p, "/proc/%ld/status", pid);
    FILE *f = std::fopen(p, "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (std::fgets(line, sizeof line, f))
        if (std::strncmp(line, "VmRSS:", 6) == 0)
            kb = std::atol(line + 6);
    std::fclose(f);
    return kb;
}

long countFds(long pid)
{
    if (pid <= 0)
        return -1;
    char p[64];
    std::snprintf(p, sizeof p, "/proc/%ld/fd", pid);
    DIR *d = opendir(p);
    if (!d)
        return -1;
    long n = 0;
    while (dirent *e = readdir(d))
        if (e->d_name[0] != '.')
            ++n;
    closedir(d);
    return n;
}

long long readCpuTicks(long pid)
{
    if (pid <= 0)
        return -1;
    char p[64];
    std::snprintf(p, sizeof p, "/proc/%ld/stat", pid);
    FILE *f = std::fopen(p, "r");
    if (!f)
        return -1;
    char buf[1024];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    // fields after the command name (which may hold spaces): state(3) ... utime(14) stime(15)
    const char *s = std::strrchr(buf, ')');
    if (!s)
        return -1;
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(s + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return static_cast<long long>(utime + stime);
}

double realtimeS()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

bool LoadGen::startDue() const
{
    return opt.startAt <= 0 || realtimeS() >= opt.startAt;
}

void LoadGen::openWindow()
{
    if (opt.startAt > 0 && realtimeS() > opt.startAt + 0.05)
        error("not ready at --start-at (connecting and warm-up took longer)");
    cpuStart = readCpuTicks(opt.serverPid);
    windowStartNs = nowNs();
    measuring = true;
}

void LoadGen::closeWindow()
{
    measuring = false;
    windowEndNs = nowNs();
    cpuEnd = readCpuTicks(opt.serverPid);
}

std::string LoadGen::windowFields() const
{
    char buf[160];
    std::snprintf(buf, sizeof buf, "window_s=%.4f server_cpu_ticks=%lld plain=%d",
                  double(windowEndNs - windowStartNs) / 1e9, cpuStart >= 0 && cpuEnd >= 0 ? cpuEnd - cpuStart : -1LL,
                  opt.plain ? 1 : 0);
    return buf;
}

std::string loadAvg1()
{
    FILE *f = std::fopen("/proc/loadavg", "r");
    if (!f)
        return "?";
    char buf[32] = {};
    if (std::fscanf(f, "%31s", buf) != 1)
        buf[0] = '?';
    std::fclose(f);
    return buf;
}

namespace {
uint64_t rngState = 0x9e3779b97f4a7c15ull;
inline uint32_t rng32()
{
    rngState ^= rngState << 13;
    rngState ^= rngState >> 7;
    rngState ^= rngState << 17;
    return uint32_t(rngState >> 16);
}
} // namespace

// Appends one masked client frame (FIN set) to out.
void appendFrame(std::string &out, uint8_t opcode, std::string_view payload)
{
    const size_t n = payload.size();
    unsigned char hdr[14];
    size_t h = 0;
    hdr[h++] = uint8_t(0x80 | opcode);
    if (n < 126) {
        hdr[h++] = uint8_t(0x80 | n);
    } else if (n <= 0xffff) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = uint8_t(n >> 8);
        hdr[h++] = uint8_t(n);
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; --i)
            hdr[h++] = uint8_t(uint64_t(n) >> (8 * i));
    }
    const uint32_t key = rng32();
    unsigned char mask[4];
    std::memcpy(mask, &key, 4);
    std::memcpy(hdr + h, mask, 4);
    h += 4;
    const size_t base = out.size();
    out.append(reinterpret_cast<const char *>(hdr), h);
    out.append(payload.data(), n);
    char *p = out.data() + base + h;
    for (size_t i = 0; i < n; ++i)
        p[i] = char(uint8_t(p[i]) ^ mask[i & 3]);
}

int LoadGen::startConn(size_t idx)
{
    Conn &c = conns[idx];
    ++opened; // counted before anything can fail: callers count the failure, and the ramp uses the difference
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        error("socket() failed (fd limit?)");
        return -1;
    }
    ++c.gen;
    c.st = St::Connecting;
    c.joined = c.wantOut = c.leaving = c.closeAcked = false;
    c.out.clear();
    c.outOff = 0;
    c.in.clear();
    c.inOff = 0;
    c.frag.clear();
    c.nextRef = 2;
    c.pending.clear();
    c.tStart = nowNs();
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
#ifdef IP_BIND_ADDRESS_NO_PORT
    setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
    if (opt.sourceAddresses > 1) {
        sockaddr_in src{};
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl((127u << 24) | uint32_t(1 + idx % size_t(opt.sourceAddresses)));
        if (bind(c.fd, reinterpret_cast<sockaddr *>(&src), sizeof src) != 0) {
            error("bind() to a 127.0.0.x source address failed");
            close(c.fd);
            c.fd = -1;
            c.st = St::Free;
            return -1;
        }
    }
    sockaddr_in target = dst;
    if (opt.port2 > 0 && idx % 2 == 1)
        target.sin_port = htons(uint16_t(opt.port2));
    int r = connect(c.fd, reinterpret_cast<sockaddr *>(&target), sizeof target);
    if (r != 0 && errno != EINPROGRESS) {
        error("connect() failed");
        close(c.fd);
        c.fd = -1;
        c.st = St::Free;
        return -1;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = (uint64_t(c.gen) << 32) | idx;
    c.wantOut = true;
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    return 0;
}

void LoadGen::closeConn(size_t idx, bool isError, const char *why)
{
    Conn &c = conns[idx];
    if (c.fd < 0)
        return;
    if (isError) {
        error(why);
        if (!c.joined)
            ++failed;
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
    if (c.ssl) {
        SSL_free(c.ssl);
        c.ssl = nullptr;
        ERR_clear_error();
    }
    close(c.fd);
    c.fd = -1;
    c.st = St::Free;
    c.joined = false;
}

// --tls: drives the client handshake; the upgrade request goes out once it is done.
void LoadGen::continueTls(size_t idx)
{
    Conn &c = conns[idx];
    const int r = SSL_do_handshake(c.ssl);
    if (r == 1) {
        c.st = St::Handshaking;
        c.out.insert(0, upgradeReq);
        flush(idx);
        return;
    }
    const int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        updateInterest(idx);
        return;
    }
    closeConn(idx, true, "TLS handshake failed");
}

void LoadGen::updateInterest(size_t idx)
{
    Conn &c = conns[idx];
    const bool need =
        c.outOff < c.out.size() || c.st == St::Connecting || (c.st == St::TlsHandshake && SSL_want_write(c.ssl));
    if (need == c.wantOut)
        return;
    c.wantOut = need;
    epoll_event ev{};
    ev.events = EPOLLIN | (need ? EPOLLOUT : 0u);
    ev.data.u64 = (uint64_t(c.gen) << 32) | idx;
    epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
}

void LoadGen::flush(size_t idx)
{
    Conn &c = conns[idx];
    while (c.outOff < c.out.size() && c.st != St::TlsHandshake) {
        if (c.ssl) {
            const int chunk = int(std::min<size_t>(c.out.size() - c.outOff, 1u << 20));
            const int w = SSL_write(c.ssl, c.out.data() + c.outOff, chunk);
            if (w > 0) {
                c.outOff += size_t(w);
                continue;
            }
            const int e = SSL_get_error(c.ssl, w);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
                break;
            closeConn(idx, c.st != St::Closing, "SSL_write() failed");
            return;
        }
        ssize_t n = ::send(c.fd, c.out.data() + c.outOff, c.out.size() - c.outOff, MSG_NOSIGNAL);
        if (n > 0) {
            c.outOff += size_t(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        closeConn(idx, c.st != St::Closing, "send() failed");
        return;
    }
    if (c.outOff == c.out.size()) {
        c.out.clear();
        c.outOff = 0;
    } else if (c.outOff > (1u << 20)) {
        c.out.erase(0, c.outOff);
        c.outOff = 0;
    }
    updateInterest(idx);
}

void LoadGen::send(size_t idx, std::string_view bytes)
{
    Conn &c = conns[idx];
    if (c.fd < 0)
        return;
    c.out.append(bytes.data(), bytes.size());
    if (c.st != St::Connecting)
        flush(idx);
}

void LoadGen::sendText(size_t idx, std::string_view text)
{
    Conn &c = conns[idx];
    if (c.fd < 0)
        return;
    appendFrame(c.out, 0x1, text);
    if (c.st != St::Connecting && !batchingOut)
        flush(idx);
}

void LoadGen::onEvent(size_t idx, uint32_t events)
{
    Conn &c = conns[idx];
    if (c.st == St::Connecting) {
        if (events & (EPOLLERR | EPOLLHUP)) {
            closeConn(idx, true, "connect refused/failed");
            return;
        }
        if (events & EPOLLOUT) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                closeConn(idx, true, "connect failed");
                return;
            }
            if (tlsCtx) {
                c.ssl = SSL_new(tlsCtx);
                SSL_set_fd(c.ssl, c.fd);
                SSL_set_connect_state(c.ssl);
                c.st = St::TlsHandshake;
                continueTls(idx);
                return;
            }
            c.st = St::Handshaking;
            c.out.insert(0, upgradeReq);
            flush(idx);
            if (c.fd < 0)
                return;
        }
    }
    if (c.st == St::TlsHandshake) {
        if (events & (EPOLLERR | EPOLLHUP)) {
            closeConn(idx, true, "TLS handshake: connection lost");
            return;
        }
        continueTls(idx);
        return;
    }
    if (events & EPOLLIN)
        onReadable(idx);
    if (conns[idx].fd >= 0 && (events & EPOLLOUT))
        flush(idx);
    if (conns[idx].fd >= 0 && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
        closeConn(idx, conns[idx].st != St::Closing, "socket error/hangup");
}

void LoadGen::onReadable(size_t idx)
{
    // What the replies of one read make the clients send (the next pushes) goes out in one send() at the
    // end, not one per message: the generator then costs a syscall per batch, as a pipelining client would.
    batchingOut = true;
    readAll(idx);
    batchingOut = false;
    Conn &c = conns[idx];
    if (c.fd >= 0 && c.outOff < c.out.size() && c.st != St::Connecting)
        flush(idx);
}

void LoadGen::readAll(size_t idx)
{
    char buf[65536];
    for (;;) {
        Conn &c = conns[idx];
        if (c.fd < 0)
            return;
        ssize_t n;
        if (c.ssl) {
            const int r = SSL_read(c.ssl, buf, sizeof buf);
            if (r <= 0) {
                const int e = SSL_get_error(c.ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return;
                ERR_clear_error();
                n = 0; // close_notify, reset or a bad record: the stream is over
            } else {
                n = r;
            }
            if (n > 0) {
                c.in.append(buf, size_t(n));
                processInput(idx);
                continue; // until WANT_READ: records OpenSSL holds are not signalled by epoll
            }
        } else {
            n = recv(c.fd, buf, sizeof buf, 0);
        }
        if (n > 0) {
            c.in.append(buf, size_t(n));
            processInput(idx);
            if (size_t(n) < sizeof buf)
                return;
            continue;
        }
        if (n == 0) {
            const bool clean = c.st == St::Closing;
            closeConn(idx, !clean, "server closed the connection");
            if (clean && opt.scenario == "churn")
                ++churnCycles;
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EINTR)
            continue;
        closeConn(idx, c.st != St::Closing, "recv() failed");
        return;
    }
}

void LoadGen::processInput(size_t idx)
{
    Conn &c = conns[idx];
    if (c.st == St::Handshaking) {
        size_t e = c.in.find("\r\n\r\n");
        if (e == std::string::npos) {
            if (c.in.size() > 16384)
                closeConn(idx, true, "handshake response too large");
            return;
        }
        if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
            closeConn(idx, true, "upgrade refused (not 101)");
            return;
        }
        c.inOff = e + 4;
        c.st = St::Open;
        onOpen(idx);
        if (conns[idx].fd < 0)
            return;
    }
    for (;;) {
        Conn &cc = conns[idx];
        if (cc.fd < 0)
            return;
        const size_t avail = cc.in.size() - cc.inOff;
        if (avail < 2)
            break;
        const auto *p = reinterpret_cast<const unsigned char *>(cc.in.data() + cc.inOff);
        const bool fin = p[0] & 0x80;
        const uint8_t op = p[0] & 0x0f;
        const bool masked = p[1] & 0x80;
        uint64_t len = p[1] & 0x7f;
        size_t h = 2;
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t(p[2]) << 8) | p[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; ++i)
                len = (len << 8) | p[2 + i];
            h = 10;
        }
        unsigned char mk[4] = {};
        if (masked) {
            if (avail < h + 4)
                break;
            std::memcpy(mk, p + h, 4);
            h += 4;
        }
        if (len > (64u << 20)) {
            closeConn(idx, true, "frame too large");
            return;
        }
        if (avail < h + len)
            break;
        std::string_view body(cc.in.data() + cc.inOff + h, size_t(len));
        std::string unmasked;
        if (masked) {
            unmasked.assign(body);
            for (size_t i = 0; i < unmasked.size(); ++i)
                unmasked[i] = char(uint8_t(unmasked[i]) ^ mk[i & 3]);
            body = unmasked;
        }
        cc.inOff += h + size_t(len);
        if (op == 0x8) { // close
            if (cc.st == St::Closing) {
                // we started the close handshake: wait for the server to close the TCP connection, so
                // TIME_WAIT stays on the server side (RFC 6455 7.1.1); the churn sweep gives up after 1 s
                cc.closeAcked = true;
                cc.closeDeadline = nowNs() + 1'000'000'000ull;
                continue;
            }
            {
                std::string cl;
                appendFrame(cl, 0x8, body.substr(0, std::min<size_t>(body.size(), 2)));
                cc.st = St::Closing;
                send(idx, cl);
            }
            if (conns[idx].fd >= 0) {
                const bool expected = cc.leaving || stopping;
                closeConn(idx, !expected, "server sent close");
                if (expected && opt.scenario == "churn")
                    ++churnCycles;
            }
            return;
        }
        if (op == 0x9) { // ping
            std::string pong;
            appendFrame(pong, 0xA, body);
            send(idx, pong);
            continue;
        }
        if (op == 0xA)
            continue;
        if (op == 0x0) {
            cc.frag.append(body);
            if (fin) {
                std::string whole = std::move(cc.frag);
                cc.frag.clear();
                if (cc.fragOp == 0x1)
                    onText(idx, whole);
            }
            continue;
        }
        if (!fin) {
            cc.fragOp = op;
            cc.frag.assign(body);
            continue;
        }
        if (op == 0x1)
            onText(idx, body);
        // binary frames are not used by the scenarios; ignore them
    }
    Conn &c2 = conns[idx];
    if (c2.fd < 0)
        return;
    if (c2.inOff == c2.in.size()) {
        c2.in.clear();
        c2.inOff = 0;
    } else if (c2.inOff > 65536) {
        c2.in.erase(0, c2.inOff);
        c2.inOff = 0;
    }
}

void LoadGen::poll(int timeoutMs)
{
    epoll_event evs[1024];
    int n = epoll_wait(ep, evs, 1024, timeoutMs);
    for (int i = 0; i < n; ++i) {
        const size_t idx = size_t(evs[i].data.u64 & 0xffffffffu);
        const uint32_t gen = uint32_t(evs[i].data.u64 >> 32);
        if (idx >= conns.size() || conns[idx].gen != gen || conns[idx].fd < 0)
            continue;
        onEvent(idx, evs[i].events);
    }
}

int LoadGen::run()
{
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    std::signal(SIGPIPE, SIG_IGN);
    rngState ^= nowNs();
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (opt.tls) {
        tlsCtx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_min_proto_version(tlsCtx, TLS1_2_VERSION);
        SSL_CTX_set_verify(tlsCtx, SSL_VERIFY_NONE, nullptr); // loopback only (--host is checked)
        SSL_CTX_set_mode(tlsCtx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
    dst.sin_family = AF_INET;
    dst.sin_port = htons(uint16_t(opt.port));
    inet_pton(AF_INET, opt.host.c_str(), &dst.sin_addr);
    upgradeReq = "GET " + opt.path + " HTTP/1.1\r\nHost: " + opt.host + ":" + std::to_string(opt.port) +
                 "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n";
    pushPayloadJson = "{\"p\":\"" + std::string(size_t(opt.payload), 'x') + "\"}";
    if (opt.scenario == "connect")
        return runConnect();
    if (opt.scenario == "echo")
        return runEcho();
    if (opt.scenario == "broadcast")
        return runBroadcast();
    return runChurn();
}

} // namespace loadgen

int main(int argc, char **argv)
{
    loadgen::LoadGen g(loadgen::parseArgs(argc, argv));
    return g.run();
}
