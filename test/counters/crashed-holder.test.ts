// Room leased by a gateway that then crashes (kill -9): the other gateways on the same Redis must get its unused room
// back once its lease expires, not refuse calls that would fit until the window ends. A real process holds the lease.
// What it admitted (its calls' reservations, leased or, with leaseShare 0, reserved alone) stays counted: those calls
// reached their provider, and a background one is settled from its reservation by the gateway that adopts it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import type { CounterLine } from '../../src/counters/counter-store.js';
import { LeasedCounterStore } from '../../src/counters/leased.js';
import { RedisCounterStore } from '../../src/counters/redis.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { until } from '../support/until.js';

const prefix = testKeyPrefix();
after(() => deleteTestKeys(prefix));

const KEY = 'budget:crash:1';
const LIMIT = 100;

function line(amount: number): CounterLine {
  return { key: KEY, previousKey: null, previousWeight: 0, limit: LIMIT, amount, enforce: true, ttlMs: 3_600_000 };
}

/** A process that leases room for one call of 10 (10 + floor(90 / 8) = 21 counted in Redis), says so, and waits. */
function holder(): { output: () => string; kill: () => void } {
  return spawnHolder(`
    import { LeasedCounterStore } from ${JSON.stringify(new URL('../../src/counters/leased.js', import.meta.url).href)};
    import { RedisCounterStore } from ${JSON.stringify(new URL('../../src/counters/redis.js', import.meta.url).href)};
    const store = new LeasedCounterStore(await RedisCounterStore.open(${JSON.stringify({ url: TEST_REDIS_URL, keyPrefix: prefix })}), { share: 1 / 4, idleMs: 600000 });
    const outcome = await store.reserve(Date.now(), [${JSON.stringify(line(10))}]);
    console.log('admitted', outcome.admitted, 'held', store.held(${JSON.stringify(KEY)}));
    setInterval(() => undefined, 1000);
  `);
}

/** Runs `source` (an ES module) in a process of its own, to be killed with SIGKILL. */
function spawnHolder(source: string): { output: () => string; kill: () => void } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { output: () => output, kill: () => child.kill('SIGKILL') };
}

describe('a lease holder killed with its room', () => {
  test('its unused room returns to the budget once its lease expires; what it used stays counted', async () => {
    const crashed = holder();
    await until('the holder leased', () => /admitted true held 11/.test(crashed.output()), 20_000);
    const redis = await RedisCounterStore.open({ url: TEST_REDIS_URL, keyPrefix: prefix });
    const other = new LeasedCounterStore(redis, { share: 0 });
    try {
      assert.equal(await redis.read(Date.now(), KEY), 21);
      // Long enough for a live holder to have reported what it used; then it dies without giving anything back.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      crashed.kill();
      // 10 used + 85 fits the limit of 100 only once the dead holder's 11 unused units are back.
      let admitted = false;
      await until(
        "the dead holder's room is back",
        async () => (admitted = (await other.reserve(Date.now(), [line(85)])).admitted),
        15_000,
        250,
      ).catch(() => undefined);
      assert.ok(admitted, `refused while the dead holder's room is counted (bucket ${await redis.read(Date.now(), KEY)})`);
      // And no more: what the holder used (10, reported before it died) is still counted.
      assert.equal((await other.reserve(Date.now(), [line(6)])).admitted, false);
    } finally {
      crashed.kill();
      await other.close();
    }
  });
});

/** A gateway with `counters.leaseShare: 0`: one call of 10 reserved alone in Redis, in flight (never settled) when killed. */
function loneReserver(key: string): { output: () => string; kill: () => void } {
  return spawnHolder(`
    import { RedisCounterStore } from ${JSON.stringify(new URL('../../src/counters/redis.js', import.meta.url).href)};
    const store = await RedisCounterStore.open(${JSON.stringify({ url: TEST_REDIS_URL, keyPrefix: prefix })});
    const outcome = await store.reserve(Date.now(), [${JSON.stringify({ ...line(10), key })}]);
    console.log('admitted', outcome.admitted);
    setInterval(() => undefined, 1000);
  `);
}

describe('a gateway reserving every call alone (leaseShare 0) killed with a call in flight', () => {
  test("the call's reservation stays counted, as a leased holder's admitted calls do: it holds no unused room", async () => {
    const key = 'budget:crash-alone:1';
    const at = (amount: number): CounterLine => ({ ...line(amount), key });
    const crashed = loneReserver(key);
    await until('the call was reserved', () => /admitted true/.test(crashed.output()), 20_000);
    crashed.kill();
    const redis = await RedisCounterStore.open({ url: TEST_REDIS_URL, keyPrefix: prefix });
    try {
      // Past a holder record's life (6 s), a lease on the bucket takes back every expired holder's unused room: none here.
      await new Promise((resolve) => setTimeout(resolve, 6_500));
      const [grant] = await redis.lease(Date.now(), [{ line: at(0), extra: 0, holder: { id: 'other', room: 0, ttlMs: 60_000 } }]);
      assert.equal(grant!.current, 10);
      assert.equal((await redis.reserve(Date.now(), [at(91)])).admitted, false);
      assert.equal((await redis.reserve(Date.now(), [at(90)])).admitted, true);
    } finally {
      crashed.kill();
      await redis.close();
    }
  });
});

describe('a holder record that expired', () => {
  test('its room is taken back once, by the next lease: the holder is told so, and its give-back gives nothing twice', async () => {
    const redis = await RedisCounterStore.open({ url: TEST_REDIS_URL, keyPrefix: prefix });
    const key = 'budget:expired:1';
    const at = (amount: number): CounterLine => ({ ...line(amount), key });
    try {
      // Holder a leases 10 + 5 extra and reports nothing more: its record (5 unused) lives 200 ms.
      const [first] = await redis.lease(Date.now(), [{ line: at(10), extra: 5, holder: { id: 'a', room: 0, ttlMs: 200 } }]);
      assert.deepEqual([first!.granted, first!.kept], [15, true]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Any lease on the bucket takes a's 5 back first.
      const [other] = await redis.lease(Date.now(), [{ line: at(0), extra: 0, holder: { id: 'b', room: 0, ttlMs: 60_000 } }]);
      assert.equal(other!.current, 10);
      // a's give-back (sent late: Redis was unreachable) finds no room of its own: nothing is given back twice.
      await redis.release(Date.now(), 'a', [at(5)]);
      assert.equal(await redis.read(Date.now(), key), 10);
      // a, back, reports its 5: no longer its own.
      const [again] = await redis.lease(Date.now(), [{ line: at(0), extra: 0, holder: { id: 'a', room: 5, ttlMs: 60_000 } }]);
      assert.equal(again!.kept, false);
      assert.equal(await redis.read(Date.now(), key), 10);
      // b's record is there: its release gives back what it says it holds, once.
      await redis.lease(Date.now(), [{ line: at(3), extra: 4, holder: { id: 'b', room: 0, ttlMs: 60_000 } }]);
      assert.equal(await redis.read(Date.now(), key), 17);
      await redis.release(Date.now(), 'b', [at(4)]);
      await redis.release(Date.now(), 'b', [at(4)]);
      assert.equal(await redis.read(Date.now(), key), 13);
    } finally {
      await redis.close();
    }
  });
});
