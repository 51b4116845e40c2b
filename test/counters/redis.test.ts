// The Redis counter store: the shared contract on a real Redis, counters shared across gateways, and never hanging.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { Redis } from 'ioredis';
import { CounterStoreUnavailable } from '../../src/counters/counter-store.js';
import type { CounterLine } from '../../src/counters/counter-store.js';
import { RedisCounterStore } from '../../src/counters/redis.js';
import { TEST_REDIS, TEST_REDIS_URL, testKeyPrefix, testRedisUrlVia } from '../support/redis.js';
import { counterStoreContract, wallClock } from './counter-store.contract.js';

const REDIS_URL = TEST_REDIS_URL;
/** Every test that expects a failure must see it long before this: a hang fails the test instead of the run. */
const UNAVAILABLE_TEST = { timeout: 3_000 };

/** One prefix per run, so runs (and other tests sharing the Redis) never see each other's keys. */
const prefix = testKeyPrefix;

function line(key: string, overrides: Partial<CounterLine> = {}): CounterLine {
  return { key, previousKey: null, previousWeight: 0, limit: 100, amount: 1, enforce: true, ttlMs: 60_000, ...overrides };
}

async function rejectsUnavailable(promise: Promise<unknown>, secret?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof CounterStoreUnavailable, `expected CounterStoreUnavailable, got ${String(error)}`);
    if (secret !== undefined) assert.ok(!error.message.includes(secret), `message leaks the password: ${error.message}`);
    return true;
  });
}

/** A port nothing listens on: taken from the OS, then let go. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Splits RESP arrays of bulk strings (what clients send) off the front of a buffer. */
function takeCommands(buffer: Buffer): { commands: string[][]; rest: Buffer } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    const parsed = parseCommand(buffer, at);
    if (parsed === null) break;
    commands.push(parsed.command);
    at = parsed.end;
  }
  return { commands, rest: buffer.subarray(at) };
}

function parseCommand(buffer: Buffer, start: number): { command: string[]; end: number } | null {
  const readLine = (from: number): { text: string; next: number } | null => {
    const crlf = buffer.indexOf('\r\n', from);
    return crlf === -1 ? null : { text: buffer.toString('utf8', from, crlf), next: crlf + 2 };
  };
  const header = readLine(start);
  if (header === null) return null;
  const count = Number(header.text.slice(1));
  let at = header.next;
  const command: string[] = [];
  for (let i = 0; i < count; i++) {
    const size = readLine(at);
    if (size === null) return null;
    const length = Number(size.text.slice(1));
    if (buffer.length < size.next + length + 2) return null;
    command.push(buffer.toString('utf8', size.next, size.next + length));
    at = size.next + length + 2;
  }
  return { command, end: at };
}

/**
 * A Redis impostor that completes ioredis's handshake (so the client reports ready) and then misbehaves on every
 * other command: 'silent' never answers (an overloaded or paused Redis, a half-open socket), 'drop' closes the
 * connection (Redis crashing mid-call).
 */
const INFO = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n';

async function misbehavingRedis(mode: 'silent' | 'drop'): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      const { commands, rest } = takeCommands(Buffer.concat([pending, chunk]));
      pending = rest;
      for (const [name = ''] of commands) {
        const command = name.toLowerCase();
        if (command === 'info') socket.write(`$${Buffer.byteLength(INFO)}\r\n${INFO}\r\n`);
        else if (command === 'client' || command === 'select' || command === 'auth') socket.write('+OK\r\n');
        else if (mode === 'drop') socket.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// These tests check what the store counts, not how fast Redis answers: the 250 ms a command the gateway allows by default
// is a deadline a CI machine loaded by the suite's other processes missed with 200 reserves queued on one connection
// (CounterStoreUnavailable: Command timed out), so they allow 2 s, as leased.test does. redis.test's own timeout test
// sets its own.
const TEST_COMMAND_TIMEOUT_MS = 2_000;

counterStoreContract(
  'redis',
  async () => RedisCounterStore.open({ url: REDIS_URL, keyPrefix: prefix(), commandTimeoutMs: TEST_COMMAND_TIMEOUT_MS }),
  wallClock(),
);

describe('redis counter store', () => {
  test('every key it writes carries the key prefix', async () => {
    const keyPrefix = prefix();
    const store = await RedisCounterStore.open({ url: REDIS_URL, keyPrefix });
    const raw = new Redis(REDIS_URL);
    try {
      await store.reserve(Date.now(), [line('bucket', { amount: 3 })]);
      await store.claim(Date.now(), 'alert', 60_000);
      assert.equal(await raw.get(`${keyPrefix}bucket`), '3');
      assert.equal(await raw.get(`${keyPrefix}alert`), '1');
      assert.equal(await raw.get('bucket'), null);
      const ttl = await raw.pttl(`${keyPrefix}bucket`);
      assert.ok(ttl > 0 && ttl <= 60_000, `ttl ${ttl}`);
    } finally {
      await store.close();
      await raw.quit();
    }
  });

  test('the default key prefix is sluice:', async () => {
    const store = await RedisCounterStore.open({ url: REDIS_URL });
    const raw = new Redis(REDIS_URL);
    const bucket = `test:${randomUUID()}`;
    try {
      await store.reserve(Date.now(), [line(bucket, { amount: 2, ttlMs: 5_000 })]);
      assert.equal(await raw.get(`sluice:${bucket}`), '2');
    } finally {
      await raw.del(`sluice:${bucket}`);
      await store.close();
      await raw.quit();
    }
  });

  test('two stores (two gateways, two connections) share counters: 100 concurrent reserves admit exactly the limit of 40', async () => {
    const keyPrefix = prefix();
    const one = await RedisCounterStore.open({ url: REDIS_URL, keyPrefix, commandTimeoutMs: TEST_COMMAND_TIMEOUT_MS });
    const two = await RedisCounterStore.open({ url: REDIS_URL, keyPrefix, commandTimeoutMs: TEST_COMMAND_TIMEOUT_MS });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => (i % 2 === 0 ? one : two).reserve(Date.now(), [line('shared', { limit: 40 })])),
      );
      assert.equal(outcomes.filter((o) => o.admitted).length, 40);
      assert.equal(await one.read(Date.now(), 'shared'), 40);
      assert.equal(await two.read(Date.now(), 'shared'), 40);
      // And one alert between them.
      const claims = await Promise.all([one.claim(Date.now(), 'alert', 60_000), two.claim(Date.now(), 'alert', 60_000)]);
      assert.deepEqual(claims.sort(), [false, true]);
    } finally {
      await one.close();
      await two.close();
    }
  });

  test('a fractional amount is refused as a caller error, not reported as Redis being unavailable', async () => {
    const store = await RedisCounterStore.open({ url: REDIS_URL, keyPrefix: prefix() });
    try {
      await assert.rejects(store.reserve(Date.now(), [line('bucket', { amount: 1.5 })]), RangeError);
      assert.equal(await store.read(Date.now(), 'bucket'), 0);
    } finally {
      await store.close();
    }
  });

  test('reports available while connected', async () => {
    const store = await RedisCounterStore.open({ url: REDIS_URL, keyPrefix: prefix() });
    assert.equal(store.available, true);
    await store.close();
    assert.equal(store.available, false);
  });

  test('after close every call rejects with CounterStoreUnavailable, and closing again is harmless', UNAVAILABLE_TEST, async () => {
    const store = await RedisCounterStore.open({ url: REDIS_URL, keyPrefix: prefix() });
    await store.close();
    await store.close();
    await rejectsUnavailable(store.reserve(Date.now(), [line('bucket')]));
    await rejectsUnavailable(store.claim(Date.now(), 'alert', 1_000));
    await rejectsUnavailable(store.read(Date.now(), 'bucket'));
  });
});

describe('redis counter store when Redis cannot answer', () => {
  const password = 's3cret-Pa55word';

  test(
    'Redis not listening: every call rejects with CounterStoreUnavailable at once, naming no credentials',
    UNAVAILABLE_TEST,
    async () => {
      const url = `redis://sluice:${password}@127.0.0.1:${await deadPort()}`;
      const store = await RedisCounterStore.open({ url, keyPrefix: prefix() });
      try {
        assert.equal(store.available, false);
        await rejectsUnavailable(store.reserve(Date.now(), [line('bucket')]), password);
        await rejectsUnavailable(store.claim(Date.now(), 'alert', 1_000), password);
        await rejectsUnavailable(store.read(Date.now(), 'bucket'), password);
      } finally {
        await store.close();
      }
    },
  );

  test('calls made before the first connection completes reject rather than wait for it', UNAVAILABLE_TEST, async () => {
    const store = new RedisCounterStore({ url: `redis://:${password}@127.0.0.1:${await deadPort()}`, keyPrefix: prefix() });
    try {
      await rejectsUnavailable(store.reserve(Date.now(), [line('bucket')]), password);
    } finally {
      await store.close();
    }
  });

  test(
    'Redis connected but never answering: the call rejects with CounterStoreUnavailable after the command timeout',
    UNAVAILABLE_TEST,
    async () => {
      const impostor = await misbehavingRedis('silent');
      const store = await RedisCounterStore.open({ url: impostor.url, keyPrefix: prefix(), commandTimeoutMs: 100 });
      try {
        assert.equal(store.available, true);
        await rejectsUnavailable(store.reserve(Date.now(), [line('bucket')]));
        await rejectsUnavailable(store.claim(Date.now(), 'alert', 1_000));
        await rejectsUnavailable(store.read(Date.now(), 'bucket'));
      } finally {
        await store.close();
        await impostor.close();
      }
    },
  );

  test('Redis dropping the connection mid-call: the call rejects with CounterStoreUnavailable', UNAVAILABLE_TEST, async () => {
    const impostor = await misbehavingRedis('drop');
    const store = await RedisCounterStore.open({ url: impostor.url, keyPrefix: prefix() });
    try {
      assert.equal(store.available, true);
      await rejectsUnavailable(store.reserve(Date.now(), [line('bucket')]));
    } finally {
      await store.close();
      await impostor.close();
    }
  });

  describe('Redis coming back', () => {
    let proxy: net.Server;
    let port: number;
    const sockets = new Set<net.Socket>();

    before(async () => {
      port = await deadPort();
      // Forwards to the real Redis once listening: stands for Redis being restarted on the store's address.
      proxy = net.createServer((client) => {
        const upstream = net.connect(TEST_REDIS.port, TEST_REDIS.host);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('error', () => {});
          socket.on('close', () => sockets.delete(socket));
        }
        client.pipe(upstream).pipe(client);
      });
    });

    after(async () => {
      for (const socket of sockets) socket.destroy();
      if (proxy.listening) await new Promise<void>((resolve) => proxy.close(() => resolve()));
    });

    test('a store started while Redis is down reconnects by itself once Redis is reachable', { timeout: 10_000 }, async () => {
      const store = await RedisCounterStore.open({ url: testRedisUrlVia(port), keyPrefix: prefix() });
      try {
        await rejectsUnavailable(store.reserve(Date.now(), [line('bucket')]));
        await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
        while (!store.available) await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(await store.reserve(Date.now(), [line('bucket', { amount: 4 })]), {
          admitted: true,
          refused: -1,
          used: [4],
        });
      } finally {
        await store.close();
      }
    });
  });
});
