// A counter whose budget (or template instance, or rate limit) was removed and declared again within its window: the
// calls reserved before the removal are still in flight and a gateway still holds leased room in it, while the calls made
// while it was gone reached only the ledger. Seeded again from the ledger, it must count those calls as well as what it
// holds for the calls in flight and the room leased: once everything has settled, it holds exactly the usage, and never
// admits past its limit. Memory (the primary's counters, leased by workers) and Redis (leased by gateways).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CounterLine, CounterStore } from '../../src/counters/counter-store.js';
import { LeasedCounterStore } from '../../src/counters/leased.js';
import { MemoryCounterStore } from '../../src/counters/memory.js';
import { RedisCounterStore } from '../../src/counters/redis.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';

const NOW = Date.now();
const KEY = 'tmpl:per-team:tokens:1';
const LIMIT = 1_500;
/** What the ledger has of the calls made while the counter's budget was removed: counted nowhere else. */
const WHILE_GONE = 600;
const TTL_MS = 3_600_000;

function line(amount: number): CounterLine {
  return { key: KEY, previousKey: null, previousWeight: 0, limit: LIMIT, amount, enforce: true, ttlMs: TTL_MS };
}

/** A call's settlement: it used `used` of the `reserved` it reserved (settle.ts). */
function settlement(used: number, reserved: number) {
  return { ...line(used - reserved), enforce: false, reserved };
}

const prefixes: string[] = [];
after(async () => {
  for (const prefix of prefixes) await deleteTestKeys(prefix);
});

/** The scenario on two lease holders (gateways, or workers) over one store: what the calls used, and what it counted. */
async function redeclared(inner: () => Promise<CounterStore>): Promise<{ used: number; counted: number; admitted: number }> {
  const reader = await inner();
  const gateways = [new LeasedCounterStore(await inner(), { idleMs: 600_000 }), new LeasedCounterStore(await inner(), { idleMs: 600_000 })];
  const [one, two] = gateways as [LeasedCounterStore, LeasedCounterStore];
  try {
    // Before the removal: a call settled on each gateway, then one in flight on each, each holding leased room besides.
    for (const gateway of gateways) {
      assert.equal((await gateway.reserve(NOW, [line(50)])).admitted, true);
      await gateway.settle(NOW, [settlement(30, 50)]);
    }
    assert.equal((await one.reserve(NOW, [line(400)])).admitted, true);
    assert.equal((await two.reserve(NOW, [line(300)])).admitted, true);
    assert.ok(one.held(KEY) > 0 && two.held(KEY) > 0, 'both gateways hold leased room');
    // Removed, its calls counted by the ledger only; declared again, and seeded from the ledger by one gateway.
    let used = 2 * 30 + WHILE_GONE;
    await one.seed(NOW, [{ key: KEY, value: used, ttlMs: TTL_MS }], false);
    // The calls in flight end: each used 20 tokens of what it reserved.
    await one.settle(NOW, [settlement(20, 400)]);
    await two.settle(NOW, [settlement(20, 300)]);
    used += 40;
    // Then calls of 10 on both gateways until the limit refuses them.
    let admitted = 0;
    for (let refused = 0; refused < 2 && admitted < 1_000;) {
      refused = 0;
      for (const gateway of gateways) {
        if ((await gateway.reserve(NOW, [line(10)])).admitted) {
          admitted++;
          await gateway.settle(NOW, [settlement(10, 10)]);
        } else refused++;
      }
    }
    used += 10 * admitted;
    for (const gateway of gateways) await gateway.close();
    return { used, counted: await reader.read(NOW, KEY), admitted };
  } finally {
    for (const gateway of gateways) await gateway.close();
    await reader.close();
  }
}

describe('a counter removed and declared again while calls are in flight and room is leased', () => {
  test('memory: the calls made while it was gone count, and its limit holds', async () => {
    const primary = new MemoryCounterStore();
    const shared = async () =>
      new Proxy(primary, { get: (target, property) => (property === 'close' ? async () => {} : Reflect.get(target, property)) });
    const { used, counted } = await redeclared(shared);
    await primary.close();
    assert.ok(used <= LIMIT, `the calls used ${used} under a limit of ${LIMIT}`);
    assert.equal(used, LIMIT, 'every call that fitted was admitted');
    assert.equal(counted, used, 'once settled and given back, the counter holds what the calls used');
  });

  test('Redis: the calls made while it was gone count, and its limit holds', async () => {
    const prefix = testKeyPrefix();
    prefixes.push(prefix);
    const { used, counted } = await redeclared(() =>
      RedisCounterStore.open({ url: TEST_REDIS_URL, commandTimeoutMs: 2_000, keyPrefix: prefix }),
    );
    assert.ok(used <= LIMIT, `the calls used ${used} under a limit of ${LIMIT}`);
    assert.equal(used, LIMIT, 'every call that fitted was admitted');
    assert.equal(counted, used, 'once settled and given back, the counter holds what the calls used');
  });
});
