// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// chat and relay instances: broadcast, broadcast_from, binary relay, leave, duplicate joins, presence.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const {
    serverPerFile, joinOk, joinAndWait, pushAndWait, recordChannel, roundTrip, isMsg, hex, plain, Presence, EventLog,
} = require('./helpers');

const h = serverPerFile(['lobby:chat', 'arena:relay']);

test('chat: a shout reaches every member, sender included, with identical payloads', { timeout: 10000 }, async () => {
    const a = await h.connect('lobby');
    const b = await h.connect('lobby');
    const chA = a.socket.channel('room:shout', { name: 'alice' });
    const chB = b.socket.channel('room:shout', { name: 'bob' });
    const gotA = recordChannel(chA, ['shout']);
    const gotB = recordChannel(chB, ['shout']);
    const joinA = await joinOk(chA);
    const joinB = await joinOk(chB);
    assert.equal(joinA.name, 'alice');
    assert.equal(joinB.name, 'bob');
    assert.match(joinA.client_id, /^\d+$/);
    assert.notEqual(joinA.client_id, joinB.client_id);

    const payload = { body: 'hello everyone', n: 1, tags: ['a', 'b'], nested: { x: null } };
    assert.deepEqual(await pushAndWait(chA, 'shout', payload), { status: 'ok', response: {} });
    const [inA, inB] = await Promise.all([
        gotA.waitFor(() => true, { label: 'shout at A' }),
        gotB.waitFor(() => true, { label: 'shout at B' }),
    ]);
    assert.deepEqual(inA.payload, payload);
    assert.deepEqual(inB.payload, payload);
    // Broadcasts carry neither join_ref nor ref: [null, null, topic, event, payload].
    for (const { log } of [a, b]) {
        const frame = (await log.waitFor(isMsg('room:shout', 'shout'))).msg;
        assert.deepEqual(frame, { join_ref: null, ref: null, topic: 'room:shout', event: 'shout', payload });
    }
    // Exactly once each.
    await Promise.all([roundTrip(a.socket), roundTrip(b.socket)]);
    assert.equal(gotA.items.length, 1);
    assert.equal(gotB.items.length, 1);
});

test('relay: the sender does not get its own event, the other member does', { timeout: 10000 }, async () => {
    const a = await h.connect('arena');
    const b = await h.connect('arena');
    const chA = a.socket.channel('room:relay');
    const chB = b.socket.channel('room:relay');
    const gotA = recordChannel(chA, ['move']);
    const gotB = recordChannel(chB, ['move']);
    await joinOk(chA);
    await joinOk(chB);

    const payload = { x: 3, y: -4 };
    assert.deepEqual(await pushAndWait(chA, 'move', payload), { status: 'ok', response: {} });
    const inB = await gotB.waitFor(() => true, { label: 'move at B' });
    assert.deepEqual(inB.payload, payload);
    // A's reply came after the broadcast was fanned out; one more round trip on A's connection and
    // nothing for A may have arrived.
    await roundTrip(a.socket);
    assert.equal(a.log.count(isMsg('room:relay', 'move')), 0, `A got its own relay: ${a.log.describe()}`);
    assert.equal(gotA.items.length, 0);
    assert.equal(gotB.items.length, 1);

    // And the other way round.
    assert.deepEqual(await pushAndWait(chB, 'move', { x: 1 }), { status: 'ok', response: {} });
    assert.deepEqual((await gotA.waitFor(() => true, { label: 'move at A' })).payload, { x: 1 });
    await roundTrip(b.socket);
    assert.equal(gotB.items.length, 1);
});

test('relay: a binary push from A reaches B as an ArrayBuffer', { timeout: 10000 }, async () => {
    const a = await h.connect('arena');
    const b = await h.connect('arena');
    const chA = a.socket.channel('room:bin');
    const chB = b.socket.channel('room:bin');
    const gotA = recordChannel(chA, ['bin']);
    const gotB = recordChannel(chB, ['bin']);
    await joinOk(chA);
    await joinOk(chB);

    const reply = await pushAndWait(chA, 'bin', new Uint8Array([1, 2, 3, 0, 255]).buffer);
    assert.equal(reply.status, 'ok');
    const inB = await gotB.waitFor(() => true, { label: 'binary at B' });
    assert.ok(inB.payload instanceof ArrayBuffer, `payload is ${Object.prototype.toString.call(inB.payload)}`);
    assert.equal(hex(inB.payload), '01020300ff');
    // A broadcast (kind 2) frame: no join_ref, no ref.
    const frame = (await b.log.waitFor(isMsg('room:bin', 'bin'))).msg;
    assert.ok(!frame.join_ref, `join_ref ${JSON.stringify(frame.join_ref)}`);
    assert.equal(frame.ref, null);
    await roundTrip(a.socket);
    assert.equal(gotA.items.length, 0, 'the sender does not get its binary event back');
});

test('leave: ok reply, then no more broadcasts on that topic', { timeout: 10000 }, async () => {
    const a = await h.connect('lobby');
    const b = await h.connect('lobby');
    const chA = a.socket.channel('room:leave');
    const chB = b.socket.channel('room:leave');
    await joinOk(chA);
    await joinOk(chB);
    const joinRefA = chA.joinRef();

    // Both get a shout while joined.
    await pushAndWait(chB, 'shout', { n: 1 });
    await a.log.waitFor(isMsg('room:leave', 'shout', (m) => m.payload.n === 1), { label: 'first shout at A' });

    const leaveReply = await new Promise((resolve, reject) => {
        chA.leave(3000).receive('ok', (r) => resolve(r)).receive('timeout', () => reject(new Error('leave timed out')));
    });
    assert.deepEqual(leaveReply, {});
    assert.equal(chA.state, 'closed');
    // The server answers the leave ok and then closes the channel with its join_ref.
    const leaveFrame = a.log.filter((e) => e.type === 'sent' && e.frame && e.frame[3] === 'phx_leave')[0].frame;
    const replyFrame = (await a.log.waitFor(isMsg('room:leave', 'phx_reply', (m) => m.ref === leaveFrame[1]))).msg;
    assert.deepEqual(replyFrame, {
        join_ref: joinRefA, ref: leaveFrame[1], topic: 'room:leave', event: 'phx_reply',
        payload: { status: 'ok', response: {} },
    });
    const closeEntry = await a.log.waitFor(isMsg('room:leave', 'phx_close'));
    assert.deepEqual(closeEntry.msg, { join_ref: joinRefA, ref: joinRefA, topic: 'room:leave', event: 'phx_close', payload: {} });
    const replyAt = a.log.items.findIndex(isMsg('room:leave', 'phx_reply', (m) => m.ref === leaveFrame[1]));
    assert.ok(replyAt < a.log.items.indexOf(closeEntry), 'the leave reply comes before phx_close');

    // B shouts again; B gets it, A must not (checked on the raw frames, not just the removed channel).
    await pushAndWait(chB, 'shout', { n: 2 });
    await b.log.waitFor(isMsg('room:leave', 'shout', (m) => m.payload.n === 2), { label: 'second shout at B' });
    await roundTrip(a.socket);
    assert.equal(a.log.count(isMsg('room:leave', 'shout', (m) => m.payload.n === 2)), 0,
                 `A still gets broadcasts after leaving: ${a.log.describe()}`);
    // A push on the left topic is now "unmatched topic".
    a.socket.push({ topic: 'room:leave', event: 'shout', payload: { n: 3 }, ref: 'after-leave', join_ref: joinRefA });
    const unmatched = (await a.log.waitFor(isMsg('room:leave', 'phx_reply', (m) => m.ref === 'after-leave'))).msg;
    assert.deepEqual(unmatched.payload, { status: 'error', response: { reason: 'unmatched topic' } });
    await roundTrip(b.socket);
    assert.equal(b.log.count(isMsg('room:leave', 'shout', (m) => m.payload.n === 3)), 0);
});

test('duplicate join via a second Channel object: the newest channel is joined and gets broadcasts', { timeout: 10000 }, async () => {
    const a = await h.connect('lobby');
    const b = await h.connect('lobby');
    const first = a.socket.channel('room:dup', { name: 'first' });
    const gotFirst = recordChannel(first, ['shout', 'phx_close']);
    await joinOk(first);
    const firstRef = first.joinRef();

    const second = a.socket.channel('room:dup', { name: 'second' });
    const gotSecond = recordChannel(second, ['shout']);
    const secondJoin = await joinAndWait(second);
    assert.equal(secondJoin.status, 'ok', JSON.stringify(secondJoin));
    assert.equal(secondJoin.response.name, 'second');
    assert.notEqual(second.joinRef(), firstRef);
    assert.equal(second.state, 'joined');
    assert.equal(first.state, 'closed');

    // The client sent phx_leave for the old join_ref, then the new join.
    const sent = a.log.filter((e) => e.type === 'sent' && e.frame && e.frame[2] === 'room:dup').map((e) => e.frame);
    const leaveIdx = sent.findIndex((f) => f[3] === 'phx_leave' && f[0] === firstRef);
    const joinIdx = sent.findIndex((f) => f[3] === 'phx_join' && f[0] === second.joinRef());
    assert.ok(leaveIdx >= 0 && joinIdx > leaveIdx, JSON.stringify(sent));
    // The server acknowledged the leave of the old join, closed it, and raised no error.
    const leaveReply = (await a.log.waitFor(isMsg('room:dup', 'phx_reply', (m) => m.ref === sent[leaveIdx][1]))).msg;
    assert.deepEqual(leaveReply.payload, { status: 'ok', response: {} });
    assert.equal(leaveReply.join_ref, firstRef);
    await a.log.waitFor(isMsg('room:dup', 'phx_close', (m) => m.join_ref === firstRef), { label: 'phx_close of the old join' });
    assert.equal(a.log.count(isMsg('room:dup', 'phx_error')), 0);

    const chB = b.socket.channel('room:dup', { name: 'bob' });
    await joinOk(chB);
    await pushAndWait(chB, 'shout', { n: 1 });
    const got = await gotSecond.waitFor(() => true, { label: 'shout at the second channel' });
    assert.deepEqual(got.payload, { n: 1 });
    await roundTrip(a.socket);
    assert.equal(a.log.count(isMsg('room:dup', 'shout')), 1, 'one subscription, one copy of the broadcast');
    assert.equal(gotFirst.count((e) => e.event === 'shout'), 0);
    // A push on the new channel still works.
    assert.deepEqual(await pushAndWait(second, 'shout', { n: 2 }), { status: 'ok', response: {} });
});

test('duplicate raw phx_join on a joined topic: old join closed, the new one joined and served', { timeout: 10000 }, async () => {
    const a = await h.connect('lobby');
    const b = await h.connect('lobby');
    const channel = a.socket.channel('room:rawdup');
    await joinOk(channel);
    const oldRef = channel.joinRef();

    // Same topic, same connection, new join_ref, straight onto the wire.
    a.socket.push({ topic: 'room:rawdup', event: 'phx_join', payload: {}, ref: 'dup-1', join_ref: 'dup-1' });
    const reply = (await a.log.waitFor(isMsg('room:rawdup', 'phx_reply', (m) => m.ref === 'dup-1'))).msg;
    assert.equal(reply.join_ref, 'dup-1');
    assert.equal(reply.payload.status, 'ok', JSON.stringify(reply));
    // The old channel instance is closed with its own join_ref.
    const close = (await a.log.waitFor(isMsg('room:rawdup', 'phx_close'))).msg;
    assert.deepEqual(close, { join_ref: oldRef, ref: oldRef, topic: 'room:rawdup', event: 'phx_close', payload: {} });
    await roundTrip(a.socket);
    assert.equal(a.log.count(isMsg('room:rawdup', 'phx_error')), 0);
    assert.equal(a.log.count(isMsg('room:rawdup', 'phx_close')), 1);

    // The new join is the live one: pushes with it are answered, pushes with the old join_ref are dropped.
    a.socket.push({ topic: 'room:rawdup', event: 'shout', payload: { via: 'old' }, ref: 'old-push', join_ref: oldRef });
    a.socket.push({ topic: 'room:rawdup', event: 'shout', payload: { via: 'new' }, ref: 'new-push', join_ref: 'dup-1' });
    const newReply = (await a.log.waitFor(isMsg('room:rawdup', 'phx_reply', (m) => m.ref === 'new-push'))).msg;
    assert.deepEqual(newReply, {
        join_ref: 'dup-1', ref: 'new-push', topic: 'room:rawdup', event: 'phx_reply',
        payload: { status: 'ok', response: {} },
    });
    assert.equal(a.log.count((e) => e.type === 'msg' && e.msg.ref === 'old-push'), 0, 'stale join_ref push answered');
    assert.equal(a.log.count(isMsg('room:rawdup', 'shout', (m) => m.payload.via === 'old')), 0, 'stale join_ref push broadcast');

    // Broadcasts from another member still reach this connection, exactly once.
    const chB = b.socket.channel('room:rawdup');
    await joinOk(chB);
    await pushAndWait(chB, 'shout', { from: 'b' });
    await a.log.waitFor(isMsg('room:rawdup', 'shout', (m) => m.payload.from === 'b'), { label: 'shout from B at A' });
    await roundTrip(a.socket);
    assert.equal(a.log.count(isMsg('room:rawdup', 'shout', (m) => m.payload.from === 'b')), 1);
});

test('presence: state, joins, meta update and leave through the JS Presence class', { timeout: 15000 }, async () => {
    const a = await h.connect('lobby');
    const b = await h.connect('lobby');
    const topic = 'room:presence';
    const chA = a.socket.channel(topic, { name: 'alice' });
    const presA = new Presence(chA);
    const seen = new EventLog('presence at A');
    presA.onSync(() => seen.add({ kind: 'sync', list: plain(presA.list((key, p) => ({ key, metas: p.metas }))) }));
    presA.onJoin((key, current, joined) => seen.add({ kind: 'join', key, current: plain(current ?? null), joined: plain(joined) }));
    presA.onLeave((key, current, left) => seen.add({ kind: 'leave', key, current: plain(current ?? null), left: plain(left) }));
    const keysAre = (...keys) => (e) => e.kind === 'sync' && JSON.stringify(e.list.map((p) => p.key).sort()) === JSON.stringify(keys);

    const joinA = await joinOk(chA);
    assert.equal(joinA.name, 'alice');
    const onlyAlice = await seen.waitFor(keysAre('alice'), { label: 'sync with alice only' });
    assert.equal(onlyAlice.list[0].metas.length, 1);
    const aliceMeta = onlyAlice.list[0].metas[0];
    assert.equal(typeof aliceMeta.phx_ref, 'string');
    assert.ok(aliceMeta.phx_ref.length > 0);
    assert.equal(aliceMeta.client_id, joinA.client_id);
    // presence_state is pushed with the channel's join_ref and no ref.
    const stateFrame = (await a.log.waitFor(isMsg(topic, 'presence_state'))).msg;
    assert.equal(stateFrame.join_ref, chA.joinRef());
    assert.equal(stateFrame.ref, null);

    const chB = b.socket.channel(topic, { name: 'bob' });
    const presB = new Presence(chB);
    const seenB = new EventLog('presence at B');
    presB.onSync(() => seenB.add({ list: plain(presB.list((key, p) => ({ key, metas: p.metas }))) }));
    const joinB = await joinOk(chB);
    // B's first snapshot has both.
    const bothAtB = await seenB.waitFor((e) => e.list.length === 2, { label: 'B sees two presences' });
    assert.deepEqual(bothAtB.list.map((p) => p.key).sort(), ['alice', 'bob']);
    // A sees bob join.
    const bothAtA = await seen.waitFor(keysAre('alice', 'bob'), { label: 'A sees alice and bob' });
    const bobAtA = bothAtA.list.find((p) => p.key === 'bob');
    assert.equal(bobAtA.metas.length, 1);
    const bobMeta = bobAtA.metas[0];
    assert.equal(bobMeta.client_id, joinB.client_id);
    assert.notEqual(bobMeta.phx_ref, aliceMeta.phx_ref);
    assert.ok(seen.count((e) => e.kind === 'join' && e.key === 'bob' && e.current === null) >= 1, 'onJoin(bob) as a new key');

    // B updates its meta: A gets one diff with bob in joins (new ref, phx_ref_prev = old) and leaves (old).
    assert.deepEqual(await pushAndWait(chB, 'presence_update', { status: 'away', typing: false }),
                     { status: 'ok', response: {} });
    const updated = await seen.waitFor(
        (e) => e.kind === 'sync' && e.list.some((p) => p.key === 'bob' && p.metas.length === 1 && p.metas[0].status === 'away'),
        { label: 'A sees bob away' });
    const newBobMeta = updated.list.find((p) => p.key === 'bob').metas[0];
    assert.equal(newBobMeta.typing, false);
    assert.notEqual(newBobMeta.phx_ref, bobMeta.phx_ref);
    assert.equal(newBobMeta.phx_ref_prev, bobMeta.phx_ref);
    assert.deepEqual(updated.list.find((p) => p.key === 'alice').metas, [aliceMeta]);
    const leftOld = await seen.waitFor((e) => e.kind === 'leave' && e.key === 'bob' && e.left.metas[0].phx_ref === bobMeta.phx_ref,
                                       { label: 'onLeave of the old bob meta' });
    assert.equal(leftOld.current.metas.length, 1, 'bob still present after the update');
    const diff = (await a.log.waitFor(isMsg(topic, 'presence_diff', (m) => m.payload.joins.bob && m.payload.leaves.bob))).msg;
    assert.equal(diff.join_ref, null);
    assert.equal(diff.ref, null);
    assert.deepEqual(Object.keys(diff.payload.joins), ['bob']);
    assert.deepEqual(Object.keys(diff.payload.leaves), ['bob']);
    assert.equal(diff.payload.joins.bob.metas[0].phx_ref_prev, bobMeta.phx_ref);
    assert.equal(diff.payload.leaves.bob.metas[0].phx_ref, bobMeta.phx_ref);

    // B leaves: A ends with alice only.
    await new Promise((resolve, reject) => chB.leave(3000).receive('ok', resolve).receive('timeout', reject));
    const gone = await seen.waitFor((e) => e.kind === 'leave' && e.key === 'bob' && e.left.metas[0].phx_ref === newBobMeta.phx_ref,
                                    { label: 'onLeave(bob) after the leave' });
    assert.equal(gone.current.metas.length, 0);
    const goneAt = seen.items.indexOf(gone);
    const final = await seen.waitFor((e) => keysAre('alice')(e) && seen.items.indexOf(e) > goneAt,
                                     { label: 'sync with only alice after bob left' });
    assert.deepEqual(final.list, [{ key: 'alice', metas: [aliceMeta] }]);
    assert.deepEqual(plain(presA.list((key) => key)), ['alice']);
});
