// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
// Smoke client for the packaging test: joins a topic of a chat instance over the Phoenix V2 wire format
// with a raw `ws` client and expects an ok reply, then checks the admin API's /healthz.
// Usage: node smoke_client.cjs NODE_MODULES_DIR WS_PORT INSTANCE_ID ADMIN_PORT
'use strict';
const path = require('node:path');
const http = require('node:http');

const [modulesDir, wsPort, instanceId, adminPort] = process.argv.slice(2);
const WebSocket = require(path.join(modulesDir, 'ws'));

function fail(message) {
  console.error(`smoke: ${message}`);
  process.exit(1);
}

setTimeout(() => fail('timed out after 10 s'), 10000).unref();

function joinTopic() {
  return new Promise((resolve, reject) => {
    const url = `ws://127.0.0.1:${wsPort}/socket/${instanceId}/websocket?vsn=2.0.0`;
    const socket = new WebSocket(url);
    socket.on('error', reject);
    socket.on('open', () => socket.send(JSON.stringify(['1', '1', 'room:1', 'phx_join', {}])));
    socket.on('message', (data) => {
      const [joinRef, ref, topic, event, payload] = JSON.parse(data.toString());
      if (joinRef === '1' && ref === '1' && topic === 'room:1' && event === 'phx_reply') {
        socket.close();
        if (payload.status === 'ok') {
          resolve(url);
        } else {
          reject(new Error(`join refused: ${JSON.stringify(payload)}`));
        }
      }
    });
  });
}

function healthz() {
  return new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${adminPort}/healthz`, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        if (response.statusCode === 200 && JSON.parse(body).status === 'ok') {
          resolve();
        } else {
          reject(new Error(`/healthz answered ${response.statusCode} ${body}`));
        }
      });
    }).on('error', reject);
  });
}

joinTopic()
  .then((url) => {
    console.log(`smoke: joined room:1 on ${url}: ok`);
    return healthz();
  })
  .then(() => {
    console.log(`smoke: admin /healthz on port ${adminPort}: ok`);
    process.exit(0);
  })
  .catch((error) => fail(error.message));
