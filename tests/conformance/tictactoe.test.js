// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// tictactoe instance: topic routing (unmatched topic), seats, move validation, winning broadcast.
// tictactoe-script.test.js runs the same tests against examples/types/tictactoe.js (type tictactoe_js).
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { serverPerFile, joinOk, joinAndWait, pushAndWait, recordChannel, roundTrip, isMsg } = require('./helpers');

const TYPE = process.env.WSSERVE_TTT_TYPE || 'tictactoe';
const h = serverPerFile([`ttt:${TYPE}`], { extraArgs: JSON.parse(process.env.WSSERVE_TTT_ARGS || '[]') });

test(`${TYPE}: a topic outside game:* is refused with "unmatched topic" (join_ref null)`, { timeout: 10000 }, async () => {
    const { socket, log } = await h.connect('ttt');
    const channel = socket.channel('nope:1');
    const result = await joinAndWait(channel);
    assert.deepEqual(result, { status: 'error', response: { reason: 'unmatched topic' } });
    channel.leave(1000); // stop the client's rejoin timer
    const joinFrame = log.filter((e) => e.type === 'sent' && e.frame && e.frame[3] === 'phx_join')[0].frame;
    const reply = (await log.waitFor(isMsg('nope:1', 'phx_reply', (m) => m.ref === joinFrame[1]))).msg;
    assert.deepEqual(reply, {
        join_ref: null, ref: joinFrame[1], topic: 'nope:1', event: 'phx_reply',
        payload: { status: 'error', response: { reason: 'unmatched topic' } },
    });
    // "game:" alone is not a game either.
    const bare = socket.channel('game:');
    assert.deepEqual(await joinAndWait(bare), { status: 'error', response: { reason: 'unmatched topic' } });
    bare.leave(1000);
});

test(`${TYPE}: seats, validated moves and a winning sequence for X`, { timeout: 15000 }, async () => {
    const x = await h.connect('ttt');
    const o = await h.connect('ttt');
    const spectator = await h.connect('ttt');
    const chX = x.socket.channel('game:one', { name: 'xavier' });
    const chO = o.socket.channel('game:one', { name: 'olga' });
    const chS = spectator.socket.channel('game:one', { name: 'sam' });
    const statesX = recordChannel(chX, ['state']);
    const statesO = recordChannel(chO, ['state']);
    const statesS = recordChannel(chS, ['state']);

    const joinX = await joinOk(chX);
    assert.equal(joinX.role, 'X');
    assert.deepEqual(joinX.state.board, Array(9).fill(null));
    assert.equal(joinX.state.turn, 'X');
    assert.equal(joinX.state.winner, null);
    assert.equal(joinX.state.players.O, null);
    assert.equal(joinX.state.players.X.name, 'xavier');

    // Alone at the table: no moves yet.
    assert.deepEqual(await pushAndWait(chX, 'move', { cell: 4 }),
                     { status: 'error', response: { reason: 'waiting for a second player' } });

    const joinO = await joinOk(chO);
    assert.equal(joinO.role, 'O');
    assert.equal(joinO.state.players.X.name, 'xavier');
    assert.equal(joinO.state.players.O.name, 'olga');
    const joinS = await joinOk(chS);
    assert.equal(joinS.role, 'spectator');

    // O may not open; a spectator may not move; bad cells are refused.
    assert.deepEqual(await pushAndWait(chO, 'move', { cell: 0 }), { status: 'error', response: { reason: 'not your turn' } });
    assert.deepEqual(await pushAndWait(chS, 'move', { cell: 0 }), { status: 'error', response: { reason: 'spectators cannot move' } });
    const bad = await pushAndWait(chX, 'move', { cell: 9 });
    assert.equal(bad.status, 'error');
    assert.equal(typeof bad.response.reason, 'string');

    const expectBoard = (moves) => {
        const board = Array(9).fill(null);
        for (const [who, cell] of moves) board[cell] = who;
        return board;
    };
    const played = [];
    const play = async (channel, who, cell) => {
        const reply = await pushAndWait(channel, 'move', { cell });
        assert.equal(reply.status, 'ok', `${who} ${cell}: ${JSON.stringify(reply)}`);
        played.push([who, cell]);
        assert.deepEqual(reply.response.board, expectBoard(played));
        assert.equal(reply.response.moves, played.length);
        return reply.response;
    };

    let state = await play(chX, 'X', 4);
    assert.equal(state.turn, 'O');
    assert.deepEqual(await pushAndWait(chX, 'move', { cell: 0 }), { status: 'error', response: { reason: 'not your turn' } });
    assert.deepEqual(await pushAndWait(chO, 'move', { cell: 4 }), { status: 'error', response: { reason: 'cell 4 is taken' } });
    await play(chO, 'O', 0);
    await play(chX, 'X', 2);
    await play(chO, 'O', 1);
    state = await play(chX, 'X', 6); // 2-4-6 diagonal
    assert.equal(state.winner, 'X');
    assert.equal(state.turn, null);

    // Everyone, the spectator included, gets the final `state` broadcast.
    const isWin = (e) => e.payload.winner === 'X';
    const finals = await Promise.all([statesX, statesO, statesS].map((log, i) =>
        log.waitFor(isWin, { label: `winning state at ${['X', 'O', 'spectator'][i]}` })));
    for (const final of finals) {
        assert.deepEqual(final.payload, state);
        assert.deepEqual(final.payload.board, ['O', 'O', 'X', null, 'X', null, 'X', null, null]);
    }
    const frame = (await o.log.waitFor(isMsg('game:one', 'state', (m) => m.payload.winner === 'X'))).msg;
    assert.equal(frame.join_ref, null);
    assert.equal(frame.ref, null);

    // Game over: further moves refused; O saw one state per accepted move (plus the seat broadcasts).
    assert.deepEqual(await pushAndWait(chO, 'move', { cell: 8 }), { status: 'error', response: { reason: 'game over' } });
    await roundTrip(o.socket);
    const boardsSeenByO = statesO.items.map((e) => e.payload.moves);
    for (let n = 1; n <= 5; n++) {
        assert.equal(boardsSeenByO.filter((m) => m === n).length, 1, `O saw move ${n} once: ${JSON.stringify(boardsSeenByO)}`);
    }
    assert.equal(statesO.count(isWin), 1);
});
