// Counter seeding on a hand-set clock: ledger rows written at chosen times, then each kind of budget line seeded from them,
// in memory and in Redis: calendar windows, rolling ones (both buckets), per-consumer rate limits, scopes and measures;
// seeders working together count once; Redis counters found lost are seeded again before the call is judged. (What a
// seed does to one counter, raise and never add, is in the counter store contract.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { validateConfig } from '../../src/config/load.js';
import type { CounterLine, CounterStore } from '../../src/counters/counter-store.js';
import { MemoryCounterStore } from '../../src/counters/memory.js';
import { RedisCounterStore } from '../../src/counters/redis.js';
import type { Transaction } from '../../src/ledger/transaction.js';
import { compileBudgets, counterKey, type Budget } from '../../src/policy/budgets.js';
import { ManualClock } from '../../src/policy/clock.js';
import { CounterSeeder } from '../../src/policy/counter-seeding.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { openDirectorStore } from '../../src/store/open.js';
import { deleteTestKeys, TEST_REDIS, TEST_REDIS_URL, testKeyPrefix, testRedisUrlVia } from '../support/redis.js';
import { until } from '../support/until.js';
import { scratchDir } from '../support/scratch.js';

const at = (time: string) => Date.parse(time);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let sequence = 0;
function call(startedAt: string, overrides: Partial<Transaction> = {}): Transaction {
  return {
    requestId: `seed-${sequence++}`,
    startedAt: at(startedAt),
    operation: 'chat',
    api: 'openai',
    consumer: 'checkout-service',
    team: 'payments',
    requestedModel: 'gpt-4o',
    provider: 'openai',
    providerModel: 'gpt-4o',
    stream: false,
    inputTokens: 100,
    outputTokens: 20,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: 1_500,
    latencyMs: 5,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
    ...overrides,
  };
}

/** The budgets budgets() compiled last, by name (a rate limit's by name and measure), for counter() to name their keys. */
const compiledByName = new Map<string, Budget>();

/** A compiled budget's counter key (for `consumer`, when per consumer), as admission and seeding build it. */
function counter(name: string, consumer = ''): string {
  const budget = compiledByName.get(name);
  assert.ok(budget !== undefined, name);
  return counterKey(budget, { name: consumer });
}

function budgets(governance: Record<string, unknown>): Budget[] {
  const config = validateConfig(
    {
      providers: {
        openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-not-real' },
        anthropic: { type: 'anthropic', baseUrl: 'http://127.0.0.1:9', apiKey: 'sk-not-real' },
      },
      models: [
        { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku' }] },
      ],
      consumers: [
        { name: 'checkout-service', team: 'payments', labels: { tier: 'gold' }, keys: ['sk-sluice-seeding-checkout-01'] },
        { name: 'search-service', team: 'discovery', labels: { tier: 'gold' }, keys: ['sk-sluice-seeding-search-0002'] },
      ],
      log: { level: 'silent' },
      ...governance,
    },
    'seeding test',
  );
  const compiled = compileBudgets(
    config.budgets,
    config.budgetTemplates,
    config.rateLimits,
    config.consumers.map((c) => ({ name: c.name, team: c.team ?? null, labels: c.labels ?? {} })),
  );
  for (const budget of compiled)
    compiledByName.set(budget.kind === 'rate_limit' ? `${budget.name}:${budget.measure}` : budget.name, budget);
  return compiled;
}

function line(key: string, limit: number, amount = 1, previous: { key: string; weight: number } | null = null): CounterLine {
  return { key, previousKey: previous?.key ?? null, previousWeight: previous?.weight ?? 0, limit, amount, enforce: true, ttlMs: 60_000 };
}

const logger = pino({ level: 'silent' });

/** A TCP hop in front of the test Redis whose open connections the test can cut, as a Redis restart would. */
async function redisProxy(): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
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
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: testRedisUrlVia((server.address() as net.AddressInfo).port),
    cut,
    close: () => {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('counter seeding from the ledger', () => {
  let ledger: DirectorStore;

  before(async () => {
    ledger = await openDirectorStore(`sqlite:${join(scratchDir('sluice-seeding-'), 'ledger.db')}`);
    await ledger.insertTransactions([
      // 2030-03-10: the hour 10:00 holds three calls by checkout, one refused call and one by search on Anthropic.
      call('2030-03-10T09:59:59Z'),
      call('2030-03-10T10:05:00Z'),
      call('2030-03-10T10:20:00Z'),
      call('2030-03-10T10:40:00Z', { inputTokens: 300, outputTokens: 60, costMicroUsd: 4_500 }),
      call('2030-03-10T10:41:00Z', {
        provider: null,
        providerModel: null,
        status: 429,
        errorClass: 'budget_exhausted',
        inputTokens: 0,
        outputTokens: 0,
        costMicroUsd: null,
      }),
      call('2030-03-10T10:45:00Z', {
        consumer: 'search-service',
        team: 'discovery',
        requestedModel: 'claude',
        provider: 'anthropic',
        providerModel: 'claude-3-5-haiku',
      }),
      // The day before and the month before.
      call('2030-03-09T12:00:00Z'),
      call('2030-02-27T12:00:00Z'),
      // Rate limits: the minute 10:49 and the minute 10:50 so far.
      call('2030-03-10T10:49:10Z'),
      call('2030-03-10T10:49:40Z', { consumer: 'search-service', team: 'discovery' }),
      call('2030-03-10T10:50:05Z'),
    ]);
  });
  after(async () => {
    await ledger.close();
  });

  /** The seeder over the ledger for these budgets, on a clock at 2030-03-10 10:50:20. */
  function seeder(store: CounterStore, compiled: Budget[], clock = new ManualClock(at('2030-03-10T10:50:20Z'))): CounterSeeder {
    return new CounterSeeder({ store, ledger, clock, logger, budgets: () => compiled, registry: new Registry() });
  }

  test('calendar windows: each counter of its current bucket holds what the ledger admitted in it, refusals left out', async () => {
    const store = new MemoryCounterStore();
    const now = at('2030-03-10T10:50:20Z');
    const outcome = await seeder(
      store,
      budgets({
        budgets: [
          { name: 'three-an-hour', consumers: { consumer: 'checkout-service' }, measure: 'requests', limit: 3, window: 'hour' },
          { name: 'daily-tokens', consumers: 'everyone', measure: 'total_tokens', limit: 10_000, window: 'day' },
          { name: 'monthly-usd', consumers: { team: 'payments' }, measure: 'cost_usd', limit: 1, window: 'month' },
          { name: 'minute-input', consumers: 'everyone', measure: 'input_tokens', limit: 10_000, window: 'minute' },
        ],
      }),
    ).seedAll();
    const hour = Math.floor(now / HOUR);
    const day = Math.floor(now / DAY);
    // Checkout's 10:05, 10:20, 10:40, 10:49:10 and 10:50:05; not 09:59:59, nor the refusal at 10:41.
    assert.equal(store.read(now, `${counter('three-an-hour')}:hour:${hour}`), 5);
    // Today's 8 calls (search's two included) at 120 tokens, but one at 360.
    assert.equal(store.read(now, `${counter('daily-tokens')}:day:${day}`), 7 * 120 + 360);
    // Payments' cost this month: its 6 calls today and the one of the 9th, not February's.
    assert.equal(store.read(now, `${counter('monthly-usd')}:month:2030-03`), 6 * 1_500 + 4_500);
    assert.equal(store.read(now, `${counter('minute-input')}:minute:${Math.floor(now / 60_000)}`), 100);
    assert.deepEqual(outcome, { seeded: 4, reads: 4 });
    // A budget of 5 an hour refuses the next call, as it did before the restart.
    assert.equal(store.reserve(now, [line(`${counter('three-an-hour')}:hour:${hour}`, 5)]).admitted, false);
  });

  test('rolling windows: the current and the previous bucket are both seeded, and read as admission reads them', async () => {
    const store = new MemoryCounterStore();
    const now = at('2030-03-10T10:50:20Z');
    await seeder(
      store,
      budgets({
        budgets: [{ name: 'rolling-day', consumers: 'everyone', measure: 'requests', limit: 100, window: { rolling: '24h' } }],
        rateLimits: [{ name: 'per-consumer', consumers: 'everyone', per: 'consumer', requestsPerMinute: 3 }],
      }),
    ).seedAll();
    const index = Math.floor(now / DAY);
    // Rolling 24h buckets are UTC days: today's 8 calls (the refusal left out), yesterday's one.
    assert.equal(store.read(now, `${counter('rolling-day')}:rolling:24h:${index}`), 8);
    assert.equal(store.read(now, `${counter('rolling-day')}:rolling:24h:${index - 1}`), 1);
    // Per consumer and minute: checkout has 10:49:10 and 10:50:05, search 10:49:40.
    const minute = Math.floor(now / 60_000);
    assert.equal(store.read(now, `${counter('per-consumer:requests', 'checkout-service')}:rolling:1m:${minute}`), 1);
    assert.equal(store.read(now, `${counter('per-consumer:requests', 'checkout-service')}:rolling:1m:${minute - 1}`), 1);
    assert.equal(store.read(now, `${counter('per-consumer:requests', 'search-service')}:rolling:1m:${minute - 1}`), 1);
    // 20 s into the minute, the previous one weighs 2/3: 1 + 1 x 2/3 + 1 fits under 3, another does not.
    const key = (bucket: number) => `${counter('per-consumer:requests', 'checkout-service')}:rolling:1m:${bucket}`;
    const weight = 1 - 20 / 60;
    assert.equal(store.reserve(now, [line(key(minute), 3, 1, { key: key(minute - 1), weight })]).admitted, true);
    assert.equal(store.reserve(now, [line(key(minute), 3, 1, { key: key(minute - 1), weight })]).admitted, false);
  });

  test('scopes: teams, models, providers, resources and template instances count their own calls only', async () => {
    const store = new MemoryCounterStore();
    const now = at('2030-03-10T10:50:20Z');
    const day = Math.floor(now / DAY);
    await seeder(
      store,
      budgets({
        budgets: [
          { name: 'discovery', consumers: { team: 'discovery' }, measure: 'requests', limit: 100, window: 'day' },
          { name: 'claude', resources: { model: 'claude' }, measure: 'requests', limit: 100, window: 'day' },
          { name: 'openai', resources: { provider: 'openai' }, measure: 'requests', limit: 100, window: 'day' },
          { name: 'haiku', resources: { resource: 'anthropic/claude-3-5-haiku' }, measure: 'output_tokens', limit: 100, window: 'day' },
        ],
        budgetTemplates: [{ name: 'gold', selector: { labels: { tier: 'gold' } }, measure: 'requests', limit: 100, window: 'day' }],
      }),
    ).seedAll();
    assert.equal(store.read(now, `${counter('discovery')}:day:${day}`), 2);
    assert.equal(store.read(now, `${counter('claude')}:day:${day}`), 1);
    assert.equal(store.read(now, `${counter('openai')}:day:${day}`), 7);
    assert.equal(store.read(now, `${counter('haiku')}:day:${day}`), 20);
    assert.equal(store.read(now, `${counter('gold/checkout-service')}:day:${day}`), 6);
    assert.equal(store.read(now, `${counter('gold/search-service')}:day:${day}`), 2);
  });

  for (const kind of ['memory', 'redis'] as const) {
    describe(`on ${kind}`, () => {
      const prefix = testKeyPrefix();
      const stores: CounterStore[] = [];
      const open = async (): Promise<CounterStore> => {
        const store =
          kind === 'memory' ? new MemoryCounterStore() : await RedisCounterStore.open({ url: TEST_REDIS_URL, keyPrefix: prefix });
        stores.push(store);
        return store;
      };
      after(async () => {
        for (const store of stores) await store.close();
        if (kind === 'redis') await deleteTestKeys(prefix);
      });

      test("gateways seeding one store together count the ledger's usage once", async () => {
        const stores = [await open(), await open()];
        const compiled = budgets({ budgets: [{ name: 'hourly', consumers: 'everyone', measure: 'requests', limit: 100, window: 'hour' }] });
        await Promise.all(stores.map((store) => seeder(store, compiled).seedAll()));
        const now = at('2030-03-10T10:50:20Z');
        const hour = Math.floor(now / HOUR);
        // Redis: the two share the counter; memory: each has its own. Either way it holds the hour's 7 calls, once.
        for (const store of stores) assert.equal(await store.read(now, `${counter('hourly')}:hour:${hour}`), 7);
      });
    });
  }

  describe('on Redis, counters lost while gateways run', () => {
    const prefix = testKeyPrefix();
    let store: RedisCounterStore;
    before(async () => {
      // No periodic look for the marker: each test counts the seedings it causes itself.
      store = await RedisCounterStore.open({ url: TEST_REDIS_URL, keyPrefix: prefix, lossCheckIntervalMs: 0 });
    });
    after(async () => {
      await store.close();
      await deleteTestKeys(prefix);
    });

    test('a missing bucket without the seeded marker makes the call wait for a seeding; with the marker, it is a new window', async () => {
      let seedings = 0;
      store.reseedWith(async () => {
        seedings++;
        await store.seed(Date.now(), [{ key: 'hourly', value: 3, ttlMs: 60_000 }], true);
      });
      try {
        // Never seeded: the first call finds its bucket missing and no marker.
        assert.deepEqual(await store.reserve(Date.now(), [line('hourly', 3)]), {
          admitted: false,
          refused: 0,
          used: [3],
          refusedBuckets: { current: 3, previous: 0 },
        });
        assert.equal(seedings, 1);
        // Seeded now: a bucket nobody counted in yet starts from nothing, without a seeding.
        assert.deepEqual(await store.reserve(Date.now(), [line('next-hour', 3)]), { admitted: true, refused: -1, used: [1] });
        assert.equal(seedings, 1);
        // Every key lost (a FLUSHDB of this test's keys): the calls that find out all wait for one seeding.
        await deleteTestKeys(prefix);
        const outcomes = await Promise.all(Array.from({ length: 5 }, () => store.reserve(Date.now(), [line('hourly', 4)])));
        assert.equal(seedings, 2);
        assert.equal(outcomes.filter((outcome) => outcome.admitted).length, 1);
        assert.equal(await store.read(Date.now(), 'hourly'), 4);
      } finally {
        store.reseedWith(null);
      }
    });

    test('a seeding that fails answers the call as counters unavailable (the fail mode decides), and a call a second later tries again', async () => {
      await deleteTestKeys(prefix);
      let seedings = 0;
      store.reseedWith(async () => {
        seedings++;
        if (seedings === 1) throw new Error('the ledger is unreachable');
        await store.seed(Date.now(), [], true);
      });
      try {
        await assert.rejects(store.reserve(Date.now(), [line('hourly', 3)]), { name: 'CounterStoreUnavailable' });
        // Right after a failure no seeding is started: the call is answered as counters unavailable at once.
        await assert.rejects(store.reserve(Date.now(), [line('hourly', 3)]), { name: 'CounterStoreUnavailable' });
        assert.equal(seedings, 1);
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        assert.deepEqual(await store.reserve(Date.now(), [line('hourly', 3)]), { admitted: true, refused: -1, used: [1] });
        assert.equal(seedings, 2);
      } finally {
        store.reseedWith(null);
      }
    });

    test('a gateway taking no calls finds the counters lost by looking for the marker, and seeds them for lone gateways', async () => {
      const shared = testKeyPrefix();
      const director = await RedisCounterStore.open({ url: TEST_REDIS_URL, keyPrefix: shared, lossCheckIntervalMs: 20 });
      const lone = await RedisCounterStore.open({ url: TEST_REDIS_URL, keyPrefix: shared });
      let seedings = 0;
      try {
        director.reseedWith(async () => {
          seedings++;
          await director.seed(Date.now(), [{ key: 'hourly', value: 3, ttlMs: 60_000 }], true);
        });
        await until('the first seeding has run', () => seedings === 1);
        assert.deepEqual(await lone.reserve(Date.now(), [line('hourly', 3)]), {
          admitted: false,
          refused: 0,
          used: [3],
          refusedBuckets: { current: 3, previous: 0 },
        });
        // Lost again: found again, with no call on the gateway that can seed.
        await deleteTestKeys(shared);
        await until('the second seeding has run', () => seedings === 2);
        assert.deepEqual(await lone.reserve(Date.now(), [line('hourly', 3)]), {
          admitted: false,
          refused: 0,
          used: [3],
          refusedBuckets: { current: 3, previous: 0 },
        });
      } finally {
        await director.close();
        await lone.close();
        await deleteTestKeys(shared);
      }
    });

    test('Redis back after a disconnection: the counters are seeded again (it may have restarted from an older snapshot)', async () => {
      const proxy = await redisProxy();
      const shared = testKeyPrefix();
      const store = await RedisCounterStore.open({ url: proxy.url, keyPrefix: shared, lossCheckIntervalMs: 0 });
      let seedings = 0;
      try {
        store.reseedWith(async () => {
          seedings++;
          await store.seed(Date.now(), [], true);
        });
        proxy.cut();
        await until('the first seeding has run', () => seedings === 1);
      } finally {
        await store.close();
        await proxy.close();
        await deleteTestKeys(shared);
      }
    });

    test(
      'a seeding slower than the wait answers the call as counters unavailable, and is not started twice',
      { timeout: 20_000 },
      async () => {
        await deleteTestKeys(prefix);
        let seedings = 0;
        let finish: () => void = () => {};
        store.reseedWith(async () => {
          seedings++;
          await new Promise<void>((resolve) => {
            finish = resolve;
          });
          await store.seed(Date.now(), [], true);
        });
        try {
          await assert.rejects(store.reserve(Date.now(), [line('hourly', 3)]), {
            name: 'CounterStoreUnavailable',
            message: /still being seeded/,
          });
          finish();
          // The next call finds the seeding done, or waits for the one under way: either way it is not started again.
          assert.deepEqual(await store.reserve(Date.now(), [line('hourly', 3)]), { admitted: true, refused: -1, used: [1] });
          assert.equal(seedings, 1);
        } finally {
          store.reseedWith(null);
        }
      },
    );

    test('a settlement for a bucket lost since its reservation leaves it missing, not below zero, so the loss is found', async () => {
      let seedings = 0;
      store.reseedWith(async () => {
        seedings++;
        await store.seed(Date.now(), [{ key: 'settled', value: 20, ttlMs: 60_000 }], true);
      });
      await deleteTestKeys(prefix);
      try {
        await store.reserve(Date.now(), [line('settled', 100, 50)]);
        assert.equal(seedings, 1);
        await deleteTestKeys(prefix);
        await store.settle(Date.now(), [{ ...line('settled', 100, -30), enforce: false }]);
        assert.equal(await store.read(Date.now(), 'settled'), 0);
        // The next call finds the bucket missing, and the counters are seeded again.
        assert.deepEqual(await store.reserve(Date.now(), [line('settled', 100, 1)]), { admitted: true, refused: -1, used: [21] });
        assert.equal(seedings, 2);
      } finally {
        store.reseedWith(null);
      }
    });
  });
});
