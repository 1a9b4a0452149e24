// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// The scripted quiz type (examples/types/quiz.js, loaded with --types-dir) played by official phoenix
// clients: a host and two players through a whole quiz of two questions, one ended by its timer and one
// by the host, with answers validated, scores broadcast and the final table; then the counter example.
'use strict';

const path = require('node:path');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { serverPerFile, joinOk, joinAndWait, pushAndWait, recordChannel } = require('./helpers');

const TYPES = path.join(__dirname, '..', '..', 'examples', 'types');
// Each call resolves with the payload of the next `event` entry of a recordChannel() log, in order.
function reader(log) {
    const seen = new Map();
    return {
        next: async (event) => {
            const n = (seen.get(event) || 0) + 1;
            seen.set(event, n);
            const matches = await log.waitFor((e) => e.event === event, { count: n, label: `${event} #${n}` });
            return (n === 1 ? matches : matches[n - 1]).payload;
        },
    };
}

const h = serverPerFile(['q:quiz:question_ms=400,rounds=2', 'c:counter:step=2'], { extraArgs: ['--types-dir', TYPES] });

test('quiz.js: a host asks two questions, players answer, scores and the final table are broadcast', { timeout: 20000 }, async () => {
    const host = await h.connect('q');
    const ann = await h.connect('q');
    const bob = await h.connect('q');
    const chHost = host.socket.channel('quiz:night', { name: 'quizmaster', host: true });
    const chAnn = ann.socket.channel('quiz:night', { name: 'ann' });
    const chBob = bob.socket.channel('quiz:night', { name: 'bob' });
    const annEvents = reader(recordChannel(chAnn, ['question', 'reveal', 'final']));
    const bobEvents = reader(recordChannel(chBob, ['question', 'reveal', 'final']));

    assert.equal((await joinOk(chHost)).role, 'host');
    const usurper = await h.connect('q');
    const second = usurper.socket.channel('quiz:night', { name: 'usurper', host: true });
    assert.deepEqual(await joinAndWait(second), { status: 'error', response: { reason: 'this quiz already has a host' } });
    second.leave(1000);
    const joinedAnn = await joinOk(chAnn);
    assert.equal(joinedAnn.role, 'player');
    assert.equal(joinedAnn.rounds, 2);
    await joinOk(chBob);

    // Players cannot ask; the host's question is checked.
    assert.deepEqual(await pushAndWait(chAnn, 'ask', { question: 'q', choices: ['a', 'b'], answer: 0 }),
                     { status: 'error', response: { reason: 'only the host can ask' } });
    assert.equal((await pushAndWait(chHost, 'ask', { question: 'q', choices: ['a'], answer: 0 })).status, 'error');

    // Question 1 ends by its timer (question_ms=400).
    const asked = await pushAndWait(chHost, 'ask', { question: '2 + 2?', choices: ['3', '4', '5'], answer: 1 });
    assert.deepEqual(asked, { status: 'ok', response: { number: 1 } });
    const question = await annEvents.next('question');
    assert.deepEqual(question, { number: 1, question: '2 + 2?', choices: ['3', '4', '5'], ms: 400 });
    assert.equal(question.answer, undefined); // the answer stays on the server
    assert.equal((await pushAndWait(chAnn, 'answer', { choice: 1 })).status, 'ok');
    assert.deepEqual(await pushAndWait(chAnn, 'answer', { choice: 0 }), { status: 'error', response: { reason: 'already answered' } });
    assert.equal((await pushAndWait(chBob, 'answer', { choice: 2 })).status, 'ok');
    const reveal1 = await bobEvents.next('reveal');
    assert.deepEqual(await annEvents.next('reveal'), reveal1);
    assert.equal(reveal1.number, 1);
    assert.equal(reveal1.answer, 1);
    assert.equal(reveal1.scores[0].name, 'ann');
    assert.ok(reveal1.scores[0].score >= 100 && reveal1.scores[0].score <= 150, JSON.stringify(reveal1.scores));
    assert.deepEqual(reveal1.scores.find((s) => s.name === 'bob'), { name: 'bob', score: 0 });
    assert.deepEqual(await pushAndWait(chBob, 'answer', { choice: 1 }), { status: 'error', response: { reason: 'no open question' } });

    // Question 2 is ended early by the host; it is the last one, so the final table follows.
    await pushAndWait(chHost, 'ask', { question: 'Capital of France?', choices: ['Paris', 'Rome'], answer: 0 });
    await bobEvents.next('question');
    assert.equal((await pushAndWait(chBob, 'answer', { choice: 0 })).status, 'ok');
    assert.equal((await pushAndWait(chHost, 'reveal', {})).status, 'ok');
    const reveal2 = await annEvents.next('reveal');
    assert.equal(reveal2.number, 2);
    const final = await annEvents.next('final');
    assert.deepEqual(final.scores.map((s) => s.name).sort(), ['ann', 'bob']);
    assert.ok(final.scores.every((s) => s.score >= 100), JSON.stringify(final.scores));
    assert.deepEqual(final, await bobEvents.next('final'));
});

test('counter.js: inc adds the step option and everyone on the topic sees the value', { timeout: 10000 }, async () => {
    const a = await h.connect('c');
    const b = await h.connect('c');
    const chA = a.socket.channel('count:1');
    const chB = b.socket.channel('count:1');
    const values = reader(recordChannel(chB, ['value']));
    assert.deepEqual(await joinOk(chA), { value: 0 });
    await joinOk(chB);
    assert.deepEqual(await pushAndWait(chA, 'inc', {}), { status: 'ok', response: { value: 2 } });
    assert.deepEqual(await values.next('value'), { value: 2 });
    assert.deepEqual(await pushAndWait(chA, 'dec', {}), { status: 'error', response: { reason: "unknown event 'dec' (expected inc)" } });
});
