// The record of stored responses in this process: a bounded LRU (lru-cache) with a TTL per record. Past `maxEntries`
// the least recently used record is dropped, and its response answers 404 through Sluice (it is still upstream).
import { LRUCache } from 'lru-cache';
import type { ResponseOwner, ResponseRecords } from './records.js';

/** A record as a lone process journals it (journaled.ts): the owner, and when it expires (epoch ms). */
export interface HeldRecord {
  id: string;
  owner: ResponseOwner;
  expiresAt: number;
}

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

  /** How many records are held. */
  get size(): number {
    return this.entries.size;
  }

  /** Every record held and not expired, least recently used first (lru-cache's dump order): set in this order, they keep it. */
  held(): HeldRecord[] {
    const now = Date.now();
    const held: HeldRecord[] = [];
    for (const [id, entry] of this.entries.dump()) {
      const expiresAt = entry.ttl === undefined || entry.start === undefined ? Infinity : entry.start + entry.ttl;
      if (expiresAt > now) held.push({ id, owner: entry.value, expiresAt });
    }
    return held;
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
