// One bucket's lease as the leasing store (leased.ts) keeps it: the room held, when it was last used and confirmed, and
// the lease on its way, if one is.
import type { CounterLine, LeaseGrant } from './counter-store.js';

/** What a lease on its way answered for one bucket: the amount it had to fit and the store's grant (null: it failed). */
export interface Asked {
  amount: number;
  grant: LeaseGrant | null;
}

/** Room this process holds in one bucket; the store counts it as used until it is admitted against or given back. */
export class Lease {
  room: number;
  lastGrant: number;
  /** The bucket's usage as the store last said (every holder's room included), for the `used` figures. */
  storeUsed: number;
  /** When a call last used the room (performance.now()). */
  lastUse: number;
  /**
   * Until when (this process's monotonic clock, performance.now()) the store counts the room as this holder's: the time
   * its last report was sent plus the record's ttl, so never later than the store's own expiry. Past it, no call is
   * admitted from the room until the store confirms it again (or says it was taken back).
   */
  confirmedUntil: number;
  renewing: boolean;
  /**
   * What calls used of this room (settled here) since the store was last told: the store still holds it as room or
   * reservations until this holder reports it (HolderReport.settled), with its next lease, heartbeat, release or seed.
   */
  settled: number;
  line: CounterLine;
  /**
   * The lease on its way to the store for this bucket, if one is: calls lacking room wait for it rather than each
   * asking for a slice of their own (which took a slice per call at once, and a round trip each).
   */
  asking: Promise<Asked> | null;

  constructor(line: CounterLine) {
    this.room = 0;
    this.lastGrant = 0;
    this.storeUsed = 0;
    this.lastUse = performance.now();
    this.confirmedUntil = 0;
    this.renewing = false;
    this.settled = 0;
    this.line = line;
    this.asking = null;
  }
}
