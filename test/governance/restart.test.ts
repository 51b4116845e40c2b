// Budgets and rate limits survive a restart: the counters of every current window are seeded from the ledger at start,
// in memory and in Redis, and again when Redis loses them (a FLUSHDB, a restart without persistence) while gateways run;
// gateways seeding one Redis together count the ledger's usage once. Through the official openai SDK, on real servers.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { validateConfig } from '../../src/config/load.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { scratchDir } from '../support/scratch.js';

/** Every answer reports 10 input and 20 output tokens: at the price below, 10 x 10 + 20 x 20 = 500 micro-USD a call. */
const USAGE = { prompt_tokens: 10, completion_tokens: 20 };
const DAY_MS = 86_400_000;

type Outcome = { status: number; code: string | null };

async function call(sluice: TestSluice, key: string = KEYS.checkout): Promise<Outcome> {
  const client = new OpenAI({ apiKey: key, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  try {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: 20 });
    return { status: 200, code: null };
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error;
    return { status: error.status ?? 0, code: (error.code as string | null | undefined) ?? null };
  }
}

async function calls(sluice: TestSluice, count: number, key?: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) statuses.push((await call(sluice, key)).status);
  return statuses;
}

describe('budgets and rate limits survive a restart', () => {
  let mock: MockProvider;
  const running: TestSluice[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    mock = await MockProvider.start((request, res) => json(res, 200, openaiCompletion('hi', USAGE, String(request.body.model))));
  });
  afterEach(async () => {
    for (const sluice of running.splice(0)) await sluice.stop();
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  after(async () => {
    await mock.close();
  });

  /** A gateway on `storage` (kept across restarts) with `governance` (budgets, rate limits) and `counters`. */
  async function gateway(storage: string, governance: Record<string, unknown>, counters: unknown = 'memory'): Promise<TestSluice> {
    const sluice = await startTestSluice({
      storage,
      counters,
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [
        { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }], pricing: { input: 10, output: 20 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      ...governance,
    });
    running.push(sluice);
    return sluice;
  }

  async function restart(sluice: TestSluice, start: () => Promise<TestSluice>): Promise<TestSluice> {
    await sluice.stop();
    running.splice(running.indexOf(sluice), 1);
    return start();
  }

  const sqlite = () => `sqlite:${join(scratchDir('sluice-restart-'), 'sluice.db')}`;
  /** A copy of a stopped gateway's SQLite ledger (with its write-ahead log, if any is left). */
  const copyOf = (storage: string) => {
    const path = storage.slice('sqlite:'.length);
    const copy = join(scratchDir('sluice-restart-'), 'sluice.db');
    for (const suffix of ['', '-wal']) if (existsSync(path + suffix)) copyFileSync(path + suffix, copy + suffix);
    return `sqlite:${copy}`;
  };
  const threeADay = {
    budgets: [
      { name: 'three-a-day', consumers: { consumer: 'checkout-service' }, measure: 'requests', limit: 3, window: 'day', mode: 'enforce' },
    ],
  };

  test('memory: a budget of 3 calls a day, exhausted, stays exhausted after a restart', async () => {
    const storage = sqlite();
    let sluice = await gateway(storage, threeADay);
    assert.deepEqual(await calls(sluice, 4), [200, 200, 200, 429]);
    sluice = await restart(sluice, () => gateway(storage, threeADay));
    assert.deepEqual(await call(sluice), { status: 429, code: 'budget_exhausted' });
  });

  test('memory: a monthly cost budget is not reset by a deploy', async () => {
    const storage = sqlite();
    // Room for the reservation of a call (its estimate) plus a few calls' real cost, no more.
    const governance = {
      budgets: [{ name: 'monthly-usd', consumers: 'everyone', measure: 'cost_usd', limit: 0.0025, window: 'month', mode: 'enforce' }],
    };
    let sluice = await gateway(storage, governance);
    const before = await calls(sluice, 10);
    const served = before.filter((status) => status === 200).length;
    assert.ok(served >= 1 && served < 10, `served ${served} of 10`);
    assert.deepEqual(before, [...Array(served).fill(200), ...Array(10 - served).fill(429)]);
    sluice = await restart(sluice, () => gateway(storage, governance));
    assert.deepEqual(await call(sluice), { status: 429, code: 'budget_exhausted' });
  });

  test('memory: a rate limit of 3 requests a minute, exhausted, stays exhausted after a restart', async () => {
    const storage = sqlite();
    const governance = {
      rateLimits: [{ name: 'three-a-minute', consumers: 'everyone', per: 'consumer', requestsPerMinute: 3, mode: 'enforce' }],
    };
    let sluice = await gateway(storage, governance);
    assert.deepEqual(await calls(sluice, 4), [200, 200, 200, 429]);
    sluice = await restart(sluice, () => gateway(storage, governance));
    assert.deepEqual(await call(sluice), { status: 429, code: 'rate_limit_exceeded' });
  });

  test("memory: a reload that adds a budget counts the window's usage so far", async () => {
    const storage = sqlite();
    const sluice = await gateway(storage, {});
    assert.deepEqual(await calls(sluice, 3), [200, 200, 200]);
    await sluice.sluice.reload(validateConfig({ ...sluice.config, ...threeADay }, 'reloaded config'));
    assert.deepEqual(await call(sluice), { status: 429, code: 'budget_exhausted' });
  });

  describe('on Redis', () => {
    /** Counters under a key prefix of this test's own, deleted afterwards. */
    function redisCounters(): { url: string; keyPrefix: string; failMode: 'closed'; timeoutMs: number } {
      const keyPrefix = testKeyPrefix();
      cleanups.push(async () => {
        await deleteTestKeys(keyPrefix);
      });
      return { url: TEST_REDIS_URL, keyPrefix, failMode: 'closed', timeoutMs: 5_000 };
    }

    test('a budget exhausted before a restart of gateway and Redis (its keys lost) stays exhausted', async () => {
      const storage = sqlite();
      const counters = redisCounters();
      let sluice = await gateway(storage, threeADay, counters);
      assert.deepEqual(await calls(sluice, 4), [200, 200, 200, 429]);
      await sluice.stop();
      running.splice(0);
      assert.ok((await deleteTestKeys(counters.keyPrefix)) > 0, 'the counters were in Redis');
      sluice = await gateway(storage, threeADay, counters);
      assert.deepEqual(await call(sluice), { status: 429, code: 'budget_exhausted' });
    });

    test('keys lost while the gateway runs (FLUSHDB, a Redis restart): the next call finds the budget still exhausted', async () => {
      const storage = sqlite();
      const counters = redisCounters();
      const sluice = await gateway(storage, threeADay, counters);
      assert.deepEqual(await calls(sluice, 4), [200, 200, 200, 429]);
      await sluice.sluice.settled();
      assert.ok((await deleteTestKeys(counters.keyPrefix)) > 0, 'the counters were in Redis');
      const upstreamCalls = mock.received.length;
      assert.deepEqual(await calls(sluice, 2), [429, 429]);
      assert.equal(mock.received.length, upstreamCalls, 'no call reached the provider');
    });

    test("two gateways starting together on one Redis count the ledger's usage once", async () => {
      const storage = sqlite();
      const counters = redisCounters();
      const fiveADay = {
        budgets: [{ name: 'five-a-day', consumers: 'everyone', measure: 'requests', limit: 5, window: 'day', mode: 'enforce' }],
      };
      const first = await gateway(storage, fiveADay, counters);
      assert.deepEqual(await calls(first, 2), [200, 200]);
      await first.stop();
      running.splice(0);
      await deleteTestKeys(counters.keyPrefix);

      // Each reads a ledger holding those two calls (copies of the one file: a shared ledger, without two writers on one file).
      const [one, two] = await Promise.all([gateway(copyOf(storage), fiveADay, counters), gateway(copyOf(storage), fiveADay, counters)]);
      const redis = new Redis(TEST_REDIS_URL);
      try {
        // The counter's key: budget:<name>:<digest of what it counts>:<window bucket>.
        const keys = await redis.keys(`${counters.keyPrefix}budget:five-a-day:*:day:${Math.floor(Date.now() / DAY_MS)}`);
        assert.equal(keys.length, 1, keys.join(', '));
        assert.equal(await redis.get(keys[0]!), '2', 'the two calls of the ledger, counted once');
      } finally {
        await redis.quit();
      }
      // Three more fit the budget between the two gateways, and no more.
      const statuses = [...(await calls(one!, 2)), ...(await calls(two!, 2)), ...(await calls(one!, 1))];
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    });
  });
});
