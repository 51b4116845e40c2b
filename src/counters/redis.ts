// Counters in Redis: shared by every gateway replica, atomic through Lua scripts (redis-scripts.ts), and never a reason
// for a call to hang.
import { Redis } from 'ioredis';
import { CounterStoreUnavailable, scopeOf } from './counter-store.js';
import { describeUrl, messageOf } from './redis-url.js';
import type { CounterLine, CounterSeed, CounterStore, LeaseGrant, LeaseRequest, ReserveOutcome } from './counter-store.js';
import {
  HELD_SUFFIX,
  LEASE_COMMAND,
  LEASE_LUA,
  RELEASE_COMMAND,
  RELEASE_LUA,
  RESERVE_COMMAND,
  RESERVE_LUA,
  SEED_COMMAND,
  SEED_LUA,
  type ReserveMode,
  type Scripts,
} from './redis-scripts.js';

export interface RedisCounterStoreOptions {
  /** redis://[user:password@]host:port[/db] or rediss:// for TLS. Its credentials never appear in an error message. */
  url: string;
  /** Put before every key, so one Redis can hold several gateways' (or tests') counters apart. Default 'sluice:'. */
  keyPrefix?: string;
  /** The longest a command may take before the call is answered as if Redis were down. Default 250 ms. */
  commandTimeoutMs?: number;
  /**
   * With a reseeder (reseedWith), how often the seeded marker is looked for, so counters lost while only other gateways
   * (lone ones, which cannot seed) take calls are seeded again within this. Default 5 s; 0: never.
   */
  lossCheckIntervalMs?: number;
}

const DEFAULT_KEY_PREFIX = 'sluice:';
const DEFAULT_LOSS_CHECK_INTERVAL_MS = 5_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 250;
/** How long a TCP (or TLS) connect may take before it is abandoned and retried: only bounds detection, never a call. */
const CONNECT_TIMEOUT_MS = 2_000;
/** Reconnect back-off: 100 ms more per failed attempt, never more than this, forever. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * The longest a reservation waits for the counters to be seeded again (a ledger read): past it the call is answered as
 * counters unavailable (its fail mode decides) while the seeding goes on, so a slow or unreachable ledger hangs no call.
 */
const SEED_WAIT_MS = 3_000;
/** After a seeding failed, the next starts no sooner than this: calls meanwhile are answered as counters unavailable. */
const SEED_RETRY_MS = 1_000;
/** Under the key prefix: set by a complete seeding, without expiry, so it is lost only with the counters themselves. */
const SEEDED_MARKER = 'counters:seeded';
/** Seeds per script call: a large seeding (many consumers' rate limits) runs as several short steps, not one long one. */
const SEEDS_PER_CALL = 500;

export class RedisCounterStore implements CounterStore {
  readonly kind = 'redis' as const;
  /** Every process on this Redis (as its URL names it) under this key prefix. */
  readonly scope: string;
  private readonly redis: Redis;
  private readonly keyPrefix: string;
  /** Where Redis is, for messages: scheme, host, port and db, never the user or password. */
  private readonly where: string;
  /** Strings that must never reach a message (the URL's password, raw and decoded). */
  private readonly secrets: string[];
  private readonly firstConnection: Promise<boolean>;
  /** The prefixed SEEDED_MARKER, named by every reservation. */
  private readonly marker: string;
  private lastError: string | null;
  private closed: boolean;
  /** Set by reseedWith: what seeds the counters again once they are found lost (or Redis is back). */
  private reseed: (() => Promise<void>) | null;
  /** The seeding under way, which every reservation that found the counters lost waits for. */
  private reseeding: Promise<void> | null;
  /** The last seeding's failure, and when: within SEED_RETRY_MS of it no new seeding starts. */
  private seedFailure: { at: number; error: CounterStoreUnavailable } | null;
  private readonly lossCheckIntervalMs: number;
  private lossCheck: NodeJS.Timeout | null;
  /** Settlements waiting for the end of this event-loop turn. */
  private settlements: Array<{ lines: readonly CounterLine[]; resolve: (used: number[]) => void; reject: (error: unknown) => void }>;

  /** Waits (at most about CONNECT_TIMEOUT_MS) for the first connection, so the first calls can find Redis ready. */
  static async open(options: RedisCounterStoreOptions): Promise<RedisCounterStore> {
    const store = new RedisCounterStore(options);
    await store.firstConnection;
    return store;
  }

  /** Starts connecting in the background; until Redis is ready every call rejects with CounterStoreUnavailable. */
  constructor(options: RedisCounterStoreOptions) {
    this.keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.marker = this.keyPrefix + SEEDED_MARKER;
    this.reseed = null;
    this.reseeding = null;
    this.seedFailure = null;
    this.lossCheckIntervalMs = options.lossCheckIntervalMs ?? DEFAULT_LOSS_CHECK_INTERVAL_MS;
    this.lossCheck = null;
    this.lastError = null;
    this.settlements = [];
    this.closed = false;
    const { where, secrets } = describeUrl(options.url);
    this.where = where;
    // Hashed: the URL an unparsable one is named by may hold its password.
    this.scope = scopeOf(`redis:${secrets.includes(options.url) ? options.url : where}\u0000${this.keyPrefix}`);
    this.secrets = secrets;
    this.redis = new Redis(options.url, {
      // The gateway never waits for Redis: a call made while disconnected is refused at once instead of queued
      // until a reconnect that may never come...
      enableOfflineQueue: false,
      // ...a call in flight when the connection drops is failed, not retried on the next connection...
      maxRetriesPerRequest: 0,
      // ...nor re-sent after reconnecting, since its caller has already been told it failed (a re-sent reserve would
      // count a call that was answered as unavailable)...
      autoResendUnfulfilledCommands: false,
      // ...and a Redis that accepted the command but does not answer (overloaded, paused, a half-open socket) is
      // given up on after commandTimeoutMs.
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Keep trying in the background for as long as the store lives, so the gateway recovers by itself.
      retryStrategy: (times: number) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS),
      // Connected explicitly below, to hold the first attempt's outcome for open().
      lazyConnect: true,
      // Prefixing is done here, not by ioredis, so the script's keys and every other key are prefixed alike.
      keyPrefix: '',
      connectionName: 'sluice-counters',
      // Every reserve and settlement issued in one event-loop turn goes out in one write: under load that is one
      // syscall for many calls instead of one each.
      enableAutoPipelining: true,
    });
    // Without a listener ioredis reports every failed (re)connect as an unhandled error; the state is already visible
    // through `available` and through each call's rejection, which carries the last error.
    this.redis.on('error', (error: unknown) => {
      this.lastError = this.scrub(messageOf(error));
    });
    this.redis.defineCommand(RESERVE_COMMAND, { lua: RESERVE_LUA });
    this.redis.defineCommand(SEED_COMMAND, { lua: SEED_LUA });
    this.redis.defineCommand(LEASE_COMMAND, { lua: LEASE_LUA });
    this.redis.defineCommand(RELEASE_COMMAND, { lua: RELEASE_LUA });
    // Redis back after a disconnection (or reached for the first time after a start it missed) may have restarted from
    // an older snapshot (its counters behind the ledger), or empty: the counters are seeded again, which raises any that
    // fell behind and changes none that did not. The reseeder is set after the start's own seeding, so not at the first.
    this.redis.on('ready', () => {
      if (this.reseed !== null) this.seedAgain().catch(() => undefined);
    });
    this.firstConnection = this.redis.connect().then(
      () => true,
      () => false,
    );
  }

  /** Whether Redis is connected and answering now; calls made while false reject at once. */
  get available(): boolean {
    // After quit() the socket lingers a moment in 'ready'; the store is closed from the call on.
    return !this.closed && this.redis.status === 'ready';
  }

  /**
   * `now` is unused: Redis expires the keys itself, on its own clock. When the counters are found lost (see RESERVE_LUA's
   * 'check'), the reservation waits for them to be seeded again and is made once more: one round trip more, only then.
   */
  reserve(_now: number, lines: readonly CounterLine[]): Promise<ReserveOutcome> {
    if (lines.length === 0) return Promise.resolve({ admitted: true, refused: -1, used: [] });
    return this.run(lines, this.reseed === null ? 'count' : 'check', false);
  }

  /**
   * 'recheck': a 'check' made again after seeding; finding the counters lost once more, it gives up. `settling`: the
   * lines are settlements, which take what their calls reserved off the held figures (reservations add their amounts).
   */
  private async run(lines: readonly CounterLine[], mode: ReserveMode | 'recheck', settling: boolean): Promise<ReserveOutcome> {
    const keys: string[] = [];
    const args: string[] = [];
    for (const line of lines) {
      // INCRBY takes integers only; a fraction here is a caller's bug, not Redis being unavailable.
      if (!Number.isSafeInteger(line.amount)) throw new RangeError(`counter amount must be an integer, got ${line.amount}`);
      const previous = line.previousKey !== null && line.previousWeight > 0;
      const bucket = this.keyPrefix + line.key;
      keys.push(bucket, this.keyPrefix + (previous ? line.previousKey! : line.key), bucket + HELD_SUFFIX);
      args.push(
        String(line.amount),
        line.enforce ? '1' : '0',
        String(line.limit),
        previous ? String(line.previousWeight) : '0',
        String(ttlOf(line.ttlMs)),
        String(settling ? -(line.reserved ?? 0) : line.amount),
      );
    }
    keys.push(this.marker);
    args.push(mode === 'recheck' ? 'check' : mode);
    const reply = await this.command(() => (this.redis as unknown as Scripts)[RESERVE_COMMAND](keys.length, ...keys, ...args));
    if (reply[0] === 'seed') {
      if (mode === 'recheck')
        throw new CounterStoreUnavailable(
          `Redis counter store at ${this.where} lost its counters again while they were seeded`,
          'unseeded',
        );
      await this.seededWithin(SEED_WAIT_MS);
      return this.run(lines, 'recheck', settling);
    }
    const admitted = reply[0] === '1';
    const refused = Number(reply[1]);
    const used = lines.map((line, i) => {
      // Same order of operations as the script and the memory store: bucket + previous * weight, then + amount.
      let value = Number(reply[2 * i + 2]);
      if (line.previousKey !== null && line.previousWeight > 0) value += Number(reply[2 * i + 3]) * line.previousWeight;
      return admitted ? value + line.amount : value;
    });
    if (admitted) return { admitted, refused, used };
    const line = lines[refused]!;
    const previous = line.previousKey !== null && line.previousWeight > 0 ? Number(reply[2 * refused + 3]) : 0;
    return { admitted, refused, used, refusedBuckets: { current: Number(reply[2 * refused + 2]), previous } };
  }

  /** One script call for every request; counters found lost are seeded again first, as reserve() does. */
  lease(_now: number, requests: readonly LeaseRequest[]): Promise<LeaseGrant[]> {
    if (requests.length === 0) return Promise.resolve([]);
    return this.runLease(requests, this.reseed === null ? 'count' : 'check', false);
  }

  private async runLease(requests: readonly LeaseRequest[], mode: 'count' | 'check', again: boolean): Promise<LeaseGrant[]> {
    const keys: string[] = [];
    const args: string[] = [];
    // One holder per call (a LeasedCounterStore's), whose id and record ttl go once, after the mode.
    let holder = '';
    let recordTtl = 1;
    for (const request of requests) {
      const { line, extra } = request;
      if (!Number.isSafeInteger(line.amount) || !Number.isSafeInteger(extra))
        throw new RangeError(`lease amounts must be integers, got ${line.amount}, ${extra}`);
      const previous = line.previousKey !== null && line.previousWeight > 0;
      const bucket = this.keyPrefix + line.key;
      keys.push(bucket, this.keyPrefix + (previous ? line.previousKey! : line.key), bucket + HELD_SUFFIX);
      if (request.holder !== undefined) {
        holder = request.holder.id;
        recordTtl = ttlOf(request.holder.ttlMs);
      }
      args.push(
        String(line.amount),
        String(extra),
        String(line.limit),
        previous ? String(line.previousWeight) : '0',
        String(ttlOf(line.ttlMs)),
        request.holder === undefined ? '-1' : String(Math.max(0, Math.floor(request.holder.room))),
        String(request.holder?.settled ?? 0),
      );
    }
    keys.push(this.marker);
    args.push(mode, holder, String(recordTtl));
    const reply = await this.command(() => (this.redis as unknown as Scripts)[LEASE_COMMAND](keys.length, ...keys, ...args));
    if (reply[0] === 'seed') {
      if (again)
        throw new CounterStoreUnavailable(
          `Redis counter store at ${this.where} lost its counters again while they were seeded`,
          'unseeded',
        );
      await this.seededWithin(SEED_WAIT_MS);
      return this.runLease(requests, mode, true);
    }
    return requests.map(({ line, holder: report }, i) => {
      const current = Number(reply[4 * i + 1]);
      const previous = Number(reply[4 * i + 2]);
      // Same order of operations as the script: bucket + previous * weight.
      const weighted = line.previousKey !== null && line.previousWeight > 0;
      const grant: LeaseGrant = {
        granted: Number(reply[4 * i]),
        used: weighted ? current + previous * line.previousWeight : current,
        current,
        previous,
      };
      if (report !== undefined) grant.kept = reply[4 * i + 3] === '1';
      return grant;
    });
  }

  /** One script call: each line's room goes back only where the holder's record is still there (RELEASE_LUA). */
  async release(_now: number, holder: string, lines: readonly CounterLine[]): Promise<void> {
    if (lines.length === 0) return;
    const keys: string[] = [];
    const args: string[] = [];
    for (const line of lines) {
      if (!Number.isSafeInteger(line.amount)) throw new RangeError(`counter amount must be an integer, got ${line.amount}`);
      const bucket = this.keyPrefix + line.key;
      keys.push(bucket, bucket + HELD_SUFFIX);
      args.push(String(line.amount), String(line.reserved ?? 0));
    }
    args.push(holder);
    await this.command(() => (this.redis as unknown as Scripts)[RELEASE_COMMAND](keys.length, ...keys, ...args));
  }

  /**
   * Settlements wait for the end of the event-loop turn and go to Redis as one script call, amounts summed per key:
   * under load that is one round trip for many calls' settlements instead of one each.
   */
  settle(_now: number, lines: readonly CounterLine[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.settlements.push({ lines, resolve, reject });
      if (this.settlements.length === 1) setImmediate(() => this.flushSettlements());
    });
  }

  private flushSettlements(): void {
    const batch = this.settlements;
    this.settlements = [];
    const merged = new Map<string, CounterLine>();
    for (const { lines } of batch) {
      for (const line of lines) {
        const seen = merged.get(line.key);
        merged.set(
          line.key,
          seen === undefined
            ? { ...line, enforce: false }
            : {
                ...line,
                enforce: false,
                amount: seen.amount + line.amount,
                ttlMs: Math.max(seen.ttlMs, line.ttlMs),
                reserved: (seen.reserved ?? 0) + (line.reserved ?? 0),
              },
        );
      }
    }
    const lines = [...merged.values()];
    // With a reseeder, a bucket missing at settlement was lost with its reservation: left missing, so the next call finds
    // it so and has the counters seeded again (a settlement recreating it below zero would hide the loss). Without one,
    // as in memory: the settlement creates what it does not find.
    this.run(lines, this.reseed === null ? 'count' : 'settle', true).then(
      (outcome) => {
        const used = new Map<string, number>();
        lines.forEach((line, i) => used.set(line.key, outcome.used[i]!));
        for (const settlement of batch) settlement.resolve(settlement.lines.map((line) => used.get(line.key)!));
      },
      (error: unknown) => {
        for (const settlement of batch) settlement.reject(error);
      },
    );
  }

  /** `now` is unused: each key created lives ttlMs on Redis's clock. */
  async seed(_now: number, seeds: readonly CounterSeed[], complete: boolean): Promise<void> {
    for (let at = 0; at < seeds.length || (at === 0 && complete); at += SEEDS_PER_CALL) {
      const batch = seeds.slice(at, at + SEEDS_PER_CALL);
      const last = at + SEEDS_PER_CALL >= seeds.length;
      const keys = batch.flatMap((seed) => [this.keyPrefix + seed.key, this.keyPrefix + seed.key + HELD_SUFFIX]);
      const args: string[] = [];
      for (const seed of batch) {
        if (!Number.isSafeInteger(seed.value)) throw new RangeError(`counter seed must be an integer, got ${seed.value}`);
        args.push(String(seed.value), String(ttlOf(seed.ttlMs)), String(seed.settled ?? 0));
      }
      keys.push(this.marker);
      args.push(complete && last ? '1' : '0');
      await this.command(() => (this.redis as unknown as Scripts)[SEED_COMMAND](keys.length, ...keys, ...args));
    }
  }

  reseedWith(reseed: (() => Promise<void>) | null): void {
    this.reseed = reseed;
    if (this.lossCheck !== null) clearInterval(this.lossCheck);
    this.lossCheck = null;
    if (reseed === null || this.lossCheckIntervalMs <= 0) return;
    this.lossCheck = setInterval(() => {
      if (!this.available || this.reseeding !== null) return;
      this.redis
        .exists(this.marker)
        .then((found) => {
          if (found === 0) return this.seedAgain();
          return undefined;
        })
        .catch(() => undefined);
    }, this.lossCheckIntervalMs);
    this.lossCheck.unref();
  }

  /** One seeding at a time, which every reservation that found the counters lost shares. */
  private seedAgain(): Promise<void> {
    if (this.reseeding !== null) return this.reseeding;
    const reseed = this.reseed;
    if (reseed === null) return Promise.resolve();
    if (this.seedFailure !== null && Date.now() - this.seedFailure.at < SEED_RETRY_MS) return Promise.reject(this.seedFailure.error);
    this.reseeding = reseed().then(
      () => {
        this.reseeding = null;
        this.seedFailure = null;
      },
      (error: unknown) => {
        this.reseeding = null;
        const unavailable =
          error instanceof CounterStoreUnavailable
            ? error
            : new CounterStoreUnavailable(
                `Redis counter store at ${this.where} lost its counters, and seeding them failed: ${this.scrub(messageOf(error))}`,
                'unseeded',
              );
        this.seedFailure = { at: Date.now(), error: unavailable };
        throw unavailable;
      },
    );
    return this.reseeding;
  }

  /** seedAgain, waited for at most `ms`: the seeding goes on after, for the calls that come next. */
  private seededWithin(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new CounterStoreUnavailable(
            `Redis counter store at ${this.where} lost its counters; they are still being seeded from the ledger`,
            'unseeded',
          ),
        );
      }, ms);
      this.seedAgain().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /** `now` is unused: the claim lasts ttlMs on Redis's clock. */
  async claim(_now: number, key: string, ttlMs: number): Promise<boolean> {
    const reply = await this.command(() => this.redis.set(this.keyPrefix + key, '1', 'PX', ttlOf(ttlMs), 'NX'));
    return reply === 'OK';
  }

  /** `now` is unused: the text lasts ttlMs on Redis's clock. */
  async remember(_now: number, key: string, text: string, ttlMs: number): Promise<void> {
    await this.command(() => this.redis.set(this.keyPrefix + key, text, 'PX', ttlOf(ttlMs)));
  }

  recall(_now: number, key: string): Promise<string | null> {
    return this.command(() => this.redis.get(this.keyPrefix + key));
  }

  async read(_now: number, key: string): Promise<number> {
    const value = await this.command(() => this.redis.get(this.keyPrefix + key));
    return value === null ? 0 : Number(value);
  }

  /** Quits politely when connected (pending replies arrive first), otherwise drops the socket; stops reconnecting. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.lossCheck !== null) clearInterval(this.lossCheck);
    if (this.redis.status === 'ready') {
      try {
        await this.redis.quit();
        return;
      } catch {
        // Timed out or the connection died meanwhile: fall through and drop it.
      }
    }
    this.redis.disconnect();
  }

  /** Runs one command, turning every way it can fail into CounterStoreUnavailable with a credential-free message. */
  private async command<T>(run: () => Promise<T>): Promise<T> {
    if (this.closed) throw new CounterStoreUnavailable(`Redis counter store at ${this.where} is closed`);
    if (this.redis.status !== 'ready') {
      // ioredis would refuse too (offline queue disabled); saying why is more use to whoever reads the log.
      const last = this.lastError === null ? '' : ` (last error: ${this.lastError})`;
      throw new CounterStoreUnavailable(`Redis counter store at ${this.where} is not connected: ${this.redis.status}${last}`);
    }
    try {
      return await run();
    } catch (error) {
      throw new CounterStoreUnavailable(`Redis counter store at ${this.where} failed: ${this.scrub(messageOf(error))}`);
    }
  }

  private scrub(message: string): string {
    let clean = message;
    for (const secret of this.secrets) clean = clean.split(secret).join('***');
    return clean;
  }
}

/** Redis takes whole milliseconds, at least one (PX 0 is an error, PEXPIRE 0 deletes). */
function ttlOf(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs));
}
