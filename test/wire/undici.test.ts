// src/wire/undici.ts: the gateway loads undici in parts, each the very object the package exports, and not the package
// itself; the top-level request still works, loading the package at its first call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import * as undici from 'undici';
import { Agent, buildConnector, errors, Pool, request } from '../../src/wire/undici.js';

test("each part is undici's own export, so an upgrade that moves one fails here", () => {
  assert.equal(Pool, undici.Pool);
  assert.equal(Agent, undici.Agent);
  assert.equal(buildConnector, undici.buildConnector);
  assert.equal(errors, undici.errors);
  assert.equal(errors.HeadersTimeoutError, undici.errors.HeadersTimeoutError);
});

test('request reaches a server and hands back its answer', async () => {
  const server = createServer((req, res) => {
    res.writeHead(201, { 'content-type': 'text/plain' });
    res.end(`${req.method} ${req.url}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    const answer = await request(`http://127.0.0.1:${port}/hook`, { method: 'POST', body: '{}' });
    assert.equal(answer.statusCode, 201);
    assert.equal(await answer.body.text(), 'POST /hook');
  } finally {
    server.close();
  }
});

/** In a fresh process (this one has loaded the package for the tests above): `setup` run, then whether undici is whole. */
async function undiciAfter(setup: string): Promise<{ parts: number; whole: boolean }> {
  const script = `
    import { createRequire } from 'node:module';
    ${setup}
    await new Promise((resolve) => setTimeout(resolve, 200));
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes('/undici/'));
    console.log(JSON.stringify({ parts: loaded.length, whole: loaded.some((path) => path.endsWith('/undici/index.js')) }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout) as { parts: number; whole: boolean };
}

const module = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);

test("a gateway's modules, loaded as `sluice start` loads them, leave the whole of undici unloaded", async () => {
  const { parts, whole } = await undiciAfter(`await import(${module('../../src/main.js')});`);
  assert.ok(parts > 0, 'the pool and its parts are loaded');
  assert.equal(whole, false, "undici's index (fetch, WebSocket, the mock agent...) is not");
});

test('webhooks set up load the whole package then, not at their first delivery; none set up, nothing more', async () => {
  const notifier = (webhooks: string) => `
    const { pino } = await import('pino');
    const { WebhookNotifier } = await import(${module('../../src/alerts/webhooks.js')});
    new WebhookNotifier(${webhooks}, { logger: pino({ level: 'silent' }) });`;
  assert.equal((await undiciAfter(notifier('[{ url: "http://127.0.0.1:9/hook", secret: "s" }]'))).whole, true);
  assert.equal((await undiciAfter(notifier('[]'))).whole, false);
});
