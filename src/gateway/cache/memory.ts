// The response cache in this process: a bounded LRU (lru-cache) with a TTL per entry.
import { LRUCache } from 'lru-cache';
import type { CachedAnswer, ResponseCache } from './response-cache.js';

export class MemoryResponseCache implements ResponseCache {
  private readonly entries: LRUCache<string, CachedAnswer>;

  constructor(maxEntries: number) {
    this.entries = new LRUCache({ max: maxEntries });
  }

  get(key: string): Promise<CachedAnswer | null> {
    return Promise.resolve(this.entries.get(key) ?? null);
  }

  set(key: string, answer: CachedAnswer, ttlMs: number): Promise<void> {
    this.entries.set(key, answer, { ttl: ttlMs });
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
