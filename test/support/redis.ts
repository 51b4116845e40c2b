// The Redis tests use: SLUICE_TEST_REDIS_URL (default redis://127.0.0.1:6379; give it a /db number to keep the suite in a
// logical database of its own), keys under a prefix each test makes up, and deletion of exactly those keys afterwards.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.SLUICE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const parsed = new URL(TEST_REDIS_URL);
/** Where the test Redis listens, for TCP proxies that stand in for it (a crash, a partition, a restart). */
export const TEST_REDIS = { host: parsed.hostname, port: parsed.port === '' ? 6379 : Number(parsed.port) };

/** The test Redis's URL as seen through a proxy on this loopback port: the same user, password and database. */
export function testRedisUrlVia(port: number): string {
  const via = new URL(TEST_REDIS_URL);
  via.hostname = '127.0.0.1';
  via.port = String(port);
  return via.toString();
}

/** A key prefix no other test (nor another run against the same Redis) uses. */
export function testKeyPrefix(): string {
  return `sluice-test:${randomUUID()}:`;
}

/**
 * Deletes every key under `prefix` (which a test made up: never a shared one), found with SCAN rather than KEYS so a
 * developer's large Redis is not blocked. Deleting a test's own keys is how tests stand for a FLUSHDB or a Redis
 * restart that lost its data, without touching anything else.
 */
export async function deleteTestKeys(prefix: string): Promise<number> {
  if (!prefix.startsWith('sluice-test:')) throw new Error(`refusing to delete keys outside the test prefix: ${prefix}`);
  const redis = new Redis(TEST_REDIS_URL);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
  return deleted;
}
