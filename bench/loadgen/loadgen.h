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
// --plain (echo, broadcast): raw text frames, no Phoenix join or envelope, for plain servers
//             (bench/baselines/plain, qtraw --plain): echo counts each frame that comes back (in order, so
//             the oldest outstanding one); broadcast frames are "SEQ:xxx..." of --payload bytes, the server
//             sends each to every client, the publisher's own copy serving as its ack.
// The measured window (echo, broadcast): after connecting and 0.5 s of warm-up, or at --start-at (a Unix
// time, so that several generator processes count over the same window), for --seconds. The server's
// CPU time (utime + stime of the --server-pid process, all threads, in clock ticks) is read from /proc
// by this process at the very moments it opens and closes its counting window, so the CPU figure and the
// message count cover the same interval: window_s=, server_cpu_ticks= and the raw count (msgs= or
// deliveries=) are printed for bench/run to turn into server CPU per message.
// Output: exactly one line `loadgen: scenario=... key=value ...` on stdout; exit 0 when errors=0 (and
// lost=0 for broadcast), 1 otherwise, 2 on bad usage.
//
// Files: loadgen.h (types), loadgen.cpp (options, connections, framing), loadgen_scenarios.cpp (the
// scenarios), loadgen_plain.cpp (--plain: raw frames, no Phoenix envelope).
#pragma once

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

#include <netinet/in.h>

namespace loadgen {

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
    bool plain = false;     // raw frames, no Phoenix join or envelope (loadgen_plain.cpp)
    double startAt = 0;     // echo/broadcast: open the measured window at this Unix time (several generators)
};

Options parseArgs(int argc, char **argv);

uint64_t nowNs();
long readRssKb(long pid);
long countFds(long pid);
std::string loadAvg1();
// utime + stime of a whole process (all its threads) in clock ticks, from /proc/PID/stat; -1 if unreadable.
long long readCpuTicks(long pid);
double realtimeS();

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

// Appends one masked client frame (FIN set) to out.
void appendFrame(std::string &out, uint8_t opcode, std::string_view payload);

// Minimal V2 frame view: [join_ref, ref, topic, event, payload]. Header strings are taken verbatim
// (escapes are not decoded: the strings this tool matches on contain none).
struct Msg {
    std::string_view joinRef, ref, topic, event, payload;
};

bool parseMsg(std::string_view s, Msg &m);
uint64_t toU64(std::string_view v);
bool replyOk(std::string_view payload);

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
    std::string plainEchoFrame;  // --plain: --payload bytes
    uint64_t errors = 0;
    std::string firstError;
    bool stopping = false;
    bool batchingOut = false; // inside onReadable: sendText() queues, onReadable() flushes once

    // generic counters
    uint64_t opened = 0, joinedCount = 0, failed = 0;
    Stats lat;
    uint64_t msgs = 0; // echo replies counted in the measuring window
    bool measuring = false;
    // the measured window: server CPU sampled at its edges by this process, which also does the counting
    long long cpuStart = -1, cpuEnd = -1;
    uint64_t windowStartNs = 0, windowEndNs = 0;

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
    void readAll(size_t idx);
    void processInput(size_t idx);
    void onOpen(size_t idx);
    void onText(size_t idx, std::string_view text);
    void updateInterest(size_t idx);
    void poll(int timeoutMs);
    void pushEcho(size_t idx);
    void publish();
    void deliver(uint64_t seq, uint64_t now);
    // plain mode (loadgen_plain.cpp)
    void onPlainText(size_t idx, std::string_view text);
    void pushPlainEcho(size_t idx);
    void publishPlain();
    // the measured window: waits for --start-at (false when it had passed already), then samples the
    // server's CPU and opens the window; closeWindow() samples again
    bool startDue() const;
    void openWindow();
    void closeWindow();
    std::string windowFields() const;

    int runConnect();
    int runEcho();
    int runBroadcast();
    int runChurn();
};

} // namespace loadgen
