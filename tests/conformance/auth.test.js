// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// auth=jwt with tokens minted by an independent implementation (the pinned `jose` package) and the
// unmodified phoenix JS client: valid tokens join (params.token and authToken), every kind of bad token
// gets HTTP 403 with its reason, a `topics` claim limits joins, expiry closes with 1008 and a refreshed
// token (access_token event) keeps the socket.
'use strict';

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { serverPerFile, WebSocket, WSSERVE_BIN, joinOk, joinAndWait, pushAndWait, withTimeout } = require('./helpers');

const SECRET = crypto.randomBytes(32).toString('hex');
const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsserve-auth-'));
const RSA_PEM = path.join(keyDir, 'rsa.pem');
const EC_PEM = path.join(keyDir, 'ec.pem');
// Keys made now, before the server below starts and reads the PEM files (node:crypto; jose signs with them).
const keys = {
    rsa: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ec: crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};
fs.writeFileSync(RSA_PEM, keys.rsa.publicKey.export({ type: 'spki', format: 'pem' }));
fs.writeFileSync(EC_PEM, keys.ec.publicKey.export({ type: 'spki', format: 'pem' }));
let jose;
before(async () => {
    jose = await import('jose');
});

const h = serverPerFile([
    `hs:chat:auth=jwt,jwt_secret=${SECRET},jwt_audience=game`,
    `rs:echo:auth=jwt,jwt_public_key=${RSA_PEM}`,
    `es:echo:auth=jwt,jwt_public_key=${EC_PEM}`,
    `short:echo:auth=jwt,jwt_secret=${SECRET},jwt_leeway_s=0`,
    `who:chaos:auth=jwt,jwt_secret=${SECRET}`,
], { admin: true });

const now = () => Math.floor(Date.now() / 1000);

async function hs256(claims, { secret = SECRET, expiresIn = 600, header = {} } = {}) {
    return new jose.SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'HS256', ...header })
        .setIssuedAt()
        .setExpirationTime(now() + expiresIn)
        .sign(new TextEncoder().encode(secret));
}

// The HTTP answer to an upgrade with this token in ?token= : {status, body} (101 means it upgraded).
function upgradeStatus(instanceId, token) {
    const url = `${h.server.url(instanceId)}?vsn=2.0.0${token === undefined ? '' : `&token=${encodeURIComponent(token)}`}`;
    return withTimeout(new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.on('open', () => {
            ws.close();
            resolve({ status: 101, body: '' });
        });
        ws.on('unexpected-response', (req, res) => {
            let body = '';
            res.on('data', (chunk) => { body += chunk; });
            res.on('end', () => resolve({ status: res.statusCode, body: body.trim() }));
        });
        ws.on('error', () => {});
    }), 5000, `upgrade to ${instanceId}`);
}

test('auth: a valid HS256 token joins, by params.token and by the authToken option', { timeout: 15000 }, async () => {
    const token = await hs256({ sub: 'alice', aud: 'game' });
    const viaParams = await h.connect('hs', { params: { token } });
    await joinOk(viaParams.socket.channel('room:1'));
    const viaAuthToken = await h.connect('hs', { authToken: token });
    await joinOk(viaAuthToken.socket.channel('room:1'));
});

test('auth: bad tokens get HTTP 403 with the reason, never the token', { timeout: 15000 }, async () => {
    const good = await hs256({ sub: 'alice', aud: 'game' });
    const [header, payload, signature] = good.split('.');
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    const cases = [
        ['missing token', undefined, 'missing token'],
        ['expired', await hs256({ sub: 'a', aud: 'game' }, { expiresIn: -120 }), 'expired'],
        ['wrong audience', await hs256({ sub: 'a', aud: 'other' }), 'wrong audience'],
        ['bad signature', `${header}.${payload}.${flipped}`, 'bad signature'],
        ['signed with another secret', await hs256({ sub: 'a', aud: 'game' }, { secret: 'x'.repeat(64) }), 'bad signature'],
        ['alg none', `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`, 'alg'],
        ['over 4 KiB', await hs256({ sub: 'a', aud: 'game', pad: 'x'.repeat(5000) }), 'token over 4 KiB'],
    ];
    for (const [label, token, reason] of cases) {
        const { status, body } = await upgradeStatus('hs', token);
        assert.equal(status, 403, `${label}: ${body}`);
        assert.ok(body.includes(reason), `${label}: body "${body}" names "${reason}"`);
        if (token) {
            assert.ok(!body.includes(token.slice(0, 40)), `${label}: the body must not echo the token`);
        }
    }
});

test('auth: RS256 and ES256 tokens from jose verify; HS/RS confusion is refused', { timeout: 15000 }, async () => {
    const rs = await new jose.SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'RS256', kid: 'whatever' })
        .setExpirationTime(now() + 600).sign(keys.rsa.privateKey);
    assert.equal((await upgradeStatus('rs', rs)).status, 101);
    const es = await new jose.SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'ES256' })
        .setExpirationTime(now() + 600).sign(keys.ec.privateKey);
    assert.equal((await upgradeStatus('es', es)).status, 101);
    // The classic confusion: an HS256 token whose HMAC key is the server's public key text.
    const confused = await hs256({ sub: 'mallory' }, { secret: fs.readFileSync(RSA_PEM, 'utf8') });
    const { status, body } = await upgradeStatus('rs', confused);
    assert.equal(status, 403, body);
    assert.ok(/alg/.test(body), body);
    // An RS256 token against the EC key.
    assert.equal((await upgradeStatus('es', rs)).status, 403);
});

test('auth: a topics claim limits joins; claims reach the type (whoami)', { timeout: 15000 }, async () => {
    const token = await hs256({ sub: 'carol', aud: 'game', topics: ['room:*', 'game:42'], name: 'Carol' });
    const { socket } = await h.connect('hs', { params: { token } });
    await joinOk(socket.channel('room:anything'));
    await joinOk(socket.channel('game:42'));
    const refused = socket.channel('game:43');
    assert.deepEqual(await joinAndWait(refused), { status: 'error', response: { reason: 'unauthorized' } });
    refused.leave(1000);
    // chat uses the name claim as the presence key and refuses another name.
    const wrongName = socket.channel('room:named', { name: 'Mallory' });
    assert.deepEqual(await joinAndWait(wrongName), { status: 'error', response: { reason: 'name does not match the token' } });
    wrongName.leave(1000);

    const whoToken = await hs256({ sub: 'dave', role: 'teacher' });
    const who = await h.connect('who', { params: { token: whoToken } });
    const channel = who.socket.channel('t');
    await joinOk(channel);
    const reply = await pushAndWait(channel, 'whoami', {});
    assert.equal(reply.status, 'ok');
    assert.equal(reply.response.claims.sub, 'dave');
    assert.equal(reply.response.claims.role, 'teacher');
});

test('auth: expiry closes the socket with 1008; a refreshed token keeps it', { timeout: 20000 }, async () => {
    const expiresIn = 2;
    const lapsing = await h.connect('short', { params: { token: await hs256({ sub: 'erin' }, { expiresIn }) }, reconnectAfterMs: () => 60000 });
    const kept = await h.connect('short', { params: { token: await hs256({ sub: 'frank' }, { expiresIn }) }, reconnectAfterMs: () => 60000 });
    const channel = kept.socket.channel('t');
    await joinOk(channel);
    // A fresh token for the same subject, before the first one runs out.
    const refreshed = await pushAndWait(channel, 'access_token', { access_token: await hs256({ sub: 'frank' }, { expiresIn: 600 }) });
    assert.equal(refreshed.status, 'ok', JSON.stringify(refreshed));
    const closed = await lapsing.log.waitFor((e) => e.type === 'close', { timeoutMs: 10000, label: 'expired socket closed' });
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'token expired');
    // The refreshed one is still served after the other expired.
    assert.equal((await pushAndWait(channel, 'ping', { n: 1 })).status, 'ok');
    // A token for another subject is refused and closes the socket.
    const other = await pushAndWait(channel, 'access_token', { access_token: await hs256({ sub: 'mallory' }) });
    assert.equal(other.status, 'error');
    const stolen = await kept.log.waitFor((e) => e.type === 'close', { timeoutMs: 5000, label: 'closed for another subject' });
    assert.equal(stolen.code, 1008);
});

test('auth: the secret never appears in the admin API or the log', { timeout: 10000 }, async () => {
    const response = await fetch(`http://127.0.0.1:${h.server.adminPort}/api/instances`);
    assert.equal(response.status, 200);
    const body = await response.text();
    assert.ok(!body.includes(SECRET), 'GET /api/instances must not contain jwt_secret');
    assert.ok(body.includes('"jwt_secret":"***"'), body.slice(0, 400));
    assert.ok(!h.server.stderrText.includes(SECRET), 'the log must not contain jwt_secret');
});

test('auth: tokens minted by wsserve (CLI and admin API) verify with jose', { timeout: 10000 }, async () => {
    const key = new TextEncoder().encode(SECRET);
    const cli = execFileSync(WSSERVE_BIN, ['token', '--instance-secret', SECRET, '--sub', 'gina', '--name', 'Gina',
                                          '--topics', 'room:*', '--ttl', '600', '--audience', 'game'], { encoding: 'utf8' }).trim();
    const fromCli = await jose.jwtVerify(cli, key, { audience: 'game', algorithms: ['HS256'] });
    assert.equal(fromCli.payload.sub, 'gina');
    assert.deepEqual(fromCli.payload.topics, ['room:*']);
    assert.ok(fromCli.payload.exp > now() + 500 && fromCli.payload.exp <= now() + 601);

    const response = await fetch(`http://127.0.0.1:${h.server.adminPort}/api/instances/hs/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ sub: 'hank', name: 'Hank', ttl_s: 300 }),
    });
    assert.equal(response.status, 201);
    const minted = await response.json();
    const fromApi = await jose.jwtVerify(minted.token, key, { audience: 'game', algorithms: ['HS256'] });
    assert.equal(fromApi.payload.sub, 'hank');
    assert.equal(fromApi.payload.exp, minted.expires_at);
    // And the server takes its own token, of course.
    const { socket } = await h.connect('hs', { params: { token: minted.token } });
    assert.equal((await joinOk(socket.channel('room:1'))).name, 'Hank');
});
