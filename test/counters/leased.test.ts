// LeasedCounterStore over real stores: calls that find no room at the same time wait for the one lease on its way
// rather than each asking the store for a slice of its own (one round trip, and one slice, per bucket at a time).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { CounterLine, CounterStore, LeaseGrant, LeaseRequest } from '../../src/counters/counter-store.js';
import { LeasedCounterStore } from '../../src/counters/leased.js';
import { MemoryCounterStore } from '../../src/counters/memory.js';
import { RedisCounterStore } from '../../src/counters/redis.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';

const NOW = Date.parse('2026-12-04T12:00:00Z');

function line(key: string, limit: number, amount = 1): CounterLine {
  return { key, previousKey: null, previousWeight: 0, limit, amount, enforce: true, ttlMs: 3_600_000 };
}

/** A store as a remote one answers: every lease a round trip later (a timer), each one counted with what it asked. */
class CountedStore {
  readonly asked: LeaseRequest[][] = [];
  constructor(readonly inner: CounterStore) {}

  wrap(): CounterStore {
    const inner = this.inner;
    return new Proxy(inner, {
      get: (target, property, receiver) => {
        if (property === 'lease') {
          return async (now: number, requests: readonly LeaseRequest[]): Promise<LeaseGrant[]> => {
            this.asked.push([...requests]);
            await new Promise((resolve) => setTimeout(resolve, 2));
            return inner.lease(now, requests);
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}

describe('LeasedCounterStore', () => {
  test('64 calls finding no room at once: one lease asked of the store, all admitted from it', async () => {
    const counted = new CountedStore(new MemoryCounterStore());
    const store = new LeasedCounterStore(counted.wrap(), { share: 1 / 64 });
    try {
      const outcomes = await Promise.all(Array.from({ length: 64 }, () => store.reserve(NOW, [line('budget:b:1', 64_000)])));
      assert.equal(outcomes.filter((outcome) => outcome.admitted).length, 64);
      assert.equal(counted.asked.length, 1, `the store was asked ${counted.asked.length} times`);
      // The one slice (1 + 1,000) holds the 64 calls; the rest stays with the bucket's other holders.
      assert.equal(await counted.inner.read(NOW, 'budget:b:1'), 1_001);
      assert.equal(store.held('budget:b:1'), 1_001 - 64);
    } finally {
      await store.close();
    }
  });

  test('calls waiting on a lease that runs short ask again, and every call is admitted exactly within the limit', async () => {
    const counted = new CountedStore(new MemoryCounterStore());
    // A limit of 100 with a share of 1/10: slices of 10 at most, shrinking near the limit (1/8 of the room left).
    const store = new LeasedCounterStore(counted.wrap(), { share: 1 / 10 });
    try {
      const outcomes = await Promise.all(Array.from({ length: 150 }, () => store.reserve(NOW, [line('budget:b:2', 100)])));
      assert.equal(outcomes.filter((outcome) => outcome.admitted).length, 100);
      assert.equal(await counted.inner.read(NOW, 'budget:b:2'), 100);
      assert.ok(counted.asked.length < 150, `the store was asked ${counted.asked.length} times for 150 calls`);
    } finally {
      await store.close();
    }
  });

  describe('over Redis', () => {
    const prefix = testKeyPrefix();
    after(() => deleteTestKeys(prefix));

    test('two gateways, 100 concurrent calls each on a budget of 150: none over, early refusal within the stated bound; far from a limit one lease per gateway', async () => {
      const stores = await Promise.all(
        [0, 1].map(async () => {
          const inner = await RedisCounterStore.open({ url: TEST_REDIS_URL, commandTimeoutMs: 2_000, keyPrefix: prefix });
          const counted = new CountedStore(inner);
          return { counted, store: new LeasedCounterStore(counted.wrap(), { share: 1 / 64 }) };
        }),
      );
      try {
        const outcomes = await Promise.all(
          stores.flatMap(({ store }) => Array.from({ length: 100 }, () => store.reserve(NOW, [line('budget:shared', 150)]))),
        );
        // docs/scale-out.md: room held unused, refused to others, is at most W x floor(limit x leaseShare) = 2 x 2.
        const admitted = outcomes.filter((outcome) => outcome.admitted).length;
        assert.ok(admitted >= 150 - 2 * Math.floor(150 / 64) && admitted <= 150, `${admitted} admitted`);
        assert.equal(await stores[0]!.counted.inner.read(NOW, 'budget:shared'), 150);

        // Far from a limit, the 100 calls of each gateway are admitted from one lease each.
        for (const { counted } of stores) counted.asked.length = 0;
        const far = await Promise.all(
          stores.flatMap(({ store }) => Array.from({ length: 100 }, () => store.reserve(NOW, [line('budget:far', 1_000_000)]))),
        );
        assert.equal(far.filter((outcome) => outcome.admitted).length, 200);
        assert.deepEqual(
          stores.map(({ counted }) => counted.asked.length),
          [1, 1],
        );
      } finally {
        for (const { store } of stores) await store.close();
      }
    });
  });
});
