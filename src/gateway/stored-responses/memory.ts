// The record of stored responses in this process: a bounded LRU (lru-cache) with a TTL per record. Past `maxEntries`
// the least recently used record is dropped, and its response answers 404 through Sluice (it is still upstream).
import { LRUCache } from 'lru-cache';
import type { ResponseOwner, ResponseRecords } from './records.js';

export class MemoryResponseRecords implements ResponseRecords {
  readonly kind = 'memory';
  private readonly entries: LRUCache<string, ResponseOwner>;

  constructor(maxEntries: number) {
    this.entries = new LRUCache({ max: maxEntries });
  }

  get(id: string): Promise<ResponseOwner | null> {
    return Promise.resolve(this.entries.get(id) ?? null);
  }

  set(id: string, owner: ResponseOwner, ttlMs: number): Promise<void> {
    this.entries.set(id, owner, { ttl: ttlMs });
    return Promise.resolve();
  }

  delete(id: string): Promise<void> {
    this.entries.delete(id);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
