// Budgets held in Redis: shared by gateway replicas (real CLI processes), and what a Redis outage does to calls in
// either fail mode. Needs a real Redis (test/support/redis.ts); every test uses its own key prefix and deletes its keys.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import OpenAI, { APIError } from 'openai';
import { estimatePromptTokens } from '../../src/metering/tokenizer.js';
import { ManualClock } from '../../src/policy/clock.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { deleteTestKeys, TEST_REDIS, TEST_REDIS_URL, testKeyPrefix, testRedisUrlVia } from '../support/redis.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { oneModelYaml } from '../support/sluice-process.js';
import { scratchDir } from '../support/scratch.js';

const SLUICE = fileURLToPath(new URL('../../src/cli/sluice.js', import.meta.url));
const REDIS_URL = TEST_REDIS_URL;
const KEY = 'sk-sluice-replicas-key-01';
const MESSAGE = 'Say hello.';
const MAX_TOKENS = 20;
/** What the mock reports for every call: 21 tokens, never more than any call's estimate (prompt estimate + 20). */
const USAGE = { prompt_tokens: 1, completion_tokens: 20 };
const SERVED_TOKENS = USAGE.prompt_tokens + USAGE.completion_tokens;
/** A hang (a call waiting on a dead Redis) fails the test instead of stalling the run. */
const GUARD = { timeout: 30_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ask = (client: OpenAI) =>
  client.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: MESSAGE }] });

/** The status of a call and, when refused, Sluice's error code. */
async function outcome(call: Promise<unknown>): Promise<{ status: number; code?: string | null | undefined }> {
  try {
    await call;
    return { status: 200 };
  } catch (error) {
    if (!(error instanceof APIError) || error.status === undefined) throw error;
    return { status: error.status, code: error.code };
  }
}

/** A TCP hop in front of Redis that the test can cut, as a Redis crash or a network partition would. */
async function redisProxy(): Promise<{ url: string; kill(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(TEST_REDIS.port, TEST_REDIS.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: testRedisUrlVia(port),
    kill: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function metric(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  return match === null ? 0 : Number(match[1]);
}

describe('budgets counted in Redis', () => {
  let mock: MockProvider;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    // The delay keeps calls in flight together, so reservations on both replicas race for the same room.
    mock = await MockProvider.start(async (_request, res) => {
      await sleep(30);
      json(res, 200, openaiCompletion('hello', USAGE));
    });
  });
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  after(async () => {
    await mock.close();
  });

  /** An in-process gateway whose counters live behind `url`, with one budget; its Redis keys are deleted afterwards. */
  async function gateway(
    url: string,
    failMode: 'open' | 'closed',
    budget: Record<string, unknown>,
    options: { clock?: ManualClock; timeoutMs?: number; leaseShare?: number } = {},
  ): Promise<{ sluice: TestSluice; client: OpenAI }> {
    const keyPrefix = testKeyPrefix();
    const sluice = await startTestSluice(
      {
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-not-real' } },
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
        counters: {
          url,
          failMode,
          timeoutMs: options.timeoutMs ?? 200,
          keyPrefix,
          ...(options.leaseShare === undefined ? {} : { leaseShare: options.leaseShare }),
        },
        budgets: [{ consumers: 'everyone', mode: 'enforce', ...budget }],
      },
      options.clock === undefined ? {} : { clock: options.clock },
    );
    cleanups.push(
      async () => {
        await deleteTestKeys(keyPrefix);
      },
      () => sluice.stop(),
    );
    return { sluice, client: new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 }) };
  }

  describe('two gateway processes', () => {
    const children: Array<{ child: ChildProcess; exited: Promise<number | null>; output: () => string }> = [];
    const alarms = () =>
      children
        .flatMap(({ output }) =>
          output()
            .split('\n')
            .filter((line) => line.includes('ALARM')),
        )
        .join('\n');
    const keyPrefix = testKeyPrefix();

    after(async () => {
      for (const { child, exited } of children) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      }
      await deleteTestKeys(keyPrefix);
    });

    /** Starts the real CLI on its own config (own ledger, shared counters) and reads its gateway port from the log. */
    async function replica(dir: string, name: string, limit: number): Promise<{ port: number; dbPath: string }> {
      const dbPath = join(dir, `${name}.db`);
      const config = join(dir, `${name}.yaml`);
      writeFileSync(
        config,
        `
gateway: { host: 127.0.0.1, port: 0 }
admin: { host: 127.0.0.1, port: 0 }
storage: sqlite:${dbPath}
# Generous timeout, fail-closed: on a loaded machine a reply that misses a short timeout would be admitted unmetered
# (fail-open) and read as overspend; this test is about sharing, so trouble must show as a 503, never as a pass/fail
# of the budget.
counters: { url: "${REDIS_URL}", keyPrefix: "${keyPrefix}", failMode: closed, timeoutMs: 5000 }
${oneModelYaml(mock.url, KEY)}
budgets:
  - { name: shared-tokens, consumers: everyone, measure: total_tokens, limit: ${limit}, window: day, mode: enforce }
`,
      );
      const child = spawn(process.execPath, [SLUICE, 'start', '--config', config], {
        env: { PATH: process.env.PATH, SLUICE_WORKERS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let output = '';
      children.push({ child, exited, output: () => output });
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          const line = output.split('\n').find((text) => text.includes('sluice is listening'));
          if (line !== undefined) resolve((JSON.parse(line) as { gateway: { port: number } }).gateway.port);
        });
        void exited.then((code) => reject(new Error(`${name} exited with ${code} before listening:\n${output}`)));
      });
      return { port, dbPath };
    }

    test('two gateway processes sharing Redis keep the combined spend within one budget', { timeout: 60_000 }, async () => {
      // The estimate each call reserves, computed as the gateway does from the same IR.
      const estimate =
        (await estimatePromptTokens({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: [{ type: 'text', text: MESSAGE }] }],
          stream: false,
          maxTokens: MAX_TOKENS,
        })) + MAX_TOKENS;
      assert.ok(estimate >= SERVED_TOKENS, 'each settlement gives back, never takes more');
      const limit = 40 * estimate;
      const dir = scratchDir('sluice-replicas-');
      const replicas = await Promise.all([replica(dir, 'one', limit), replica(dir, 'two', limit)]);
      const clients = replicas.map(({ port }) => new OpenAI({ apiKey: KEY, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 }));

      const outcomes = await Promise.all(Array.from({ length: 120 }, (_, i) => outcome(ask(clients[i % 2]!))));
      const served = outcomes.filter((o) => o.status === 200).length;
      const others = outcomes.filter((o) => o.status !== 200 && !(o.status === 429 && o.code === 'budget_exhausted'));
      assert.deepEqual(others, [], `every call is served or refused by the budget\n${alarms()}`);
      // Reservations are made atomically in the one shared counter, so 40 estimates fit, less the room the other
      // replica may hold leased and unused (counters.leaseShare, 1/64 by default: at most floor(limit / 64) tokens per
      // replica, docs/scale-out.md); settlements can only free room, so a few more may fit, but what was served can never
      // pass the limit.
      const heldAtMost = 2 * Math.floor(limit / 64);
      assert.ok(served >= 40 - Math.ceil(heldAtMost / estimate), `served ${served}`);
      assert.ok(served * SERVED_TOKENS <= limit, `served ${served * SERVED_TOKENS} tokens over the limit of ${limit}\n${alarms()}`);

      // SIGTERM drains and flushes each ledger; between them they hold every call, with the same figures.
      for (const { child, exited } of children) {
        child.kill('SIGTERM');
        assert.equal(await exited, 0);
      }
      let rows = 0;
      let ok = 0;
      let tokens = 0;
      for (const { dbPath } of replicas) {
        const db = new Database(dbPath, { readonly: true });
        const ledger = db.prepare('SELECT status, input_tokens, output_tokens FROM transactions').all() as Array<{
          status: number;
          input_tokens: number;
          output_tokens: number;
        }>;
        db.close();
        rows += ledger.length;
        ok += ledger.filter((row) => row.status === 200).length;
        tokens += ledger.filter((row) => row.status === 200).reduce((sum, row) => sum + row.input_tokens + row.output_tokens, 0);
        assert.ok(ledger.every((row) => row.status === 200 || row.status === 429));
      }
      assert.equal(rows, 120);
      assert.equal(ok, served);
      assert.equal(tokens, served * SERVED_TOKENS);
      assert.ok(tokens <= limit);
    });
  });

  test('fail-open: with Redis gone mid-traffic, calls are admitted unmetered and the alarm is raised', GUARD, async () => {
    const proxy = await redisProxy();
    cleanups.push(() => proxy.kill());
    const { sluice, client } = await gateway(proxy.url, 'open', {
      name: 'roomy',
      measure: 'total_tokens',
      limit: 1_000_000,
      window: 'day',
    });

    // Four callers in a row each; the proxy is cut while calls are in flight, then more calls follow the outage.
    let done = 0;
    const cut = (async () => {
      while (done < 5) await sleep(2);
      await proxy.kill();
    })();
    const during = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const seen = [];
        for (let i = 0; i < 5; i++) {
          seen.push(await outcome(ask(client)));
          done++;
        }
        return seen;
      }),
    );
    await cut;
    const afterwards = [];
    for (let i = 0; i < 5; i++) afterwards.push(await outcome(ask(client)));
    assert.deepEqual(
      [...during.flat(), ...afterwards].map((o) => o.status),
      Array(25).fill(200),
    );

    const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
    assert.ok(
      metric(metrics, /sluice_counter_store_failures_total\{operation="reserve",outcome="admitted_unmetered"\} (\d+)/) > 0,
      metrics,
    );
    assert.match(metrics, /^sluice_counter_store_up 0$/m);
    const rows = await ledgerRows(sluice);
    assert.equal(rows.length, 25);
    assert.ok(rows.every((row) => row.status === 200));
  });

  test('fail-closed: with Redis unreachable, calls are refused with 503 counters_unavailable, never hung', GUARD, async () => {
    const proxy = await redisProxy();
    cleanups.push(() => proxy.kill());
    // Without leases, so every call asks Redis: with them (the default), calls are first admitted from room already
    // held until the gateway notices Redis is gone (docs/scale-out.md), and the exact refusal count below would vary.
    const { sluice, client } = await gateway(
      proxy.url,
      'closed',
      { name: 'roomy', measure: 'total_tokens', limit: 1_000_000, window: 'day' },
      { leaseShare: 0 },
    );

    for (let i = 0; i < 3; i++) assert.deepEqual(await outcome(ask(client)), { status: 200 });
    await sluice.sluice.settled();
    await proxy.kill();
    const upstreamCalls = mock.received.length;
    for (let i = 0; i < 5; i++) assert.deepEqual(await outcome(ask(client)), { status: 503, code: 'counters_unavailable' });
    assert.equal(mock.received.length, upstreamCalls, 'a refused call never reaches the provider');

    const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
    assert.equal(metric(metrics, /sluice_counter_store_failures_total\{operation="reserve",outcome="refused"\} (\d+)/), 5, metrics);
    assert.match(metrics, /^sluice_counter_store_up 0$/m);
  });

  test('a Redis budget refuses once exhausted and reports the reset', GUARD, async () => {
    // A hand-set clock 30 s into a minute: the calls cannot straddle a window boundary, and the reset is exact.
    const clock = new ManualClock(Date.UTC(2030, 0, 1, 12, 0, 30));
    // A generous timeout: a slow reply on a loaded machine must not turn into a 503 (fail-closed) here.
    const { client } = await gateway(
      REDIS_URL,
      'closed',
      { name: 'three-a-minute', measure: 'requests', limit: 3, window: 'minute' },
      { clock, timeoutMs: 5_000 },
    );
    const upstreamCalls = mock.received.length;
    for (let i = 0; i < 3; i++) await ask(client);
    const refusal = await ask(client).then(
      () => assert.fail('the fourth call was served'),
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof OpenAI.RateLimitError, String(refusal));
    assert.equal(refusal.code, 'budget_exhausted');
    assert.equal(refusal.headers.get('retry-after'), '30');
    assert.equal(refusal.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.equal(refusal.headers.get('x-sluice-budget'), 'three-a-minute');
    assert.equal(mock.received.length - upstreamCalls, 3);
  });
});
