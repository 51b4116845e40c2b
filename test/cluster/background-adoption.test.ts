// Background Responses API calls (responses.background: meter) outlive the process that served them, with real
// processes: two gateways on one Redis, the one that served a background call killed with SIGKILL while the response
// runs; the mock OpenAI then ends it, and the other gateway adopts the call's record once its claim expires, retrieves
// the ended response and records it once, its usage counted in the budget. And with `--workers 2` on memory records, the
// workers killed with SIGKILL: the ones the primary starts in their place adopt it from the primary.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { Agent } from 'undici';
import { json, MockProvider, type Received } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { runSluice, stopSluice, waitFor, type SluiceProcess } from '../support/process.js';
import { childrenOf, connectionsHeld } from '../support/processes.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { freePort } from '../support/sluice-process.js';
import { until } from '../support/until.js';
import { sqliteLedgerRows } from '../support/ledger.js';
import { scratchDir } from '../support/scratch.js';

const KEY = 'sk-sluice-background-adoption-01';
const UPSTREAM_KEY = 'upstream-openai-key-not-real';
const MASTER_KEY = Buffer.alloc(32, 5).toString('base64');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A mock OpenAI whose background responses stay queued until `end(id, usage)`. */
function backgroundApi() {
  const responses = new Map<string, Record<string, unknown>>();
  let retrievals = 0;
  let next = 0;
  const responder = (request: Received, res: import('node:http').ServerResponse) => {
    if (request.headers.authorization !== `Bearer ${UPSTREAM_KEY}`)
      return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    const url = new URL(request.path, 'http://mock');
    if (request.method === 'POST' && url.pathname === '/v1/responses') {
      const id = `resp_adopt${(++next).toString(16).padStart(6, '0')}`;
      const response = {
        ...responseObject([], { input_tokens: 0, output_tokens: 0 }, 'o3-deep-research-2025-06-26', id),
        status: 'queued',
        background: true,
        usage: null,
      };
      responses.set(id, response);
      return json(res, 200, response);
    }
    const id = /^\/v1\/responses\/([^/]+)$/.exec(url.pathname)?.[1];
    // Every retrieval, of a response deleted since too.
    if (request.method === 'GET') retrievals++;
    const found = id === undefined ? undefined : responses.get(id);
    if (found === undefined)
      return json(res, 404, { error: { message: `Response with id '${id}' not found.`, type: 'invalid_request_error' } });
    if (request.method === 'GET') return json(res, 200, found);
    if (request.method === 'DELETE') {
      responses.delete(id!);
      return json(res, 200, { id, object: 'response', deleted: true });
    }
    return json(res, 405, { error: { message: 'no such method', type: 'invalid_request_error' } });
  };
  return {
    responder,
    retrievals: () => retrievals,
    end(id: string, usage: { input_tokens: number; output_tokens: number }) {
      const model = String(responses.get(id)!.model);
      responses.set(id, { ...responseObject([messageItem('The report')], usage, model, id), status: 'completed', background: true });
    },
  };
}

interface Row {
  request_id: string;
  requested_model: string;
  input_tokens: number;
  output_tokens: number;
  cost_micro_usd: number;
  error_class: string | null;
  tokens_estimated: number;
}

function rows(dbPath: string): Row[] {
  return sqliteLedgerRows<Row>(dbPath, 'o3-deep-research');
}

/** A gateway's sluice.yaml: background responses metered, claims of 1 s, a budget of tokens. */
function gatewayConfig(dir: string, name: string, mockUrl: string, port: number, counters: string): { file: string; dbPath: string } {
  const dbPath = join(dir, `${name}.db`);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `
gateway: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: 0, token: admin-token-for-the-adoption-test }
storage: sqlite:${dbPath}
ledger: { flushIntervalMs: 50 }
counters: ${counters}
responses: { background: meter, backgroundClaimSeconds: 1 }
providers:
  openai: { type: openai, baseUrl: ${mockUrl}/v1, apiKey: ${UPSTREAM_KEY} }
models:
  - name: o3-deep-research
    targets: [{ provider: openai, model: o3-deep-research }]
    pricing: { input: 10, output: 40 }
consumers:
  - { name: checkout-service, team: payments, owner: alice@example.com, keys: ["${KEY}"] }
budgets:
  - { name: research-tokens, consumers: everyone, measure: total_tokens, limit: 100000000, window: day, mode: enforce }
`,
  );
  return { file, dbPath };
}

/** `sluice start --workers 2` on memory records and counters, in a folder of its own, once its workers listen. */
async function startWorkers(prefix: string, mockUrl: string): Promise<{ sluice: SluiceProcess; port: number; dbPath: string }> {
  const dir = scratchDir(prefix);
  const port = await freePort();
  const { file, dbPath } = gatewayConfig(dir, 'workers', mockUrl, port, 'memory');
  const sluice = runSluice(['start', '--workers', '2', '--config', file], { SLUICE_MASTER_KEY: MASTER_KEY });
  await waitFor(sluice.output, /sluice workers are listening/, 90_000);
  return { sluice, port, dbPath };
}

function client(port: number): OpenAI {
  return new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
}

describe('a background response outlives the gateway that served it (SIGKILL), on a shared Redis', () => {
  const api = backgroundApi();
  const keyPrefix = testKeyPrefix();
  const running: SluiceProcess[] = [];
  let mock: MockProvider;
  let dir: string;

  before(async () => {
    mock = await MockProvider.start(api.responder);
    dir = scratchDir('sluice-background-adoption-');
  });

  after(async () => {
    for (const sluice of running) if (sluice.child.exitCode === null && sluice.child.signalCode === null) await stopSluice(sluice);
    await mock.close();
    await deleteTestKeys(keyPrefix);
  });

  test(
    'the other gateway adopts it, records it once with the usage it ended with, and the budget counts it',
    { timeout: 120_000 },
    async () => {
      // Leases off: the budget's counter then holds exactly what was reserved and settled, nothing held in advance.
      const counters = `{ url: "${TEST_REDIS_URL}", keyPrefix: "${keyPrefix}", failMode: closed, timeoutMs: 5000, leaseShare: 0 }`;
      const [portA, portB] = [await freePort(), await freePort()];
      const a = gatewayConfig(dir, 'a', mock.url, portA, counters);
      const b = gatewayConfig(dir, 'b', mock.url, portB, counters);
      const serving = runSluice(['start', '--config', a.file], { SLUICE_MASTER_KEY: MASTER_KEY });
      const other = runSluice(['start', '--config', b.file], { SLUICE_MASTER_KEY: MASTER_KEY });
      running.push(serving, other);
      for (const sluice of [serving, other]) await waitFor(sluice.output, /sluice is listening/, 60_000);

      const queued = await client(portA).responses.create({
        model: 'o3-deep-research',
        input: 'Research otters for an hour',
        background: true,
      });
      assert.equal(queued.status, 'queued');
      // Followed (its record kept with it) once the serving gateway retrieves it.
      await until('the serving gateway retrieves the running response', () => api.retrievals() >= 1, 20_000);
      serving.child.kill('SIGKILL');
      await serving.exited;

      api.end(queued.id, { input_tokens: 1_200, output_tokens: 30_000 });
      await until('the other gateway records it', () => rows(b.dbPath).length > 0, 60_000, 100);
      // Two claim lives more: nobody records it again.
      await sleep(2_500);
      const recorded = rows(b.dbPath);
      assert.equal(recorded.length, 1, 'one row');
      const row = recorded[0]!;
      assert.equal(row.error_class, null);
      assert.equal(row.input_tokens, 1_200);
      assert.equal(row.output_tokens, 30_000);
      assert.equal(row.tokens_estimated, 0);
      // $10 and $40 per 1M tokens: 0.012 + 1.2 dollars.
      assert.equal(row.cost_micro_usd, 1_212_000);
      assert.equal(rows(a.dbPath).length, 0, 'the killed gateway wrote nothing for it');
      assert.match(other.output(), /background response adopted/);

      // The budget holds the response's tokens: the dead gateway's reservation settled to them, neither lost nor counted twice.
      const redis = new Redis(TEST_REDIS_URL);
      try {
        const [, found] = await redis.scan('0', 'MATCH', `${keyPrefix}budget:research-tokens:*`, 'COUNT', 1000);
        // The bucket, its held figure (what it holds for calls in flight) apart under ':held'.
        const keys = found.filter((key) => !key.endsWith(':held'));
        assert.equal(keys.length, 1, String(found));
        assert.equal(Number(await redis.get(keys[0]!)), 31_200);
      } finally {
        await redis.quit();
      }

      assert.equal(await stopSluice(other), 0);
      assert.equal(rows(b.dbPath).length, 1);
    },
  );

  test(
    'deleted through another gateway once ended: metered there, once; one running at a graceful stop is left to the other',
    { timeout: 120_000 },
    async () => {
      const counters = `{ url: "${TEST_REDIS_URL}", keyPrefix: "${keyPrefix}", failMode: closed, timeoutMs: 5000, leaseShare: 0 }`;
      const [portA, portB] = [await freePort(), await freePort()];
      const a = gatewayConfig(dir, 'a2', mock.url, portA, counters);
      const b = gatewayConfig(dir, 'b2', mock.url, portB, counters);
      const serving = runSluice(['start', '--config', a.file], { SLUICE_MASTER_KEY: MASTER_KEY });
      const other = runSluice(['start', '--config', b.file], { SLUICE_MASTER_KEY: MASTER_KEY });
      running.push(serving, other);
      for (const sluice of [serving, other]) await waitFor(sluice.output, /sluice is listening/, 60_000);

      const deleted = await client(portA).responses.create({ model: 'o3-deep-research', input: 'Research herons', background: true });
      const left = await client(portA).responses.create({ model: 'o3-deep-research', input: 'Research egrets', background: true });
      const before = api.retrievals();
      await until('the serving gateway retrieves both', () => api.retrievals() >= before + 2, 20_000);
      // Ended, read and deleted through the other gateway before the serving one retrieves it again.
      api.end(deleted.id, { input_tokens: 700, output_tokens: 9_000 });
      assert.equal((await client(portB).responses.retrieve(deleted.id)).status, 'completed');
      await client(portB).responses.delete(deleted.id);
      await until('the other gateway records the deleted one', () => rows(b.dbPath).length > 0, 20_000, 100);

      // The serving gateway stops while the other still runs: it lets it go rather than record it unfinished.
      assert.equal(await stopSluice(serving), 0);
      api.end(left.id, { input_tokens: 300, output_tokens: 4_000 });
      await until('the other gateway records the one left to it', () => rows(b.dbPath).length > 1, 60_000, 100);
      await sleep(2_500);
      const recorded = rows(b.dbPath).sort((x, y) => x.input_tokens - y.input_tokens);
      assert.deepEqual(
        recorded.map((row) => [row.input_tokens, row.output_tokens, row.error_class]),
        [
          [300, 4_000, null],
          [700, 9_000, null],
        ],
      );
      assert.equal(rows(a.dbPath).length, 0, 'the serving gateway recorded neither');
      assert.equal(await stopSluice(other), 0);
    },
  );
});

describe('a background response outlives the workers of --workers 2 (SIGKILL), on the primary`s memory records', () => {
  const api = backgroundApi();
  let mock: MockProvider;
  let sluice: SluiceProcess | null = null;

  before(async () => {
    mock = await MockProvider.start(api.responder);
  });

  after(async () => {
    if (sluice !== null && sluice.child.exitCode === null) await stopSluice(sluice);
    await mock.close();
  });

  test('the workers started in their place adopt it and record it once', { timeout: 120_000 }, async () => {
    const started = await startWorkers('sluice-background-workers-', mock.url);
    sluice = started.sluice;
    const { port, dbPath } = started;
    const queued = await client(port).responses.create({
      model: 'o3-deep-research',
      input: 'Research beavers for an hour',
      background: true,
    });
    await until('a worker retrieves the running response', () => api.retrievals() >= 1, 20_000);
    // Both workers, whichever follows it: the primary lets their claims go and starts two others.
    const workers = childrenOf(sluice.child.pid!);
    assert.equal(workers.length, 2);
    for (const pid of workers) process.kill(pid, 'SIGKILL');
    await waitFor(sluice.output, /background responses are left for adoption/, 20_000);
    api.end(queued.id, { input_tokens: 500, output_tokens: 7_000 });
    await until('a new worker records it', () => rows(dbPath).length > 0, 60_000, 100);
    await sleep(2_500);
    const recorded = rows(dbPath);
    assert.equal(recorded.length, 1, 'one row');
    assert.equal(recorded[0]!.input_tokens, 500);
    assert.equal(recorded[0]!.output_tokens, 7_000);
    assert.equal(recorded[0]!.error_class, null);
    assert.equal(await stopSluice(sluice), 0);
    assert.equal(rows(dbPath).length, 1);
  });
});

describe('with --workers 2, a background response deleted through the worker that does not follow it', () => {
  const api = backgroundApi();
  let mock: MockProvider;
  let sluice: SluiceProcess | null = null;

  before(async () => {
    mock = await MockProvider.start(api.responder);
  });

  after(async () => {
    if (sluice !== null && sluice.child.exitCode === null) await stopSluice(sluice);
    await mock.close();
  });

  test('is retrieved by that worker before the delete, and metered once with its usage, not lost', { timeout: 120_000 }, async () => {
    const started = await startWorkers('sluice-background-delete-', mock.url);
    sluice = started.sluice;
    const { port, dbPath } = started;
    // Two clients, each holding one keep-alive connection: the primary hands the second to the worker with fewer open.
    const agents = [0, 1].map(() => new Agent({ connections: 1, keepAliveTimeout: 60_000 }));
    const [first, second] = agents.map(
      (agent) =>
        new OpenAI({
          apiKey: KEY,
          baseURL: `http://127.0.0.1:${port}/v1`,
          maxRetries: 0,
          fetchOptions: { dispatcher: agent } as never,
        }),
    ) as [OpenAI, OpenAI];
    try {
      const queued = await first.responses.create({ model: 'o3-deep-research', input: 'Research herons', background: true });
      assert.equal((await second.responses.retrieve(queued.id)).status, 'queued');
      // The two clients' connections are on two workers.
      assert.deepEqual(
        childrenOf(sluice.child.pid!).map((pid) => connectionsHeld(pid, port)),
        [1, 1],
      );
      // Its record is with the primary once the following worker has counted the prompt: well within this.
      await sleep(1_000);
      api.end(queued.id, { input_tokens: 700, output_tokens: 9_000 });
      assert.equal((await second.responses.retrieve(queued.id)).status, 'completed');
      await second.responses.delete(queued.id);
      await until('the deleted response recorded', () => rows(dbPath).length > 0, 20_000, 100);
      // The following worker finds its record taken at its next renewal, and follows it no more: nothing recorded again.
      await waitFor(sluice.output, /no longer followed here/, 20_000);
      await sleep(2_500);
      const recorded = rows(dbPath);
      assert.deepEqual(
        recorded.map((row) => [row.input_tokens, row.output_tokens, row.error_class, row.tokens_estimated]),
        [[700, 9_000, null, 0]],
      );
    } finally {
      await Promise.all(agents.map((agent) => agent.close()));
    }
    assert.equal(await stopSluice(sluice), 0);
    assert.equal(rows(dbPath).length, 1);
  });
});

describe('a lone gateway (records and counters in memory) killed with SIGKILL while a background response runs', () => {
  const api = backgroundApi();
  let mock: MockProvider;
  const running: SluiceProcess[] = [];

  before(async () => {
    mock = await MockProvider.start(api.responder);
  });

  after(async () => {
    for (const sluice of running) if (sluice.child.exitCode === null && sluice.child.signalCode === null) await stopSluice(sluice);
    await mock.close();
  });

  test('its next start adopts the response from its data folder and records it once', { timeout: 120_000 }, async () => {
    const dir = scratchDir('sluice-background-lone-');
    const port = await freePort();
    const { file, dbPath } = gatewayConfig(dir, 'lone', mock.url, port, 'memory');
    const killed = runSluice(['start', '--config', file], { SLUICE_MASTER_KEY: MASTER_KEY });
    running.push(killed);
    await waitFor(killed.output, /sluice is listening/, 60_000);
    const queued = await client(port).responses.create({ model: 'o3-deep-research', input: 'Research kingfishers', background: true });
    await until('the gateway retrieves the running response', () => api.retrievals() >= 1, 20_000);
    killed.child.kill('SIGKILL');
    await killed.exited;
    assert.equal(rows(dbPath).length, 0);

    api.end(queued.id, { input_tokens: 400, output_tokens: 6_000 });
    const restarted = runSluice(['start', '--config', file], { SLUICE_MASTER_KEY: MASTER_KEY });
    running.push(restarted);
    await waitFor(restarted.output, /sluice is listening/, 60_000);
    await until('the restarted gateway records it', () => rows(dbPath).length > 0, 30_000, 100);
    await sleep(2_500);
    assert.deepEqual(
      rows(dbPath).map((row) => [row.input_tokens, row.output_tokens, row.error_class, row.tokens_estimated]),
      [[400, 6_000, null, 0]],
    );
    assert.equal(await stopSluice(restarted), 0);
    assert.equal(rows(dbPath).length, 1);
  });

  // A routine restart (a deploy, a change that needs one) must not meter worse than a kill: the folder keeps the records.
  test(
    'stopped gracefully (SIGTERM), it leaves the response in its folder and its next start records it once, metered',
    { timeout: 120_000 },
    async () => {
      const dir = scratchDir('sluice-background-lone-stop-');
      const port = await freePort();
      const { file, dbPath } = gatewayConfig(dir, 'lone', mock.url, port, 'memory');
      const stopped = runSluice(['start', '--config', file], { SLUICE_MASTER_KEY: MASTER_KEY });
      running.push(stopped);
      await waitFor(stopped.output, /sluice is listening/, 60_000);
      const queued = await client(port).responses.create({ model: 'o3-deep-research', input: 'Research herons', background: true });
      const before = api.retrievals();
      await until('the gateway retrieves the running response', () => api.retrievals() > before, 20_000);
      assert.equal(await stopSluice(stopped), 0);
      assert.equal(rows(dbPath).length, 0);

      api.end(queued.id, { input_tokens: 300, output_tokens: 5_000 });
      const restarted = runSluice(['start', '--config', file], { SLUICE_MASTER_KEY: MASTER_KEY });
      running.push(restarted);
      await waitFor(restarted.output, /sluice is listening/, 60_000);
      await until('the restarted gateway records it', () => rows(dbPath).length > 0, 30_000, 100);
      await sleep(2_500);
      assert.deepEqual(
        rows(dbPath).map((row) => [row.input_tokens, row.output_tokens, row.error_class, row.tokens_estimated]),
        [[300, 5_000, null, 0]],
      );
      assert.equal(await stopSluice(restarted), 0);
      assert.equal(rows(dbPath).length, 1);
    },
  );
});
