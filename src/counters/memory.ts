// Counters in this process's memory: the embedded default. Atomic by construction (one thread, no await inside).
import { randomUUID } from 'node:crypto';
import { leaseGranted, scopeOf } from './counter-store.js';
import type { CounterLine, CounterSeed, CounterStore, LeaseGrant, LeaseRequest, ReserveOutcome } from './counter-store.js';

interface Entry {
  value: number;
  /** Of `value`, what is held for calls in flight and leased room rather than used (CounterStore.seed). */
  held: number;
  expiresAt: number;
  /** What `remember` kept (its value unused). */
  text?: string;
}

/** How often expired buckets are swept, so a gateway with many consumers and windows does not grow without bound. */
const SWEEP_INTERVAL_MS = 60_000;

export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory' as const;
  /** This process's alone (a primary's memory is its workers' through SharedCounterStore, of the primary's scope). */
  readonly scope = scopeOf(`process:${randomUUID()}`);
  private readonly entries: Map<string, Entry>;
  /**
   * Per bucket, each lease holder's unused room as it last reported it. In memory the holders are this process or the
   * workers of `sluice start --workers N`, whose primary releases a dead worker's room (releaseHolder) when it exits.
   */
  private readonly held: Map<string, Map<string, number>>;
  private readonly sweeper: NodeJS.Timeout;
  private lastNow: number;

  constructor() {
    this.entries = new Map();
    this.held = new Map();
    this.lastNow = 0;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  reserve(now: number, lines: readonly CounterLine[]): ReserveOutcome {
    return this.count(now, lines, true);
  }

  settle(now: number, lines: readonly CounterLine[]): number[] {
    return this.count(now, lines, false).used;
  }

  lease(now: number, requests: readonly LeaseRequest[]): LeaseGrant[] {
    this.lastNow = now;
    return requests.map(({ line, extra, holder }) => {
      const current = this.value(now, line.key);
      const weighted = line.previousKey !== null && line.previousWeight > 0;
      const previous = weighted ? this.value(now, line.previousKey!) : 0;
      const used = weighted ? current + previous * line.previousWeight : current;
      const granted = leaseGranted(used, line.limit, line.amount, extra);
      if (granted > 0) this.reserve(now, [{ ...line, amount: granted, enforce: false }]);
      if (holder?.settled) this.unhold(now, line.key, holder.settled);
      if (holder === undefined) return { granted, used, current, previous };
      let holders = this.held.get(line.key);
      if (holders === undefined) this.held.set(line.key, (holders = new Map()));
      const kept = holder.room <= 0 || holders.has(holder.id);
      // The call's own amount is admitted at once: only the rest is recorded as unused (never more than it holds).
      holders.set(holder.id, (kept ? holder.room : 0) + (granted > 0 ? granted - line.amount : 0));
      return { granted, used, current, previous, kept };
    });
  }

  release(now: number, holder: string, lines: readonly CounterLine[]): void {
    for (const line of lines) {
      const holders = this.held.get(line.key);
      if (holders === undefined || !holders.delete(holder)) continue;
      const reserved = line.amount + (line.reserved ?? 0);
      if (this.live(now, line.key) !== undefined) this.count(now, [{ ...line, amount: -line.amount, enforce: false, reserved }], false);
    }
  }

  /** What the bucket held for calls and room that became usage (a lease holder's report): no longer held. */
  private unhold(now: number, key: string, amount: number): void {
    const entry = this.live(now, key);
    if (entry !== undefined) entry.held -= amount;
  }

  /** A holder gone (a worker that died): the room it last reported unused goes back to every bucket it held room in. */
  releaseHolder(holder: string): void {
    const now = this.lastNow;
    for (const [key, holders] of this.held) {
      const room = holders.get(holder);
      if (room === undefined) continue;
      holders.delete(holder);
      const entry = this.live(now, key);
      if (entry === undefined) continue;
      entry.value -= room;
      entry.held -= room;
    }
  }

  claim(now: number, key: string, ttlMs: number): boolean {
    if (this.live(now, key) !== undefined) return false;
    this.entries.set(key, { value: 1, held: 0, expiresAt: now + ttlMs });
    return true;
  }

  remember(now: number, key: string, text: string, ttlMs: number): void {
    this.lastNow = now;
    this.entries.set(key, { value: 0, held: 0, expiresAt: now + ttlMs, text });
  }

  recall(now: number, key: string): string | null {
    return this.live(now, key)?.text ?? null;
  }

  seed(now: number, seeds: readonly CounterSeed[]): void {
    this.lastNow = now;
    for (const seed of seeds) {
      const entry = this.live(now, seed.key);
      if (entry === undefined) {
        this.entries.set(seed.key, { value: seed.value, held: 0, expiresAt: now + seed.ttlMs });
        continue;
      }
      entry.held -= seed.settled ?? 0;
      const held = heldOf(entry);
      if (entry.value - held < seed.value) {
        entry.value = seed.value + held;
        entry.expiresAt = Math.max(entry.expiresAt, now + seed.ttlMs);
      }
    }
  }

  reseedWith(): void {
    // Nothing to do: this process's memory is never lost while it runs, and it starts empty, to be seeded at start.
  }

  read(now: number, key: string): number {
    return this.value(now, key);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
    this.held.clear();
  }

  /**
   * Adds every line's amount, or none when `enforce` and an enforced line would pass its limit. A reservation (`enforce`)
   * adds its amount to each bucket's held figure too; a settlement takes what the call reserved off it.
   */
  private count(now: number, lines: readonly CounterLine[], enforce: boolean): ReserveOutcome {
    this.lastNow = now;
    const used = new Array<number>(lines.length);
    // Each line's entry as first looked up, so the second pass need not look it up again.
    const found = new Array<Entry | undefined>(lines.length);
    let refused = -1;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const entry = this.live(now, line.key);
      found[i] = entry;
      let value = entry?.value ?? 0;
      if (line.previousKey !== null && line.previousWeight > 0) value += this.value(now, line.previousKey) * line.previousWeight;
      used[i] = value;
      if (refused === -1 && enforce && line.enforce && value + line.amount > line.limit) refused = i;
    }
    if (refused !== -1) {
      const line = lines[refused]!;
      const previous = line.previousKey !== null && line.previousWeight > 0 ? this.value(now, line.previousKey) : 0;
      return { admitted: false, refused, used, refusedBuckets: { current: found[refused]?.value ?? 0, previous } };
    }
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      // A key no entry had may have got one from an earlier line of the same call: looked up again.
      const entry = found[i] ?? this.live(now, line.key);
      const held = enforce ? line.amount : -(line.reserved ?? 0);
      if (entry === undefined) this.entries.set(line.key, { value: line.amount, held, expiresAt: now + line.ttlMs });
      else {
        entry.value += line.amount;
        entry.held += held;
        entry.expiresAt = Math.max(entry.expiresAt, now + line.ttlMs);
      }
      used[i] = used[i]! + line.amount;
    }
    return { admitted: true, refused: -1, used };
  }

  private value(now: number, key: string): number {
    return this.live(now, key)?.value ?? 0;
  }

  private live(now: number, key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    // The last clock value seen, not Date.now(): tests run the gateway on an injected clock.
    for (const [key, entry] of this.entries) if (entry.expiresAt <= this.lastNow) this.entries.delete(key);
    for (const key of this.held.keys()) if (!this.entries.has(key)) this.held.delete(key);
  }
}

/**
 * What a bucket holds for calls in flight and leased room, within what it can be: a figure gone astray (a settlement of a
 * reservation made before a counter held one, in a rolling upgrade) never makes usage pass the bucket's value.
 */
export function heldOf(entry: { value: number; held: number }): number {
  return Math.min(Math.max(0, entry.held), Math.max(0, entry.value));
}
