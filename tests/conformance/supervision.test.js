// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Fault injection end to end with the unmodified JS client: a stall longer than the watchdog (detected,
// sockets shut, instance restarted, every client back and joined), a stall shorter than the watchdog
// (nothing restarts), repeated failures (Failed, stays down until started), and a channel crash.
// Each test reports the time from the fault to all clients rejoined (t.diagnostic, shown by the runner).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { serverPerFile, pushAndWait, roundTrip, EventLog } = require('./helpers');

const h = serverPerFile(
    ['hang:chaos:watchdog_ms=1000', 'short:chaos:watchdog_ms=3000', 'brittle:chaos:max_restarts=1', 'crash:chaos'],
    { admin: true });

// Joins `count` JS sockets to `instance`, one channel each; every join ok is logged with its join_ref.
async function joinClients(instance, count) {
    const clients = [];
    for (let i = 0; i < count; ++i) {
        const { socket, log } = await h.connect(instance);
        const channel = socket.channel(`room:${i % 3}`, { name: `player${i}` });
        const joins = new EventLog(`${instance} client ${i} joins`);
        channel.join(3000).receive('ok', () => joins.add({ joinRef: channel.joinRef(), at: performance.now() }));
        await joins.waitFor(() => true, { label: `first join of client ${i}` });
        clients.push({ socket, log, channel, joins });
    }
    return clients;
}

// Resolves when every client has joined `times` times; returns the time the last one did.
async function allJoined(clients, times, timeoutMs) {
    const lasts = await Promise.all(clients.map(async (c) =>
        (await c.joins.waitFor(() => true, { count: times, timeoutMs, label: `join #${times}` }))[times - 1].at));
    return Math.max(...lasts);
}

function admin(method, path) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: h.server.adminPort, method, path }, (res) => {
            let body = '';
            res.on('data', (chunk) => { body += chunk; });
            res.on('end', () => resolve({ status: res.statusCode, json: body ? JSON.parse(body) : null }));
        });
        req.on('error', reject);
        req.end();
    });
}

async function waitForState(instance, state, timeoutMs = 10000) {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
        const { json } = await admin('GET', `/api/instances/${instance}`);
        if (json.state === state) {
            return json;
        }
        assert.ok(performance.now() < deadline, `instance ${instance} is ${json.state}, expected ${state}`);
        await new Promise((resolve) => setImmediate(resolve));
    }
}

test('stall longer than the watchdog: detected, sockets shut, restarted, every JS client rejoins', { timeout: 20000 }, async (t) => {
    const clients = await joinClients('hang', 6);
    const faultAt = performance.now();
    clients[0].channel.push('stall', { ms: 8000 });
    // The supervisor notices within ~1 s, shuts the sockets down and starts a fresh instance; the clients
    // reconnect (10, 50, 100 ms ... backoff) and rejoin every channel with new join_refs, on their own.
    const lastRejoin = await allJoined(clients, 2, 15000);
    const elapsed = lastRejoin - faultAt;
    t.diagnostic(`stall > watchdog (1000 ms): all 6 clients rejoined ${elapsed.toFixed(0)} ms after the fault`);
    assert.ok(elapsed < 8000, `clients came back only after the stall ended (${elapsed} ms)`);
    for (const c of clients) {
        const [first, second] = c.joins.items;
        assert.notEqual(second.joinRef, first.joinRef);
        assert.deepEqual(await pushAndWait(c.channel, 'ping', { ok: 1 }), { status: 'ok', response: { ok: 1 } });
    }
    assert.match(h.server.stderr(), /\[hang\] instance thread unresponsive/);
    const info = await waitForState('hang', 'Running');
    assert.equal(info.restarts, 1);
});

test('stall shorter than the watchdog: nothing restarts, nobody is disconnected', { timeout: 15000 }, async () => {
    const clients = await joinClients('short', 4);
    const reply = await pushAndWait(clients[0].channel, 'stall', { ms: 700 }, 5000);
    assert.deepEqual(reply, { status: 'ok', response: { stalled_ms: 700 } });
    for (const c of clients) {
        await roundTrip(c.socket, 5000); // a heartbeat answered after the stall
        assert.equal(c.log.count((e) => e.type === 'close'), 0);
        assert.equal(c.joins.items.length, 1);
        assert.equal(c.channel.state, 'joined');
    }
    const info = await waitForState('short', 'Running');
    assert.equal(info.restarts, 0);
});

test('repeated failures: the instance goes Failed, stays down, and comes back only when started', { timeout: 30000 }, async (t) => {
    const [client] = await joinClients('brittle', 1);
    await pushAndWait(client.channel, 'fail', { reason: 'first failure' });
    await allJoined([client], 2, 10000); // restarted once (max_restarts=1)
    await pushAndWait(client.channel, 'fail', { reason: 'second failure' });
    const failed = await waitForState('brittle', 'Failed');
    assert.equal(failed.state, 'Failed');
    // While Failed, the JS client keeps retrying and is refused every time (HTTP 503 before the upgrade).
    const refusedBefore = client.log.count((e) => e.type === 'error');
    await client.log.waitFor((e) => e.type === 'error', { count: refusedBefore + 3, timeoutMs: 10000,
                                                          label: 'three refused reconnects while Failed' });
    assert.equal(client.socket.isConnected(), false);
    assert.equal((await admin('GET', '/api/instances/brittle')).json.state, 'Failed');
    const health = await admin('GET', '/healthz');
    assert.equal(health.status, 503);

    const startedAt = performance.now();
    assert.equal((await admin('POST', '/api/instances/brittle/start')).status, 200);
    const back = await allJoined([client], 3, 15000);
    t.diagnostic(`Failed -> started: the client was back and joined ${(back - startedAt).toFixed(0)} ms after the start`);
    assert.deepEqual(await pushAndWait(client.channel, 'ping', {}), { status: 'ok', response: {} });
});

test('channel crash: only that channel errors; the JS client rejoins it by itself', { timeout: 15000 }, async (t) => {
    const clients = await joinClients('crash', 3);
    const faultAt = performance.now();
    clients[0].channel.push('crash', {});
    const rejoined = (await clients[0].joins.waitFor(() => true, { count: 2, timeoutMs: 10000, label: 'rejoin' }))[1].at;
    t.diagnostic(`channel crash: the crashed channel rejoined ${(rejoined - faultAt).toFixed(0)} ms after the fault (JS rejoin timer: 1 s)`);
    for (const c of clients.slice(1)) {
        assert.equal(c.joins.items.length, 1); // the others never noticed
        assert.equal(c.log.count((e) => e.type === 'close'), 0);
    }
});
