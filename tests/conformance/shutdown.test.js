// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// SIGINT with 500 joined clients: every client is closed with 1012 and the process exits 0 within 5 s.
// Raw `ws` clients speaking V2 frames, to keep 500 connections light.
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { startServer, withTimeout, WebSocket, HOST } = require('./helpers');

const CLIENTS = 500;
const CONNECT_CONCURRENCY = 50;

let server = null;
const clients = [];

after(async () => {
    for (const client of clients) {
        client.ws.terminate();
    }
    if (server && !server.exit) {
        server.child.kill('SIGKILL');
        await server.exited;
    }
});

// Opens one raw client, joins room:big and resolves once the join reply is ok.
function openClient(url, index) {
    const client = { index, ws: null, closeCode: null, closeReason: null, joinReply: null, errors: [] };
    clients.push(client);
    client.closed = new Promise((resolve) => {
        client.ws = new WebSocket(url);
        client.ws.on('close', (code, reason) => {
            client.closeCode = code;
            client.closeReason = reason.toString();
            resolve();
        });
    });
    return new Promise((resolve, reject) => {
        client.ws.on('error', (error) => {
            client.errors.push(error.message);
            reject(new Error(`client ${index}: ${error.message}`));
        });
        client.ws.on('open', () => client.ws.send(JSON.stringify(['1', '1', 'room:big', 'phx_join', {}])));
        client.ws.on('message', (data, isBinary) => {
            if (isBinary || client.joinReply) {
                return;
            }
            const frame = JSON.parse(data.toString());
            if (frame[1] === '1' && frame[3] === 'phx_reply') {
                client.joinReply = frame;
                resolve(client);
            }
        });
        client.closed.then(() => reject(new Error(`client ${index} closed (${client.closeCode}) before its join reply`)));
    });
}

test('SIGINT with 500 joined raw clients: all closed with 1012, exit 0 within 5 s', { timeout: 60000 }, async (t) => {
    server = await startServer(['lobby:chat']);
    const url = `ws://${HOST}:${server.port}/socket/lobby/websocket?vsn=2.0.0`;

    // Connect and join, at most CONNECT_CONCURRENCY handshakes in flight.
    let next = 0;
    const worker = async () => {
        while (next < CLIENTS) {
            await openClient(url, next++);
        }
    };
    await withTimeout(Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker)), 40000,
                      `${CLIENTS} clients joining room:big`);
    assert.equal(clients.length, CLIENTS);
    for (const client of clients) {
        assert.deepEqual(client.joinReply.slice(0, 4), ['1', '1', 'room:big', 'phx_reply'], `client ${client.index}`);
        assert.equal(client.joinReply[4].status, 'ok', `client ${client.index}: ${JSON.stringify(client.joinReply)}`);
        assert.equal(client.ws.readyState, WebSocket.OPEN);
    }
    assert.equal(server.exit, null, 'server still running');

    const stopped = await server.stop({ timeoutMs: 5000 });
    assert.deepEqual({ code: stopped.code, signal: stopped.signal }, { code: 0, signal: null },
                     `exit status; stderr:\n${server.stderrTail()}`);
    assert.ok(stopped.elapsedMs < 5000, `exited ${stopped.elapsedMs} ms after SIGINT`);
    t.diagnostic(`wsserve exited ${Math.round(stopped.elapsedMs)} ms after SIGINT`);

    // Every close event has arrived (the server is gone, so the TCP connections are all ended).
    await withTimeout(Promise.all(clients.map((c) => c.closed)), 5000, 'every client close event');
    const codes = new Map();
    for (const client of clients) {
        codes.set(client.closeCode, (codes.get(client.closeCode) || 0) + 1);
    }
    assert.deepEqual([...codes.entries()], [[1012, CLIENTS]], `close codes (code → clients): ${JSON.stringify([...codes.entries()])}`);
});
