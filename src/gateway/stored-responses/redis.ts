// The record of stored responses in Redis, shared by every gateway on it: one key per response (SET ... PX ttl), read
// with GET, removed with DEL.
import type { Redis } from 'ioredis';
import { decodeOwner, encodeOwner, type ResponseOwner, type ResponseRecords } from './records.js';

/** A look-up waits no longer than this: a follow-up call is not held longer by a slow Redis. */
const TIMEOUT_MS = 1_000;

export class RedisResponseRecords implements ResponseRecords {
  readonly kind = 'redis';
  /** ioredis is loaded with the first Redis record store, not with the gateway: the default may be memory. */
  private readonly redis: Promise<Redis>;
  private readonly prefix: string;
  /**
   * Why Redis is known to be unreachable (a connection failed or was lost, and it is not ready again), or null. Until the
   * first connection succeeds or fails, commands wait in the offline queue as above; once it is known down, each
   * command fails at once rather than holding its call for the timeout (the caller's fail mode then decides).
   */
  private unreachable: string | null = null;

  constructor(url: string, prefix: string) {
    this.redis = import('ioredis').then(({ Redis }) => {
      // Commands wait for the connection (the offline queue), each no longer than TIMEOUT_MS: the first records after a
      // start are written once Redis is connected rather than lost, and a Redis that is down fails them within the wait.
      const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: TIMEOUT_MS, enableOfflineQueue: true, lazyConnect: false });
      // Errors reach the caller of each command (logged and counted there).
      redis.on('error', (error: Error) => {
        if (redis.status !== 'ready') this.unreachable = error.message || 'connection failed';
      });
      redis.on('close', () => {
        this.unreachable ??= 'connection closed';
      });
      redis.on('ready', () => {
        this.unreachable = null;
      });
      return redis;
    });
    this.prefix = prefix;
  }

  async get(id: string): Promise<ResponseOwner | null> {
    const text = await (await this.connected()).get(this.prefix + id);
    return text === null ? null : decodeOwner(text);
  }

  async set(id: string, owner: ResponseOwner, ttlMs: number): Promise<void> {
    await (await this.connected()).set(this.prefix + id, encodeOwner(owner), 'PX', ttlMs);
  }

  async delete(id: string): Promise<void> {
    await (await this.connected()).del(this.prefix + id);
  }

  /** The client, unless Redis is known to be unreachable: then a rejection at once. */
  private async connected(): Promise<Redis> {
    const redis = await this.redis;
    if (this.unreachable !== null) throw new Error(`Redis record of stored responses unreachable: ${this.unreachable}`);
    return redis;
  }

  /** Sends what was queued (the records of the last calls) before closing. */
  async close(): Promise<void> {
    const redis = await this.redis;
    await redis.quit().catch(() => redis.disconnect());
  }
}
