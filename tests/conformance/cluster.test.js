// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Several nodes sharing instances through a real redis-server (Debian's), started on a free loopback port
// by this file: broadcasts cross nodes exactly once and in order, presence is merged, a killed node's
// members leave within the stated bound, and a Redis restart loses no local delivery.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { spawn, spawnSync } = require('node:child_process');
const {
    startServer, makeSocket, joinOk, pushAndWait, recordChannel, roundTrip, withTimeout, Presence, disconnectAll,
} = require('./helpers');

const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
const skip = haveRedis ? false : 'redis-server is not installed (scripts/deps.sh installs it)';

// The heartbeat is 1 s and a node is gone after 3 missed ones (ClusterLink::kMissedHeartbeats).
const GONE_BOUND_MS = 3000;

function freePort() {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}

async function startRedis(port, extra = []) {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    const redis = { child, port, output: '' };
    redis.exited = new Promise((resolve) => child.on('exit', resolve));
    await withTimeout(new Promise((resolve, reject) => {
        child.stdout.on('data', (chunk) => {
            redis.output += chunk;
            if (redis.output.includes('Ready to accept connections')) {
                resolve();
            }
        });
        child.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${redis.output}`)));
    }), 10000, 'redis-server ready');
    redis.kill = async () => {
        child.kill('SIGKILL');
        await redis.exited;
    };
    return redis;
}

async function adminGet(server, path) {
    const response = await fetch(`http://127.0.0.1:${server.adminPort}${path}`);
    return { status: response.status, body: await response.json() };
}

// Polls GET /api/cluster until `predicate(body)` holds.
async function waitCluster(server, predicate, label, timeoutMs = 10000) {
    const deadline = performance.now() + timeoutMs;
    let last;
    while (performance.now() < deadline) {
        last = (await adminGet(server, '/api/cluster')).body;
        if (predicate(last)) {
            return last;
        }
        await new Promise((resolve) => setTimeout(resolve, 50)); // a poll interval, not a wait for time to pass
    }
    throw new Error(`timed out: ${label}; last /api/cluster: ${JSON.stringify(last)}`);
}

const seesAll = (names) => (body) => body.connected &&
    names.every((name) => body.nodes.some((node) => node.name === name && node.instances.includes('room')));

let redis;
const nodes = {};
const sockets = new Set();

async function startNode(name) {
    const node = await startServer(['room:chat:cluster=true'], {
        admin: true,
        extraArgs: ['--cluster', `redis://127.0.0.1:${redis.port}/0`, '--node-name', name],
    });
    nodes[name] = node;
    return node;
}

async function connect(node) {
    const client = makeSocket(node.url('room'));
    sockets.add(client);
    await client.log.waitFor((e) => e.type === 'open', { timeoutMs: 5000, label: 'socket open' });
    return client;
}

function presenceOf(channel) {
    const presence = new Presence(channel);
    const states = [];
    presence.onSync(() => states.push(presence.list((key, { metas }) => ({ key, metas: metas.length }))));
    return { presence, states, keys: () => presence.list((key) => key).sort() };
}

async function until(check, label, timeoutMs = 5000) {
    const deadline = performance.now() + timeoutMs;
    while (!check()) {
        if (performance.now() > deadline) {
            throw new Error(`timed out: ${label}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

before(async () => {
    if (!haveRedis) {
        return;
    }
    redis = await startRedis(await freePort());
    await Promise.all(['a', 'b', 'c'].map(startNode));
    for (const name of ['a', 'b', 'c']) {
        await waitCluster(nodes[name], seesAll(['a', 'b', 'c']), `node ${name} sees a, b and c`);
    }
});

after(async () => {
    await disconnectAll(sockets);
    for (const node of Object.values(nodes)) {
        if (!node.exit) {
            await node.stop();
        }
    }
    if (redis) {
        await redis.kill();
    }
});

test('cluster: bad settings stop the start with exit 2 and one line', { skip, timeout: 20000 }, async () => {
    const run = (args, env = {}) => spawnSync(process.env.WSSERVE_BIN, ['--headless', '--no-admin', '--port', '0', ...args],
        { encoding: 'utf8', timeout: 10000, env: { ...process.env, ...env } });
    const badUrl = run(['--cluster', 'http://127.0.0.1:1']);
    assert.equal(badUrl.status, 2);
    assert.match(badUrl.stderr, /cluster URL 'http:\/\/127\.0\.0\.1:1' is not valid/);
    const password = run(['--cluster', 'redis://:secret@127.0.0.1:1']);
    assert.equal(password.status, 2);
    assert.match(password.stderr, /must not carry a user or password/);
    const unreachable = run(['--cluster', `redis://127.0.0.1:${await freePort()}`]);
    assert.equal(unreachable.status, 2);
    assert.match(unreachable.stderr, /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0: Connection refused/);
    const authFails = run(['--cluster', `redis://127.0.0.1:${redis.port}`], { WSSERVE_REDIS_PASSWORD: 'wrong' });
    assert.equal(authFails.status, 2);
    assert.match(authFails.stderr, /refused the password/);
    assert.ok(!authFails.stderr.includes('wrong'), 'the password is never printed');
    const unsafe = run(['--cluster', `redis://127.0.0.1:${redis.port}`, '--instance', 'g:tictactoe:cluster=true']);
    assert.equal(unsafe.status, 2);
    assert.match(unsafe.stderr, /type 'tictactoe' keeps its state on one node and cannot take cluster=true/);
});

test('cluster: a broadcast crosses nodes exactly once and in publisher order', { skip, timeout: 30000 }, async () => {
    const onA = await connect(nodes.a);
    const onB = await connect(nodes.b);
    const onC = await connect(nodes.c);
    const channels = [onA, onB, onC].map((client, i) => client.socket.channel('room:order', { name: `o${i}` }));
    const logs = channels.map((channel) => recordChannel(channel, ['shout', 'done']));
    for (const channel of channels) {
        await joinOk(channel);
    }
    const count = 200;
    for (let n = 0; n < count; n += 1) {
        channels[0].push('shout', { n }); // not awaited: a burst, in order on A's connection
    }
    await pushAndWait(channels[0], 'done', {});
    for (const [i, log] of logs.entries()) {
        await log.waitFor((e) => e.event === 'done', { timeoutMs: 10000, label: `done on node ${i}` });
        await roundTrip([onA, onB, onC][i].socket);
        const shouts = log.items.filter((e) => e.event === 'shout').map((e) => e.payload.n);
        assert.deepEqual(shouts, [...Array(count).keys()], `node ${'abc'[i]}: every shout once, in order`);
    }
    // The admin API's broadcast on one node reaches the others' members once too.
    const response = await fetch(`http://127.0.0.1:${nodes.b.adminPort}/api/instances/room/broadcast`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ topic: 'room:order', event: 'shout', payload: { n: 'admin' } }),
    });
    assert.ok(response.status < 300, `admin broadcast: ${response.status}`);
    for (const log of logs) {
        await log.waitFor((e) => e.event === 'shout' && e.payload.n === 'admin', { label: 'admin broadcast' });
    }
    await Promise.all([onA, onB, onC].map((client) => roundTrip(client.socket)));
    for (const log of logs) {
        assert.equal(log.items.filter((e) => e.payload.n === 'admin').length, 1);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${nodes.a.adminPort}/metrics`)).text();
    assert.match(metrics, /^wsserve_cluster_connected 1$/m);
    assert.match(metrics, /^wsserve_cluster_messages_out_total [1-9]\d*$/m);
});

test('cluster: presence is merged and a killed node\'s members leave within the bound', { skip, timeout: 30000 }, async () => {
    const alice = await connect(nodes.a);
    const bob = await connect(nodes.b);
    const carol = await connect(nodes.c);
    const chAlice = alice.socket.channel('room:p', { name: 'alice' });
    const pAlice = presenceOf(chAlice);
    await joinOk(chAlice);
    const chBob = bob.socket.channel('room:p', { name: 'bob' });
    const pBob = presenceOf(chBob);
    await joinOk(chBob);
    const chCarol = carol.socket.channel('room:p', { name: 'carol' });
    const pCarol = presenceOf(chCarol);
    await joinOk(chCarol);
    for (const [who, p] of [['alice', pAlice], ['bob', pBob], ['carol', pCarol]]) {
        await until(() => p.keys().join() === 'alice,bob,carol', `${who} sees alice, bob and carol: ${p.keys()}`);
    }
    // carol joined last: her presence_state already listed the members of the other nodes.
    const cluster = await adminGet(nodes.a, '/api/cluster');
    assert.deepEqual(cluster.body.nodes.map((node) => node.name), ['a', 'b', 'c']);
    // Clients per node travel with the heartbeats: the instance's total counts every node's.
    const counted = await waitCluster(nodes.a, (body) => body.nodes.every((node) => node.clients.room >= 2) &&
        body.instances[0].clients_cluster === body.nodes.reduce((sum, node) => sum + node.clients.room, 0),
    'client counts of every node');
    assert.equal(counted.instances[0].id, 'room');
    assert.ok(counted.instances[0].clients_here >= 2);

    nodes.c.child.kill('SIGKILL');
    const killedAt = performance.now();
    await until(() => !pAlice.keys().includes('carol') && !pBob.keys().includes('carol'),
        'carol leaves alice\'s and bob\'s presence', GONE_BOUND_MS + 3000);
    const tookMs = performance.now() - killedAt;
    // At most 3 heartbeats after the last one C sent (up to 1 s before the kill), plus the 250 ms sweep.
    // The slack beyond that is for a loaded machine (the sanitizer suite).
    assert.ok(tookMs <= GONE_BOUND_MS + 2000, `carol left after ${Math.round(tookMs)} ms`);
    assert.deepEqual(pAlice.keys(), ['alice', 'bob']);
    await waitCluster(nodes.a, (body) => body.nodes.length === 2, 'node c gone from a\'s /api/cluster');
    sockets.delete(carol);
    carol.socket.disconnect();
});

test('cluster: a Redis restart loses no local delivery and cross-node delivery resumes', { skip, timeout: 40000 }, async () => {
    const a1 = await connect(nodes.a);
    const a2 = await connect(nodes.a);
    const b1 = await connect(nodes.b);
    const ch = [a1, a2, b1].map((client, i) => client.socket.channel('room:r', { name: `r${i}` }));
    const logs = ch.map((channel) => recordChannel(channel, ['shout']));
    const presences = ch.map(presenceOf);
    for (const channel of ch) {
        await joinOk(channel);
    }
    await until(() => presences[2].keys().join() === 'r0,r1,r2', 'b1 sees r0, r1, r2');

    await redis.kill();
    await waitCluster(nodes.a, (body) => !body.connected, 'node a notices Redis is gone');
    const health = await adminGet(nodes.a, '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.body.cluster, 'disconnected');
    assert.match(nodes.a.stderr(), /cluster: disconnected/);
    // Local delivery goes on.
    assert.deepEqual(await pushAndWait(ch[0], 'shout', { n: 'during' }), { status: 'ok', response: {} });
    await logs[1].waitFor((e) => e.payload.n === 'during', { label: 'a2 gets a1\'s shout without Redis' });
    // Longer than the bound: each node stops hearing the other, whose members leave its presence.
    await waitCluster(nodes.a, (body) => body.nodes.length === 1, 'node a no longer hears b', GONE_BOUND_MS + 3000);
    await until(() => presences[2].keys().join() === 'r2', `b1 sees only r2: ${presences[2].keys()}`, 5000);
    assert.deepEqual(await pushAndWait(ch[0], 'shout', { n: 'during' }), { status: 'ok', response: {} });

    redis = await startRedis(redis.port);
    await waitCluster(nodes.a, seesAll(['a', 'b']), 'node a reconnected and sees b', 15000);
    await waitCluster(nodes.b, seesAll(['a', 'b']), 'node b reconnected and sees a', 15000);
    await pushAndWait(ch[0], 'shout', { n: 'after' });
    await logs[2].waitFor((e) => e.payload.n === 'after', { timeoutMs: 5000, label: 'b1 gets the shout after' });
    await roundTrip(b1.socket);
    // Nothing from the outage is replayed; presence is whole again, each key once.
    assert.deepEqual(logs[2].items.map((e) => e.payload.n), ['after']);
    await until(() => presences[2].keys().join() === 'r0,r1,r2', `b1 sees r0, r1, r2 again: ${presences[2].keys()}`);
    for (const p of presences) {
        await until(() => p.keys().join() === 'r0,r1,r2', 'everyone sees r0, r1, r2');
        assert.ok(p.presence.list((key, { metas }) => metas.length).every((n) => n === 1), 'no duplicate metas');
    }
    const cluster = await adminGet(nodes.a, '/api/cluster');
    assert.ok(cluster.body.reconnects >= 1, JSON.stringify(cluster.body));
});

test('cluster: a node killed and back at once under its name leaves no duplicate keys', { skip, timeout: 30000 }, async () => {
    const alice = await connect(nodes.a);
    const chAlice = alice.socket.channel('room:back', { name: 'alice' });
    const pAlice = presenceOf(chAlice);
    await joinOk(chAlice);
    const old = await connect(nodes.b);
    await joinOk(old.socket.channel('room:back', { name: 'bob' }));
    await until(() => pAlice.keys().join() === 'alice,bob', `alice sees bob: ${pAlice.keys()}`);

    nodes.b.child.kill('SIGKILL');
    sockets.delete(old);
    old.socket.disconnect();
    await startNode('b'); // well within the 3 s bound: the heartbeat's new boot id retires the old entries
    await waitCluster(nodes.a, seesAll(['a', 'b']), 'node a hears the new b');
    const bob = await connect(nodes.b);
    const chBob = bob.socket.channel('room:back', { name: 'bob' });
    const pBob = presenceOf(chBob);
    await joinOk(chBob);
    for (const [who, p] of [['alice', pAlice], ['bob', pBob]]) {
        await until(() => p.keys().join() === 'alice,bob' &&
            p.presence.list((key, { metas }) => metas.length).every((n) => n === 1),
        `${who} sees alice and one bob: ${JSON.stringify(p.presence.list((key, { metas }) => [key, metas.length]))}`);
    }
    assert.match(nodes.a.stderr(), /cluster: node b restarted/);
});
