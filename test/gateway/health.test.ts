// /healthz and /readyz on the gateway and admin listeners, for load balancers: no key, and readiness red (503, naming
// what is not ready) while the ledger cannot write, the counters are down in fail-closed mode, or the gateway drains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const providers = (upstream: MockProvider) => ({
  providers: { openai: { type: 'openai', baseUrl: `${upstream.url}/v1`, apiKey: 'upstream-key-not-real' } },
  models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
});

async function readiness(
  url: string,
): Promise<{ status: number; body: { status: string; notReady: string[]; counters: { up: boolean } } }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; notReady: string[]; counters: { up: boolean } } };
}

test('both listeners answer /healthz and /readyz without a key, to GET and HEAD', async () => {
  const upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('ok')));
  const sluice = await startTestSluice(providers(upstream));
  try {
    for (const url of [sluice.baseURL, sluice.adminURL]) {
      const live = await fetch(`${url}/healthz`);
      assert.equal(live.status, 200, url);
      assert.equal(((await live.json()) as { status: string }).status, 'ok');
      const ready = await readiness(url);
      assert.equal(ready.status, 200, url);
      assert.deepEqual([ready.body.status, ready.body.notReady], ['ready', []]);
      // A load balancer may probe with HEAD, and either endpoint refuses another method alike on both listeners.
      for (const path of ['/healthz', '/readyz']) {
        const head = await fetch(`${url}${path}`, { method: 'HEAD' });
        assert.equal(head.status, 200, `HEAD ${url}${path}`);
        assert.equal(await head.text(), '');
        const post = await fetch(`${url}${path}`, { method: 'POST' });
        assert.equal(post.status, 405, `POST ${url}${path}`);
        assert.equal(post.headers.get('allow'), 'GET, HEAD');
        await post.arrayBuffer();
      }
    }
  } finally {
    await sluice.stop();
    await upstream.close();
  }
});

test('readiness is red while the ledger cannot write (SQLite locked), and green once its records are written', async () => {
  const upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('ok')));
  const sluice = await startTestSluice({ ...providers(upstream), ledger: { retry: { initialBackoffMs: 10, maxBackoffMs: 100 } } });
  const locker = new Database(sluice.dbPath);
  try {
    locker.exec('BEGIN IMMEDIATE');
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await until('readiness turns red', async () => (await readiness(sluice.baseURL)).status === 503);
    for (const url of [sluice.baseURL, sluice.adminURL]) assert.deepEqual((await readiness(url)).body.notReady, ['ledger'], url);
    assert.equal((await fetch(`${sluice.baseURL}/healthz`)).status, 200, 'still live');
    locker.exec('ROLLBACK');
    await until('readiness turns green', async () => (await readiness(sluice.baseURL)).status === 200);
    assert.equal((await ledgerRows(sluice)).length, 1);
  } finally {
    locker.close();
    await sluice.stop();
    await upstream.close();
  }
});

test('counters down: red in fail-closed mode, reported but ready in fail-open mode', async () => {
  // A port nothing listens on.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const upstream = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('ok')));
  for (const failMode of ['closed', 'open'] as const) {
    const sluice = await startTestSluice({
      ...providers(upstream),
      counters: { url: `redis://127.0.0.1:${port}`, failMode, keyPrefix: `sluice-health-test-${port}:` },
    });
    try {
      const ready = await readiness(sluice.baseURL);
      assert.equal(ready.status, failMode === 'closed' ? 503 : 200, failMode);
      assert.deepEqual(ready.body.notReady, failMode === 'closed' ? ['counters'] : []);
      assert.equal(ready.body.counters.up, false);
    } finally {
      await sluice.stop();
    }
  }
  await upstream.close();
});

test('readiness is red while the gateway drains', async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  const upstream = await MockProvider.start(async (_request, res) => {
    held = true;
    await released;
    json(res, 200, openaiCompletion('ok'));
  });
  const sluice: TestSluice = await startTestSluice(providers(upstream));
  // A load balancer's probe already under way on the gateway port when the drain begins.
  const probe = net.connect(sluice.sluice.gateway.port, '127.0.0.1');
  let answer = '';
  probe.on('data', (chunk: Buffer) => (answer += chunk.toString()));
  const probed = new Promise<void>((resolve) => probe.on('close', () => resolve()));
  probe.write('GET /readyz HTTP/1.1\r\nho');
  try {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const inFlight = openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await until('the call is in flight', async () => held);
    const stopped = sluice.sluice.stop(10_000);
    probe.write('st: sluice\r\n\r\n');
    const admin = await readiness(sluice.adminURL);
    assert.deepEqual([admin.status, admin.body.notReady], [503, ['draining']]);
    release();
    await inFlight;
    await probed;
    await stopped;
    assert.match(answer, /^HTTP\/1\.1 503 [^]*"notReady":\["draining"\]/);
  } finally {
    release();
    probe.destroy();
    await upstream.close();
  }
});
