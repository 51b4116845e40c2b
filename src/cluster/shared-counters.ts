// A worker's view of the counters its gateway's primary holds in memory: every operation asked over IPC, settlements
// of one event-loop turn sent as one message. Wrapped in a LeasedCounterStore, most calls ask nothing at all.
import type { CounterLine, CounterSeed, CounterStore, LeaseGrant, LeaseRequest, ReserveOutcome } from '../counters/counter-store.js';
import type { PrimaryLink } from './primary-link.js';

export class SharedCounterStore implements CounterStore {
  readonly kind = 'memory' as const;
  private readonly link: PrimaryLink;
  private settlements: Array<{ lines: CounterLine[]; resolve: (used: number[]) => void; reject: (error: Error) => void }>;

  constructor(link: PrimaryLink) {
    this.link = link;
    this.settlements = [];
  }

  reserve(now: number, lines: readonly CounterLine[]): Promise<ReserveOutcome> {
    return this.link.request({ op: 'reserve', now, lines: [...lines] });
  }

  settle(now: number, lines: readonly CounterLine[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.settlements.push({ lines: [...lines], resolve, reject });
      if (this.settlements.length === 1) setImmediate(() => this.flush(now));
    });
  }

  private flush(now: number): void {
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

  claim(now: number, key: string, ttlMs: number): Promise<boolean> {
    return this.link.request({ op: 'claim', now, key, ttlMs });
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
    // The counters are the primary's; it closes them once every worker has stopped.
  }
}
