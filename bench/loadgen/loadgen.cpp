// wsserve_loadgen: a single-threaded epoll load generator speaking the Phoenix Channels V2 protocol over
// WebSocket (RFC 6455, its own minimal framing: masked client frames, text only, close/ping handled).
// No Qt, so the generator costs as little CPU per message as possible and is never the bottleneck.
//
// Scenarios (see docs/benchmarks.md):
//   connect   N idle joined clients: connect+join rate, server RSS before/after (KB per connection), then
//             heartbeat round trips (p50/p99) at the rate N clients produce (one per client per 30 s,
//             at least 50/s), round-robin over all clients, for --seconds.
//   echo      C clients, K pushes in flight each, payload of B bytes: msgs/s, p50/p99 send-to-reply.
//   broadcast N subscribers of topic `bench` plus one publisher pushing to the same topic (chat instance
//             with presence=false, or a baseline in broadcast mode); at most K broadcasts awaiting the
//             publisher's ok reply; deliveries/s and publish-to-last-delivery p50/p99; loss once deliveries
//             have stopped arriving for --drain-seconds (default 3).
//   churn     C concurrent loops connect -> join -> leave -> close for --seconds: joins/s; server RSS and
//             open fds at start and end.
// Output: exactly one line `loadgen: scenario=... key=value ...` on stdout; exit 0 when errors=0 (and
// lost=0 for broadcast), 1 otherwise, 2 on bad usage.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------- options
struct Options {
    std::string scenario = "echo";
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/socket/bench/websocket?vsn=2.0.0";
    std::string topic = "bench";
    int clients = 100;
    int inFlight = 1;
    int payload = 32;
    double seconds = 10;
    long serverPid = 0;
    int sourceAddresses = 16;
    int connectConcurrency = 256;
    double drainSeconds = 3;
    int maxUndelivered = 0; // broadcast: published but not yet delivered to every subscriber; 0 = 4 x in-flight
    int port2 = 0;          // a second node (cluster-broadcast): odd-numbered connections go there
    bool tls = false;       // wss:// (OpenSSL; the server's certificate is not verified: a loopback benchmark)
};

[[noreturn]] void usage(const char *msg)
{
    std::fprintf(
        stderr,
        "loadgen: %s\nusage: wsserve_loadgen --scenario connect|echo|broadcast|churn --port P [--host 127.0.0.1]\n"
        "  [--path /socket/ID/websocket?vsn=2.0.0] [--topic bench] [--clients N] [--in-flight K] [--payload BYTES]\n"
        "  [--seconds S] [--server-pid PID] [--source-addresses 16] [--connect-concurrency 256] [--drain-seconds 3]\n"
        "  [--max-undelivered 4xK] [--port2 P (odd-numbered connections to a second node)] [--tls]\n",
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
        o.sourceAddresses > 254 || o.connectConcurrency < 1)
        usage("bad numeric flag");
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

struct Stats {
    std::vector<uint32_t> us;
    void add(uint64_t ns)
    {
        if (us.size() < 50'000'000)
            us.push_back(uint32_t(std::min<uint64_t>(ns / 1000, 0xffffffffu)));
    }
    // Percentile by nearest rank; -1 without samples.
    long pct(double p)
    {
        if (us.empty())
            return -1;
        size_t k = size_t(p / 100.0 * double(us.size()));
        if (k >= us.size())
            k = us.size() - 1;
        std::nth_element(us.begin(), us.begin() + long(k), us.end());
        return long(us[k]);
    }
};

uint64_t rngState = 0x9e3779b97f4a7c15ull;
inline uint32_t rng32()
{
    rngState ^= rngState << 13;
    rngState ^= rngState >> 7;
    rngState ^= rngState << 17;
    return uint32_t(rngState >> 16);
}

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

// Minimal V2 frame view: [join_ref, ref, topic, event, payload]. Header strings are taken verbatim
// (escapes are not decoded: the strings this tool matches on contain none).
struct Msg {
    std::string_view joinRef, ref, topic, event, payload;
};

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

// ---------------------------------------------------------------------------------------------- connections
enum class St : uint8_t { Free, Connecting, TlsHandshake, Handshaking, Open, Closing };

struct Conn {
    int fd = -1;
    SSL *ssl = nullptr; // with --tls
    uint32_t gen = 0;
    St st = St::Free;
    bool joined = false;
    bool publisher = false;
    bool wantOut = false;
    bool leaving = false;
    bool closeAcked = false;
    std::string out;
    size_t outOff = 0;
    std::string in;
    size_t inOff = 0;
    std::string frag;
    uint8_t fragOp = 0;
    uint64_t nextRef = 2; // "1" is the join
    uint64_t tStart = 0;
    uint64_t closeDeadline = 0;
    std::deque<std::pair<uint64_t, uint64_t>> pending; // (ref, send time)
};

class LoadGen
{
public:
    explicit LoadGen(Options o)
        : opt(std::move(o))
    {}
    int run();

private:
    Options opt;
    int ep = -1;
    std::vector<Conn> conns;
    sockaddr_in dst{};
    SSL_CTX *tlsCtx = nullptr;
    std::string upgradeReq;
    std::string pushPayloadJson; // {"p":"xxx"}
    uint64_t errors = 0;
    std::string firstError;
    bool stopping = false;

    // generic counters
    uint64_t opened = 0, joinedCount = 0, failed = 0;
    Stats lat;
    uint64_t msgs = 0; // echo replies counted in the measuring window
    bool measuring = false;

    // broadcast
    int pubIdx = -1;
    uint64_t published = 0, acked = 0, deliveries = 0, fullyDelivered = 0;
    uint64_t windowStartSeq = UINT64_MAX, windowEndSeq = UINT64_MAX;
    std::vector<uint64_t> seqSent;
    std::vector<uint32_t> seqCount;
    int subscribers = 0;

    // churn
    uint64_t churnJoins = 0, churnCycles = 0;
    bool churnStop = false;

    void error(const char *what)
    {
        ++errors;
        if (firstError.empty())
            firstError = what;
    }
    int startConn(size_t idx);
    void closeConn(size_t idx, bool isError, const char *why);
    void continueTls(size_t idx);
    void send(size_t idx, std::string_view frameBytes);
    void sendText(size_t idx, std::string_view text);
    void flush(size_t idx);
    void onEvent(size_t idx, uint32_t events);
    void onReadable(size_t idx);
    void processInput(size_t idx);
    void onOpen(size_t idx);
    void onText(size_t idx, std::string_view text);
    void updateInterest(size_t idx);
    void poll(int timeoutMs);
    void pushEcho(size_t idx);
    void publish();

    int runConnect();
    int runEcho();
    int runBroadcast();
    int runChurn();
};

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
    if (c.st != St::Connecting)
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

void LoadGen::onOpen(size_t idx)
{
    std::string join = "[\"1\",\"1\",\"" + opt.topic + "\",\"phx_join\",{}]";
    sendText(idx, join);
}

void LoadGen::pushEcho(size_t idx)
{
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

void LoadGen::onText(size_t idx, std::string_view text)
{
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
        const uint64_t seq = toU64(m.payload.substr(s + 4, e - s - 4));
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
        return;
    }
    if (m.event == "phx_error")
        error("phx_error from server");
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
    measuring = true;
    const uint64_t t0 = nowNs();
    const uint64_t end = t0 + uint64_t(opt.seconds * 1e9);
    while (nowNs() < end)
        poll(5);
    measuring = false;
    const double el = double(nowNs() - t0) / 1e9;
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
        "p50_us=%ld p99_us=%ld max_us=%ld load1=%s errors=%llu%s%s\n",
        n, static_cast<unsigned long long>(joinedCount), opt.inFlight, opt.payload, opt.seconds, double(msgs) / el,
        lat.pct(50), lat.pct(99), lat.pct(100), loadAvg1().c_str(), static_cast<unsigned long long>(errors),
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
    while (nowNs() < t) {
        pump();
        poll(1);
    }
    measuring = true;
    const uint64_t firstSeq = published;
    windowStartSeq = firstSeq;
    const uint64_t t0 = nowNs();
    const uint64_t end = t0 + uint64_t(opt.seconds * 1e9);
    const uint64_t delivBefore = deliveries;
    while (nowNs() < end) {
        pump();
        poll(1);
    }
    measuring = false;
    windowEndSeq = published;
    const double el = double(nowNs() - t0) / 1e9;
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
        "broadcasts_per_s=%.0f deliveries_per_s=%.0f p50_us=%ld p99_us=%ld max_us=%ld lost=%llu load1=%s "
        "errors=%llu%s%s\n",
        subscribers, opt.inFlight, opt.payload, opt.seconds, static_cast<unsigned long long>(windowEndSeq - firstSeq),
        double(windowEndSeq - firstSeq) / el, double(delivWindow) / el, lat.pct(50), lat.pct(99), lat.pct(100),
        static_cast<unsigned long long>(lost), loadAvg1().c_str(), static_cast<unsigned long long>(errors),
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

} // namespace

int main(int argc, char **argv)
{
    LoadGen g(parseArgs(argc, argv));
    return g.run();
}
