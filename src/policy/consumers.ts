// Consumers (applications with owners) and their Sluice keys, held in memory only as SHA-256 hashes, for the gateway's
// authentication stage: one hash and one map look-up per call, no database on the request path.
import { hash } from 'node:crypto';

export interface Consumer {
  name: string;
  team: string | null;
  owner: string | null;
  /** Model names this consumer may use; null means every configured model. */
  models: ReadonlySet<string> | null;
  labels: Readonly<Record<string, string>>;
}

/** A consumer and its unrevoked keys, as the director store lists them. */
export interface DirectoryEntry {
  name: string;
  team: string | null;
  owner: string | null;
  labels: Record<string, string>;
  models: string[] | null;
  keys: ReadonlyArray<{ id: string; hash: string; expiresAt: number | null }>;
}

/** How often an expired key was presented (and refused), and when last. */
export interface ExpiredKeyPresentations {
  count: number;
  lastAt: number;
}

export interface KeyEntry {
  consumer: Consumer;
  keyId: string;
  expiresAt: number | null;
  /** How the ledger names the credential (`key:<id>`), made once here rather than per call. */
  identity: string;
}

/** A key's last use is recorded at most this often: the figure is for humans, the map stays small. */
const TOUCH_EVERY_MS = 60_000;

/** A key's SHA-256, in hex: about a microsecond for a key, cheaper than any cache of plaintext keys would be worth. */
export function hashKey(key: string): string {
  return hash('sha256', key, 'hex');
}

export class ConsumerDirectory {
  /** The only form in which keys are held: their hashes. */
  private readonly byKeyHash: Map<string, KeyEntry>;
  /** Key id -> when it was last used, not yet written to the store. */
  private readonly used: Map<string, number>;
  private readonly lastTouched: Map<string, number>;
  /** Key id -> presentations after its expiry (refused), not yet taken. At most one entry per known key. */
  private readonly expiredPresented: Map<string, ExpiredKeyPresentations>;
  readonly consumers: readonly Consumer[];

  constructor(entries: readonly DirectoryEntry[]) {
    this.byKeyHash = new Map();
    this.used = new Map();
    this.lastTouched = new Map();
    this.expiredPresented = new Map();
    const consumers: Consumer[] = [];
    for (const entry of entries) {
      const consumer: Consumer = {
        name: entry.name,
        team: entry.team,
        owner: entry.owner,
        models: entry.models === null ? null : new Set(entry.models),
        labels: entry.labels,
      };
      consumers.push(consumer);
      for (const key of entry.keys)
        this.byKeyHash.set(key.hash, { consumer, keyId: key.id, expiresAt: key.expiresAt, identity: `key:${key.id}` });
    }
    this.consumers = consumers;
  }

  /** The consumer holding this key, if the key is known and has not expired. */
  find(key: string, now = Date.now()): Consumer | undefined {
    return this.findEntry(key, now)?.consumer;
  }

  /** The key's entry (its consumer and id), if the key is known and has not expired. */
  findEntry(key: string, now = Date.now()): KeyEntry | undefined {
    const entry = this.byKeyHash.get(hashKey(key));
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      // Refused; counted for compliance (IA-5): a client still sending a key past its expiry has not rotated.
      const presented = this.expiredPresented.get(entry.keyId);
      if (presented === undefined) this.expiredPresented.set(entry.keyId, { count: 1, lastAt: now });
      else {
        presented.count++;
        presented.lastAt = now;
      }
      return undefined;
    }
    if (now - (this.lastTouched.get(entry.keyId) ?? 0) >= TOUCH_EVERY_MS) {
      this.lastTouched.set(entry.keyId, now);
      this.used.set(entry.keyId, now);
    }
    return entry;
  }

  /** When its keys that have an end stop working (epoch ms): read at each snapshot, not per call. */
  keyEnds(): number[] {
    const ends: number[] = [];
    for (const entry of this.byKeyHash.values()) if (entry.expiresAt !== null) ends.push(entry.expiresAt);
    return ends;
  }

  /** The presentations of expired keys since the previous call, by key id. */
  takeExpiredPresentations(): Map<string, ExpiredKeyPresentations> {
    const out = new Map(this.expiredPresented);
    this.expiredPresented.clear();
    return out;
  }

  /** The last uses recorded since the previous call, for the store's last_used_at. */
  takeUsage(): Map<string, number> {
    const out = new Map(this.used);
    this.used.clear();
    return out;
  }
}

export function mayUse(consumer: Consumer, model: string): boolean {
  return consumer.models === null || consumer.models.has(model);
}
