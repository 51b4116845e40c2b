// The counters budgets and rate limits are held in: one interface, kept in memory (one process) or in Redis (many).
import { createHash } from 'node:crypto';

/**
 * One budget's counter as a call sees it. The window arithmetic (which bucket, how much of the previous one still
 * counts, how long a key must live) is done by the caller (src/policy/windows.ts), so every store only adds and compares.
 */
export interface CounterLine {
  /** The counter of the window bucket the call falls in. */
  key: string;
  /** Rolling windows: the bucket before it, of which `previousWeight` (0..1) still counts. Null for calendar windows. */
  previousKey: string | null;
  previousWeight: number;
  /** The most the window may hold; only read when `enforce`. */
  limit: number;
  /** What this call adds (an integer: tokens, nano-USD or requests); negative when a settlement gives back. */
  amount: number;
  /** True: refuse when usage + amount would pass the limit. False: count only (monitor mode, settlements). */
  enforce: boolean;
  /** How long the bucket's key must outlive now: the end of the last window that can still read it. */
  ttlMs: number;
  /**
   * What the bucket stops holding apart from usage with this line (see `CounterStore.seed`): a settlement's, what the
   * call reserved; a release's, besides the room given back (its amount), what the holder's calls used of that room and
   * it has not reported yet (HolderReport.settled). Absent: 0.
   */
  reserved?: number;
}

export interface ReserveOutcome {
  /** Whether every enforcing line fitted; when not, nothing was added to any line. */
  admitted: boolean;
  /** The index of the first enforcing line that did not fit; -1 when admitted. */
  refused: number;
  /** Per line, the window's usage after the call's amount was added (before it, when refused). */
  used: number[];
  /**
   * When refused: the refused line's bucket and previous bucket as they were, unweighted (0 when there is none), which
   * the refusal's Retry-After needs apart (src/policy/windows.ts). Absent when a store cannot tell them apart.
   */
  refusedBuckets?: RefusedBuckets;
}

export interface RefusedBuckets {
  current: number;
  previous: number;
}

/** A bucket's usage as the ledger has it, for a counter that may have lost it (src/policy/counter-seeding.ts). */
export interface CounterSeed {
  key: string;
  /**
   * The bucket's usage is raised to this when it counts less; never lowered, never added to. Its usage is what it holds
   * beyond its held figure: the reservations of calls in flight and the room lease holders hold, kept apart in the store.
   */
  value: number;
  /** From a lease holder seeding: what its calls used of its room since it last reported (HolderReport.settled). */
  settled?: number;
  /** For a key the seed creates: how long it must outlive now (as CounterLine.ttlMs). */
  ttlMs: number;
}

/** Room asked of the store for one counter line (src/counters/leased.ts): `line.amount` is what must fit now. */
export interface LeaseRequest {
  line: CounterLine;
  /** Room wanted beyond the line's amount, for calls to come; the store grants less near the limit (LEASE_NEAR_DIVISOR). */
  extra: number;
  /** The leasing process's report (LeasedCounterStore); absent for a caller that keeps no room (the grant has no `kept`). */
  holder?: HolderReport;
}

/**
 * What a lease holder tells the store with each lease (a heartbeat is a lease of nothing): the store keeps, per bucket and
 * holder, the room the holder still holds unused and, on Redis, until when (Redis's clock). A holder that stops
 * reporting (killed) has that room taken back from the bucket once it expires, by the next lease on that bucket.
 */
export interface HolderReport {
  /** The holder's id, one per LeasedCounterStore. */
  id: string;
  /** The room it holds in the bucket now, unused, before this grant. */
  room: number;
  /** How long the record lives unless reported again. */
  ttlMs: number;
  /**
   * What the holder's calls used of its room (settled there) since it last reported: the bucket holds it no more as
   * room or reservations but as usage (CounterStore.seed). Absent: 0.
   */
  settled?: number;
}

export interface LeaseGrant {
  /** 0 when the line's amount does not fit; else the amount plus the extra granted, already added to the bucket. */
  granted: number;
  /** The window's usage before the grant (every holder's unused room included). */
  used: number;
  /** What it is made of, before the grant: the bucket's value and the previous bucket's, unweighted (0 when none counts). */
  current: number;
  previous: number;
  /**
   * With a holder report: whether the room it reported is still counted as its own. False when its record expired (it
   * stopped reporting for longer than its ttl) and the room was taken back: the holder must no longer admit from it.
   */
  kept?: boolean;
}

/**
 * A lease takes at most this fraction of the room left after the call that asked for it: as a window fills, slices
 * shrink, and once a slice would be under one unit every call is admitted alone, exactly as without leases.
 */
export const LEASE_NEAR_DIVISOR = 8;

/** The room a lease grants: the amount, if it fits, and the extra the room left allows (the same rule in memory and Lua). */
export function leaseGranted(used: number, limit: number, amount: number, extra: number): number {
  const room = limit - used;
  if (room < amount) return 0;
  return amount + Math.max(0, Math.min(extra, Math.floor((room - amount) / LEASE_NEAR_DIVISOR)));
}

export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Which processes share this store's keys and claims: the same in every one that does (on one Redis under one key
   * prefix, or workers of one primary), unique to a process otherwise. Opaque (scopeOf), as it may reach a client.
   */
  readonly scope: string;
  /**
   * All or nothing, atomically across the lines (one Lua script on Redis): if every enforcing line has room, add each
   * line's amount to its bucket; otherwise add nothing. `now` is the caller's clock (epoch ms), used by the memory
   * store for expiry; Redis expires keys itself.
   */
  reserve(now: number, lines: readonly CounterLine[]): ReserveOutcome | Promise<ReserveOutcome>;
  /**
   * Adds every line's amount whatever the limits (a settlement: real usage minus what was reserved) and returns each
   * line's usage after. Not all-or-nothing across callers: Redis merges settlements made close together into one call.
   */
  settle(now: number, lines: readonly CounterLine[]): number[] | Promise<number[]>;
  /** True for the first caller to claim this key until it expires (one alert per threshold per window, across replicas). */
  claim(now: number, key: string, ttlMs: number): boolean | Promise<boolean>;
  /**
   * Keeps a short text under `key` for ttlMs, replacing any kept there, for any process sharing the store to `recall`
   * (a call's details that another gateway may record: src/gateway/mcp/pending-tasks.ts).
   */
  remember(now: number, key: string, text: string, ttlMs: number): void | Promise<void>;
  /** The text last remembered under `key`; null when none is (never kept, or expired). */
  recall(now: number, key: string): string | null | Promise<string | null>;
  /**
   * Raises each key's usage to at least its seed's value, atomically per key: a key counting more (calls counted since)
   * keeps its value, a missing one is created. Usage is what the key holds beyond its held figure, which the store keeps
   * apart: every reservation adds its amount to it, and every lease its grant; a settlement takes off what the call
   * reserved (`CounterLine.reserved`), a release the room given back. So what a counter holds for calls in flight and for
   * leased room never stands in for usage the ledger has and it missed (a budget removed and declared again); the seeded
   * key holds the seed plus that held figure. A maximum, never a sum, so seeding twice, or by several gateways at once,
   * counts the ledger's usage once. `complete`: these are the seeds of every line of every current window, and the store takes
   * itself as seeded until it loses its keys (Redis keeps a marker key, which a FLUSHDB or a restart without persistence
   * loses with the counters).
   */
  seed(now: number, seeds: readonly CounterSeed[], complete: boolean): void | Promise<void>;
  /**
   * What seeds the store again when it finds its keys lost (Redis: a reservation meets a missing bucket while the marker
   * is gone); that reservation waits for it, then is made again. Null, the default: counting goes on from what is there.
   * Memory counters cannot lose their keys while the process lives, and never call it.
   */
  reseedWith(reseed: (() => Promise<void>) | null): void;
  /**
   * Per request, independently: when the line's amount fits under its limit, adds the amount plus extra room (within
   * leaseGranted's rule) to the bucket and answers what was granted. What a lease holder later admits against that room
   * asks the store nothing; what it does not use it gives back with a negative settlement.
   */
  lease(now: number, requests: readonly LeaseRequest[]): LeaseGrant[] | Promise<LeaseGrant[]>;
  /**
   * Gives back a holder's unused room (each line's amount, positive) and deletes its record, per bucket, only where the
   * record is still there: room taken back already (the record expired) or lost with its bucket is not given back twice.
   */
  release(now: number, holder: string, lines: readonly CounterLine[]): void | Promise<void>;
  /** Reads a bucket's value (0 when absent): for inspection and tests, not on the request path. */
  read(now: number, key: string): number | Promise<number>;
  close(): Promise<void>;
}

/** A store's scope from what names where its keys are: a digest, which tells no client where that is. */
export function scopeOf(where: string): string {
  return createHash('sha256').update(where, 'utf8').digest('base64url').slice(0, 16);
}

/**
 * Why a store cannot answer: Redis down or too slow ('unreachable'), or Redis answering but its counters lost and not
 * (yet) seeded again from the ledger ('unseeded': the ledger unreadable or slow), which an operator mends elsewhere.
 */
export type CounterTroubleReason = 'unreachable' | 'unseeded';

/** Raised by a store that cannot answer; admission then fails open or closed as configured. */
export class CounterStoreUnavailable extends Error {
  readonly reason: CounterTroubleReason;

  constructor(message: string, reason: CounterTroubleReason = 'unreachable') {
    super(message);
    this.name = 'CounterStoreUnavailable';
    this.reason = reason;
  }
}
