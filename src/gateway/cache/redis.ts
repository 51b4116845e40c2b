// The response cache in Redis, shared by every gateway on it: one key per answer (SET ... PX ttl), read with GET.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { decodeAnswer, encodeAnswer, type CachedAnswer, type ResponseCache } from './response-cache.js';

/** A cache look-up waits no longer than this: a slow Redis must not hold a call back more than a miss would. */
const TIMEOUT_MS = 250;

export class RedisResponseCache implements ResponseCache {
  /** ioredis is loaded with the first Redis cache, not with the gateway: the default cache is in memory. */
  private readonly redis: Promise<Redis>;
  private readonly prefix: string;
  private readonly logger: Logger;

  constructor(url: string, prefix: string, logger: Logger) {
    this.redis = import('ioredis').then(({ Redis }) => {
      const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: TIMEOUT_MS, enableOfflineQueue: false, lazyConnect: false });
      // Errors are answered as misses where they happen; the connection's own are logged once per kind.
      redis.on('error', () => undefined);
      return redis;
    });
    this.prefix = prefix;
    this.logger = logger;
  }

  async get(key: string): Promise<CachedAnswer | null> {
    try {
      const bytes = await (await this.redis).getBuffer(this.prefix + key);
      return bytes === null ? null : decodeAnswer(bytes);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'response cache: Redis look-up failed; answered as a miss');
      return null;
    }
  }

  async set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    try {
      await (await this.redis).set(this.prefix + key, encodeAnswer(answer), 'PX', ttlMs);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'response cache: Redis store failed; answer not cached');
    }
  }

  async close(): Promise<void> {
    (await this.redis).disconnect();
  }
}
