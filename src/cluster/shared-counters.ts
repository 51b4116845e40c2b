// A worker's view of the counters its gateway's primary holds in memory: every operation asked over IPC, settlements
// gathered for a few milliseconds and sent as one message. Wrapped in a LeasedCounterStore, most calls ask nothing at all.
// A message per event-loop turn was one per call at low concurrency: IPC then cost a worker more than the call did.
import type { CounterLine, CounterSeed, CounterStore, LeaseGrant, LeaseRequest, ReserveOutcome } from '../counters/counter-store.js';
import { hostname } from 'node:os';
import { scopeOf } from '../counters/counter-store.js';
import type { PrimaryLink } from './primary-link.js';

/**
 * How long settlements wait for others to share their message, and how many one message takes at most. Settling is off
 * the call's path (the answer has gone) and admissions count leased room, so the primary's figures trail by this much.
 */
const SETTLE_WINDOW_MS = 5;
const SETTLE_BATCH = 256;

export class SharedCounterStore implements CounterStore {
  readonly kind = 'memory' as const;
  /** Every worker of this primary (this process's parent) shares its counters. */
  readonly scope = scopeOf(`primary:${hostname()}:${process.ppid}`);
  private readonly link: PrimaryLink;
  private settlements: Array<{ lines: CounterLine[]; resolve: (used: number[]) => void; reject: (error: Error) => void }>;
  private timer: NodeJS.Timeout | null;
  /** The `now` of the first settlement waiting. */
  private firstNow: number;

  constructor(link: PrimaryLink) {
    this.link = link;
    this.settlements = [];
    this.timer = null;
    this.firstNow = 0;
  }

  reserve(now: number, lines: readonly CounterLine[]): Promise<ReserveOutcome> {
    return this.link.request({ op: 'reserve', now, lines: [...lines] });
  }

  settle(now: number, lines: readonly CounterLine[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.settlements.push({ lines: [...lines], resolve, reject });
      if (this.settlements.length === 1) {
        this.firstNow = now;
        this.timer = setTimeout(() => this.flush(now), SETTLE_WINDOW_MS);
      } else if (this.settlements.length >= SETTLE_BATCH) this.flush(now);
    });
  }

  private flush(now: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.settlements;
    this.settlements = [];
    this.link.request<number[][]>({ op: 'settle', now, batches: batch.map((entry) => entry.lines) }).then(
      (used) => {
        batch.forEach((entry, i) => entry.resolve(used[i]!));
      },
      (error: Error) => {
        for (const entry of batch) entry.reject(error);
      },
    );
  }

  lease(now: number, requests: readonly LeaseRequest[]): Promise<LeaseGrant[]> {
    return this.link.request({ op: 'lease', now, requests: [...requests] });
  }

  release(now: number, holder: string, lines: readonly CounterLine[]): Promise<void> {
    return this.link.request({ op: 'release', now, holder, lines: [...lines] });
  }

  claim(now: number, key: string, ttlMs: number): Promise<boolean> {
    return this.link.request({ op: 'claim', now, key, ttlMs });
  }

  remember(now: number, key: string, text: string, ttlMs: number): Promise<void> {
    return this.link.request({ op: 'remember', now, key, text, ttlMs });
  }

  recall(now: number, key: string): Promise<string | null> {
    return this.link.request({ op: 'recall', now, key });
  }

  seed(now: number, seeds: readonly CounterSeed[], complete: boolean): Promise<void> {
    return this.link.request({ op: 'seed', now, seeds: [...seeds], complete });
  }

  reseedWith(): void {
    // The primary's memory is lost only with the primary, which takes every worker with it.
  }

  read(now: number, key: string): Promise<number> {
    return this.link.request({ op: 'read', now, key });
  }

  async close(): Promise<void> {
    // The counters are the primary's; it closes them once every worker has stopped. Settlements still waiting go now.
    if (this.settlements.length > 0) this.flush(this.firstNow);
  }
}
