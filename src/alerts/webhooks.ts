// Delivers budget alerts to webhooks: signed JSON POSTs, retried with backoff, fire-and-forget for the caller.
//
// Every delivery carries:
//   content-type: application/json
//   user-agent: sluice
//   x-sluice-event-id: <event id>        the same on every retry of an event: deduplicate on it
//   x-sluice-timestamp: <unix seconds>   when this attempt was signed (fresh on each retry)
//   x-sluice-signature: v1=<hex>         HMAC-SHA256 keyed with the webhook's secret over `${timestamp}.${body}`
//
// How a receiver verifies a delivery:
//   1. Read the raw request body as bytes, before any JSON parsing (re-serialised JSON will not match).
//   2. Compute hex(HMAC-SHA256(secret, `${x-sluice-timestamp}.${rawBody}`)) and compare it, in constant time,
//      with the hex after "v1=" in x-sluice-signature. verifyWebhookSignature() below does exactly this.
//   3. Reject the delivery when the timestamp is further than a tolerance (5 minutes by default) from the
//      receiver's clock: a captured delivery then cannot be replayed later.
//   4. Answer 2xx quickly. Non-2xx answers 408, 429 and 5xx (and network errors, timeouts) are retried with the same
//      event id; any other answer is a final failure. A Retry-After (seconds or HTTP date) on 429/503 is honoured.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { Agent, preloadRequest, request } from '../wire/undici.js';
import type { ProviderTargets } from '../config/provider-targets.js';
import { guardedConnector, ProviderTargetRefused } from '../gateway/routing/guarded-connector.js';
import type { BudgetAlert } from './alert-event.js';

export interface WebhookTarget {
  url: string;
  /** HMAC key for x-sluice-signature. Never logged. */
  secret: string;
  /** Extra request headers (e.g. a receiver's own auth). The x-sluice-*, content-type and user-agent headers cannot be overridden. */
  headers?: Record<string, string>;
}

export type DeliveryOutcome = 'delivered' | 'retried' | 'failed';

export interface WebhookNotifierOptions {
  logger: Logger;
  /** Attempts per webhook per event, the first included. Default 5. */
  attempts?: number;
  /** Base of the exponential backoff between attempts, jittered. Default 500 ms. */
  backoffMs?: number;
  /** Cap on any wait between attempts, Retry-After included. Default 30 s. */
  maxBackoffMs?: number;
  /** Headers and body timeout of each attempt. Default 10 s. */
  timeoutMs?: number;
  /** Called once per retry scheduled and once per final outcome of each (event, webhook) delivery. */
  onOutcome?: (outcome: DeliveryOutcome) => void;
  /**
   * Where deliveries may connect: the provider-target policy, checked on the addresses a webhook's name resolves to when
   * a connection opens (a URL is checked when written, but DNS may answer differently later). Unset: anywhere.
   */
  targets?: ProviderTargets;
}

/** A webhook prepared once: the URL to call (userinfo moved into a Basic authorization header), the URL safe to log. */
interface PreparedWebhook {
  requestUrl: string;
  logUrl: string;
  secret: string;
  headers: Record<string, string>;
  /** The connections of the webhook's origin, shared by the webhooks listed on it. */
  pool: OriginPool;
}

/** The connections to one origin: open while a listed webhook is on it or a delivery to it is under way. */
interface OriginPool {
  readonly origin: string;
  readonly agent: Agent;
  /** Deliveries (with their waits between attempts) using it now. */
  deliveries: number;
}

/**
 * The longest a connection to a webhook is kept idle for the next alert, whatever keep-alive the receiver offers
 * (undici would honour up to 10 minutes). Alerts are rare: a socket per receiver held for minutes buys nothing.
 */
const IDLE_CONNECTION_MAX_MS = 30_000;

type AttemptResult =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status: number | null; reason: string; retryAfterMs: number | null }
  | { kind: 'fatal'; status: number | null; reason: string };

const RESERVED_HEADERS = ['content-type', 'user-agent', 'x-sluice-event-id', 'x-sluice-timestamp', 'x-sluice-signature', 'content-length'];

export class WebhookNotifier {
  private webhooks: readonly PreparedWebhook[];
  private readonly logger: Logger;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly onOutcome: ((outcome: DeliveryOutcome) => void) | undefined;
  private readonly targets: ProviderTargets | undefined;
  /**
   * One pool per origin listed or still delivered to. An origin that leaves the list is closed at once, or when the
   * last delivery to it ends (a retry under way keeps its pool): a list that changes over time leaves nothing open.
   */
  private readonly pools = new Map<string, OriginPool>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sleepers = new Set<(completed: boolean) => void>();
  private closed = false;

  constructor(webhooks: readonly WebhookTarget[], options: WebhookNotifierOptions) {
    this.attempts = options.attempts ?? 5;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isInteger(this.attempts) || this.attempts < 1) throw new RangeError('webhook attempts must be an integer of at least 1');
    if (!(this.backoffMs >= 0) || !(this.maxBackoffMs >= 0))
      throw new RangeError('webhook backoff must be a non-negative number of milliseconds');
    if (!(this.timeoutMs > 0)) throw new RangeError('webhook timeout must be a positive number of milliseconds');
    this.logger = options.logger;
    this.onOutcome = options.onOutcome;
    this.targets = options.targets;
    this.webhooks = [];
    this.setWebhooks(webhooks);
  }

  /** Replaces the webhooks later events go to (the director's list changed); deliveries under way finish as they were. */
  setWebhooks(webhooks: readonly WebhookTarget[]): void {
    const prepared = webhooks.map((webhook, index) => prepare(webhook, index));
    this.webhooks = prepared.map((webhook) => ({ ...webhook, pool: this.poolFor(new URL(webhook.requestUrl).origin) }));
    for (const pool of [...this.pools.values()]) this.releaseIfUnused(pool);
    if (this.webhooks.length > 0) preloadRequest();
  }

  private poolFor(origin: string): OriginPool {
    let pool = this.pools.get(origin);
    if (pool === undefined) {
      const connect = this.targets === undefined ? {} : { connect: guardedConnector(this.targets, origin) };
      pool = { origin, agent: new Agent({ ...connect, keepAliveMaxTimeout: IDLE_CONNECTION_MAX_MS }), deliveries: 0 };
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /** Closes the pool (its idle connections at once, any on the wire when done) if no listed webhook or delivery uses it. */
  private releaseIfUnused(pool: OriginPool): void {
    if (this.closed || pool.deliveries > 0 || this.pools.get(pool.origin) !== pool) return;
    if (this.webhooks.some((webhook) => webhook.pool === pool)) return;
    this.pools.delete(pool.origin);
    pool.agent.close().catch(() => undefined);
  }

  get webhookCount(): number {
    return this.webhooks.length;
  }

  /** Deliveries (one per event and webhook) not yet delivered or given up. */
  get pending(): number {
    return this.inFlight.size;
  }

  /** Starts delivering the event to every webhook in parallel and returns at once; never throws. */
  send(event: BudgetAlert): void {
    try {
      if (this.closed) {
        this.logger.error({ eventId: event.id, budget: event.budget }, 'budget alert dropped: the webhook notifier is closed');
        for (let i = 0; i < this.webhooks.length; i++) this.report('failed');
        return;
      }
      const body = JSON.stringify(event);
      for (const webhook of this.webhooks) this.track(this.deliver(webhook, event, body));
    } catch (error) {
      this.logger.error({ eventId: event.id, budget: event.budget, err: (error as Error).message }, 'budget alert could not be sent');
    }
  }

  /**
   * Resolves when every delivery in progress (including ones started while waiting) has finished: true; or when
   * timeoutMs passes first: false.
   */
  async drain(timeoutMs?: number): Promise<boolean> {
    const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
    while (this.inFlight.size > 0) {
      const all = Promise.all([...this.inFlight]).then(() => true);
      if (deadline === Number.POSITIVE_INFINITY) {
        await all;
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), left);
      });
      const finished = await Promise.race([all, timeout]);
      clearTimeout(timer);
      if (!finished) return false;
    }
    return true;
  }

  /**
   * Stops retrying: waits between attempts are cut short and those deliveries count as failed. Attempts already on
   * the wire run to their end (bounded by timeoutMs); resolves when they have. Later send() calls are dropped.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.sleepers]) wake(false);
    await this.drain();
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.agent.close()));
  }

  private track(delivery: Promise<void>): void {
    const tracked: Promise<void> = delivery
      .catch(() => undefined)
      .finally(() => {
        this.inFlight.delete(tracked);
      });
    this.inFlight.add(tracked);
  }

  private async deliver(webhook: PreparedWebhook, event: BudgetAlert, body: string): Promise<void> {
    const context = { eventId: event.id, budget: event.budget, webhook: webhook.logUrl };
    webhook.pool.deliveries++;
    try {
      for (let attempt = 1; ; attempt++) {
        const result = await this.attemptOnce(webhook, event.id, body);
        if (result.kind === 'delivered') {
          this.logger.info({ ...context, attempt, status: result.status }, 'budget alert delivered to webhook');
          this.report('delivered');
          return;
        }
        const reason = scrub(result.reason, webhook.secret);
        if (result.kind === 'fatal' || attempt >= this.attempts || this.closed) {
          const why = result.kind === 'fatal' ? 'not retryable' : attempt >= this.attempts ? 'attempts exhausted' : 'notifier closed';
          this.logger.error(
            { ...context, attempt, attempts: this.attempts, status: result.status, reason, gaveUp: why },
            'budget alert webhook delivery failed',
          );
          this.report('failed');
          return;
        }
        const waitMs = this.waitBefore(attempt + 1, result.retryAfterMs);
        this.logger.warn(
          { ...context, attempt, attempts: this.attempts, status: result.status, reason, retryInMs: waitMs },
          'budget alert webhook delivery failed; retrying',
        );
        this.report('retried');
        if (!(await this.sleep(waitMs))) {
          this.logger.error(
            { ...context, attempt, attempts: this.attempts, status: result.status, reason, gaveUp: 'notifier closed' },
            'budget alert webhook delivery failed',
          );
          this.report('failed');
          return;
        }
      }
    } catch (error) {
      this.logger.error(
        { ...context, reason: scrub((error as Error).message, webhook.secret), gaveUp: 'unexpected error' },
        'budget alert webhook delivery failed',
      );
      this.report('failed');
    } finally {
      webhook.pool.deliveries--;
      this.releaseIfUnused(webhook.pool);
    }
  }

  private async attemptOnce(webhook: PreparedWebhook, eventId: string, body: string): Promise<AttemptResult> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      ...webhook.headers,
      'content-type': 'application/json',
      'user-agent': 'sluice',
      'x-sluice-event-id': eventId,
      'x-sluice-timestamp': String(timestamp),
      'x-sluice-signature': signWebhook(webhook.secret, timestamp, body),
    };
    let response: Dispatcher.ResponseData;
    try {
      response = await request(webhook.requestUrl, {
        method: 'POST',
        headers,
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        dispatcher: webhook.pool.agent,
      });
    } catch (error) {
      // The policy refuses the address the URL reaches now; it will refuse it on every retry too.
      if (error instanceof ProviderTargetRefused) return { kind: 'fatal', status: null, reason: error.message };
      const code = errorCode(error);
      // A request undici refuses to send (an invalid configured header) fails the same way every time.
      if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED')
        return { kind: 'fatal', status: null, reason: describeNetworkError(error) };
      return { kind: 'retry', status: null, reason: describeNetworkError(error), retryAfterMs: null };
    }
    const status = response.statusCode;
    try {
      await response.body.dump();
    } catch {
      // The status alone decides the outcome; the connection is discarded.
    }
    if (status >= 200 && status < 300) return { kind: 'delivered', status };
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after']) : null;
      return { kind: 'retry', status, reason: `HTTP ${status}`, retryAfterMs };
    }
    return { kind: 'fatal', status, reason: `HTTP ${status}` };
  }

  /** Exponential backoff with jitter (50-100% of the step), at least any Retry-After asked for, never above the cap. */
  private waitBefore(nextAttempt: number, retryAfterMs: number | null): number {
    const step = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (nextAttempt - 2));
    const jittered = Math.round(step * (0.5 + Math.random() / 2));
    return Math.min(this.maxBackoffMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  /** Resolves true after ms, or false at once if the notifier is (or gets) closed. */
  private sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const wake = (completed: boolean): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve(completed);
      };
      const timer = setTimeout(() => wake(true), ms);
      this.sleepers.add(wake);
    });
  }

  private report(outcome: DeliveryOutcome): void {
    if (this.onOutcome === undefined) return;
    try {
      this.onOutcome(outcome);
    } catch (error) {
      this.logger.error({ err: (error as Error).message }, 'webhook outcome callback failed');
    }
  }
}

/** `v1=` + hex HMAC-SHA256 keyed with the secret over `${timestamp}.${body}`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/**
 * For receivers: true when signatureHeader holds a v1 signature of body made with secret at timestampHeader, and that
 * timestamp is within toleranceSeconds of now (ms since the epoch). Pass the raw body bytes (or their exact string).
 * A header listing several signatures ("v1=..,v1=..") passes if any matches. Comparison is constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  timestampHeader: string | readonly string[] | undefined | null,
  body: string | Uint8Array,
  signatureHeader: string | readonly string[] | undefined | null,
  toleranceSeconds = 300,
  now: number = Date.now(),
): boolean {
  const timestampText = firstValue(timestampHeader)?.trim();
  const signatureText = firstValue(signatureHeader);
  if (timestampText === undefined || signatureText === undefined || !/^\d{1,15}$/.test(timestampText)) return false;
  const timestamp = Number(timestampText);
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestampText}.`).update(body).digest();
  let matched = false;
  for (const part of signatureText.split(',')) {
    const match = /^v1=([0-9a-fA-F]{64})$/.exec(part.trim());
    if (match?.[1] === undefined) continue;
    // No early exit: every candidate is compared.
    if (timingSafeEqual(Buffer.from(match[1], 'hex'), expected)) matched = true;
  }
  return matched;
}

function firstValue(header: string | readonly string[] | undefined | null): string | undefined {
  if (header === undefined || header === null) return undefined;
  return typeof header === 'string' ? header : header[0];
}

function prepare(webhook: WebhookTarget, index: number): Omit<PreparedWebhook, 'pool'> {
  let url: URL;
  try {
    url = new URL(webhook.url);
  } catch {
    throw new TypeError(`webhooks[${index}].url is not a valid URL`);
  }
  const logUrl = `${url.origin}${url.pathname}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new TypeError(`webhooks[${index}].url (${logUrl}) must be http or https`);
  if (typeof webhook.secret !== 'string' || webhook.secret.length === 0)
    throw new TypeError(`webhooks[${index}] (${logUrl}) needs a non-empty secret`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(webhook.headers ?? {})) {
    const lower = name.toLowerCase();
    if (!RESERVED_HEADERS.includes(lower)) headers[lower] = value;
  }
  // undici ignores userinfo in a URL; send it as Basic auth the way a browser would, unless a header already authorizes.
  if ((url.username !== '' || url.password !== '') && headers.authorization === undefined) {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  }
  url.username = '';
  url.password = '';
  url.hash = '';
  return { requestUrl: url.toString(), logUrl, secret: webhook.secret, headers };
}

function parseRetryAfter(header: string | string[] | undefined): number | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (value === undefined || value === '') return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describeNetworkError(error: unknown): string {
  const code = errorCode(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'timed out waiting for response headers';
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'timed out waiting for the body';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'timed out connecting';
  const causeCode = errorCode((error as { cause?: unknown } | null)?.cause);
  const message = error instanceof Error ? error.message : 'unknown error';
  return `connection failed (${code ?? causeCode ?? message})`;
}

/** Defence in depth: no error text that somehow carries the secret reaches the logs. */
function scrub(text: string, secret: string): string {
  return secret.length > 0 ? text.split(secret).join('[redacted]') : text;
}
