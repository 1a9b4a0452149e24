// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// chaos instances: refused joins, channel crash and rejoin, graceful channel stop, and recovery of the
// unmodified JS client after the supervisor restarts the instance (sockets closed with 1012).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { serverPerFile, joinOk, joinAndWait, pushAndWait, roundTrip, isMsg, EventLog } = require('./helpers');

const h = serverPerFile(['crashy:chaos', 'c1:chaos']);

test('chaos: join with {crash: true} is refused with "join crashed"', { timeout: 10000 }, async () => {
    const { socket, log } = await h.connect('crashy');
    const channel = socket.channel('room:boom', { crash: true });
    const result = await joinAndWait(channel);
    assert.deepEqual(result, { status: 'error', response: { reason: 'join crashed' } });
    const joinFrame = log.filter((e) => e.type === 'sent' && e.frame && e.frame[3] === 'phx_join')[0].frame;
    const reply = (await log.waitFor(isMsg('room:boom', 'phx_reply', (m) => m.ref === joinFrame[1]))).msg;
    assert.deepEqual(reply.payload, { status: 'error', response: { reason: 'join crashed' } });
    channel.leave(1000); // stop the client's rejoin timer

    // The connection and the instance are fine: a normal join on the same socket works.
    const ok = socket.channel('room:fine');
    await joinOk(ok);
    assert.deepEqual(await pushAndWait(ok, 'ping', { n: 1 }), { status: 'ok', response: { n: 1 } });
});

test('chaos: a crashing handler errors only its channel; the JS client rejoins by itself', { timeout: 15000 }, async () => {
    const { socket, log } = await h.connect('crashy');
    const crashing = socket.channel('crash:a');
    const other = socket.channel('other:b');
    const joins = new EventLog('crash:a join ok');
    crashing.join(3000).receive('ok', (response) => joins.add({ joinRef: crashing.joinRef(), response }));
    await joins.waitFor(() => true, { label: 'first join' });
    await joinOk(other);
    const firstRef = crashing.joinRef();
    const errors = new EventLog('crash:a errors');
    crashing.onError((reason) => errors.add({ reason, state: crashing.state }));

    crashing.push('crash', {}, 2000);
    const error = await errors.waitFor(() => true, { label: 'channel onError' });
    assert.deepEqual(error.reason, { reason: 'channel_crash' });
    const errorFrame = (await log.waitFor(isMsg('crash:a', 'phx_error'))).msg;
    assert.deepEqual(errorFrame, { join_ref: firstRef, ref: firstRef, topic: 'crash:a', event: 'phx_error', payload: { reason: 'channel_crash' } });

    // The other channel on the same socket is unaffected.
    assert.equal(other.state, 'joined');
    assert.deepEqual(await pushAndWait(other, 'ping', { still: 'here' }), { status: 'ok', response: { still: 'here' } });
    assert.equal(log.count(isMsg('other:b', 'phx_error')), 0);
    assert.equal(log.count((e) => e.type === 'close'), 0, 'the socket stayed open');

    // The client rejoins on its own (after its 1 s rejoin delay) with a new join_ref.
    const rejoin = (await joins.waitFor(() => true, { count: 2, timeoutMs: 5000, label: 'join ok after the crash' }))[1];
    assert.notEqual(rejoin.joinRef, firstRef);
    assert.equal(crashing.state, 'joined');
    assert.deepEqual(await pushAndWait(crashing, 'ping', { back: true }), { status: 'ok', response: { back: true } });
    assert.deepEqual(await pushAndWait(other, 'ping', { n: 2 }), { status: 'ok', response: { n: 2 } });
    assert.equal(log.count((e) => e.type === 'open'), 1, 'no reconnect was needed');
});

test('chaos: stop closes the channel gracefully (phx_close) and the client does not rejoin', { timeout: 10000 }, async () => {
    const { socket, log } = await h.connect('crashy');
    const channel = socket.channel('room:stop');
    await joinOk(channel);
    const joinRef = channel.joinRef();
    const closed = new EventLog('onClose');
    channel.onClose((payload) => closed.add({ payload }));
    assert.deepEqual(await pushAndWait(channel, 'stop', {}), { status: 'ok', response: {} });
    await closed.waitFor(() => true, { label: 'channel onClose' });
    const closeFrame = (await log.waitFor(isMsg('room:stop', 'phx_close'))).msg;
    assert.deepEqual(closeFrame, { join_ref: joinRef, ref: joinRef, topic: 'room:stop', event: 'phx_close', payload: {} });
    assert.equal(log.count(isMsg('room:stop', 'phx_error')), 0);
    assert.equal(channel.state, 'closed');
    assert.equal(socket.channels.includes(channel), false);
    // The server no longer knows the topic on this connection.
    socket.push({ topic: 'room:stop', event: 'ping', payload: {}, ref: 'after-stop', join_ref: joinRef });
    const reply = (await log.waitFor(isMsg('room:stop', 'phx_reply', (m) => m.ref === 'after-stop'))).msg;
    assert.deepEqual(reply.payload, { status: 'error', response: { reason: 'unmatched topic' } });
    await roundTrip(socket);
    assert.equal(log.count((e) => e.type === 'sent' && e.frame && e.frame[2] === 'room:stop' && e.frame[3] === 'phx_join'), 1);
});

test('recovery: after "fail" the instance restarts, sockets close with 1012, the JS client reconnects and rejoins', { timeout: 20000 }, async (t) => {
    const { socket, log } = await h.connect('c1');
    const channel = socket.channel('room:restart', { who: 'me' });
    const joins = new EventLog('room:restart join ok');
    channel.join(3000).receive('ok', () => joins.add({ joinRef: channel.joinRef() }));
    await joins.waitFor(() => true, { label: 'first join' });
    assert.deepEqual(await pushAndWait(channel, 'ping', { before: true }), { status: 'ok', response: { before: true } });
    const firstRef = channel.joinRef();

    const failReply = await pushAndWait(channel, 'fail', { reason: 'conformance test' }, 3000);
    assert.deepEqual(failReply, { status: 'ok', response: {} });
    const close = await log.waitFor((e) => e.type === 'close', { timeoutMs: 5000, label: 'socket close' });
    assert.equal(close.code, 1012, `close ${JSON.stringify(close)}`);
    const closedAt = performance.now();

    // Reconnect (backoff 10, 50, 100 ... ms) while the supervisor brings a fresh instance up.
    await log.waitFor((e) => e.type === 'open', { count: 2, timeoutMs: 10000, label: 'socket open again' });
    const failedAttempts = log.count((e) => e.type === 'close') - 1;
    t.diagnostic(`reopened ${Math.round(performance.now() - closedAt)} ms after the 1012 close ` +
                 `(${failedAttempts} refused attempt(s) in between: ${JSON.stringify(log.filter((e) => e.type === 'error').map((e) => e.message))})`);
    const rejoin = (await joins.waitFor(() => true, { count: 2, timeoutMs: 5000, label: 'join ok after reconnect' }))[1];
    assert.notEqual(rejoin.joinRef, firstRef);
    assert.equal(channel.state, 'joined');
    // The rejoin carried the same join params.
    const rejoinFrame = log.filter((e) => e.type === 'sent' && e.frame && e.frame[3] === 'phx_join' && e.frame[0] === rejoin.joinRef)[0];
    assert.deepEqual(rejoinFrame.frame.slice(2), ['room:restart', 'phx_join', { who: 'me' }]);
    assert.deepEqual(await pushAndWait(channel, 'ping', { after: true }), { status: 'ok', response: { after: true } });
    assert.equal(log.count((e) => e.type === 'close' && e.code === 1012), 1);
});
