// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Headless Chromium (Debian's `chromium`, driven by playwright-core) on a wsserve started with
// `--tls self-signed`: the pages come over https:// and open wss:// sockets to the same port. The test
// accepts the certificate the way a person does on the "not private" page (ignoreHTTPSErrors for this
// browser context only), after checking that Chromium refuses it otherwise.
// Skips (exit 0 with a reason) when no Chromium is installed.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
let chromium;
try {
    ({ chromium } = require('playwright-core'));
} catch (error) {
    throw new Error(`playwright-core is missing: run (cd tests/browser && npm ci); scripts/test does (${error.message})`);
}

const WSSERVE_BIN = process.env.WSSERVE_BIN || path.join(__dirname, '../../build/ci/app/wsserve');
const CHROMIUM = process.env.WSSERVE_CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 10000; // every wait below has this deadline
const haveChromium = fs.existsSync(CHROMIUM);
const skip = !haveChromium && `no Chromium at ${CHROMIUM}`;

let server = null;
let browser = null;
let dataDir = '';
let base = '';

function startServer() {
    const args = ['--headless', '--bind', '127.0.0.1', '--port', '0', '--no-admin', '--tls', 'self-signed',
        '--data-dir', dataDir, '--instance', 'lobby:chat'];
    const child = spawn(WSSERVE_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('wsserve did not announce its port:\n' + stderr)), STEP_MS);
        let out = '';
        child.stdout.on('data', (chunk) => {
            out += chunk;
            const match = out.match(/wsserve: listening on wss:\/\/[^\s:]+:(\d+)/);
            if (match) {
                clearTimeout(timer);
                resolve({ child, port: Number(match[1]), stdout: () => out });
            }
        });
        child.on('exit', (code) => reject(new Error(`wsserve exited (${code}):\n${stderr}`)));
    });
}

// A page in its own context; `accept`: the self-signed certificate is accepted in this context.
async function newPage(accept) {
    const context = await browser.newContext({ ignoreHTTPSErrors: accept });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const errors = [];
    const sockets = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('websocket', (socket) => sockets.push(socket.url()));
    page.errors = errors;
    page.sockets = sockets;
    return page;
}

before(async () => {
    if (!haveChromium) return;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsserve-browser-tls-'));
    server = await startServer();
    base = `https://127.0.0.1:${server.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
    if (browser) await browser.close();
    if (server) {
        server.child.kill('SIGTERM');
        await new Promise((resolve) => server.child.once('exit', resolve));
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

test('Chromium refuses the self-signed certificate until it is accepted', { skip }, async () => {
    const page = await newPage(false);
    await assert.rejects(page.goto(base + '/'), /ERR_CERT_AUTHORITY_INVALID|ERR_CERT_COMMON_NAME_INVALID|ERR_CERT/);
    await page.context().close();
    // What the person accepts is the certificate whose fingerprint wsserve printed.
    const pem = fs.readFileSync(path.join(dataDir, 'tls-self-signed.crt'));
    const fingerprint = new crypto.X509Certificate(pem).fingerprint256;
    assert.ok(server.stdout().includes(fingerprint), `fingerprint ${fingerprint} not printed:\n${server.stdout()}`);
});

test('the index comes over https:// and lists the instances', { skip }, async () => {
    const page = await newPage(true);
    const response = await page.goto(base + '/');
    assert.equal(response.status(), 200);
    assert.equal(await page.evaluate(() => location.protocol), 'https:');
    const security = await response.securityDetails();
    assert.ok(security && /TLS 1\.[23]/.test(security.protocol), `protocol ${security && security.protocol}`);
    const lobby = page.locator('tr[data-id="lobby"]');
    await lobby.waitFor(); // filled from /instances.json, fetched over https
    assert.equal(await lobby.locator('td').nth(1).textContent(), 'chat');
    assert.deepEqual(page.errors, []);
    await page.context().close();
});

test('two chat pages served over https:// talk over wss://', { skip }, async () => {
    const ann = await newPage(true);
    const ben = await newPage(true);
    for (const [page, name] of [[ann, 'ann'], [ben, 'ben']]) {
        await page.goto(base + '/i/lobby/');
        await page.getByLabel('Your name', { exact: true }).fill(name);
        await page.getByLabel('Topic', { exact: true }).fill('room:secure');
        await page.getByRole('button', { name: 'Join' }).click();
        await page.locator('#status', { hasText: `as ${name}` }).waitFor();
    }
    for (const page of [ann, ben]) {
        await page.locator('#online-count', { hasText: '2' }).waitFor();
        assert.ok(page.sockets.length > 0 && page.sockets.every((url) => url.startsWith('wss://')),
                  `sockets: ${page.sockets.join(', ')}`);
    }
    await ann.getByLabel('Message', { exact: true }).fill('hello over tls');
    await ann.getByRole('button', { name: 'Send' }).click();
    await ben.getByRole('log').filter({ hasText: 'ann:hello over tls' }).waitFor();
    await ben.getByLabel('Message', { exact: true }).fill('hi ann');
    await ben.getByLabel('Message', { exact: true }).press('Enter');
    await ann.getByRole('log').filter({ hasText: 'ben:hi ann' }).waitFor();
    for (const page of [ann, ben]) {
        assert.deepEqual(page.errors, []);
        await page.context().close();
    }
});
