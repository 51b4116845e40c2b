// The behaviour every CounterStore must share, run against each store by its own test file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CounterLine, CounterStore } from '../../src/counters/counter-store.js';

/**
 * The time a store is run on. The memory store expires by the `now` it is given, so its clock is virtual and passing
 * time costs nothing; Redis expires by its own clock, so there the time really has to pass.
 */
export interface ContractClock {
  now(): number;
  /** Lets at least `ms` pass for the store. */
  pass(ms: number): Promise<void>;
}

/** A clock that only moves when told to: for stores that expire by the `now` they are given. */
export function virtualClock(start = 1_700_000_000_000): ContractClock {
  let now = start;
  return {
    now: () => now,
    pass: async (ms) => {
      now += ms;
    },
  };
}

/** The wall clock: for stores that expire by their own clock. */
export function wallClock(): ContractClock {
  return {
    now: () => Date.now(),
    pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

/** A key no other test (nor another run against the same Redis) uses. */
function key(label: string): string {
  return `${label}:${randomUUID()}`;
}

const LONG_TTL_MS = 60_000;
/** Short enough to wait out against Redis, long enough that two back-to-back calls both fall inside it. */
const SHORT_TTL_MS = 100;

function line(overrides: Partial<CounterLine> & Pick<CounterLine, 'key'>): CounterLine {
  return { previousKey: null, previousWeight: 0, limit: 100, amount: 1, enforce: true, ttlMs: LONG_TTL_MS, ...overrides };
}

export function counterStoreContract(name: string, make: () => Promise<CounterStore>, clock: ContractClock): void {
  describe(`${name} counter store contract`, () => {
    let store: CounterStore;

    before(async () => {
      store = await make();
    });

    after(async () => {
      await store.close();
    });

    test('reserve adds each line amount and returns every line usage after it', async () => {
      const a = key('a');
      const b = key('b');
      const first = await store.reserve(clock.now(), [line({ key: a, amount: 5 }), line({ key: b, amount: 7 })]);
      assert.deepEqual(first, { admitted: true, refused: -1, used: [5, 7] });
      const second = await store.reserve(clock.now(), [line({ key: a, amount: 3 }), line({ key: b, amount: 0 })]);
      assert.deepEqual(second, { admitted: true, refused: -1, used: [8, 7] });
      assert.equal(await store.read(clock.now(), a), 8);
      assert.equal(await store.read(clock.now(), b), 7);
    });

    test('read of a bucket never written is 0', async () => {
      assert.equal(await store.read(clock.now(), key('absent')), 0);
    });

    test('reserve with no lines is admitted and adds nothing', async () => {
      assert.deepEqual(await store.reserve(clock.now(), []), { admitted: true, refused: -1, used: [] });
    });

    test('an enforcing line that does not fit refuses the call and nothing is added to any line', async () => {
      const roomy = key('roomy');
      const tight = key('tight');
      const monitored = key('monitored');
      await store.reserve(clock.now(), [line({ key: roomy, amount: 10 }), line({ key: tight, amount: 8, limit: 10 })]);
      const outcome = await store.reserve(clock.now(), [
        line({ key: roomy, amount: 5 }),
        line({ key: tight, amount: 5, limit: 10 }),
        line({ key: monitored, amount: 5, enforce: false }),
      ]);
      // Usage before the call, for every line, including those after the refusing one; the refused line's buckets apart.
      assert.deepEqual(outcome, { admitted: false, refused: 1, used: [10, 8, 0], refusedBuckets: { current: 8, previous: 0 } });
      assert.equal(await store.read(clock.now(), roomy), 10);
      assert.equal(await store.read(clock.now(), tight), 8);
      assert.equal(await store.read(clock.now(), monitored), 0);
    });

    test('the refusal names the first enforcing line that does not fit', async () => {
      const ok = key('ok');
      const over1 = key('over1');
      const over2 = key('over2');
      const outcome = await store.reserve(clock.now(), [
        line({ key: ok, amount: 1 }),
        line({ key: over1, amount: 20, limit: 10 }),
        line({ key: over2, amount: 20, limit: 10 }),
      ]);
      assert.equal(outcome.admitted, false);
      assert.equal(outcome.refused, 1);
    });

    test('monitor lines (enforce false) always add, even past their limit', async () => {
      const monitored = key('monitor');
      const first = await store.reserve(clock.now(), [line({ key: monitored, amount: 8, limit: 10, enforce: false })]);
      assert.deepEqual(first, { admitted: true, refused: -1, used: [8] });
      const second = await store.reserve(clock.now(), [line({ key: monitored, amount: 8, limit: 10, enforce: false })]);
      assert.deepEqual(second, { admitted: true, refused: -1, used: [16] });
      assert.equal(await store.read(clock.now(), monitored), 16);
    });

    test('a call that exactly fills the limit is admitted, one more is refused', async () => {
      const bucket = key('exact');
      assert.deepEqual(await store.reserve(clock.now(), [line({ key: bucket, amount: 7, limit: 10 })]), {
        admitted: true,
        refused: -1,
        used: [7],
      });
      assert.deepEqual(await store.reserve(clock.now(), [line({ key: bucket, amount: 3, limit: 10 })]), {
        admitted: true,
        refused: -1,
        used: [10],
      });
      assert.deepEqual(await store.reserve(clock.now(), [line({ key: bucket, amount: 1, limit: 10 })]), {
        admitted: false,
        refused: 0,
        used: [10],
        refusedBuckets: { current: 10, previous: 0 },
      });
      assert.equal(await store.read(clock.now(), bucket), 10);
    });

    test('negative amounts (a settlement giving back) reduce the bucket', async () => {
      const bucket = key('settle');
      await store.reserve(clock.now(), [line({ key: bucket, amount: 10 })]);
      const outcome = await store.reserve(clock.now(), [line({ key: bucket, amount: -4, enforce: false })]);
      assert.deepEqual(outcome, { admitted: true, refused: -1, used: [6] });
      assert.equal(await store.read(clock.now(), bucket), 6);
    });

    test('large integer amounts (micro-USD) are kept exactly', async () => {
      const bucket = key('large');
      const amount = 4_503_599_627_370_497; // 2^52 + 1: more digits than a 14-digit float rendering keeps
      assert.deepEqual(await store.reserve(clock.now(), [line({ key: bucket, amount, enforce: false })]), {
        admitted: true,
        refused: -1,
        used: [amount],
      });
      assert.equal(await store.read(clock.now(), bucket), amount);
    });

    test('rolling windows: the previous bucket counts toward usage at its weight', async () => {
      const previous = key('previous');
      const current = key('current');
      await store.reserve(clock.now(), [line({ key: previous, amount: 100, enforce: false })]);
      await store.reserve(clock.now(), [line({ key: current, amount: 20 })]);
      const rolling = (amount: number): CounterLine =>
        line({ key: current, previousKey: previous, previousWeight: 0.5, amount, limit: 100 });
      // 20 + 100 * 0.5 = 70 before; 30 more fills it exactly.
      assert.deepEqual(await store.reserve(clock.now(), [rolling(30)]), { admitted: true, refused: -1, used: [100] });
      // A refusal tells the buckets apart, unweighted: what its Retry-After is computed from (src/policy/windows.ts).
      assert.deepEqual(await store.reserve(clock.now(), [rolling(1)]), {
        admitted: false,
        refused: 0,
        used: [100],
        refusedBuckets: { current: 50, previous: 100 },
      });
      // A lease refused the same way says the same.
      assert.deepEqual(await store.lease(clock.now(), [{ line: rolling(1), extra: 0 }]), [
        { granted: 0, used: 100, current: 50, previous: 100 },
      ]);
      // Only the current bucket was written; the previous one is only read.
      assert.equal(await store.read(clock.now(), current), 50);
      assert.equal(await store.read(clock.now(), previous), 100);
    });

    test('rolling windows: fractional weights give fractional usage, computed as bucket + previous * weight', async () => {
      const previous = key('previous');
      const current = key('current');
      await store.reserve(clock.now(), [line({ key: previous, amount: 3, enforce: false })]);
      const outcome = await store.reserve(clock.now(), [
        line({ key: current, previousKey: previous, previousWeight: 0.1, amount: 2, limit: 100 }),
      ]);
      assert.deepEqual(outcome, { admitted: true, refused: -1, used: [0 + 3 * 0.1 + 2] });
    });

    test('a previous bucket with weight 0, or no previous bucket, does not count', async () => {
      const previous = key('previous');
      const current = key('current');
      await store.reserve(clock.now(), [line({ key: previous, amount: 100, enforce: false })]);
      const outcome = await store.reserve(clock.now(), [
        line({ key: current, previousKey: previous, previousWeight: 0, amount: 10, limit: 10 }),
        line({ key: key('alone'), previousKey: null, previousWeight: 1, amount: 10, limit: 10 }),
      ]);
      assert.deepEqual(outcome, { admitted: true, refused: -1, used: [10, 10] });
    });

    test('claim is true for the first caller only, until its ttl passes', async () => {
      const alert = key('alert');
      assert.equal(await store.claim(clock.now(), alert, SHORT_TTL_MS), true);
      assert.equal(await store.claim(clock.now(), alert, SHORT_TTL_MS), false);
      await clock.pass(SHORT_TTL_MS * 2);
      assert.equal(await store.claim(clock.now(), alert, SHORT_TTL_MS), true);
      assert.equal(await store.claim(clock.now(), alert, SHORT_TTL_MS), false);
    });

    test('remember keeps a text for recall until its ttl passes, the last one kept under its key', async () => {
      const record = key('record');
      assert.equal(await store.recall(clock.now(), record), null);
      await store.remember(clock.now(), record, '["first"]', SHORT_TTL_MS);
      await store.remember(clock.now(), record, '["second"]', SHORT_TTL_MS);
      assert.equal(await store.recall(clock.now(), record), '["second"]');
      await clock.pass(SHORT_TTL_MS * 2);
      assert.equal(await store.recall(clock.now(), record), null);
    });

    test('concurrent claims: exactly one of many wins', async () => {
      const alert = key('alert');
      const results = await Promise.all(Array.from({ length: 50 }, async () => store.claim(clock.now(), alert, LONG_TTL_MS)));
      assert.equal(results.filter(Boolean).length, 1);
    });

    test('buckets expire after their ttl', async () => {
      const bucket = key('expiring');
      await store.reserve(clock.now(), [line({ key: bucket, amount: 5, ttlMs: SHORT_TTL_MS })]);
      assert.equal(await store.read(clock.now(), bucket), 5);
      await clock.pass(SHORT_TTL_MS * 2);
      assert.equal(await store.read(clock.now(), bucket), 0);
      // An expired bucket starts again from nothing.
      assert.deepEqual(await store.reserve(clock.now(), [line({ key: bucket, amount: 2, ttlMs: SHORT_TTL_MS })]), {
        admitted: true,
        refused: -1,
        used: [2],
      });
    });

    test('a shorter ttl never shortens a bucket already set to live longer', async () => {
      const bucket = key('long-lived');
      await store.reserve(clock.now(), [line({ key: bucket, amount: 5, ttlMs: LONG_TTL_MS })]);
      await store.reserve(clock.now(), [line({ key: bucket, amount: 1, ttlMs: SHORT_TTL_MS })]);
      await clock.pass(SHORT_TTL_MS * 2);
      assert.equal(await store.read(clock.now(), bucket), 6);
    });

    test('a longer ttl extends a bucket about to expire', async () => {
      const bucket = key('extended');
      await store.reserve(clock.now(), [line({ key: bucket, amount: 5, ttlMs: SHORT_TTL_MS })]);
      await store.reserve(clock.now(), [line({ key: bucket, amount: 1, ttlMs: LONG_TTL_MS })]);
      await clock.pass(SHORT_TTL_MS * 2);
      assert.equal(await store.read(clock.now(), bucket), 6);
    });

    test('200 concurrent reserves of 1 against a limit of 50 admit exactly 50', async () => {
      const bucket = key('concurrent');
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, async () => store.reserve(clock.now(), [line({ key: bucket, amount: 1, limit: 50 })])),
      );
      assert.equal(outcomes.filter((o) => o.admitted).length, 50);
      assert.equal(
        outcomes.filter((o) => !o.admitted).every((o) => o.refused === 0 && o.used[0] === 50),
        true,
      );
      assert.equal(await store.read(clock.now(), bucket), 50);
    });

    test('seed raises a counter that holds less, keeps one that holds more, and seeding twice counts once', async () => {
      const seeded = key('seeded');
      await store.seed(clock.now(), [{ key: seeded, value: 5, ttlMs: LONG_TTL_MS }], false);
      await store.seed(clock.now(), [{ key: seeded, value: 5, ttlMs: LONG_TTL_MS }], false);
      assert.equal(await store.read(clock.now(), seeded), 5);
      // A call of 3, settled having used all it reserved.
      await store.reserve(clock.now(), [line({ key: seeded, amount: 3 })]);
      await store.settle(clock.now(), [line({ key: seeded, amount: 0, enforce: false, reserved: 3 })]);
      await store.seed(clock.now(), [{ key: seeded, value: 6, ttlMs: LONG_TTL_MS }], false);
      assert.equal(await store.read(clock.now(), seeded), 8, 'what was counted since the seed stays counted');
      await store.seed(clock.now(), [{ key: seeded, value: 10, ttlMs: LONG_TTL_MS }], true);
      assert.equal(await store.read(clock.now(), seeded), 10);
      assert.deepEqual(await store.reserve(clock.now(), [line({ key: seeded, amount: 1, limit: 10 })]), {
        admitted: false,
        refused: 0,
        used: [10],
        refusedBuckets: { current: 10, previous: 0 },
      });
    });

    test('a seed raises what a counter counts as used: what it holds for calls in flight stays on top, until they settle', async () => {
      const bucket = key('seed-in-flight');
      await store.seed(clock.now(), [{ key: bucket, value: 5, ttlMs: LONG_TTL_MS }], false);
      // A call in flight reserving 4; then the ledger has 2 more, used while the counter's budget was removed.
      await store.reserve(clock.now(), [line({ key: bucket, amount: 4 })]);
      for (let times = 0; times < 2; times++) {
        await store.seed(clock.now(), [{ key: bucket, value: 7, ttlMs: LONG_TTL_MS }], false);
        assert.equal(await store.read(clock.now(), bucket), 11, 'the ledger figure, and the reservation on top, once');
      }
      // The call used 1 of its 4: the counter holds what was used, which a seed of the same figure leaves as it is.
      await store.settle(clock.now(), [line({ key: bucket, amount: -3, enforce: false, reserved: 4 })]);
      assert.equal(await store.read(clock.now(), bucket), 8);
      await store.seed(clock.now(), [{ key: bucket, value: 8, ttlMs: LONG_TTL_MS }], false);
      assert.equal(await store.read(clock.now(), bucket), 8);
    });

    test('a seeded counter lives its ttl; a seed never shortens the life of one already there', async () => {
      const created = key('seed-created');
      const kept = key('seed-kept');
      await store.reserve(clock.now(), [line({ key: kept, amount: 1, ttlMs: LONG_TTL_MS })]);
      await store.settle(clock.now(), [line({ key: kept, amount: 0, enforce: false, reserved: 1, ttlMs: LONG_TTL_MS })]);
      await store.seed(
        clock.now(),
        [
          { key: created, value: 7, ttlMs: SHORT_TTL_MS },
          { key: kept, value: 7, ttlMs: SHORT_TTL_MS },
        ],
        false,
      );
      assert.equal(await store.read(clock.now(), created), 7);
      await clock.pass(SHORT_TTL_MS * 2);
      assert.equal(await store.read(clock.now(), created), 0);
      assert.equal(await store.read(clock.now(), kept), 7);
    });

    test('settle adds amounts past any limit and returns usage after', async () => {
      const bucket = key('settle');
      await store.reserve(clock.now(), [line({ key: bucket, amount: 40, limit: 50 })]);
      assert.deepEqual(await store.settle(clock.now(), [line({ key: bucket, amount: 30, limit: 50 })]), [70]);
      assert.deepEqual(await store.settle(clock.now(), [line({ key: bucket, amount: -25, limit: 50 })]), [45]);
    });

    test('concurrent settlements of one bucket all count, and each sees a usage that includes its own', async () => {
      const bucket = key('settle-many');
      const other = key('settle-other');
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          store.settle(clock.now(), [line({ key: bucket, amount: 2 }), line({ key: other, amount: i % 2 === 0 ? 1 : -1 })]),
        ),
      );
      assert.equal(await store.read(clock.now(), bucket), 100);
      assert.equal(await store.read(clock.now(), other), 0);
      assert.ok(results.every(([used]) => used! >= 2 && used! <= 100));
    });
  });
}
