// A lease dropped with no room left (its calls took it all, and are still in flight) must still tell the store: its record
// there says what room it held when it last reported, and a record left to expire has that room taken back from the
// budget by the next lease, though the calls used it. On the real Redis, under the test's own key prefix.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { CounterLine } from '../../src/counters/counter-store.js';
import { LeasedCounterStore } from '../../src/counters/leased.js';
import { RedisCounterStore } from '../../src/counters/redis.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { until } from '../support/until.js';

const prefix = testKeyPrefix();
after(() => deleteTestKeys(prefix));

const KEY = 'budget:dropped:1';
const TTL_MS = 3_000;

function line(amount: number): CounterLine {
  return { key: KEY, previousKey: null, previousWeight: 0, limit: 118, amount, enforce: true, ttlMs: 3_600_000 };
}

const open = () => RedisCounterStore.open({ url: TEST_REDIS_URL, commandTimeoutMs: 2_000, keyPrefix: prefix });

test('a lease whose last room a call took while its renewal was on its way, dropped once idle: that call stays counted after its record would expire', async () => {
  const redis = await open();
  // Reports every second (a third of its ttl); idle room goes back after 200 ms.
  const gateway = new LeasedCounterStore(await open(), { share: 1 / 10, idleMs: 200, ttlMs: TTL_MS });
  const lease = () => (gateway as unknown as { leases: Map<string, { renewing: boolean }> }).leases.get(KEY);
  try {
    // Another gateway's call in flight holds 100 of the limit of 118.
    assert.equal((await redis.reserve(Date.now(), [line(100)])).admitted, true);
    // A call of 10 leases 10 + 1 (an eighth of the 8 left beyond it); the 1 left is under a quarter of the slice, so a
    // renewal goes at once, reporting 1 unused, and is granted nothing (under 8 left).
    assert.equal((await gateway.reserve(Date.now(), [line(10)])).admitted, true);
    assert.equal(gateway.held(KEY), 1);
    assert.equal(lease()?.renewing, true, 'the renewal is on its way');
    // A call of 1 takes that room meanwhile, and stays in flight while the lease goes idle and is dropped with nothing left.
    assert.equal((await gateway.reserve(Date.now(), [line(1)])).admitted, true);
    assert.equal(gateway.held(KEY), 0);
    await until('the idle lease is dropped', () => lease() === undefined, 5_000);
    // Past the record's ttl, a lease on the bucket takes back whatever the record still says is unused.
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 500));
    await redis.lease(Date.now(), [{ line: line(0), extra: 0 }]);
    assert.equal(await redis.read(Date.now(), KEY), 111, 'the three calls stay counted: 100, 10 and 1');
  } finally {
    await gateway.close();
    await redis.close();
  }
});
