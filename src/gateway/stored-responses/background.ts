// Responses API calls with `background: true`, metered when they end (`responses.background: meter`). OpenAI answers such
// a call at once, `queued` and with no usage, then runs the model and bills it afterwards. So the call is not finished
// when its answer is sent: the gateway keeps it, retrieves the response from the provider that holds it until the
// response has ended (whether or not the client ever polls), and then settles the call's reservation and writes its
// ledger row with the usage the ended response reports. The reservation admission made stays held meanwhile, so
// budgets count the running response at its estimate.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { SluiceError } from '../../errors.js';
import type { Usage } from '../../ir/usage.js';
import type { Provider } from '../../providers/provider.js';
import { asObject, tryParseJson } from '../../wire/json.js';
import { request } from '../../wire/undici.js';
import type { Pool } from 'undici';
import type { Call } from '../pipeline/call.js';

export type BackgroundMode = 'refuse' | 'meter';

/** The first retrieval after the queued answer, doubled after each one up to the longest wait between two. */
const FIRST_POLL_MS = 1_000;
const MAX_POLL_MS = 30_000;
/** A response still running after this long is recorded as it stands and no longer followed. */
const GIVE_UP_MS = 24 * 3_600_000;
const HEADERS_TIMEOUT_MS = 60_000;
const BODY_TIMEOUT_MS = 120_000;
/** At the gateway's stop, the longest wait for the last look at the responses still followed, all of them together. */
const LAST_LOOK_MS = 5_000;

/** A response's statuses once it has ended (OpenAI's response object, `status`). */
const ENDED = new Set(['completed', 'incomplete', 'failed', 'cancelled']);

/** How a followed call ended, as its ledger row's error class says it (null: completed or incomplete, as any call). */
const ERROR_CLASS: Record<string, string | null> = {
  completed: null,
  incomplete: null,
  failed: 'background_failed',
  cancelled: 'background_cancelled',
};

interface Followed {
  id: string;
  call: Call;
  /** The provider's name in sluice.yaml (looked up at each retrieval: a reload may change its pool). */
  provider: string;
  waitMs: number;
  timer: NodeJS.Timeout | null;
  since: number;
}

export class BackgroundResponses {
  readonly mode: BackgroundMode;
  private readonly maxFollowed: number;
  private readonly followed: Map<string, Followed>;
  /** Background calls let through check() and not yet followed (or released): counted against the bound too. */
  private pending: number;
  private readonly upstreamOf: (name: string) => { provider: Provider; pool: Pool } | undefined;
  private readonly finish: (call: Call) => Promise<void> | undefined;
  private readonly logger: Logger;
  private readonly running: Gauge;
  private readonly ended: Counter<'status'>;
  /** Calls being finished (counted, settled) after their response ended: the gateway's stop waits for them. */
  private readonly finishing: Set<Promise<void>>;
  private stopped: boolean;

  /**
   * `upstreamOf`: the current config's provider and pool of a name; `finish`: what ends every call (meter, settle,
   * record: handlers/finish.ts).
   */
  constructor(
    mode: BackgroundMode,
    maxFollowed: number,
    upstreamOf: (name: string) => { provider: Provider; pool: Pool } | undefined,
    finish: (call: Call) => Promise<void> | undefined,
    registry: Registry,
    logger: Logger,
  ) {
    this.mode = mode;
    this.maxFollowed = maxFollowed;
    this.followed = new Map();
    this.pending = 0;
    this.upstreamOf = upstreamOf;
    this.finish = finish;
    this.logger = logger;
    this.finishing = new Set();
    this.stopped = false;
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
  }

  /**
   * Before anything is sent: throws the caller's 400 when background calls are not served, or not this one, and a 429
   * past the bound. A call let through holds a place until follow() or release().
   */
  check(stream: boolean): void {
    if (this.mode === 'refuse')
      throw new SluiceError(
        'invalid_request',
        'background: background responses are not served through this gateway (responses.background: refuse): they run and are billed after the call returns. Send stream: true to keep a long response open instead.',
        { param: 'background' },
      );
    if (stream)
      throw new SluiceError(
        'invalid_request',
        'background: a background response is not streamed through Sluice; send background: true without stream, and retrieve the response (GET /v1/responses/{id}) until it has ended.',
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
   * recorded) once the response has ended. `answer`: the provider's response object as sent to the client. Takes the
   * place check() held, followed or not.
   */
  follow(call: Call, id: string, answer: string): boolean {
    this.pending--;
    const status = asObject(tryParseJson(answer)).status;
    // Already ended (a provider that ran it at once): the call finishes as any other, with the usage it came with.
    if (typeof status !== 'string' || ENDED.has(status) || call.target === null || this.stopped) return false;
    const entry: Followed = { id, call, provider: call.target.provider.name, waitMs: FIRST_POLL_MS, timer: null, since: Date.now() };
    this.followed.set(id, entry);
    this.running.set(this.followed.size);
    this.schedule(entry);
    return true;
  }

  /**
   * At the gateway's stop: each response still followed is looked at once more (one may have ended since its last
   * retrieval, up to 30 s before), and its call finished with the usage it ended with; one still running, or that cannot
   * be read within LAST_LOOK_MS, is recorded as it stands (its usage unknown, counted from its prompt). Resolves once
   * every call is finished, those whose response ended just before included.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const entries = [...this.followed.values()];
    for (const entry of entries) if (entry.timer !== null) clearTimeout(entry.timer);
    const signal = AbortSignal.timeout(LAST_LOOK_MS);
    await Promise.allSettled(entries.map((entry) => this.lastLook(entry, signal)));
    const unfinished: Array<Promise<void>> = [];
    for (const entry of entries) {
      const done = this.end(entry, null, 'unfinished');
      if (done !== undefined) unfinished.push(done);
    }
    if (unfinished.length > 0)
      this.logger.warn({ responses: unfinished.length }, 'background responses still running at stop, recorded unmetered');
    await Promise.allSettled([...unfinished, ...this.finishing]);
  }

  /**
   * Before a client's delete of a response through Sluice: one still followed is retrieved first, so one that has ended
   * (read by the client, then deleted) is metered with the usage it ended with rather than lost with the response.
   */
  beforeDelete(id: string): Promise<void> | undefined {
    const entry = this.followed.get(id);
    return entry === undefined ? undefined : this.lastLook(entry, AbortSignal.timeout(LAST_LOOK_MS));
  }

  /** The last retrieval of a response (at the stop, or before its delete): its call finished if it has ended. */
  private async lastLook(entry: Followed, signal: AbortSignal): Promise<void> {
    try {
      const looked = await this.look(entry, signal);
      if (looked !== null && looked !== 'gone' && ENDED.has(String(looked.response.status)))
        this.track(this.end(entry, looked.usage, String(looked.response.status)));
    } catch {
      // Unreadable in time: recorded as it stands (stop()), or lost with its delete.
    }
  }

  private schedule(entry: Followed): void {
    entry.timer = setTimeout(() => {
      entry.timer = null;
      this.retrieve(entry).catch((error: Error) => {
        this.logger.warn({ requestId: entry.call.requestId, err: error.message }, 'retrieving a background response failed; retrying');
        this.again(entry);
      });
    }, entry.waitMs);
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
    const looked = await this.look(entry, undefined);
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

  /**
   * Retrieves the response from the provider that holds it: the response object with its usage (a 200), `gone` (a 404,
   * or its provider gone from the config), or null (the provider's trouble). Throws when the provider cannot be reached.
   */
  private async look(
    entry: Followed,
    signal: AbortSignal | undefined,
  ): Promise<{ response: Record<string, unknown>; usage: Usage } | 'gone' | null> {
    const upstream = this.upstreamOf(entry.provider);
    const open = upstream?.provider.openStoredResponse;
    const usageOf = upstream?.provider.storedResponseUsage;
    if (upstream === undefined || open === undefined || usageOf === undefined) return 'gone';
    const { provider, pool } = upstream;
    const wanted = open.call(provider, entry.id, 'retrieve', '');
    const authorized = provider.authorize === undefined ? wanted : { ...wanted, ...(await provider.authorize({ ...wanted, body: '' })) };
    const answer = await request(provider.origin + authorized.path, {
      dispatcher: pool,
      method: wanted.method,
      headers: authorized.headers,
      headersTimeout: HEADERS_TIMEOUT_MS,
      bodyTimeout: BODY_TIMEOUT_MS,
      ...(signal === undefined ? {} : { signal }),
    });
    const text = await answer.body.text();
    if (answer.statusCode === 404) return 'gone';
    if (answer.statusCode !== 200) return null;
    const response = asObject(tryParseJson(text));
    return { response, usage: usageOf.call(provider, response) };
  }

  /** Keeps a call being finished until it is, for the gateway's stop to wait for. */
  private track(finished: Promise<void> | undefined): void {
    if (finished === undefined) return;
    this.finishing.add(finished);
    const done = () => void this.finishing.delete(finished);
    finished.then(done, done);
  }

  /** Finishes the call: with the ended response's usage, or (null) with its usage unknown. */
  private end(entry: Followed, usage: Usage | null, status: string): Promise<void> | undefined {
    if (!this.followed.delete(entry.id)) return undefined;
    this.running.set(this.followed.size);
    this.ended.labels(status).inc();
    const call = entry.call;
    if (usage !== null) {
      call.usage = usage;
      call.errorClass = ERROR_CLASS[status] ?? null;
    } else {
      // Unknown: metering counts the prompt with Sluice's tokenizer (the output is not known), marked estimated.
      call.errorClass = `background_${status}`;
    }
    return this.finish(call);
  }
}
