// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// wss:// with the official phoenix client: a server started with --tls self-signed, its certificate
// trusted through ws's `ca` option and through NODE_EXTRA_CA_CERTS (a child node process), and refused
// when it is not trusted.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const { WebSocket, Socket, startServer, joinOk, pushAndWait, withTimeout, EventLog } = require('./helpers');

let server;
let dataDir;
let ca;

before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsserve-tls-'));
    server = await startServer(['echo1:echo'], { extraArgs: ['--tls', 'self-signed', '--data-dir', dataDir] });
    ca = fs.readFileSync(path.join(dataDir, 'tls-self-signed.crt'));
});

after(async () => {
    if (server) {
        const result = await server.stop();
        assert.deepEqual({ code: result.code, signal: result.signal }, { code: 0, signal: null });
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
});

// A phoenix Socket whose ws transport trusts `trusted` (a PEM buffer), or the default store when null.
function tlsSocket(url, trusted) {
    const log = new EventLog(`socket ${url}`);
    class TrustingWebSocket extends WebSocket {
        constructor(address, protocols) {
            super(address, protocols, trusted ? { ca: trusted } : {});
        }
    }
    const socket = new Socket(url, { transport: TrustingWebSocket, heartbeatIntervalMs: 1000, reconnectAfterMs: () => 60000 });
    socket.onOpen(() => log.add({ type: 'open' }));
    socket.onError((error) => log.add({ type: 'error', message: String((error && error.message) || error) }));
    socket.onClose((event) => log.add({ type: 'close', code: event.code }));
    socket.connect();
    return { socket, log };
}

test('the listening line says wss:// and the printed fingerprint is the certificate\'s', () => {
    assert.equal(server.scheme, 'wss');
    assert.match(server.stdoutLines[0], /^wsserve: listening on wss:\/\/127\.0\.0\.1:\d+$/);
    const fingerprint = new crypto.X509Certificate(ca).fingerprint256;
    assert.ok(server.stdoutLines.some((line) => line.includes(`SHA-256 fingerprint ${fingerprint}`)),
              `stdout: ${server.stdoutLines.join('\n')}`);
});

test('the phoenix client joins and pushes over wss:// with the certificate trusted', { timeout: 15000 }, async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
        const { socket, log } = tlsSocket(server.url('echo1', host), ca);
        try {
            await log.waitFor((e) => e.type === 'open', { timeoutMs: 5000, label: `open over wss to ${host}` });
            const channel = socket.channel('room:tls', { over: 'tls' });
            await joinOk(channel);
            const payload = { text: 'secret ✓', big: 'y'.repeat(100000) };
            assert.deepEqual(await pushAndWait(channel, 'ping', payload), { status: 'ok', response: payload });
        } finally {
            await new Promise((resolve) => socket.disconnect(resolve));
        }
    }
});

test('an untrusted certificate is refused by the client', { timeout: 15000 }, async () => {
    const { socket, log } = tlsSocket(server.url('echo1'), null);
    try {
        await log.waitFor((e) => e.type === 'error' || e.type === 'close', { timeoutMs: 5000, label: 'refusal' });
        assert.equal(log.count((e) => e.type === 'open'), 0);
    } finally {
        await new Promise((resolve) => socket.disconnect(resolve));
    }
});

test('NODE_EXTRA_CA_CERTS trusts the certificate for a plain phoenix Socket', { timeout: 20000 }, async () => {
    const script = `
        const { Socket } = require('phoenix');
        const WebSocket = require('ws');
        const socket = new Socket(process.argv[1], { transport: WebSocket, reconnectAfterMs: () => 60000 });
        socket.onError((e) => { console.log('error ' + ((e && e.message) || e)); process.exit(1); });
        socket.connect();
        const channel = socket.channel('room:extra', {});
        channel.join().receive('ok', () => {
            channel.push('ping', { n: 1 }).receive('ok', (reply) => {
                console.log('reply ' + JSON.stringify(reply));
                socket.disconnect(() => process.exit(0));
            });
        });
    `;
    const child = spawn(process.execPath, ['-e', script, server.url('echo1')], {
        cwd: __dirname,
        env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(dataDir, 'tls-self-signed.crt') },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.stderr.on('data', (chunk) => { out += chunk; });
    const code = await withTimeout(new Promise((resolve) => child.on('exit', resolve)), 15000, 'child client');
    assert.equal(code, 0, out);
    assert.match(out, /reply \{"n":1\}/);
});
