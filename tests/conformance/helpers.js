// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Shared helpers of the conformance suite: start/stop the wsserve binary, build official phoenix@1.8.16
// Socket objects (ws as the transport), and promise helpers that wait on events with an upper bound.
// Nothing here sleeps: every timer is a deadline that fails the waiting test.
'use strict';

const { spawn } = require('node:child_process');
const assert = require('node:assert/strict');
const { before, after, afterEach } = require('node:test');
const WebSocket = require('ws');
const { Socket, Presence } = require('phoenix');

const WSSERVE_BIN = process.env.WSSERVE_BIN || '/work/main/build/dev/app/wsserve';
const HOST = '127.0.0.1';
const LISTENING_RE = /^wsserve: listening on (wss?):\/\/([^\s]+):(\d+)$/;

// Every server still running; killed hard if the test process exits without stopping them.
const liveServers = new Set();
process.on('exit', () => {
    for (const server of liveServers) {
        try {
            server.child.kill('SIGKILL');
        } catch {
            // already gone
        }
    }
});

// --------------------------------------------------------------------------------------------------
// Deadlines and event waiting

// Rejects with `label` when `promise` has not settled within `ms`.
function withTimeout(promise, ms, label) {
    let timer;
    const deadline = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
    });
    return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

// Resolves with the arguments of the first call of a callback, registered via `register(cb)`.
// `predicate(...args)` (optional) filters the calls that count.
function once(register, { timeoutMs = 5000, label = 'callback', predicate = () => true } = {}) {
    return withTimeout(
        new Promise((resolve) => {
            let done = false;
            register((...args) => {
                if (!done && predicate(...args)) {
                    done = true;
                    resolve(args);
                }
            });
        }),
        timeoutMs,
        label,
    );
}

// An append-only log of things that happened; tests wait for entries matching a predicate.
class EventLog {
    constructor(name = 'events') {
        this.name = name;
        this.items = [];
        this.waiters = new Set();
    }

    add(item) {
        this.items.push(item);
        for (const waiter of [...this.waiters]) {
            waiter.check();
        }
    }

    filter(predicate) {
        return this.items.filter(predicate);
    }

    count(predicate) {
        return this.items.filter(predicate).length;
    }

    // Resolves with the matching entries once at least `count` entries match (entries already logged
    // count too). Fails after `timeoutMs` with the log's content in the message.
    waitFor(predicate, { count = 1, timeoutMs = 5000, label = 'matching event' } = {}) {
        return new Promise((resolve, reject) => {
            const waiter = {
                check: () => {
                    const matches = this.items.filter(predicate);
                    if (matches.length >= count) {
                        clearTimeout(waiter.timer);
                        this.waiters.delete(waiter);
                        resolve(count === 1 ? matches[0] : matches);
                        return true;
                    }
                    return false;
                },
            };
            if (waiter.check()) {
                return;
            }
            waiter.timer = setTimeout(() => {
                this.waiters.delete(waiter);
                reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} × ${label} in ${this.name}; ` +
                                 `saw ${this.items.length} entries:\n${this.describe()}`));
            }, timeoutMs);
            this.waiters.add(waiter);
        });
    }

    describe(limit = 40) {
        const lines = this.items.slice(-limit).map((item) => {
            try {
                return JSON.stringify(item, (key, value) =>
                    value instanceof ArrayBuffer ? `<ArrayBuffer ${hex(value)}>` : value);
            } catch {
                return String(item);
            }
        });
        return lines.join('\n');
    }
}

// Generic form required by the brief: waits until `predicate()` is true, re-checking whenever
// `log` gets a new entry (no polling, no sleeps).
function waitFor(log, predicate, timeoutMs = 5000, label = 'condition') {
    return log.waitFor(() => predicate(), { timeoutMs, label });
}

// --------------------------------------------------------------------------------------------------
// The server process

// Spawns wsserve on 127.0.0.1 with a free port and the given `--instance` specs; resolves once the
// first stdout line announced the port.
async function startServer(instances, { extraArgs = [], startTimeoutMs = 10000, admin = false } = {}) {
    // With `admin`, the admin API listens on a free port too (its URL is the second stdout line).
    const args = ['--headless', '--bind', HOST, '--port', '0', ...(admin ? ['--admin-port', '0'] : ['--no-admin'])];
    for (const spec of instances) {
        args.push('--instance', spec);
    }
    args.push(...extraArgs);
    const child = spawn(WSSERVE_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = {
        child,
        args,
        port: 0,
        stderrText: '',
        stdoutLines: [],
        exit: null, // {code, signal, atMs}
    };
    liveServers.add(server);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
        server.stderrText += chunk;
        if (server.stderrText.length > 1_000_000) {
            server.stderrText = server.stderrText.slice(-500_000);
        }
    });
    server.exited = new Promise((resolve) => {
        const done = (code, signal, error) => {
            if (!server.exit) {
                server.exit = { code, signal, atMs: performance.now(), ...(error ? { error: error.message } : {}) };
                liveServers.delete(server);
            }
            resolve(server.exit);
        };
        child.on('exit', (code, signal) => done(code, signal));
        child.on('error', (error) => done(null, null, error)); // e.g. ENOENT: no 'exit' follows
    });
    server.stderr = () => server.stderrText;
    server.stderrTail = (n = 40) => server.stderrText.split('\n').slice(-n).join('\n');
    server.scheme = 'ws'; // 'wss' when the server speaks TLS (its listening line says so)
    server.url = (instanceId, host = HOST) => `${server.scheme}://${host}:${server.port}/socket/${instanceId}`;

    const firstLine = new Promise((resolve, reject) => {
        let buffered = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk) => {
            buffered += chunk;
            let nl;
            while ((nl = buffered.indexOf('\n')) >= 0) {
                server.stdoutLines.push(buffered.slice(0, nl));
                buffered = buffered.slice(nl + 1);
                if (server.stdoutLines.length === 1) {
                    resolve(server.stdoutLines[0]);
                }
            }
        });
        child.on('error', (error) => reject(new Error(`cannot start ${WSSERVE_BIN}: ${error.message}`)));
        child.on('exit', (code, signal) =>
            reject(new Error(`wsserve exited (code ${code}, signal ${signal}) before announcing its port; ` +
                             `stderr:\n${server.stderrTail()}`)));
    });
    let line;
    try {
        line = await withTimeout(firstLine, startTimeoutMs, `wsserve ${args.join(' ')} announcing its port`);
    } catch (error) {
        child.kill('SIGKILL');
        await server.exited;
        throw new Error(`${error.message}\nstderr:\n${server.stderrTail()}`);
    }
    const match = LISTENING_RE.exec(line);
    if (!match) {
        child.kill('SIGKILL');
        await server.exited;
        assert.fail(`first stdout line is not "wsserve: listening on ws[s]://HOST:PORT": ${JSON.stringify(line)}`);
    }
    server.scheme = match[1];
    server.port = Number(match[3]);
    assert.ok(server.port > 0 && server.port < 65536, `port ${server.port}`);
    if (admin) {
        const adminLine = await withTimeout(new Promise((resolve) => {
            const check = () => (server.stdoutLines.length >= 2 ? resolve(server.stdoutLines[1]) : setImmediate(check));
            check();
        }), startTimeoutMs, 'the admin API line');
        server.adminPort = Number(/:(\d+)$/.exec(adminLine)[1]);
    }

    // SIGINT, then the exit status (code 0 expected) and how long it took; SIGKILL after `timeoutMs`.
    server.stop = async ({ timeoutMs = 5000 } = {}) => {
        if (server.exit) {
            return { ...server.exit, elapsedMs: 0, alreadyExited: true };
        }
        const sentAt = performance.now();
        child.kill('SIGINT');
        let exit;
        try {
            exit = await withTimeout(server.exited, timeoutMs, 'wsserve exiting after SIGINT');
        } catch (error) {
            child.kill('SIGKILL');
            await server.exited;
            throw new Error(`${error.message}; stderr:\n${server.stderrTail()}`);
        }
        return { ...exit, elapsedMs: exit.atMs - sentAt, alreadyExited: false };
    };
    return server;
}

// Registers before/after hooks for one test file: one server for the file, every Socket created via
// `h.socket()` disconnected after each test, and the server stopped with SIGINT at the end, asserting
// that it exits 0 (and did not exit earlier, e.g. by crashing).
function serverPerFile(instances, options = {}) {
    const h = {
        server: null,
        sockets: new Set(),
    };
    before(async () => {
        h.server = await startServer(instances, options);
    });
    afterEach(async () => {
        await disconnectAll(h.sockets);
    });
    after(async () => {
        await disconnectAll(h.sockets);
        if (!h.server) {
            return;
        }
        const crashedEarlier = h.server.exit;
        const result = await h.server.stop();
        assert.equal(crashedEarlier, null,
                     `wsserve exited during the tests: ${JSON.stringify(crashedEarlier)}\n${h.server.stderrTail()}`);
        assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null },
                         `wsserve exit status after SIGINT; stderr:\n${h.server.stderrTail()}`);
    });
    // A connected (or connecting) phoenix Socket to instance `instanceId`, cleaned up after the test.
    h.socket = (instanceId, opts = {}) => {
        const client = makeSocket(h.server.url(instanceId), opts);
        h.sockets.add(client);
        return client;
    };
    // Same, resolved once the socket is open.
    h.connect = async (instanceId, opts = {}) => {
        const client = h.socket(instanceId, opts);
        await client.log.waitFor((e) => e.type === 'open', { timeoutMs: 5000, label: `socket open to ${instanceId}` });
        return client;
    };
    return h;
}

// --------------------------------------------------------------------------------------------------
// Phoenix client side

// A ws WebSocket subclass that reports every frame the phoenix client sends (still ws underneath).
function recordingTransport(onSend) {
    return class WebSocketTransport extends WebSocket {
        send(data, ...rest) {
            onSend(data);
            return super.send(data, ...rest);
        }
    };
}

function decodeSent(data) {
    if (typeof data === 'string') {
        try {
            return { type: 'sent', frame: JSON.parse(data) };
        } catch {
            return { type: 'sent', text: data };
        }
    }
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { type: 'sent', binary: Buffer.from(bytes).toString('hex') };
}

// Builds `new Socket(url, {transport, heartbeatIntervalMs: 1000, ...opts})` and connects it.
// Returns {socket, log}: log holds {type:"open"}, {type:"close", code, reason, wasClean},
// {type:"error"}, {type:"msg", msg} (every decoded incoming frame) and {type:"sent", frame|binary}.
function makeSocket(url, opts = {}) {
    const { connect = true, ...socketOpts } = opts;
    const log = new EventLog(`socket ${url}`);
    const socket = new Socket(url, {
        transport: recordingTransport((data) => log.add(decodeSent(data))),
        heartbeatIntervalMs: 1000,
        ...socketOpts,
    });
    socket.onOpen(() => log.add({ type: 'open', protocol: socket.conn && socket.conn.protocol }));
    socket.onClose((event) => log.add({ type: 'close', code: event.code, reason: String(event.reason || ''), wasClean: event.wasClean }));
    socket.onError((error) => log.add({ type: 'error', message: String((error && error.message) || error) }));
    socket.onMessage((msg) => log.add({ type: 'msg', msg }));
    if (connect) {
        socket.connect();
    }
    return { socket, log, url };
}

async function disconnectAll(sockets) {
    const pending = [];
    for (const client of sockets) {
        pending.push(new Promise((resolve) => client.socket.disconnect(resolve)));
    }
    sockets.clear();
    // disconnect waits for the close handshake (bounded by the client itself to ~1.5 s)
    await withTimeout(Promise.all(pending), 5000, 'disconnecting sockets').catch(() => {});
}

// Resolves with {status, response} of a Push (ok, error or timeout, whichever comes first).
function outcome(push, timeoutMs = 5000, label = `push ${push.event}`) {
    return withTimeout(
        new Promise((resolve) => {
            for (const status of ['ok', 'error', 'timeout']) {
                push.receive(status, (response) => resolve({ status, response }));
            }
        }),
        timeoutMs + 1000,
        label,
    );
}

// Pushes and resolves with {status, response}; the client-side push timeout is `timeoutMs`.
function pushAndWait(channel, event, payload, timeoutMs = 3000) {
    return outcome(channel.push(event, payload, timeoutMs), timeoutMs, `${channel.topic} ${event} reply`);
}

// Joins and resolves with {status, response} of the first join outcome.
function joinAndWait(channel, timeoutMs = 5000) {
    return outcome(channel.join(timeoutMs), timeoutMs, `${channel.topic} join reply`);
}

// Joins and asserts ok; resolves with the join response.
async function joinOk(channel, timeoutMs = 5000) {
    const result = await joinAndWait(channel, timeoutMs);
    assert.equal(result.status, 'ok', `join ${channel.topic}: ${JSON.stringify(result)}`);
    return result.response;
}

// Logs the given channel events (payload, ref, joinRef) as {event, payload, ref, joinRef}.
function recordChannel(channel, events) {
    const log = new EventLog(`channel ${channel.topic}`);
    for (const event of events) {
        channel.on(event, (payload, ref, joinRef) => log.add({ event, payload, ref, joinRef }));
    }
    return log;
}

// A round trip on the socket's connection (heartbeat + reply). The server handles a connection's frames
// in order, so anything it sent this client before answering has arrived once this resolves.
function roundTrip(socket, timeoutMs = 3000) {
    return withTimeout(
        new Promise((resolve, reject) => {
            if (!socket.ping((rtt) => resolve(rtt))) {
                reject(new Error('socket not connected'));
            }
        }),
        timeoutMs,
        'heartbeat round trip',
    );
}

// Incoming-frame predicate helper.
function isMsg(topic, event, extra = () => true) {
    return (e) => e.type === 'msg' && e.msg.topic === topic && e.msg.event === event && extra(e.msg);
}

// --------------------------------------------------------------------------------------------------
// Misc

function hex(buffer) {
    return Buffer.from(buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : buffer).toString('hex');
}

// JSON round trip: turns null-prototype objects (the Presence state) into plain ones for deepEqual.
function plain(value) {
    return JSON.parse(JSON.stringify(value));
}

module.exports = {
    WSSERVE_BIN,
    HOST,
    WebSocket,
    Socket,
    Presence,
    EventLog,
    withTimeout,
    once,
    waitFor,
    startServer,
    serverPerFile,
    makeSocket,
    disconnectAll,
    outcome,
    pushAndWait,
    joinAndWait,
    joinOk,
    recordChannel,
    roundTrip,
    isMsg,
    hex,
    plain,
};
