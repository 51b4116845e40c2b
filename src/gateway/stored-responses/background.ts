// Responses API calls with `background: true`, metered when they end (`responses.background: meter`). OpenAI answers such
// a call at once, `queued` and with no usage, then runs the model and bills it afterwards. So the call is not finished
// when its answer is sent: the gateway keeps it, retrieves the response from the provider that holds it until the
// response has ended (whether or not the client ever polls), and then settles the call's reservation and writes its
// ledger row with the usage the ended response reports. The reservation admission made stays held meanwhile, so
// budgets count the running response at its estimate.
// Each followed call is also kept in a record outside this process (followed-records.ts: Redis, the primary of
// `--workers N`, or a lone process's folder) under a claim it renews (followed-claims.ts): when it dies, another process
// (or its next start) adopts the claims left to expire, follows those responses to their end and records each once,
// settling the budgets from the record.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { SluiceError } from '../../errors.js';
import { emptyUsage, type Usage } from '../../ir/usage.js';
import type { Provider } from '../../providers/provider.js';
import { asObject, tryParseJson } from '../../wire/json.js';
import type { Pool } from 'undici';
import type { Call } from '../pipeline/call.js';
import type { Target } from '../routing/model-routes.js';
import { ENDED, ERROR_CLASS, retrieveFollowed } from './followed-retrieval.js';
import { FollowedClaims, type ClaimHolder } from './followed-claims.js';
import { followedRecordOf, type FollowedRecord, type FollowedRecords } from './followed-records.js';

export type BackgroundMode = 'refuse' | 'meter';

/** The first retrieval after the queued answer, doubled after each one up to the longest wait between two. */
const FIRST_POLL_MS = 1_000;
const MAX_POLL_MS = 30_000;
/** A response still running after this long is recorded as it stands and no longer followed. */
const GIVE_UP_MS = 24 * 3_600_000;
/** At the gateway's stop, the longest wait for the last look at the responses still followed, all of them together. */
const LAST_LOOK_MS = 5_000;

interface Followed {
  id: string;
  /** The call this gateway served; null for one adopted from its record (its server died). */
  call: Call | null;
  /** The call's record where the records are shared: adopted with it, or once kept. */
  record: FollowedRecord | null;
  /** The provider's name in sluice.yaml (looked up at each retrieval: a reload may change its pool). */
  provider: string;
  waitMs: number;
  timer: NodeJS.Timeout | null;
  since: number;
  /** Whether the record is kept in the shared records (null: on its way): then only its taker records the call. */
  kept: Promise<boolean> | null;
  /** A streamed call whose stream is still open: not retrieved meanwhile; streamStopped() says what comes next. */
  streaming: boolean;
}

/** Finishes a call adopted from its record: meter the usage it ended with, record its row, settle its budgets. */
export type FinishRecord = (record: FollowedRecord, usage: Usage, errorClass: string | null) => Promise<void> | undefined;

export interface BackgroundOptions {
  mode: BackgroundMode;
  /** responses.maxBackground: the most followed at once, those adopted included. */
  maxFollowed: number;
  /** Where each followed call's record is kept (followed-records.ts); null when background calls are refused. */
  records: FollowedRecords | null;
  /** This process's name on its claims (a worker's is known to its primary: shared-followed-records.ts). */
  owner: string;
  /** How long a claim lasts unrenewed (responses.backgroundClaimSeconds): about how long a dead owner's calls wait. */
  claimMs: number;
  /** Whether the budget counters outlive this process (Redis, the primary's): the reservation is then the adopter's to settle. */
  sharedCounters: boolean;
  /** The current config's provider and pool of a name. */
  upstreamOf: (name: string) => { provider: Provider; pool: Pool } | undefined;
  /** What ends every call (meter, settle, record: handlers/finish.ts). */
  finish: (call: Call) => Promise<void> | undefined;
  finishRecord: FinishRecord;
  /** Records again who owns the response of a call adopted from its record (a lone process's record of them died with it). */
  rememberOwner: (record: FollowedRecord) => void;
  registry: Registry;
  logger: Logger;
}

export class BackgroundResponses implements ClaimHolder {
  readonly mode: BackgroundMode;
  private readonly maxFollowed: number;
  private readonly followed: Map<string, Followed>;
  /** Background calls let through check() and not yet followed (or released): counted against the bound too. */
  private pending: number;
  private readonly records: FollowedRecords | null;
  /** This process's claims on the records (null when background calls are refused). */
  private readonly claims: FollowedClaims | null;
  private readonly sharedCounters: boolean;
  private readonly upstreamOf: BackgroundOptions['upstreamOf'];
  private readonly finish: BackgroundOptions['finish'];
  private readonly finishRecord: FinishRecord;
  private readonly rememberOwner: BackgroundOptions['rememberOwner'];
  private readonly logger: Logger;
  private readonly running: Gauge;
  private readonly ended: Counter<'status'>;
  private readonly adopted: Counter;
  /** Calls being finished (counted, settled) after their response ended: the gateway's stop waits for them. */
  private readonly finishing: Set<Promise<void>>;
  private stopped: boolean;

  constructor(options: BackgroundOptions) {
    this.mode = options.mode;
    this.maxFollowed = options.maxFollowed;
    this.followed = new Map();
    this.pending = 0;
    this.records = options.mode === 'meter' ? options.records : null;
    this.claims = this.records === null ? null : new FollowedClaims(this.records, options.owner, options.claimMs, this, options.logger);
    this.sharedCounters = options.sharedCounters;
    this.upstreamOf = options.upstreamOf;
    this.finish = options.finish;
    this.finishRecord = options.finishRecord;
    this.rememberOwner = options.rememberOwner;
    this.logger = options.logger;
    this.finishing = new Set();
    this.stopped = false;
    const registry = options.registry;
    this.running = new Gauge({
      name: 'sluice_background_responses',
      help: 'Background Responses API calls the gateway follows until they end, to meter them',
      registers: [registry],
    });
    this.ended = new Counter({
      name: 'sluice_background_responses_ended_total',
      help: 'Background Responses API calls followed to their end, by how they ended (unfinished: the gateway stopped first)',
      labelNames: ['status'],
      registers: [registry],
    });
    this.adopted = new Counter({
      name: 'sluice_background_responses_adopted_total',
      help: 'Background Responses API calls adopted from a gateway or worker that died, followed here to their end',
      registers: [registry],
    });
  }

  /**
   * Once the gateway serves: adopts at once the calls of a process that died (this one's predecessor, say), then renews
   * its claims and adopts again every third of the claim's life.
   */
  start(): void {
    this.claims?.start();
  }

  /**
   * Before anything is sent: throws the caller's 400 when background calls are not served, or not this one, and a 429
   * past the bound. A call let through holds a place until follow() or release().
   */
  check(): void {
    if (this.mode === 'refuse')
      throw new SluiceError(
        'invalid_request',
        'background: background responses are not served through this gateway (responses.background: refuse): they run and are billed after the call returns. Send stream: true to keep a long response open instead.',
        { param: 'background' },
      );
    // The calls on their way to the provider count too: calls sent together cannot pass the bound.
    if (this.followed.size + this.pending >= this.maxFollowed)
      throw new SluiceError(
        'rate_limited',
        `background: this gateway already follows ${this.maxFollowed} background responses (responses.maxBackground); retry when some have ended.`,
        { param: 'background' },
      );
    this.pending++;
  }

  /** A call let through check() that will not be followed (refused, failed, or its answer not queued). */
  release(): void {
    this.pending--;
  }

  /**
   * Takes over a call whose provider answered with a queued or running response: it is finished (metered, settled,
   * recorded) once the response has ended. `answer`: the provider's response object as sent to the client; null for a
   * streamed one whose stream stopped before the response's end (the client left, or the stream broke), which runs on
   * at the provider. Takes the place check() held, followed or not.
   */
  follow(call: Call, id: string, answer: string | null): boolean {
    this.pending--;
    const status = answer === null ? 'in_progress' : asObject(tryParseJson(answer)).status;
    // Already ended (a provider that ran it at once): the call finishes as any other, with the usage it came with.
    if (typeof status !== 'string' || ENDED.has(status) || call.target === null || this.stopped) return false;
    this.schedule(this.begin(call, call.target, id, false));
    return true;
  }

  /**
   * A streamed background call at its stream's first event with the response's id (`response.created`): kept in its
   * record now, as a queued one is at its answer, so a process killed mid-stream leaves it to be adopted. Not retrieved
   * while the stream runs (streamStopped() decides). Takes check()'s place when true; false: not kept (no records, or
   * stopping), and the stream's stop decides as for any stream.
   */
  keepStreamed(call: Call, id: string): boolean {
    if (this.records === null || this.stopped || call.target === null || this.followed.has(id)) return false;
    this.pending--;
    this.begin(call, call.target, id, true);
    return true;
  }

  private begin(call: Call, target: Target, id: string, streaming: boolean): Followed {
    const entry: Followed = {
      id,
      call,
      record: null,
      provider: target.provider.name,
      waitMs: FIRST_POLL_MS,
      timer: null,
      since: Date.now(),
      kept: null,
      streaming,
    };
    if (this.claims !== null) entry.kept = this.keep(entry, call, this.claims);
    this.followed.set(id, entry);
    this.running.set(this.followed.size);
    return entry;
  }

  /**
   * The stream of a call kept by keepStreamed() has stopped. `ended` (at the response's end, with its usage): its record
   * is taken, and true tells the caller to finish the call as any stream. Stopped short, the response runs on: followed
   * from now on. False too once it is not this process's to record (another took its record, or the stop dealt with it).
   */
  async streamStopped(call: Call, id: string, ended: boolean): Promise<boolean> {
    const entry = this.followed.get(id);
    if (entry === undefined || entry.call !== call || !entry.streaming) return false;
    entry.streaming = false;
    // Stopped short; at the gateway's stop, stop() looks at it once more.
    if (!ended && !this.stopped) this.schedule(entry);
    if (!ended) return false;
    this.followed.delete(id);
    this.running.set(this.followed.size);
    if (!(await entry.kept)) return true;
    try {
      return (await this.records!.take(id)) !== null;
    } catch (error) {
      // Left in place, the record would be adopted and recorded again: followed on instead, and taken at its end.
      this.logger.warn({ responseId: id, err: (error as Error).message }, 'background response: its shared record cannot be reached');
      if (!this.stopped) {
        this.followed.set(id, entry);
        this.running.set(this.followed.size);
        this.schedule(entry);
      }
      return false;
    }
  }

  /** Keeps the call's record, claimed by this process; false when it could not be (the call then dies with the process). */
  private async keep(entry: Followed, call: Call, claims: FollowedClaims): Promise<boolean> {
    try {
      const record = await followedRecordOf(call, entry, this.sharedCounters);
      await claims.keep(record);
      // Only now: the sweep renews the claims of the calls with a record.
      entry.record = record;
      return true;
    } catch (error) {
      this.logger.warn(
        { requestId: call.requestId, err: (error as Error).message },
        'background response not kept in its record: it is metered only if this process lives to its end',
      );
      return false;
    }
  }

  /** The calls followed here whose record is kept (followed-claims.ts renews their claims). */
  kept(): string[] {
    const kept: string[] = [];
    for (const entry of this.followed.values()) if (entry.record !== null) kept.push(entry.id);
    return kept;
  }

  /** Adopted by another process (this one's claim lapsed), or deleted through another, which took its record. */
  lost(id: string): void {
    const entry = this.followed.get(id);
    if (entry === undefined || !this.followed.delete(id)) return;
    if (entry.timer !== null) clearTimeout(entry.timer);
    this.running.set(this.followed.size);
    this.logger.info({ responseId: id }, 'background response no longer followed here: another process has its record');
  }

  room(): number {
    return this.maxFollowed - this.followed.size - this.pending;
  }

  /** A call whose process died, followed here from its record: its client reaches its response through this process. */
  adopt(record: FollowedRecord): void {
    if (this.stopped || this.followed.has(record.id)) return;
    const entry: Followed = {
      id: record.id,
      call: null,
      record,
      provider: record.provider,
      waitMs: FIRST_POLL_MS,
      timer: null,
      since: record.since,
      kept: Promise.resolve(true),
      streaming: false,
    };
    this.followed.set(record.id, entry);
    this.running.set(this.followed.size);
    this.adopted.inc();
    this.rememberOwner(record);
    this.logger.info({ responseId: record.id, requestId: record.row.requestId }, 'background response adopted from a process that died');
    // Looked at at once: it may have ended while nobody followed it.
    this.schedule(entry, 0);
  }

  /**
   * At the gateway's stop: each response still followed is looked at once more (one may have ended since its last
   * retrieval, up to 30 s before), and its call finished with the usage it ended with. One still running is left in its
   * record where the record outlives this process: in Redis (its claim let go: another gateway, or this one's next
   * start, adopts it) or in a lone process's folder (its next start adopts it), so a restart meters no worse than a
   * kill. In a worker's primary (which stops with it), or when it was never kept, it is recorded as it stands (its usage
   * unknown, counted from its prompt). Resolves once every call is finished, those whose response ended just before
   * included.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.claims?.stop();
    const entries = [...this.followed.values()];
    for (const entry of entries) if (entry.timer !== null) clearTimeout(entry.timer);
    const signal = AbortSignal.timeout(LAST_LOOK_MS);
    await Promise.allSettled(entries.map((entry) => this.lastLook(entry, signal)));
    let running = entries.filter((entry) => this.followed.has(entry.id));
    if (this.claims !== null && this.claims.records.kind !== 'primary') running = await this.leave(running, this.claims);
    const unfinished: Array<Promise<void>> = [];
    for (const entry of running) {
      const done = this.end(entry, null, 'unfinished');
      if (done !== undefined) unfinished.push(done);
    }
    if (unfinished.length > 0)
      this.logger.warn({ responses: unfinished.length }, 'background responses still running at stop, recorded unmetered');
    await Promise.allSettled([...unfinished, ...this.finishing]);
    await this.records?.close();
  }

  /** Leaves the responses kept in a record outliving this process to whoever adopts them next; answers those not kept. */
  private async leave(running: Followed[], claims: FollowedClaims): Promise<Followed[]> {
    const kept: Followed[] = [];
    const rest: Followed[] = [];
    for (const entry of running) ((await entry.kept) === true ? kept : rest).push(entry);
    if (kept.length === 0) return rest;
    for (const entry of kept) this.followed.delete(entry.id);
    this.running.set(this.followed.size);
    // Unreleased, the claims expire within responses.backgroundClaimSeconds all the same.
    await claims
      .release(kept.map((entry) => entry.id))
      .catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'background responses: claims not let go at stop'));
    this.logger.info(
      { responses: kept.length, records: this.records?.kind },
      'background responses still running at stop, left in their records for another gateway or the next start to follow',
    );
    return rest;
  }

  /**
   * Before a client's delete of a response through Sluice: one still followed is retrieved first, so one that has ended
   * (read by the client, then deleted) is metered with the usage it ended with rather than lost with the response. One
   * followed by another process (a worker, or a gateway on the same Redis) is retrieved here from its record, and
   * finished here if it has ended (whichever process takes the record records it).
   */
  beforeDelete(id: string): Promise<void> | undefined {
    const entry = this.followed.get(id);
    if (entry !== undefined) return this.lastLook(entry, AbortSignal.timeout(LAST_LOOK_MS));
    return this.records === null ? undefined : this.lookElsewhere(id, this.records);
  }

  private async lookElsewhere(id: string, records: FollowedRecords): Promise<void> {
    try {
      const record = await records.get(id);
      if (record === null) return;
      const looked = await retrieveFollowed(this.upstreamOf(record.provider), id, AbortSignal.timeout(LAST_LOOK_MS));
      if (looked === null || looked === 'gone' || !ENDED.has(String(looked.response.status))) return;
      if ((await records.take(id)) === null) return;
      const status = String(looked.response.status);
      this.ended.labels(status).inc();
      this.track(this.finishRecord(record, looked.usage, ERROR_CLASS[status] ?? null));
    } catch {
      // Unreadable in time: lost with its delete, as a response followed here would be.
    }
  }

  /** The last retrieval of a response (at the stop, or before its delete): its call finished if it has ended. */
  private async lastLook(entry: Followed, signal: AbortSignal): Promise<void> {
    try {
      const looked = await retrieveFollowed(this.upstreamOf(entry.provider), entry.id, signal);
      if (looked !== null && looked !== 'gone' && ENDED.has(String(looked.response.status)))
        this.track(this.end(entry, looked.usage, String(looked.response.status)));
    } catch {
      // Unreadable in time: recorded as it stands (stop()), or lost with its delete.
    }
  }

  private schedule(entry: Followed, delayMs = entry.waitMs): void {
    entry.timer = setTimeout(() => {
      entry.timer = null;
      this.retrieve(entry).catch((error: Error) => {
        this.logger.warn({ responseId: entry.id, err: error.message }, 'retrieving a background response failed; retrying');
        this.again(entry);
      });
    }, delayMs);
    // A followed response never keeps the process alive: the gateway's stop ends them (stop()).
    entry.timer.unref();
  }

  private again(entry: Followed): void {
    if (this.stopped || !this.followed.has(entry.id)) return;
    if (Date.now() - entry.since > GIVE_UP_MS) {
      this.track(this.end(entry, null, 'abandoned'));
      return;
    }
    entry.waitMs = Math.min(entry.waitMs * 2, MAX_POLL_MS);
    this.schedule(entry);
  }

  private async retrieve(entry: Followed): Promise<void> {
    const looked = await retrieveFollowed(this.upstreamOf(entry.provider), entry.id, undefined);
    // Finished meanwhile (the gateway's stop, or its last look).
    if (!this.followed.has(entry.id)) return;
    if (looked === 'gone') {
      // Deleted (through Sluice or at the provider) before it ended, or its provider gone from the config: what it spent
      // cannot be read any more.
      this.track(this.end(entry, null, 'lost'));
      return;
    }
    if (looked !== null && ENDED.has(String(looked.response.status))) {
      this.track(this.end(entry, looked.usage, String(looked.response.status)));
      return;
    }
    // Still queued or running, or the provider's trouble (a 429 or 5xx): asked again later.
    this.again(entry);
  }

  /** Keeps a call being finished until it is, for the gateway's stop to wait for. */
  private track(finished: Promise<void> | undefined): void {
    if (finished === undefined) return;
    this.finishing.add(finished);
    const done = () => void this.finishing.delete(finished);
    finished.then(done, done);
  }

  /**
   * Finishes the call: with the ended response's usage, or (null) with its usage unknown. Where its record is shared,
   * only once taken from it: a call another process took (adopted, or deleted through it) is recorded there.
   */
  private end(entry: Followed, usage: Usage | null, status: string): Promise<void> | undefined {
    if (!this.followed.delete(entry.id)) return undefined;
    this.running.set(this.followed.size);
    if (entry.kept === null) return this.finishEntry(entry, entry.record, usage, status);
    return this.takeThenFinish(entry, entry.kept, usage, status);
  }

  private async takeThenFinish(entry: Followed, kept: Promise<boolean>, usage: Usage | null, status: string): Promise<void> {
    let record = entry.record;
    if (await kept) {
      try {
        record = await this.records!.take(entry.id);
      } catch (error) {
        // The record cannot be reached: followed on and taken later, or (at the stop) left for another to adopt.
        this.logger.warn(
          { responseId: entry.id, err: (error as Error).message },
          'background response: its shared record cannot be reached',
        );
        if (!this.stopped) {
          this.followed.set(entry.id, entry);
          this.running.set(this.followed.size);
          this.again(entry);
        }
        return;
      }
      if (record === null) return;
    }
    await this.finishEntry(entry, record, usage, status);
  }

  private finishEntry(entry: Followed, record: FollowedRecord | null, usage: Usage | null, status: string): Promise<void> | undefined {
    this.ended.labels(status).inc();
    const errorClass = usage !== null ? (ERROR_CLASS[status] ?? null) : `background_${status}`;
    const call = entry.call;
    if (call === null) return this.finishRecord(record!, usage ?? { ...emptyUsage(), inputTokens: record!.promptTokens }, errorClass);
    if (usage !== null) call.usage = usage;
    // Unknown: metering counts the prompt with Sluice's tokenizer (the output is not known), marked estimated.
    call.errorClass = errorClass;
    return this.finish(call);
  }
}
