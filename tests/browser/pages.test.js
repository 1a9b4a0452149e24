// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// Headless Chromium (Debian's `chromium`, driven by playwright-core) on the pages the built binary serves:
// two players finish a tic-tac-toe game, two people chat and see each other online, all at phone size.
// Screenshots go to docs/browser/ when WSSERVE_SCREENSHOTS=1 (scripts/screenshot-pages sets it).
// Skips (exit 0 with a reason) when no Chromium is installed.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
let chromium;
try {
    ({ chromium } = require('playwright-core'));
} catch (error) {
    throw new Error(`playwright-core is missing: run (cd tests/browser && npm ci); scripts/test does (${error.message})`);
}

const WSSERVE_BIN = process.env.WSSERVE_BIN || path.join(__dirname, '../../build/ci/app/wsserve');
const CHROMIUM = process.env.WSSERVE_CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.WSSERVE_SCREENSHOTS === '1' ? path.join(__dirname, '../../docs/browser') : null;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const STEP_MS = 10000; // every wait below has this deadline

let server = null;
let browser = null;
let base = '';

function startServer() {
    const args = ['--headless', '--bind', '127.0.0.1', '--port', '0', '--no-admin',
        '--instance', 'lobby:chat', '--instance', 'ttt:tictactoe', '--instance', 'echo1:echo'];
    const child = spawn(WSSERVE_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('wsserve did not announce its port:\n' + stderr)), STEP_MS);
        let out = '';
        child.stdout.on('data', (chunk) => {
            out += chunk;
            const match = out.match(/wsserve: listening on ws:\/\/[^\s:]+:(\d+)/);
            if (match) {
                clearTimeout(timer);
                resolve({ child, port: Number(match[1]) });
            }
        });
        child.on('exit', (code) => reject(new Error(`wsserve exited (${code}):\n${stderr}`)));
    });
}

async function phonePage() {
    const context = await browser.newContext(PHONE);
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.errors = errors;
    return page;
}

async function shot(page, name) {
    if (SHOTS) {
        fs.mkdirSync(SHOTS, { recursive: true });
        await page.screenshot({ path: path.join(SHOTS, name) });
    }
}

const haveChromium = fs.existsSync(CHROMIUM);

before(async () => {
    if (!haveChromium) return;
    server = await startServer();
    base = `http://127.0.0.1:${server.port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
    if (browser) await browser.close();
    if (server) {
        server.child.kill('SIGTERM');
        await new Promise((resolve) => server.child.once('exit', resolve));
    }
});

test('the index lists the instances, live', { skip: !haveChromium && `no Chromium at ${CHROMIUM}` }, async () => {
    const page = await phonePage();
    await page.goto(base + '/');
    const lobby = page.locator('tr[data-id="lobby"]');
    await lobby.waitFor();
    assert.equal(await lobby.locator('td').nth(1).textContent(), 'chat');
    assert.equal(await page.locator('tr[data-id="ttt"] a').getAttribute('href'), '/i/ttt/');
    assert.equal(await lobby.locator('.clients').textContent(), '0');
    // A chat member elsewhere: the index's client count follows without a reload.
    const member = await phonePage();
    await member.goto(base + '/i/lobby/');
    await member.getByLabel('Your name', { exact: true }).fill('zoe');
    await member.getByRole('button', { name: 'Join' }).click();
    await lobby.locator('.clients', { hasText: '1' }).waitFor();
    await page.locator('#qr').evaluate((img) => img.complete && img.naturalWidth > 0 ||
        new Promise((resolve) => { img.onload = resolve; }));
    await shot(page, 'index.png');
    await member.context().close();
    assert.deepEqual(page.errors, []);
    await page.context().close();
});

test('two players finish a tic-tac-toe game', { skip: !haveChromium && `no Chromium at ${CHROMIUM}` }, async () => {
    const alice = await phonePage();
    const bob = await phonePage();
    const watcher = await phonePage();
    for (const [page, name] of [[alice, 'alice'], [bob, 'bob'], [watcher, 'carol']]) {
        await page.goto(base + '/i/ttt/');
        await page.getByLabel('Your name', { exact: true }).fill(name);
        await page.getByLabel('Game', { exact: true }).fill('final');
        await page.getByRole('button', { name: 'Play' }).click();
        await page.locator('#status', { hasText: 'Joined game:final' }).waitFor();
    }
    await alice.locator('#role', { hasText: 'You play X' }).waitFor();
    await bob.locator('#role', { hasText: 'You play O' }).waitFor();
    await watcher.locator('#role', { hasText: 'watching' }).waitFor();
    await alice.locator('#player-O', { hasText: 'bob' }).waitFor();
    // Both players see who watches, live, in the labelled list (the watcher joined after them).
    const watching = (page) => page.getByRole('list', { name: /Watching/ });
    for (const page of [alice, bob, watcher]) {
        await watching(page).getByRole('listitem').filter({ hasText: 'carol' }).waitFor();
        await page.locator('#spectator-count', { hasText: '1' }).waitFor();
    }
    // X takes the top row; O answers in the middle row.
    const cell = (page, i) => page.locator(`#board button[data-cell="${i}"]`);
    const moves = [[alice, 0], [bob, 3], [alice, 1], [bob, 4], [alice, 2]];
    for (const [page, i] of moves) {
        await cell(page, i).click(); // waits until the cell is enabled: the player's turn
        await cell(watcher, i).filter({ hasText: /[XO]/ }).waitFor();
    }
    for (const page of [alice, bob, watcher]) {
        await page.locator('#turn', { hasText: 'X (alice) wins' }).waitFor();
    }
    assert.equal(await cell(bob, 5).isDisabled(), true);
    assert.equal(await watcher.locator('#reset').isDisabled(), true); // spectators cannot reset
    await shot(alice, 'tictactoe.png');
    await bob.getByRole('button', { name: 'New game' }).click();
    for (const page of [alice, bob]) {
        await page.locator('#turn', { hasText: /X to play|Your turn/ }).waitFor();
    }
    assert.equal(await cell(alice, 0).textContent(), '');
    // The watcher goes: both players' lists follow.
    assert.deepEqual(watcher.errors, []);
    await watcher.context().close();
    for (const page of [alice, bob]) {
        await page.locator('#spectator-count', { hasText: '0' }).waitFor();
        assert.equal(await watching(page).getByRole('listitem').count(), 0);
    }
    for (const page of [alice, bob]) {
        assert.deepEqual(page.errors, []);
        await page.context().close();
    }
});

test('two people chat and see each other online', { skip: !haveChromium && `no Chromium at ${CHROMIUM}` }, async () => {
    const ann = await phonePage();
    const ben = await phonePage();
    for (const [page, name] of [[ann, 'ann'], [ben, 'ben']]) {
        await page.goto(base + '/i/lobby/');
        await page.getByLabel('Your name', { exact: true }).fill(name);
        await page.getByLabel('Topic', { exact: true }).fill('room:friends');
        await page.getByRole('button', { name: 'Join' }).click();
        await page.locator('#status', { hasText: `as ${name}` }).waitFor();
    }
    for (const page of [ann, ben]) {
        await page.locator('#online-count', { hasText: '2' }).waitFor();
    }
    assert.deepEqual(await ann.locator('#online li').allTextContents(), ['ann (you)', 'ben']);
    await ann.getByLabel('Message', { exact: true }).fill('hello ben');
    await ann.getByRole('button', { name: 'Send' }).click();
    await ben.getByRole('log').filter({ hasText: 'ann:hello ben' }).waitFor();
    await ben.getByLabel('Message', { exact: true }).fill('hi ann!');
    await ben.getByLabel('Message', { exact: true }).press('Enter'); // the keyboard works too
    await ann.getByRole('log').filter({ hasText: 'ben:hi ann!' }).waitFor();
    assert.equal(await ann.locator('#messages li', { hasText: 'hello ben' }).count(), 1); // shown once
    await shot(ann, 'chat.png');
    await ben.getByRole('button', { name: 'Leave' }).click();
    await ann.locator('#online-count', { hasText: '1' }).waitFor();
    await ann.getByRole('log').filter({ hasText: 'ben left' }).waitFor();
    for (const page of [ann, ben]) {
        assert.deepEqual(page.errors, []);
        await page.context().close();
    }
});

test('the channel console shows frames in and out', { skip: !haveChromium && `no Chromium at ${CHROMIUM}` }, async () => {
    const page = await phonePage();
    await page.goto(base + '/i/echo1/');
    await page.getByRole('button', { name: 'Join' }).click();
    await page.locator('#status', { hasText: 'Joined room:lobby' }).waitFor();
    await page.getByLabel('Event', { exact: true }).fill('ping');
    await page.getByLabel('Payload (JSON)', { exact: true }).fill('{"n": 42}');
    await page.getByRole('button', { name: 'Push' }).click();
    await page.locator('#status', { hasText: 'ok: {"n":42}' }).waitFor();
    await page.locator('#frames li', { hasText: '→ out' }).first().waitFor();
    await page.locator('#frames li', { hasText: '← in' }).first().waitFor();
    await page.getByLabel('Payload (JSON)', { exact: true }).fill('{oops');
    await page.getByRole('button', { name: 'Push' }).click();
    await page.locator('#status', { hasText: 'not JSON' }).waitFor();
    await shot(page, 'console.png');
    assert.deepEqual(page.errors, []);
    await page.context().close();
});
