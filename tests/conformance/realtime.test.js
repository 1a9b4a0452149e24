// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// The `realtime` type with the unmodified @supabase/realtime-js client (pinned in package.json, with ws
// as its transport under Node 20): broadcasts as binary kind 3 in and kind 4 out (JSON and ArrayBuffer
// payloads byte for byte), `self` and `ack`, presence track/untrack with joins and leaves, the REST
// fallback before join and httpSend; then bad input on the raw socket (1007 / 1003).
'use strict';

const { test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { RealtimeClient } = require('@supabase/realtime-js');
const { serverPerFile, WebSocket, EventLog, withTimeout, hex } = require('./helpers');

const h = serverPerFile(['rt:realtime', 'plain:chat']);
const clients = new Set();

afterEach(async () => {
    for (const client of clients) {
        await client.removeAllChannels().catch(() => {});
        client.disconnect();
    }
    clients.clear();
});

// A realtime-js client of instance `id`, as a supabase-js user would build it (the URL of the instance
// where a Supabase project URL would be). `frames` logs what the server sent it.
function realtime(id) {
    const frames = new EventLog(`realtime-js frames from ${id}`);
    class RecordingWebSocket extends WebSocket {
        constructor(...args) {
            super(...args);
            this.binaryType = 'arraybuffer';
            this.on('message', (data, isBinary) => frames.add(isBinary ? { binary: hex(data) } : { text: String(data) }));
        }
    }
    const client = new RealtimeClient(h.server.url(id), {
        params: { apikey: 'anon-key' },
        transport: RecordingWebSocket,
    });
    client.frames = frames;
    clients.add(client);
    return client;
}

// Subscribes and resolves once SUBSCRIBED (fails on CHANNEL_ERROR, TIMED_OUT or CLOSED).
function subscribed(channel) {
    return withTimeout(new Promise((resolve, reject) => {
        channel.subscribe((status, error) => {
            if (status === 'SUBSCRIBED') {
                resolve();
            } else if (status !== 'SUBSCRIBED') {
                reject(new Error(`${channel.topic}: ${status} ${error ? error.message : ''}`));
            }
        });
    }), 5000, `${channel.topic} subscribed`);
}

function broadcasts(channel, event = '*') {
    const log = new EventLog(`broadcasts on ${channel.topic}`);
    channel.on('broadcast', { event }, (message) => log.add(message));
    return log;
}

test('two realtime-js clients broadcast JSON to each other; self off by default, on when asked', { timeout: 15000 }, async () => {
    const alice = realtime('rt').channel('room1');
    const bob = realtime('rt').channel('room1', { config: { broadcast: { self: true } } });
    const atAlice = broadcasts(alice);
    const atBob = broadcasts(bob);
    await subscribed(alice);
    await subscribed(bob);

    const payload = { x: 3, y: -4.5, name: 'é ✓', list: [1, null, true] };
    assert.equal(await alice.send({ type: 'broadcast', event: 'move', payload }), 'ok');
    const got = await atBob.waitFor(() => true, { label: 'move at bob' });
    assert.deepEqual(got, { type: 'broadcast', event: 'move', payload });
    // What went over the wire: a kind 4 frame, never Phoenix's kinds 0-2.
    const frame = await bob.socket.frames.waitFor((f) => f.binary && f.binary.startsWith('04'), { label: 'kind 4 at bob' });
    const bytes = Buffer.from(frame.binary, 'hex');
    assert.equal(bytes[1], 'realtime:room1'.length);
    assert.equal(bytes[4], 1, 'JSON encoding');
    assert.equal(bytes.subarray(5 + bytes[1] + bytes[2] + bytes[3]).toString('utf8'), JSON.stringify(payload),
                 'the JSON payload bytes are relayed verbatim');

    // bob has self: true: his own broadcast comes back to him, and alice gets it once.
    assert.equal(await bob.send({ type: 'broadcast', event: 'shout', payload: { n: 1 } }), 'ok');
    await atBob.waitFor((m) => m.event === 'shout', { label: 'bob hears himself' });
    await atAlice.waitFor((m) => m.event === 'shout', { label: 'alice hears bob' });
    // alice (self: false) never received her own move.
    assert.equal(atAlice.count((m) => m.event === 'move'), 0);
    for (const client of [alice.socket, bob.socket]) {
        assert.equal(client.frames.count((f) => f.binary && !/^0[34]/.test(f.binary)), 0, 'no Phoenix binary kinds');
    }
});

test('ArrayBuffer payloads are relayed byte for byte (kind 3 encoding 0 -> kind 4 encoding 0)', { timeout: 15000 }, async () => {
    const alice = realtime('rt').channel('bin');
    const bob = realtime('rt').channel('bin');
    const atBob = broadcasts(bob, 'blob');
    await subscribed(alice);
    await subscribed(bob);
    const sent = new Uint8Array([0, 1, 2, 255, 254, 0x7b, 0x22, 10, 13, 0]);
    assert.equal(await alice.send({ type: 'broadcast', event: 'blob', payload: sent.buffer }), 'ok');
    const got = await atBob.waitFor(() => true, { label: 'blob at bob' });
    assert.ok(got.payload instanceof ArrayBuffer, `payload is ${Object.prototype.toString.call(got.payload)}`);
    assert.equal(hex(got.payload), hex(sent.buffer));
});

test('ack: send() resolves with the server reply; events match case-insensitively', { timeout: 15000 }, async () => {
    const alice = realtime('rt').channel('acked', { config: { broadcast: { ack: true } } });
    const bob = realtime('rt').channel('acked');
    const atBob = broadcasts(bob, 'ping');
    await subscribed(alice);
    await subscribed(bob);
    const replies = alice.socket.frames;
    const before = replies.count((f) => f.text && f.text.includes('phx_reply'));
    assert.equal(await alice.send({ type: 'broadcast', event: 'PING', payload: { i: 1 } }), 'ok');
    assert.equal(replies.count((f) => f.text && f.text.includes('phx_reply')), before + 1, 'one phx_reply for the ack');
    await atBob.waitFor((m) => m.payload.i === 1, { label: 'PING at bob' });
});

test('presence: track, sync, joins, an update, untrack and a disconnect as leaves', { timeout: 20000 }, async () => {
    const aliceClient = realtime('rt');
    const bobClient = realtime('rt');
    const alice = aliceClient.channel('lobby', { config: { presence: { key: 'alice' } } });
    const bob = bobClient.channel('lobby', { config: { presence: { key: 'bob' } } });
    const events = new EventLog('presence at alice');
    alice.on('presence', { event: 'sync' }, () => events.add({ sync: Object.keys(alice.presenceState()).sort() }));
    alice.on('presence', { event: 'join' }, ({ key, newPresences }) => events.add({ join: key, newPresences }));
    alice.on('presence', { event: 'leave' }, ({ key, leftPresences }) => events.add({ leave: key, leftPresences }));
    bob.on('presence', { event: 'sync' }, () => {});
    await subscribed(alice);
    await subscribed(bob);

    assert.equal(await alice.track({ status: 'here' }), 'ok');
    assert.equal(await bob.track({ status: 'playing', level: 2 }), 'ok');
    await events.waitFor((e) => e.sync && e.sync.join(',') === 'alice,bob', { label: 'both in sync' });
    const bobJoin = await events.waitFor((e) => e.join === 'bob', { label: 'bob joins' });
    assert.equal(bobJoin.newPresences[0].status, 'playing');
    assert.equal(alice.presenceState().bob[0].level, 2);
    assert.ok(alice.presenceState().bob[0].presence_ref, 'every meta has a ref');

    // The same payload again changes nothing; a different one is an update (a leave of the old meta, then
    // a join of the new one: the client keeps exactly one meta for bob).
    assert.equal(await bob.track({ status: 'playing', level: 2 }), 'ok');
    assert.equal(await bob.track({ status: 'won', level: 3 }), 'ok');
    await events.waitFor(() => (alice.presenceState().bob || []).some((meta) => meta.status === 'won'),
                         { label: 'bob updated' });
    assert.equal(alice.presenceState().bob.length, 1);

    assert.equal(await bob.untrack(), 'ok');
    await events.waitFor((e) => e.leave === 'bob', { count: 2, label: 'bob leaves (untrack)' });
    assert.deepEqual(Object.keys(alice.presenceState()), ['alice']);

    // A third client that tracks and then disconnects: a join, then a leave.
    const carolClient = realtime('rt');
    const carol = carolClient.channel('lobby', { config: { presence: { key: 'carol' } } });
    await subscribed(carol);
    assert.equal(await carol.track({ hi: true }), 'ok');
    await events.waitFor((e) => e.join === 'carol', { label: 'carol joins' });
    carolClient.disconnect();
    await events.waitFor((e) => e.leave === 'carol', { label: 'carol leaves (disconnect)' });
});

test('REST: send() before join falls back to POST /api/broadcast (202); httpSend JSON and bytes', { timeout: 15000 }, async () => {
    const listener = realtime('rt').channel('news');
    const heard = broadcasts(listener);
    await subscribed(listener);

    const sender = realtime('rt').channel('news'); // never subscribed: send() uses the REST endpoint
    const warn = console.warn;
    console.warn = () => {}; // realtime-js warns that the implicit REST fallback is deprecated
    try {
        assert.equal(await sender.send({ type: 'broadcast', event: 'headline', payload: { title: 'rest' } }), 'ok');
    } finally {
        console.warn = warn;
    }
    assert.deepEqual(await heard.waitFor((m) => m.event === 'headline', { label: 'REST broadcast' }),
                     { type: 'broadcast', event: 'headline', payload: { title: 'rest' } });

    assert.deepEqual(await sender.httpSend('scores', { a: 1 }), { success: true });
    assert.deepEqual((await heard.waitFor((m) => m.event === 'scores', { label: 'httpSend JSON' })).payload, { a: 1 });
    const bytes = new Uint8Array([9, 8, 7, 0, 255]);
    assert.deepEqual(await sender.httpSend('raw', bytes), { success: true });
    const raw = await heard.waitFor((m) => m.event === 'raw', { label: 'httpSend bytes' });
    assert.equal(hex(raw.payload), hex(bytes.buffer));

    // Bad bodies are refused with a reason; another type has no such API.
    const base = `http://127.0.0.1:${h.server.port}/socket`;
    const bad = await fetch(`${base}/rt/api/broadcast`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"messages": 5}' });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /messages/);
    const other = await fetch(`${base}/plain/api/broadcast`, { method: 'POST', body: '{}' });
    assert.equal(other.status, 404);
    await other.text();
});

// A raw V2 WebSocket to `id`, joined to realtime:raw; resolves with {ws, closed} once the join is answered.
async function rawJoined(id, topic) {
    const ws = new WebSocket(`${h.server.url(id)}/websocket?vsn=2.0.0`);
    const closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
    ws.send(JSON.stringify(['1', '1', topic, 'phx_join', {}]));
    await new Promise((resolve) => ws.once('message', resolve));
    return { ws, closed };
}

function kind3(topic, event, payload, { joinRef = '1', ref = '2', meta = '', encoding = 1 } = {}) {
    const fields = [joinRef, ref, topic, event, meta].map((s) => Buffer.from(s));
    return Buffer.concat([Buffer.from([3, ...fields.map((f) => f.length), encoding]), ...fields, Buffer.from(payload)]);
}

test('bad kind 3 frames close with 1007; kind 3 on another type and kind 4 from a client with 1003', { timeout: 15000 }, async () => {
    const cases = [
        ['lengths past the frame', Buffer.from([3, 1, 1, 200, 2, 0, 1, 0x31, 0x32])],
        ['a 5-byte header', Buffer.from([3, 0, 0, 0, 0])],
        ['encoding 7', kind3('realtime:raw', 'e', '{}', { encoding: 7 })],
        ['invalid JSON payload', kind3('realtime:raw', 'e', '{"a":')],
        ['metadata that is not an object', kind3('realtime:raw', 'e', '{}', { meta: '[1]' })],
    ];
    for (const [label, frame] of cases) {
        const { ws, closed } = await rawJoined('rt', 'realtime:raw');
        ws.send(frame);
        const result = await withTimeout(closed, 3000, label);
        assert.equal(result.code, 1007, `${label}: ${JSON.stringify(result)}`);
    }
    {
        const { ws, closed } = await rawJoined('plain', 'room:raw');
        ws.send(kind3('room:raw', 'e', '{}'));
        assert.equal((await withTimeout(closed, 3000, 'kind 3 on chat')).code, 1003);
    }
    {
        const { ws, closed } = await rawJoined('rt', 'realtime:raw');
        ws.send(Buffer.from([4, 1, 1, 0, 1, 0x74, 0x65, 0x7b, 0x7d]));
        assert.equal((await withTimeout(closed, 3000, 'kind 4 from a client')).code, 1003);
    }
});
