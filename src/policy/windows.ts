// Budget windows: which counter bucket a moment falls in, when the window resets, and how long its key must live.
// Calendar windows (minute, hour, day, month) are UTC. A rolling window of length L is a sliding-window counter:
// the current bucket of length L plus the previous one weighted by how much of it still lies within the last L.
import type { WindowConfig } from '../config/governance-schema.js';
import { DURATION } from '../config/governance-schema.js';

export interface WindowPosition {
  /** Identifies the bucket, used in counter keys. */
  bucket: string;
  previousBucket: string | null;
  previousWeight: number;
  /** The window the call is counted in (rolling: the last L ending now). */
  start: number;
  end: number;
  /** How long the bucket's counter must live after now. */
  ttlMs: number;
}

/** One bucket whose counter holds part of a window's usage: the span of calls it counts, and how long its key must live. */
export interface WindowBucket {
  bucket: string;
  start: number;
  end: number;
  ttlMs: number;
}

export interface BudgetWindow {
  readonly kind: string;
  /** Length in ms (a calendar month: the current month's length). */
  readonly rolling: boolean;
  position(now: number): WindowPosition;
  /**
   * How long until `needed` more fits under `limit`, given what the current bucket and the previous one (unweighted; 0
   * for calendar windows) hold now: the Retry-After of a refusal.
   */
  resetInMs(now: number, previous: number, current: number, needed: number, limit: number): number;
  /**
   * The buckets that make up the window's usage at `now`, as position() names them: the current one, and for a rolling
   * window the previous one too (read at its weight). What counter seeding fills from the ledger.
   */
  buckets(now: number): WindowBucket[];
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const FIXED_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** A minute's grace on key lifetimes, so clocks a little apart on two gateways still read the same bucket. */
const GRACE_MS = 60_000;

export function budgetWindow(config: WindowConfig): BudgetWindow {
  if (typeof config === 'object') {
    const match = DURATION.exec(config.rolling)!;
    return new RollingWindow(config.rolling, Number(match[1]) * UNIT_MS[match[2]!]!);
  }
  if (config === 'month') return new CalendarMonth();
  return new FixedWindow(config, FIXED_MS[config]!);
}

/**
 * Bucket names are kept while the bucket lasts (every admitted call asks): the same string each time, which counter keys
 * built from it (admit.ts) can be compared by and keep.
 */
class FixedWindow implements BudgetWindow {
  readonly rolling = false;
  private index = Number.NaN;
  private bucket = '';
  constructor(
    readonly kind: string,
    private readonly lengthMs: number,
  ) {}

  position(now: number): WindowPosition {
    const index = Math.floor(now / this.lengthMs);
    if (index !== this.index) {
      this.index = index;
      this.bucket = `${this.kind}:${index}`;
    }
    const start = index * this.lengthMs;
    const end = start + this.lengthMs;
    return { bucket: this.bucket, previousBucket: null, previousWeight: 0, start, end, ttlMs: end - now + GRACE_MS };
  }

  resetInMs(now: number): number {
    return this.position(now).end - now;
  }

  buckets(now: number): WindowBucket[] {
    const { bucket, start, end, ttlMs } = this.position(now);
    return [{ bucket, start, end, ttlMs }];
  }
}

class CalendarMonth implements BudgetWindow {
  readonly kind = 'month';
  readonly rolling = false;
  /** The month last asked about: [start, end) and its bucket. */
  private start = 0;
  private end = 0;
  private bucket = '';

  position(now: number): WindowPosition {
    if (now < this.start || now >= this.end) {
      const date = new Date(now);
      const year = date.getUTCFullYear();
      const month = date.getUTCMonth();
      this.start = Date.UTC(year, month, 1);
      this.end = Date.UTC(year, month + 1, 1);
      this.bucket = `month:${year}-${String(month + 1).padStart(2, '0')}`;
    }
    return {
      bucket: this.bucket,
      previousBucket: null,
      previousWeight: 0,
      start: this.start,
      end: this.end,
      ttlMs: this.end - now + GRACE_MS,
    };
  }

  resetInMs(now: number): number {
    return this.position(now).end - now;
  }

  buckets(now: number): WindowBucket[] {
    const { bucket, start, end, ttlMs } = this.position(now);
    return [{ bucket, start, end, ttlMs }];
  }
}

class RollingWindow implements BudgetWindow {
  readonly rolling = true;
  readonly kind: string;
  private index = Number.NaN;
  private bucket = '';
  private previousBucket = '';
  constructor(
    spec: string,
    private readonly lengthMs: number,
  ) {
    this.kind = `rolling:${spec}`;
  }

  position(now: number): WindowPosition {
    const index = Math.floor(now / this.lengthMs);
    if (index !== this.index) {
      this.index = index;
      this.bucket = `${this.kind}:${index}`;
      this.previousBucket = `${this.kind}:${index - 1}`;
    }
    const bucketStart = index * this.lengthMs;
    const elapsed = (now - bucketStart) / this.lengthMs;
    return {
      bucket: this.bucket,
      previousBucket: this.previousBucket,
      previousWeight: 1 - elapsed,
      start: now - this.lengthMs,
      end: now,
      // The bucket is read as "previous" through the whole next bucket.
      ttlMs: bucketStart + 2 * this.lengthMs - now + GRACE_MS,
    };
  }

  /** Each bucket lives until the end of the one after it, which reads it as its previous bucket (as position() says). */
  buckets(now: number): WindowBucket[] {
    const index = Math.floor(now / this.lengthMs);
    const bucketStart = index * this.lengthMs;
    return [
      {
        bucket: `${this.kind}:${index - 1}`,
        start: bucketStart - this.lengthMs,
        end: bucketStart,
        ttlMs: bucketStart + this.lengthMs - now + GRACE_MS,
      },
      {
        bucket: `${this.kind}:${index}`,
        start: bucketStart,
        end: bucketStart + this.lengthMs,
        ttlMs: bucketStart + 2 * this.lengthMs - now + GRACE_MS,
      },
    ];
  }

  /**
   * The previous bucket rolls off evenly as the current one passes (its weight is the part still inside the window);
   * the current bucket's usage only starts rolling off once the bucket ends, when it becomes the previous one. So when
   * the call would fit beside the current bucket alone, it fits once enough of the previous one has rolled off, within
   * this bucket: previous * (1 - f) + current + needed <= limit at fraction f of it. Otherwise it waits for the bucket
   * to end, and then for enough of this bucket's usage to roll off: current * (1 - g) + needed <= limit at fraction g
   * of the next.
   */
  resetInMs(now: number, previous: number, current: number, needed: number, limit: number): number {
    if (needed > limit) return this.lengthMs;
    const bucketStart = Math.floor(now / this.lengthMs) * this.lengthMs;
    const elapsed = (now - bucketStart) / this.lengthMs;
    if (current + needed <= limit) {
      if (previous <= 0) return 0;
      const fitsAt = 1 - (limit - current - needed) / previous;
      return Math.max(0, Math.ceil((fitsAt - elapsed) * this.lengthMs));
    }
    const fitsAt = 1 - (limit - needed) / current;
    return Math.ceil((1 - elapsed + fitsAt) * this.lengthMs);
  }
}
