// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Wire details the JS client cannot show: vsn negotiation, V1 framing, ref types, null join_refs.
// Raw `ws` clients (section 11 of docs/phoenix-protocol.md: rows 2, 16 and section 2.1).
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { serverPerFile, WebSocket, withTimeout } = require('./helpers');

const h = serverPerFile(['echo1:echo']);
const opened = new Set();
after(() => {
    for (const ws of opened) ws.terminate();
});

// Opens a raw client; resolves {ws, frames (EventLog-like array), status} once open or refused.
function rawOpen(path, { protocols, headers } = {}) {
    return withTimeout(new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${h.server.port}${path}`, protocols, { headers });
        opened.add(ws);
        const result = { ws, frames: [], waiters: [] };
        ws.on('unexpected-response', (_req, res) => {
            result.status = res.statusCode;
            ws.terminate();
            resolve(result);
        });
        ws.on('error', (error) => {
            result.error = error.message;
            resolve(result);
        });
        ws.on('open', () => {
            result.status = 101;
            resolve(result);
        });
        ws.on('message', (data) => {
            result.frames.push(JSON.parse(data.toString()));
            for (const w of [...result.waiters]) w();
        });
        ws.on('close', () => opened.delete(ws));
    }), 5000, `raw connect ${path}`);
}

// Resolves with the first `n` frames received.
function frames(client, n, label) {
    return withTimeout(new Promise((resolve) => {
        const check = () => {
            if (client.frames.length >= n) {
                client.waiters = client.waiters.filter((w) => w !== check);
                resolve(client.frames.slice(0, n));
            }
        };
        client.waiters.push(check);
        check();
    }), 5000, `${n} frames: ${label}`);
}

test('vsn negotiation: unknown or malformed vsn is refused with HTTP 403', { timeout: 10000 }, async () => {
    assert.equal((await rawOpen('/socket/echo1/websocket?vsn=3.0.0')).status, 403);
    assert.equal((await rawOpen('/socket/echo1/websocket?vsn=*')).status, 403);
    const ok = await rawOpen('/socket/echo1/websocket?vsn=2.0.0');
    assert.equal(ok.status, 101);
    ok.ws.close();
});

test('no vsn means V1: object frames, and no join_ref key in replies', { timeout: 10000 }, async () => {
    const client = await rawOpen('/socket/echo1/websocket');
    assert.equal(client.status, 101);
    client.ws.send(JSON.stringify({ topic: 'phoenix', event: 'heartbeat', payload: {}, ref: '1' }));
    client.ws.send(JSON.stringify({ topic: 'room:v1', event: 'phx_join', payload: {}, ref: '2', join_ref: '2' }));
    client.ws.send(JSON.stringify({ topic: 'room:v1', event: 'ping', payload: { a: 1 }, ref: '3', join_ref: '2' }));
    const [hb, join, push] = await frames(client, 3, 'V1 replies');
    assert.deepEqual(hb, { event: 'phx_reply', payload: { response: {}, status: 'ok' }, ref: '1', topic: 'phoenix' });
    assert.deepEqual(join, { event: 'phx_reply', payload: { response: {}, status: 'ok' }, ref: '2', topic: 'room:v1' });
    assert.deepEqual(push, { event: 'phx_reply', payload: { response: { a: 1 }, status: 'ok' }, ref: '3', topic: 'room:v1' });
    client.ws.close();
});

test('refs keep their JSON type (numbers echoed as numbers)', { timeout: 10000 }, async () => {
    const client = await rawOpen('/socket/echo1/websocket?vsn=2.0.0');
    client.ws.send('[5,5,"room:num","phx_join",{}]');
    client.ws.send('[5,6,"room:num","ping",{"a":1}]');
    client.ws.send('[null,7,"phoenix","heartbeat",{}]');
    assert.deepEqual(await frames(client, 3, 'numeric refs'), [
        [5, 5, 'room:num', 'phx_reply', { status: 'ok', response: {} }],
        [5, 6, 'room:num', 'phx_reply', { status: 'ok', response: { a: 1 } }],
        [null, 7, 'phoenix', 'phx_reply', { status: 'ok', response: {} }],
    ]);
    client.ws.close();
});

test('join with a null join_ref: the join ref becomes the channel join_ref; leave replies then closes', { timeout: 10000 }, async () => {
    const client = await rawOpen('/socket/echo1/websocket?vsn=2.0.0');
    client.ws.send('[null,"5","room:nulljr","phx_join",{}]');
    client.ws.send('[null,"6","room:nulljr","ping",{"a":1}]');
    client.ws.send('[null,"7","room:nulljr","phx_leave",{}]');
    client.ws.send('["3","8","room:never","phx_leave",{}]');
    assert.deepEqual(await frames(client, 5, 'join/push/leave/leave'), [
        [null, '5', 'room:nulljr', 'phx_reply', { status: 'ok', response: {} }],
        ['5', '6', 'room:nulljr', 'phx_reply', { status: 'ok', response: { a: 1 } }],
        ['5', '7', 'room:nulljr', 'phx_reply', { status: 'ok', response: {} }],
        ['5', '5', 'room:nulljr', 'phx_close', {}],
        // leaving a topic that was never joined: only the ok reply, echoing join_ref and ref
        ['3', '8', 'room:never', 'phx_reply', { status: 'ok', response: {} }],
    ]);
    client.ws.close();
});

test('malformed frames close only that connection (1007 bad JSON, 1003 binary kind 1)', { timeout: 10000 }, async () => {
    const closeOf = (client) => withTimeout(new Promise((resolve) => {
        client.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    }), 5000, 'close after a malformed frame');
    const bystander = await rawOpen('/socket/echo1/websocket?vsn=2.0.0');
    const badJson = await rawOpen('/socket/echo1/websocket?vsn=2.0.0');
    const badJsonClosed = closeOf(badJson);
    badJson.ws.send('{not json');
    const closed = await badJsonClosed;
    assert.equal(closed.code, 1007);
    assert.match(closed.reason, /invalid JSON at offset \d+/);
    const badKind = await rawOpen('/socket/echo1/websocket?vsn=2.0.0');
    const badKindClosed = closeOf(badKind);
    badKind.ws.send(Buffer.from([1, 1, 1, 1, 1]));
    assert.equal((await badKindClosed).code, 1003);
    bystander.ws.send('[null,"1","phoenix","heartbeat",{}]');
    const [reply] = await frames(bystander, 1, 'bystander heartbeat');
    assert.deepEqual(reply, [null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
});
