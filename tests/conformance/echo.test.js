// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// echo instance: connect, join, push/reply, heartbeats, connect params, authToken, binary frames.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { serverPerFile, joinOk, pushAndWait, isMsg, hex, roundTrip } = require('./helpers');

const h = serverPerFile(['echo1:echo', 'probe:chaos']);

test('connect, join and push/reply round trip a JSON payload', { timeout: 10000 }, async () => {
    const { socket, log } = await h.connect('echo1');
    assert.equal(socket.isConnected(), true);
    const channel = socket.channel('room:echo', { hello: 'world' });
    const joinResponse = await joinOk(channel);
    assert.deepEqual(joinResponse, {});
    assert.equal(channel.state, 'joined');

    // The join reply on the wire: [join_ref, ref, topic, "phx_reply", {status, response}], join_ref == ref.
    const joinFrame = log.filter((e) => e.type === 'sent' && e.frame && e.frame[3] === 'phx_join')[0].frame;
    const joinReply = await log.waitFor(isMsg('room:echo', 'phx_reply', (m) => m.ref === joinFrame[1]));
    assert.deepEqual(joinReply.msg, {
        join_ref: joinFrame[0], ref: joinFrame[1], topic: 'room:echo', event: 'phx_reply',
        payload: { status: 'ok', response: {} },
    });

    const payload = { text: 'héllo ✓', n: 42, f: 1.5, nested: { list: [1, 'two', null, true], empty: {} }, nil: null };
    const reply = await pushAndWait(channel, 'ping', payload);
    assert.deepEqual(reply, { status: 'ok', response: payload });

    // The reply frame carries the channel's join_ref and echoes the push ref with the same JSON type.
    const pushFrame = log.filter((e) => e.type === 'sent' && e.frame && e.frame[3] === 'ping')[0].frame;
    assert.equal(pushFrame[0], joinFrame[0]);
    const replyFrame = log.filter(isMsg('room:echo', 'phx_reply', (m) => m.ref === pushFrame[1]));
    assert.equal(replyFrame.length, 1);
    assert.equal(replyFrame[0].msg.join_ref, joinFrame[0]);
    assert.equal(typeof replyFrame[0].msg.ref, 'string');

    // Several pushes in flight: each reply matches its own push.
    const replies = await Promise.all([1, 2, 3, 4, 5].map((i) => pushAndWait(channel, `ev${i}`, { i })));
    assert.deepEqual(replies, [1, 2, 3, 4, 5].map((i) => ({ status: 'ok', response: { i } })));
});

test('heartbeat replies arrive every second and keep the socket open', { timeout: 15000 }, async () => {
    const { socket, log } = await h.connect('echo1');
    const channel = socket.channel('room:hb');
    await joinOk(channel);

    const isHeartbeatReply = (e) => e.type === 'msg' && e.msg.topic === 'phoenix' && e.msg.event === 'phx_reply';
    const replies = await log.waitFor(isHeartbeatReply, { count: 3, timeoutMs: 8000, label: 'heartbeat reply' });
    const sentHeartbeats = log.filter((e) => e.type === 'sent' && e.frame && e.frame[2] === 'phoenix');
    assert.ok(sentHeartbeats.length >= 3, `sent ${sentHeartbeats.length} heartbeats`);
    for (const reply of replies) {
        assert.equal(reply.msg.join_ref, null);
        assert.deepEqual(reply.msg.payload, { status: 'ok', response: {} });
        const sent = sentHeartbeats.find((e) => e.frame[1] === reply.msg.ref);
        assert.ok(sent, `heartbeat reply ref ${JSON.stringify(reply.msg.ref)} matches a heartbeat we sent`);
        assert.deepEqual(sent.frame, [null, reply.msg.ref, 'phoenix', 'heartbeat', {}]);
    }
    // Three intervals later the socket is still the first connection and the channel still works.
    assert.equal(log.count((e) => e.type === 'close'), 0, 'no close');
    assert.equal(log.count((e) => e.type === 'open'), 1, 'no reconnect');
    assert.equal(socket.isConnected(), true);
    assert.deepEqual(await pushAndWait(channel, 'still', { here: true }), { status: 'ok', response: { here: true } });
});

test('connect params in the query string are accepted and V2 is still negotiated', { timeout: 10000 }, async () => {
    // The JS client builds ?token=a%20b%2Bc&user%5Bid%5D=5&user%5Btags%5D%5B0%5D=x&...&&u=undefined&flag=true&vsn=2.0.0
    const params = { token: 'a b+c', user: { id: 5, tags: ['x', 'y'] }, n: null, flag: true };
    const { socket, log } = await h.connect('echo1', { params });
    assert.match(socket.endPointURL(), /\/socket\/echo1\/websocket\?token=a%20b%2Bc&.*&vsn=2\.0\.0$/);
    const channel = socket.channel('room:params');
    await joinOk(channel);
    // The join reply decoded as a V2 array (the JS client understands nothing else).
    assert.ok(log.count(isMsg('room:params', 'phx_reply')) >= 1);
    assert.deepEqual(await pushAndWait(channel, 'p', { ok: 1 }), { status: 'ok', response: { ok: 1 } });
});

test('connect params and the authToken reach the instance decoded', { timeout: 10000 }, async () => {
    // chaos answers `whoami` with what the server saw at connect time.
    const { socket } = h.socket('probe', {
        params: { token: 'a b+c', user: { id: 5, tags: ['x', 'y'] }, flag: true },
        authToken: 'secret-token',
    });
    const channel = socket.channel('room:who');
    await joinOk(channel);
    const reply = await pushAndWait(channel, 'whoami', {});
    assert.equal(reply.status, 'ok');
    assert.deepEqual(reply.response.params, {
        token: 'a b+c', user: { id: '5', tags: { 0: 'x', 1: 'y' } }, flag: 'true', vsn: '2.0.0',
    });
    assert.equal(reply.response.auth_token, 'secret-token');
    assert.equal(reply.response.wire_format, 'V2');
    assert.equal(reply.response.remote_address, '127.0.0.1');
});

test('authToken connects: the server selects the "phoenix" subprotocol', { timeout: 10000 }, async () => {
    const { socket, log } = h.socket('echo1', { authToken: 'secret-token' });
    const first = await log.waitFor((e) => e.type === 'open' || e.type === 'close' || e.type === 'error',
                                    { timeoutMs: 5000, label: 'open/close/error' });
    assert.equal(first.type, 'open', `handshake with authToken failed: ${log.describe()}`);
    assert.equal(first.protocol, 'phoenix');
    assert.equal(socket.conn.protocol, 'phoenix');
    const channel = socket.channel('room:auth');
    await joinOk(channel);
    assert.deepEqual(await pushAndWait(channel, 'who', { me: 1 }), { status: 'ok', response: { me: 1 } });
});

test('binary push gets a binary ok reply with the same bytes', { timeout: 10000 }, async () => {
    const { socket, log } = await h.connect('echo1');
    const channel = socket.channel('room:lobby');
    await joinOk(channel);
    const reply = await pushAndWait(channel, 'bin', new Uint8Array([1, 2, 3]).buffer);
    assert.equal(reply.status, 'ok');
    assert.ok(reply.response instanceof ArrayBuffer, `response is ${Object.prototype.toString.call(reply.response)}`);
    assert.equal(hex(reply.response), '010203');

    // What went out: kind 0 push, 5-byte header, join_ref/ref/topic/event, then the payload.
    const sent = log.filter((e) => e.type === 'sent' && e.binary)[0].binary;
    const joinRef = channel.joinRef();
    const bytes = Buffer.from(sent, 'hex');
    assert.equal(bytes[0], 0);
    assert.equal(bytes.subarray(5, 5 + bytes[1]).toString(), joinRef);
    assert.equal(sent.endsWith(Buffer.from('room:lobbybin').toString('hex') + '010203'), true);

    // Empty and larger binary payloads, byte-exact.
    const empty = await pushAndWait(channel, 'bin', new ArrayBuffer(0));
    assert.equal(empty.status, 'ok');
    assert.ok(empty.response instanceof ArrayBuffer);
    assert.equal(empty.response.byteLength, 0);
    const big = new Uint8Array(70000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
    const bigReply = await pushAndWait(channel, 'bin', big.buffer);
    assert.equal(bigReply.status, 'ok');
    assert.equal(Buffer.compare(Buffer.from(bigReply.response), Buffer.from(big)), 0);
    await roundTrip(socket);
});

test('push to a topic this socket has not joined gets "unmatched topic"', { timeout: 10000 }, async () => {
    const { socket, log } = await h.connect('echo1');
    socket.push({ topic: 'room:never', event: 'ping', payload: {}, ref: 'x-1', join_ref: null });
    const reply = await log.waitFor(isMsg('room:never', 'phx_reply', (m) => m.ref === 'x-1'));
    assert.deepEqual(reply.msg, {
        join_ref: null, ref: 'x-1', topic: 'room:never', event: 'phx_reply',
        payload: { status: 'error', response: { reason: 'unmatched topic' } },
    });
});

test('a push made before the join reply is sent after it, with the current join_ref', { timeout: 10000 }, async () => {
    const { socket, log } = await h.connect('echo1');
    const channel = socket.channel('room:early');
    const joined = new Promise((resolve) => channel.join(3000).receive('ok', resolve));
    const early = pushAndWait(channel, 'early', { first: true });
    await joined;
    assert.deepEqual(await early, { status: 'ok', response: { first: true } });
    const sent = log.filter((e) => e.type === 'sent' && e.frame && e.frame[2] === 'room:early').map((e) => e.frame);
    assert.deepEqual(sent.map((f) => f[3]), ['phx_join', 'early']);
    const reply = (await log.waitFor(isMsg('room:early', 'phx_reply', (m) => m.ref === sent[1][1]))).msg;
    assert.equal(reply.join_ref, channel.joinRef());
});
