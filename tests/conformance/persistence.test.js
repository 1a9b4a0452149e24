// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Persistence with the official client: a late joiner with {"history": {"limit": 5}} gets the last 5
// messages after the join reply and before live ones; after SIGTERM and a restart with the same
// --data-dir, the history and a tic-tac-toe game in progress are still there.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startServer, makeSocket, disconnectAll, joinOk, pushAndWait, recordChannel, withTimeout } = require('./helpers');

const INSTANCES = ['room:chat:history=100,presence=false', 'ttt:tictactoe'];

async function connect(server, instance, sockets) {
    const client = makeSocket(server.url(instance));
    sockets.add(client);
    await client.log.waitFor((e) => e.type === 'open', { timeoutMs: 5000, label: `socket open to ${instance}` });
    return client;
}

// Joins room:lobby asking for the last `limit` messages; returns the join response and the shouts log.
async function lateJoin(server, sockets, limit) {
    const late = await connect(server, 'room', sockets);
    const channel = late.socket.channel('room:lobby', { history: { limit } });
    const shouts = recordChannel(channel, ['shout']);
    const response = await joinOk(channel);
    return { late, channel, shouts, response };
}

async function sigterm(server) {
    server.child.kill('SIGTERM');
    const exit = await withTimeout(server.exited, 5000, 'wsserve exiting after SIGTERM');
    assert.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, server.stderrTail());
}

test('persistence: history replay on join, then history and a game after SIGTERM and a restart', { timeout: 30000 }, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsserve-conformance-'));
    const sockets = new Set();
    try {
        let server = await startServer(INSTANCES, { extraArgs: ['--data-dir', dataDir] });
        const talker = await connect(server, 'room', sockets);
        const talk = talker.socket.channel('room:lobby', {});
        await joinOk(talk);
        for (let n = 1; n <= 8; n++) {
            assert.equal((await pushAndWait(talk, 'shout', { n })).status, 'ok');
        }
        const first = await lateJoin(server, sockets, 5);
        assert.deepEqual(first.response.history, { count: 5 });
        assert.equal((await pushAndWait(talk, 'shout', { n: 9 })).status, 'ok');
        await first.shouts.waitFor(() => first.shouts.items.length === 6, { label: '5 replayed + 1 live shout' });
        assert.deepEqual(first.shouts.items.map((e) => e.payload.n), [4, 5, 6, 7, 8, 9]);
        // On the wire: the join reply first, then the replayed pushes with the channel's join_ref.
        const frames = first.late.log.filter((e) => e.type === 'msg' && e.msg.topic === 'room:lobby');
        assert.equal(frames[0].msg.event, 'phx_reply');
        assert.deepEqual(frames.slice(1, 6).map((e) => [e.msg.event, e.msg.join_ref]),
                         Array(5).fill(['shout', frames[0].msg.join_ref]));
        // Without the param nothing changes.
        const plainClient = await connect(server, 'room', sockets);
        const plainJoin = await joinOk(plainClient.socket.channel('room:lobby', {}));
        assert.equal(plainJoin.history, undefined);

        // A game in progress: X in the centre, O in a corner.
        const x = await connect(server, 'ttt', sockets);
        const o = await connect(server, 'ttt', sockets);
        const gameX = x.socket.channel('game:kept', { name: 'xavier' });
        const gameO = o.socket.channel('game:kept', { name: 'olga' });
        assert.equal((await joinOk(gameX)).role, 'X');
        assert.equal((await joinOk(gameO)).role, 'O');
        assert.equal((await pushAndWait(gameX, 'move', { cell: 4 })).status, 'ok');
        assert.equal((await pushAndWait(gameO, 'move', { cell: 0 })).status, 'ok');

        await sigterm(server);
        await disconnectAll(sockets);

        server = await startServer(INSTANCES, { extraArgs: ['--data-dir', dataDir] });
        const second = await lateJoin(server, sockets, 5);
        assert.deepEqual(second.response.history, { count: 5 });
        await second.shouts.waitFor(() => second.shouts.items.length === 5, { label: '5 replayed shouts' });
        assert.deepEqual(second.shouts.items.map((e) => e.payload.n), [5, 6, 7, 8, 9]);

        const o2 = await connect(server, 'ttt', sockets);
        const x2 = await connect(server, 'ttt', sockets);
        const againO = await joinOk(o2.socket.channel('game:kept', { name: 'olga' }));
        assert.equal(againO.role, 'O'); // the seat waited for its name
        assert.deepEqual(againO.state.board, ['O', null, null, null, 'X', null, null, null, null]);
        assert.equal(againO.state.turn, 'X');
        const chX = x2.socket.channel('game:kept', { name: 'xavier' });
        assert.equal((await joinOk(chX)).role, 'X');
        const move = await pushAndWait(chX, 'move', { cell: 8 });
        assert.equal(move.status, 'ok', JSON.stringify(move));
        assert.equal(move.response.moves, 3);

        await disconnectAll(sockets);
        await sigterm(server);
    } finally {
        await disconnectAll(sockets);
        fs.rmSync(dataDir, { recursive: true, force: true });
    }
});
