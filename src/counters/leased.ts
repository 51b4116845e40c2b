// Admission without a round trip per call: room leased from a shared counter store (Redis, or the cluster primary's
// memory), admitted against here, renewed ahead of need and given back when idle. docs/scale-out.md states the bound.
import { randomBytes } from 'node:crypto';
import type { CounterLine, CounterSeed, CounterStore, HolderReport, LeaseGrant, LeaseRequest, ReserveOutcome } from './counter-store.js';
import { Lease, type Asked } from './lease.js';

export interface LeaseOptions {
  /** The most extra room one lease asks for, as a fraction of the limit (default 1/64). 0: every call asks the store. */
  share?: number;
  /** Room unused for this long is given back (default 1 s); so is a bucket whose window has moved on. */
  idleMs?: number;
  /**
   * How long the store keeps this process's room counted as its own without hearing from it (default 6 s). It reports
   * every ttlMs / 3 (one call for all its buckets); killed, its unused room returns to the budgets once this has passed.
   */
  ttlMs?: number;
}

const DEFAULT_SHARE = 1 / 64;
const DEFAULT_IDLE_MS = 1_000;
const DEFAULT_TTL_MS = 6_000;
/** A lease is renewed in the background once less than this fraction of its last grant is left. */
const RENEW_BELOW = 1 / 4;
/** Calls that met room taken by others while their lease was on its way try again this many times. */
const RACE_RETRIES = 3;
/** A call waits for this many leases on their way for others before it asks the store itself (no call waits forever). */
const MAX_WAITS = 8;

export class LeasedCounterStore implements CounterStore {
  readonly kind: CounterStore['kind'];
  readonly scope: string;
  private readonly inner: CounterStore;
  private readonly share: number;
  private readonly idleMs: number;
  private readonly ttlMs: number;
  /** This store's id in the store's holder records. */
  private readonly holder: string;
  /** When (performance.now()) the last heartbeat was sent. */
  private lastReport: number;
  private readonly leases: Map<string, Lease>;
  private readonly sweeper: NodeJS.Timeout;
  private lastNow: number;
  /**
   * Room to give back that never reached the store (it was unreachable when the lease went idle): still counted there,
   * so it is given back once the store is reachable again, before the counters are seeded (reseedWith).
   */
  private unreturned: CounterLine[];

  constructor(inner: CounterStore, options: LeaseOptions = {}) {
    this.inner = inner;
    this.kind = inner.kind;
    this.scope = inner.scope;
    this.share = options.share ?? DEFAULT_SHARE;
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.holder = randomBytes(12).toString('base64url');
    this.lastReport = 0;
    this.leases = new Map();
    this.lastNow = 0;
    this.unreturned = [];
    const every = Math.max(50, Math.floor(Math.min(this.idleMs / 2, this.ttlMs / 3)));
    this.sweeper = setInterval(() => {
      this.giveBackIdle(this.lastNow);
      if (performance.now() - this.lastReport >= this.ttlMs / 3 - every / 2) this.heartbeat(this.lastNow);
    }, every);
    this.sweeper.unref();
  }

  /** As the store below: false while Redis is unreachable. */
  get available(): boolean {
    const inner = this.inner as CounterStore & { available?: boolean };
    return inner.available ?? true;
  }

  /** Room held now in a bucket: what the store counts as used but this process has not admitted. */
  held(key: string): number {
    return this.leases.get(key)?.room ?? 0;
  }

  reserve(now: number, lines: readonly CounterLine[]): ReserveOutcome | Promise<ReserveOutcome> {
    this.lastNow = now;
    // Monitor-mode lines must be counted as they come, not from room: such a reservation goes to the store whole.
    // So do all while the store is unreachable: fail-open or fail-closed, and its alarm, are as without leases.
    if (!this.available || lines.some((line) => !line.enforce)) return this.inner.reserve(now, lines);
    const local = this.fromRoom(now, lines);
    if (local !== null) return local;
    return this.leaseThenReserve(now, lines);
  }

  /** Admits from room held when every line has enough; null when one has not. */
  private fromRoom(now: number, lines: readonly CounterLine[]): ReserveOutcome | null {
    const clock = performance.now();
    for (const line of lines) {
      const lease = this.leases.get(line.key);
      if (lease === undefined) return null;
      // The limit was lowered (a reload) since the room was leased under the old one, which may no longer leave room for
      // it: given back, so the store judges the call by the new limit.
      if (line.limit < lease.line.limit) {
        this.dropLease(now, line.key, lease);
        return null;
      }
      if (lease.room < line.amount || clock > lease.confirmedUntil) return null;
    }
    const used = new Array<number>(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const lease = this.leases.get(line.key)!;
      lease.room -= line.amount;
      lease.lastUse = clock;
      lease.line = line;
      used[i] = lease.storeUsed - lease.room;
      if (lease.room < lease.lastGrant * RENEW_BELOW && !lease.renewing) this.renew(now, lease);
    }
    return { admitted: true, refused: -1, used };
  }

  private async leaseThenReserve(now: number, lines: readonly CounterLine[]): Promise<ReserveOutcome> {
    let waits = 0;
    for (let attempt = 0; ;) {
      // Leases already on their way for buckets this call lacks room in: wait for them, then look again.
      if (waits < MAX_WAITS) {
        const waiting = this.inFlightFor(lines);
        if (waiting !== null) {
          waits++;
          const answers = await Promise.all(waiting.map(({ asking }) => asking));
          const local = this.fromRoom(now, lines);
          if (local !== null) return local;
          // The store had no room for as much as this call needs: refused as it would be when asking itself.
          for (let k = 0; k < answers.length; k++) {
            const { grant, amount } = answers[k]!;
            const i = waiting[k]!.index;
            if (grant !== null && grant.granted === 0 && amount <= lines[i]!.amount - this.held(lines[i]!.key)) {
              return this.refusal(lines, i, grant);
            }
          }
          continue;
        }
      }
      const requests: LeaseRequest[] = [];
      const asked: number[] = [];
      const clock = performance.now();
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        const lease = this.leases.get(line.key);
        // Room no longer confirmed counts for nothing here; the store says with the grant whether it is still this one's.
        const room = lease === undefined || clock > lease.confirmedUntil ? 0 : lease.room;
        if (room >= line.amount) continue;
        // A call that gave up waiting asks for itself alone: one slice on its way per bucket, so calls asking together
        // never hold a slice each (room refused to the other gateways while unused here).
        const extra = lease?.asking == null ? this.extraFor(line) : 0;
        requests.push({ line: { ...line, amount: line.amount - room }, extra });
        asked.push(i);
      }
      let grants: LeaseGrant[] = [];
      if (requests.length > 0) grants = await this.ask(now, requests);
      let refused = -1;
      for (let j = 0; j < grants.length; j++) {
        if (grants[j]!.granted === 0 && refused === -1) refused = j;
      }
      if (refused !== -1) {
        // Room granted meanwhile for other calls may now cover this one, and room held here is already counted in the
        // store, so it is admitted from that.
        const local = this.fromRoom(now, lines);
        if (local !== null) return local;
        return this.refusal(lines, asked[refused]!, grants[refused]!);
      }
      const local = this.fromRoom(now, lines);
      if (local !== null) return local;
      // Calls admitted meanwhile took the room just granted: ask again, then ask the store for this call alone.
      if (++attempt > RACE_RETRIES) return this.inner.reserve(now, lines);
    }
  }

  /** The leases on their way for the lines lacking room, with the line each is for; null when there are none. */
  private inFlightFor(lines: readonly CounterLine[]): { index: number; asking: Promise<Asked> }[] | null {
    let waiting: { index: number; asking: Promise<Asked> }[] | null = null;
    for (let i = 0; i < lines.length; i++) {
      const lease = this.leases.get(lines[i]!.key);
      if (lease?.asking != null && lease.room < lines[i]!.amount) (waiting ??= []).push({ index: i, asking: lease.asking });
    }
    return waiting;
  }

  /**
   * A refusal as the store's grant saw line `index`'s buckets: room held here (counted in the bucket, given back once
   * idle) is left out of it, as the call needs its whole amount once that room is gone.
   */
  private refusal(lines: readonly CounterLine[], index: number, grant: LeaseGrant): ReserveOutcome {
    const current = Math.max(0, grant.current - this.held(lines[index]!.key));
    return { admitted: false, refused: index, used: this.usedFigures(lines), refusedBuckets: { current, previous: grant.previous } };
  }

  private usedFigures(lines: readonly CounterLine[]): number[] {
    return lines.map((line) => {
      const lease = this.leases.get(line.key);
      return lease === undefined ? 0 : lease.storeUsed - lease.room;
    });
  }

  /**
   * Asks the store for leases and credits what it grants. While the answer is on its way, each bucket's lease shows it
   * (`asking`), settled once the room is credited, so calls waiting on it find the room when they wake.
   */
  private async ask(now: number, asked: LeaseRequest[]): Promise<LeaseGrant[]> {
    if (this.unreturned.length > 0) for (const { line } of asked) this.takeBackUnreturned(now, line);
    const requests = asked.map((request) => ({ ...request, holder: this.report(request.line.key) }));
    const sentAt = performance.now();
    const pending = this.inner.lease(now, requests);
    if (!(pending instanceof Promise)) {
      for (let j = 0; j < requests.length; j++) this.credit(now, requests[j]!.line, pending[j]!, sentAt);
      return pending;
    }
    const answered: ((asked: Asked) => void)[] = [];
    const leases = requests.map(({ line }) => {
      let lease = this.leases.get(line.key);
      if (lease === undefined) this.leases.set(line.key, (lease = new Lease(line)));
      lease.asking = new Promise<Asked>((resolve) => answered.push(resolve));
      return lease;
    });
    const asking = leases.map((lease) => lease.asking);
    let grants: LeaseGrant[] | null = null;
    try {
      grants = await pending;
      for (let j = 0; j < requests.length; j++) this.credit(now, requests[j]!.line, grants[j]!, sentAt);
      return grants;
    } finally {
      for (let j = 0; j < leases.length; j++) {
        if (leases[j]!.asking === asking[j]) leases[j]!.asking = null;
        answered[j]!({ amount: requests[j]!.line.amount, grant: grants?.[j] ?? null });
      }
    }
  }

  private extraFor(line: CounterLine): number {
    return Math.max(0, Math.floor(line.limit * this.share));
  }

  /**
   * Room of this bucket not given back yet (the store was unreachable) is this holder's again if the store still counts
   * it so: reported with the lease, it is kept or, its record expired and taken back by others, dropped. Given back later
   * instead, it would be taken off the record this lease makes: room given back twice.
   */
  private takeBackUnreturned(now: number, line: CounterLine): void {
    let back = 0;
    let settled = 0;
    let found = false;
    this.unreturned = this.unreturned.filter((old) => {
      if (old.key !== line.key) return true;
      back += old.amount;
      settled += old.reserved ?? 0;
      found = true;
      return false;
    });
    if (!found) return;
    let lease = this.leases.get(line.key);
    if (lease === undefined) this.leases.set(line.key, (lease = new Lease(line)));
    lease.room += back;
    lease.settled += settled;
  }

  /**
   * What this holder tells the store of its room in a bucket, with every lease it asks for, and what its calls used of
   * that room since the last report (told once: a report lost on its way leaves the store holding it, never less).
   */
  private report(key: string): HolderReport {
    const lease = this.leases.get(key);
    const settled = lease?.settled ?? 0;
    if (lease !== undefined) lease.settled = 0;
    return { id: this.holder, room: lease?.room ?? 0, ttlMs: this.ttlMs, settled };
  }

  /** `sentAt`: when the lease was sent (performance.now()), from which the store's record of this holder lives ttlMs. */
  private credit(now: number, line: CounterLine, grant: LeaseGrant, sentAt: number): void {
    let lease = this.leases.get(line.key);
    if (lease === undefined) this.leases.set(line.key, (lease = new Lease(line)));
    this.confirm(lease, grant, sentAt);
    lease.storeUsed = grant.used + grant.granted;
    if (grant.granted === 0) return;
    lease.room += grant.granted;
    lease.lastGrant = grant.granted;
    lease.lastUse = performance.now();
  }

  /** The store's answer to a report: the room stays this holder's for ttlMs more, or was taken back (it expired). */
  private confirm(lease: Lease, grant: LeaseGrant, sentAt: number): void {
    if (grant.kept === false) lease.room = 0;
    if (sentAt + this.ttlMs > lease.confirmedUntil) lease.confirmedUntil = sentAt + this.ttlMs;
  }

  /**
   * Every ttlMs / 3, one lease of nothing for every bucket held (one call): the store learns the room each holds now and
   * keeps it counted as this process's for ttlMs more. Leases on their way report it themselves.
   */
  private heartbeat(now: number): void {
    if (!this.available || this.leases.size === 0) return;
    const leases: Lease[] = [];
    const requests: LeaseRequest[] = [];
    for (const lease of this.leases.values()) {
      if (lease.asking !== null) continue;
      leases.push(lease);
      requests.push({ line: { ...lease.line, amount: 0 }, extra: 0, holder: this.report(lease.line.key) });
    }
    if (requests.length === 0) return;
    const sentAt = performance.now();
    this.lastReport = sentAt;
    const confirmed = (grants: LeaseGrant[]): void => {
      for (let j = 0; j < leases.length; j++) {
        const lease = leases[j]!;
        this.confirm(lease, grants[j]!, sentAt);
        lease.storeUsed = grants[j]!.used;
      }
    };
    try {
      const pending = this.inner.lease(now, requests);
      if (pending instanceof Promise) pending.then(confirmed, () => undefined);
      else confirmed(pending);
    } catch {
      // Unreachable: the room stops being admitted from once its confirmation runs out.
    }
  }

  /** Renewal ahead of exhaustion, off the call's path: a failure only means the next call asks itself. */
  private renew(now: number, lease: Lease): void {
    const extra = this.extraFor(lease.line);
    if (extra === 0 || lease.asking !== null) return;
    lease.renewing = true;
    const done = () => {
      lease.renewing = false;
    };
    try {
      // Deliberately not awaited: the call that started it is already admitted. Calls lacking room meanwhile wait for it.
      this.ask(now, [{ line: { ...lease.line, amount: 0 }, extra }]).then(done, done);
    } catch {
      done();
    }
  }

  /** Gives back room not used within idleMs (a window that moved on leaves its old bucket's lease idle), on the monotonic
   * clock: `now`, the last call's time, stands still while no call comes, when the room should go back to the others. */
  private giveBackIdle(now: number): void {
    const clock = performance.now();
    const lines: CounterLine[] = [];
    for (const [key, lease] of this.leases) {
      if (clock - lease.lastUse < this.idleMs || lease.renewing || lease.asking !== null) continue;
      this.leases.delete(key);
      lines.push(giveBackLine(lease));
    }
    if (lines.length === 0) return;
    // Sent now it would only fail (and the room stay counted until the window ends): kept for the reconnection.
    if (!this.available) {
      this.unreturned.push(...lines);
      return;
    }
    this.giveBack(now, lines).catch(() => undefined);
  }

  /** Stops admitting from one lease and gives its room back (later, when the store is unreachable now). */
  private dropLease(now: number, key: string, lease: Lease): void {
    this.leases.delete(key);
    const line = giveBackLine(lease);
    if (!this.available) this.unreturned.push(line);
    else this.giveBack(now, [line]).catch(() => undefined);
  }

  /** Every lease's room and what could not be given back before, as give-back lines; the leases are dropped. */
  private takeHeldRoom(): CounterLine[] {
    const lines = this.unreturned;
    this.unreturned = [];
    for (const lease of this.leases.values()) lines.push(giveBackLine(lease));
    this.leases.clear();
    return lines;
  }

  /** Each line's amount is room held, given back where the store still counts it as this holder's (release). */
  private async giveBack(now: number, lines: CounterLine[]): Promise<void> {
    await this.inner.release(now, this.holder, lines);
  }

  release(now: number, holder: string, lines: readonly CounterLine[]): void | Promise<void> {
    return this.inner.release(now, holder, lines);
  }

  /**
   * Settled against the room held, where this process holds a lease on the line's bucket: what a call did not use of
   * its reservation goes back into the room (the store counts it already, as room held here, and gets it back with the
   * rest when the lease goes idle), and what it used beyond its reservation is taken from the room when the room has
   * it. So a call admitted from room asks the store nothing, before or after. A call reserved under a higher limit than
   * the lease's (a reload lowered it while the call was in flight) gives back in the store instead, which judges later
   * leases by the new limit: put in the room, what it did not use would admit calls past that limit unasked. Other lines
   * go to the store (which batches them); its `used` figures leave out this process's unused room.
   */
  settle(now: number, lines: readonly CounterLine[]): number[] | Promise<number[]> {
    this.lastNow = now;
    const used = new Array<number>(lines.length);
    let rest: CounterLine[] | null = null;
    let restAt: number[] | null = null;
    const clock = performance.now();
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const lease = this.leases.get(line.key);
      if (
        lease !== undefined &&
        (line.amount <= 0 ? line.limit <= lease.line.limit : lease.room >= line.amount && clock <= lease.confirmedUntil)
      ) {
        lease.room -= line.amount;
        // What the call used of the room is no longer held there: the store learns it with this holder's next report.
        lease.settled += line.amount + (line.reserved ?? 0);
        lease.lastUse = clock;
        used[i] = lease.storeUsed - lease.room;
      } else {
        (rest ??= []).push(line);
        (restAt ??= []).push(i);
      }
    }
    if (rest === null) return used;
    const settled = rest;
    const at = restAt!;
    const fill = (values: number[]): number[] => {
      for (let j = 0; j < values.length; j++) used[at[j]!] = values[j]! - this.held(settled[j]!.key);
      return used;
    };
    const pending = this.inner.settle(now, settled);
    return pending instanceof Promise ? pending.then(fill) : fill(pending);
  }

  lease(now: number, requests: readonly LeaseRequest[]): LeaseGrant[] | Promise<LeaseGrant[]> {
    return this.inner.lease(now, requests);
  }

  claim(now: number, key: string, ttlMs: number): boolean | Promise<boolean> {
    return this.inner.claim(now, key, ttlMs);
  }

  remember(now: number, key: string, text: string, ttlMs: number): void | Promise<void> {
    return this.inner.remember(now, key, text, ttlMs);
  }

  recall(now: number, key: string): string | null | Promise<string | null> {
    return this.inner.recall(now, key);
  }

  /**
   * What this holder's calls used of its room and it has not reported goes with the seeds of those buckets, so the store
   * counts it as usage (not held) in the very step that seeds them.
   */
  seed(now: number, seeds: readonly CounterSeed[], complete: boolean): void | Promise<void> {
    const told = seeds.map((seed) => {
      const lease = this.leases.get(seed.key);
      if (lease === undefined || lease.settled === 0) return seed;
      const settled = lease.settled;
      lease.settled = 0;
      return { ...seed, settled: (seed.settled ?? 0) + settled };
    });
    return this.inner.seed(now, told, complete);
  }

  /**
   * Counters are seeded again when Redis is reachable again (a reconnection) or found to have lost them. The room held
   * here is given back first, as a settlement, which Redis applies only to buckets still there: room in buckets that
   * survived (a connection lost, Redis still holding its keys) is not left counted as used until its window ends, and
   * room lost with its buckets is dropped. The leases themselves are dropped either way, then the counters seeded.
   */
  reseedWith(reseed: (() => Promise<void>) | null): void {
    if (reseed === null) {
      this.inner.reseedWith(null);
      return;
    }
    this.inner.reseedWith(async () => {
      const lines = this.takeHeldRoom();
      if (lines.length > 0) await this.giveBack(this.lastNow, lines).catch(() => undefined);
      await reseed();
    });
  }

  read(now: number, key: string): number | Promise<number> {
    return this.inner.read(now, key);
  }

  /** Gives back every lease's room, then closes the store below. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const lines = this.takeHeldRoom();
    if (lines.length > 0) await this.giveBack(this.lastNow, lines).catch(() => undefined);
    await this.inner.close();
  }
}

/**
 * A lease's room to give back (release), with what its calls used of it and the store has not been told. Sent even with
 * no room left: the store's record of this holder still says what room it held when it last reported, which, left to
 * expire, would be taken back from the bucket though calls since used it.
 */
function giveBackLine(lease: Lease): CounterLine {
  return { ...lease.line, amount: lease.room, enforce: false, reserved: lease.settled };
}
