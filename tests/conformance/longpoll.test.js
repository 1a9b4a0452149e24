// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Phoenix's long-poll transport (/socket/<id>/longpoll) with the official phoenix@1.8.16 client,
// `transport: LongPoll`, running its XHR code path (xhr2, pinned, as window.XMLHttpRequest):
// join, push, broadcasts to and from WebSocket clients on the same topic, the client list's transport,
// recovery after an instance restart; then raw HTTP: V1, bad tokens, bodies, methods, vsn, origin, limits.
'use strict';

const { test, before } = require('node:test');
const crypto = require('node:crypto');
const assert = require('node:assert/strict');
const http = require('node:http');
const XMLHttpRequest = require('xhr2');

const SECRET = crypto.randomBytes(32).toString('hex');
let jose;
before(async () => {
    jose = await import('jose');
});
const mint = (sub) => new jose.SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + 600).sign(new TextEncoder().encode(SECRET));

globalThis.XMLHttpRequest = XMLHttpRequest; // what a browser has: phoenix's Ajax then uses XHR, not fetch
const { Socket, LongPoll } = require('phoenix');
const { serverPerFile, joinOk, pushAndWait, recordChannel, EventLog, withTimeout } = require('./helpers');

const h = serverPerFile(['lp:chat', 'small:chat:max_clients=1', 'strict:chat:check_origin=https://game.example',
                         'idle:chat:idle_timeout_ms=1000', `sec:chat:auth=jwt,jwt_secret=${SECRET}`,
                         `rtsec:realtime:auth=jwt,jwt_secret=${SECRET}`],
                        { admin: true });

function longPollSocket(id, opts = {}) {
    const log = new EventLog(`long-poll socket ${id}`);
    const socket = new Socket(h.server.url(id), { transport: LongPoll, longpollerTimeout: 15000, ...opts });
    socket.onOpen(() => log.add({ type: 'open' }));
    socket.onClose((event) => log.add({ type: 'close', code: event.code, reason: event.reason }));
    socket.onError((error) => log.add({ type: 'error', error: String(error) }));
    socket.connect();
    h.sockets.add({ socket });
    return { socket, log };
}

// One raw HTTP request; resolves with {status, headers, body, json}.
function request(method, path, { body = null, headers = {} } = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: h.server.port, method, path, headers }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => { text += chunk; });
            res.on('end', () => {
                let json = null;
                try { json = JSON.parse(text); } catch { /* not JSON */ }
                resolve({ status: res.statusCode, headers: res.headers, body: text, json });
            });
        });
        req.on('error', reject);
        if (body !== null) {
            if (!('Transfer-Encoding' in headers)) {
                req.setHeader('Content-Length', Buffer.byteLength(body)); // else node sends it chunked
            }
            req.write(body);
        }
        req.end();
    });
}

function admin(method, path) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: h.server.adminPort, method, path }, (res) => {
            let text = '';
            res.on('data', (chunk) => { text += chunk; });
            res.on('end', () => resolve({ status: res.statusCode, json: text ? JSON.parse(text) : null }));
        });
        req.on('error', reject);
        req.end();
    });
}

test('the JS client over long-poll joins, pushes, and exchanges broadcasts with WebSocket clients', { timeout: 20000 }, async () => {
    const lp = longPollSocket('lp');
    await lp.log.waitFor((e) => e.type === 'open', { label: 'long-poll open' });
    const lpChannel = lp.socket.channel('room:mixed', { name: 'poller' });
    const atLp = recordChannel(lpChannel, ['shout']);
    assert.equal((await joinOk(lpChannel)).name, 'poller');

    const ws = await h.connect('lp');
    const wsChannel = ws.socket.channel('room:mixed', { name: 'socket' });
    const atWs = recordChannel(wsChannel, ['shout']);
    await joinOk(wsChannel);

    assert.deepEqual(await pushAndWait(lpChannel, 'shout', { from: 'long-poll' }), { status: 'ok', response: {} });
    await atWs.waitFor((e) => e.payload.from === 'long-poll', { label: 'long-poll push at the WebSocket client' });
    await atLp.waitFor((e) => e.payload.from === 'long-poll', { label: 'own broadcast back over long-poll' });
    assert.deepEqual(await pushAndWait(wsChannel, 'shout', { from: 'websocket' }), { status: 'ok', response: {} });
    await atLp.waitFor((e) => e.payload.from === 'websocket', { label: 'WebSocket push at the long-poll client' });

    // Several pushes in one tick go out as one POST batch, in order.
    for (let i = 0; i < 5; ++i) {
        lpChannel.push('shout', { seq: i });
    }
    const seqs = await atWs.waitFor((e) => 'seq' in e.payload, { count: 5, label: 'the batch at the WebSocket client' });
    assert.deepEqual(seqs.map((e) => e.payload.seq), [0, 1, 2, 3, 4]);

    // The client list says which transport each client uses.
    let clients = [];
    const deadline = performance.now() + 5000;
    while (clients.length < 2 && performance.now() < deadline) {
        clients = (await admin('GET', '/api/instances/lp/clients')).json;
    }
    assert.deepEqual(clients.map((c) => c.transport).sort(), ['longpoll', 'websocket']);
});

test('after an instance restart the long-poll client gets 410, reconnects and rejoins', { timeout: 30000 }, async () => {
    const lp = longPollSocket('lp');
    const lpChannel = lp.socket.channel('room:restart', { name: 'poller' });
    const joins = new EventLog('long-poll joins');
    lpChannel.join(5000).receive('ok', () => joins.add({ at: performance.now() }));
    await joins.waitFor(() => true, { label: 'first join' });

    assert.equal((await admin('POST', '/api/instances/lp/restart')).status, 200);
    const closed = await lp.log.waitFor((e) => e.type === 'close', { timeoutMs: 15000, label: 'session gone' });
    // The held poll is answered 410 (session gone); a poll that races the restart gets 503 (not running),
    // which the client treats as a network error. It reconnects either way.
    assert.ok([3410, 1011].includes(closed.code), JSON.stringify(closed));
    await joins.waitFor(() => true, { count: 2, timeoutMs: 15000, label: 'rejoined after the restart' });
    assert.deepEqual(await pushAndWait(lpChannel, 'shout', { back: true }), { status: 'ok', response: {} });
});

// Opens a raw session: resolves with its token.
async function openSession(id, query = 'vsn=2.0.0') {
    const opened = await request('GET', `/socket/${id}/longpoll?${query}`);
    assert.equal(opened.json.status, 410, JSON.stringify(opened));
    assert.ok(opened.json.token);
    return opened.json.token;
}

test('raw long-poll: V1 messages, the poll answers, and session tokens', { timeout: 30000 }, async () => {
    const token = await openSession('lp', 'vsn=1.0.0');
    const path = `/socket/lp/longpoll?vsn=1.0.0&token=${encodeURIComponent(token)}`;
    const join = JSON.stringify({ topic: 'room:v1', event: 'phx_join', payload: {}, ref: '1', join_ref: '1' });
    const posted = await request('POST', path, { body: join, headers: { 'Content-Type': 'application/json' } });
    assert.deepEqual([posted.status, posted.json], [200, { status: 200 }]);
    const polled = await request('GET', path);
    assert.equal(polled.json.status, 200);
    const messages = polled.json.messages.map((m) => JSON.parse(m));
    assert.deepEqual(messages[0], { topic: 'room:v1', event: 'phx_reply', ref: '1',
                                    payload: { status: 'ok', response: { name: messages[0].payload.response.name, client_id: messages[0].payload.response.client_id } } });
    // The token also travels in the X-Phoenix-LongPoll-Token header.
    const viaHeader = await request('POST', '/socket/lp/longpoll?vsn=1.0.0',
                                    { body: join.replace('phx_join', 'ping'), headers: { 'X-Phoenix-LongPoll-Token': token } });
    assert.equal(viaHeader.json.status, 200);

    // A forged or foreign token: POST 410, GET a new session (410 with a fresh token).
    const forged = token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const post = await request('POST', `/socket/lp/longpoll?token=${encodeURIComponent(forged)}`, { body: '[]' });
    assert.deepEqual([post.status, post.json], [410, { status: 410 }]);
    const get = await request('GET', `/socket/lp/longpoll?vsn=2.0.0&token=${encodeURIComponent(forged)}`);
    assert.equal(get.json.status, 410);
    assert.notEqual(get.json.token, forged);
    const other = await request('POST', `/socket/small/longpoll?token=${encodeURIComponent(token)}`, { body: '[]' });
    assert.equal(other.json.status, 410, 'a token is valid for its instance only');
});

test('raw long-poll: bad input gets a clear status', { timeout: 30000 }, async () => {
    const token = await openSession('lp');
    const path = `/socket/lp/longpoll?vsn=2.0.0&token=${encodeURIComponent(token)}`;
    const cases = [
        ['unsupported vsn', request('GET', '/socket/lp/longpoll?vsn=3.0.0'), 403],
        ['a method other than GET/POST', request('PUT', path, { body: 'x' }), 405],
        ['chunked body', request('POST', path, { body: '[]', headers: { 'Transfer-Encoding': 'chunked' } }), 411],
        ['a body over 8 MiB', request('POST', path, { headers: { 'Content-Length': String(9 * 1024 * 1024) } }), 413],
        ['unknown instance', request('GET', '/socket/nope/longpoll'), 404],
        ['a foreign origin', request('GET', '/socket/strict/longpoll?vsn=2.0.0', { headers: { Origin: 'http://evil.example' } }), 403],
    ];
    for (const [label, pending, status] of cases) {
        const answer = await withTimeout(pending, 5000, label);
        assert.equal(answer.status, status, `${label}: ${answer.status} ${answer.body}`);
    }
    // A malformed message ends the session (as 1007 would close a WebSocket): 400, then 410.
    const bad = await request('POST', path, { body: '["1", "1", "room:x"', headers: { 'Content-Type': 'application/x-ndjson' } });
    assert.deepEqual([bad.status, bad.json], [400, { status: 400 }]);
    assert.equal((await request('POST', path, { body: '[]' })).json.status, 410);
    // A message over max_frame_bytes: 413 and the session ends.
    const token2 = await openSession('lp');
    const big = JSON.stringify([null, '1', 'room:x', 'shout', { blob: 'x'.repeat(1100 * 1024) }]);
    const tooBig = await request('POST', `/socket/lp/longpoll?token=${encodeURIComponent(token2)}`, { body: big });
    assert.equal(tooBig.status, 413);
    // max_clients counts long-poll sessions: the second one on `small` gets 503.
    await openSession('small');
    assert.equal((await request('GET', '/socket/small/longpoll?vsn=2.0.0')).status, 503);
    // CORS pre-flight, as Phoenix answers it.
    const preflight = await request('OPTIONS', path, { headers: { 'Access-Control-Request-Headers': 'content-type' } });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers['access-control-allow-origin'], '*');
    assert.equal(preflight.headers['access-control-allow-headers'], 'content-type');
});

test('raw long-poll: an empty poll is answered 204 after the 10 s window; an unpolled session expires', { timeout: 30000 }, async () => {
    const token = await openSession('lp');
    const started = performance.now();
    const poll = request('GET', `/socket/lp/longpoll?vsn=2.0.0&token=${encodeURIComponent(token)}`);

    // Meanwhile a session on `idle` (idle_timeout_ms=1000) that nobody polls ends by itself.
    const idleToken = await openSession('idle');
    const clientCount = async (count, label) => { // the client list is published at most every 500 ms
        const deadline = performance.now() + 8000;
        for (;;) {
            const clients = (await admin('GET', '/api/instances/idle/clients')).json;
            if (clients.length === count) {
                return;
            }
            assert.ok(performance.now() < deadline, `${label}: ${JSON.stringify(clients)}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
    };
    await clientCount(1, 'the session is listed');
    await clientCount(0, 'the unpolled session expired');
    assert.equal((await request('POST', `/socket/idle/longpoll?token=${encodeURIComponent(idleToken)}`, { body: '[]' })).json.status, 410);

    const answer = await poll;
    assert.deepEqual([answer.status, answer.json.status, answer.json.messages, answer.json.token], [200, 204, [], token]);
    assert.ok(performance.now() - started >= 9000, 'the poll waited for the window');
});

test('auth=jwt: long-poll takes the JS authToken option; the REST API takes a bearer token', { timeout: 15000 }, async () => {
    const token = await mint('alice');
    const lp = longPollSocket('sec', { authToken: token });
    const channel = lp.socket.channel('room:auth');
    await joinOk(channel);
    assert.deepEqual(await pushAndWait(channel, 'shout', { ok: true }), { status: 'ok', response: {} });

    // Without a token the session is refused with {"status": 403}: the client stops (1008 "forbidden").
    const refused = longPollSocket('sec');
    const closed = await refused.log.waitFor((e) => e.type === 'close', { label: 'refused long-poll' });
    assert.equal(closed.code, 1008);

    const body = JSON.stringify({ messages: [{ topic: 'room', event: 'e', payload: {} }] });
    const headers = { 'Content-Type': 'application/json' };
    assert.equal((await request('POST', '/socket/rtsec/api/broadcast', { body, headers })).status, 401);
    const bad = await request('POST', '/socket/rtsec/api/broadcast',
                              { body, headers: { ...headers, Authorization: 'Bearer not.a.token' } });
    assert.equal(bad.status, 401);
    assert.doesNotMatch(bad.body, /not\.a\.token/);
    assert.equal((await request('POST', '/socket/rtsec/api/broadcast',
                                { body, headers: { ...headers, Authorization: `Bearer ${token}` } })).status, 202);
});
