// Reporting what the discovery proxy and its OTLP intake saw: calls are aggregated per (source, provider, model, minute)
// and sent to the director's reconciliation intake in batches, retried with backoff; while the director cannot take
// them, batches wait in a bounded on-disk spool and are replayed in order. What has to be dropped is counted and logged.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ObservationSource } from '../policy/discovery.js';
import type { ObservationSpool } from './spool.js';
import type { DiscoveryMetrics } from './metrics.js';
import { microFromNano } from '../metering/cost.js';

export const OBSERVATIONS_PATH = '/api/reconciliation/observations';
const MINUTE_MS = 60_000;
/** Whose model was never read (a body past the bound, an unknown encoding): still a call, under this name. */
export const UNKNOWN_MODEL = 'unknown';

/** One call as seen, before aggregation. */
export interface SeenCall {
  at: number;
  source: ObservationSource;
  provider: string;
  model: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  /** Integer nano-USD (src/metering/cost.ts); null when unpriced. */
  costNanoUsd: number | null;
}

/** One observation in the intake's shape. */
export interface Observation {
  observer: string;
  at: number;
  source: ObservationSource;
  provider: string;
  model: string;
  calls: number;
  inputTokens?: number;
  outputTokens?: number;
  /** costNanoUsd rounded to whole micro-USD, once, after summing: what a director before costNanoUsd reads. */
  costMicroUsd?: number;
  /** The calls' cost to the nano-USD, summed: a call under half a micro-USD (a few-token embedding) counts. */
  costNanoUsd?: number;
}

/** An observation as a director before costNanoUsd takes it. */
function inMicroUsd(observation: Observation): Observation {
  const { costNanoUsd: _exact, ...rest } = observation;
  return rest;
}

function sourceKey(source: ObservationSource): string {
  const keys = Object.keys(source).sort() as Array<keyof ObservationSource>;
  return keys.map((key) => `${key}=${source[key] ?? ''}`).join('\u0001');
}

export class Aggregator {
  private readonly observer: string;
  private entries: Map<string, Observation>;

  constructor(observer: string) {
    this.observer = observer;
    this.entries = new Map();
  }

  add(call: SeenCall): void {
    const minute = Math.floor(call.at / MINUTE_MS) * MINUTE_MS;
    const model = call.model ?? UNKNOWN_MODEL;
    const key = `${sourceKey(call.source)}\u0000${call.provider}\u0000${model}\u0000${minute}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { observer: this.observer, at: minute, source: call.source, provider: call.provider, model, calls: 0 };
      this.entries.set(key, entry);
    }
    entry.calls++;
    if (call.inputTokens !== null) entry.inputTokens = (entry.inputTokens ?? 0) + call.inputTokens;
    if (call.outputTokens !== null) entry.outputTokens = (entry.outputTokens ?? 0) + call.outputTokens;
    if (call.costNanoUsd !== null) {
      entry.costNanoUsd = (entry.costNanoUsd ?? 0) + call.costNanoUsd;
      entry.costMicroUsd = microFromNano(entry.costNanoUsd);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Everything gathered so far, and a fresh start. */
  drain(): Observation[] {
    const out = [...this.entries.values()];
    this.entries = new Map();
    return out;
  }
}

export interface ReporterOptions {
  url: string;
  token: string;
  flushIntervalMs: number;
  maxBatch: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

type SendResult = 'sent' | 'retry' | 'rejected';

/**
 * A batch as sent and spooled, with its Idempotency-Key: the director records a key once, so a batch sent again after
 * its answer was lost (a timeout, a connection cut after the commit, a restart before the spool let go of it) is not
 * counted twice. null for a batch an earlier version spooled, as a bare array, without one.
 */
interface Batch {
  key: string | null;
  observations: Observation[];
}

function spooledBatch(value: unknown): Batch | null {
  if (value === null) return null;
  if (Array.isArray(value)) return { key: null, observations: value as Observation[] };
  return value as Batch;
}

/** Sends aggregated observations to the director, one batch at a time, oldest first. */
export class Reporter {
  readonly aggregator: Aggregator;
  private readonly options: ReporterOptions;
  private readonly spool: ObservationSpool;
  private readonly log: Logger;
  private readonly metrics: DiscoveryMetrics;
  /** Batches made while the director answered, not yet sent; they go to the spool when it stops answering. */
  private readonly pending: Batch[];
  private timer: NodeJS.Timeout | null;
  private pumping: Promise<void> | null;
  private backoffMs: number;
  private retryAt: number;
  private stopped: boolean;
  /**
   * False once the director refused costNanoUsd (a 400 naming it: a version before it, whose intake takes no field it
   * does not know): observations then go with costMicroUsd alone, as before, rather than be dropped.
   */
  private exactCosts: boolean;

  constructor(aggregator: Aggregator, options: ReporterOptions, spool: ObservationSpool, log: Logger, metrics: DiscoveryMetrics) {
    this.aggregator = aggregator;
    this.options = options;
    this.spool = spool;
    this.log = log;
    this.metrics = metrics;
    this.pending = [];
    this.timer = null;
    this.pumping = null;
    this.backoffMs = 0;
    this.retryAt = 0;
    this.stopped = false;
    this.exactCosts = true;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs); // flush() never rejects
    this.timer.unref();
    if (this.spool.count > 0) void this.pump(); // pump() never rejects
  }

  /** Batches what was aggregated and sends what can be sent; resolves when this round is done. */
  async flush(): Promise<void> {
    const drained = this.aggregator.drain();
    for (let i = 0; i < drained.length; i += this.options.maxBatch) {
      const batch: Batch = { key: randomUUID(), observations: drained.slice(i, i + this.options.maxBatch) };
      // Behind batches already spooled, a new one waits its turn on disk: replay keeps the order they were made in.
      if (this.spool.count > 0) await this.toSpool(batch);
      else this.pending.push(batch);
    }
    await this.pump();
  }

  /** Flushes, and tries once more to send what waits; what the director still cannot take stays in the spool. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.retryAt = 0;
    await this.flush();
    this.stopped = true;
    while (this.pending.length > 0) await this.toSpool(this.pending.shift()!);
  }

  /** Batches waiting (in memory and spooled). */
  get backlog(): number {
    return this.pending.length + this.spool.count;
  }

  private pump(): Promise<void> {
    this.pumping ??= this.drainQueue().finally(() => {
      this.pumping = null;
    });
    return this.pumping;
  }

  private async drainQueue(): Promise<void> {
    while (!this.stopped && Date.now() >= this.retryAt) {
      const fromSpool = this.spool.count > 0;
      let batch: Batch | null;
      try {
        batch = fromSpool ? spooledBatch(await this.spool.peek()) : (this.pending[0] ?? null);
      } catch (error) {
        this.log.error({ err: (error as Error).message }, 'discovery: a spooled batch cannot be read; dropped');
        await this.spool.shift().catch(() => undefined);
        continue;
      }
      if (batch === null) return;
      const result = await this.send(batch);
      if (result === 'retry') {
        this.backoffMs = this.backoffMs === 0 ? this.options.initialBackoffMs : Math.min(this.backoffMs * 2, this.options.maxBackoffMs);
        this.retryAt = Date.now() + this.backoffMs;
        // What waits in memory goes to disk, behind what is there already.
        while (this.pending.length > 0) await this.toSpool(this.pending.shift()!);
        const timer = setTimeout(() => void this.pump(), this.backoffMs);
        timer.unref();
        return;
      }
      this.backoffMs = 0;
      if (result === 'sent') {
        this.metrics.observationsSent.inc(batch.observations.length);
      } else {
        this.metrics.observationsRejected.inc(batch.observations.length);
      }
      if (fromSpool) await this.spool.shift();
      else this.pending.shift();
    }
  }

  private async toSpool(batch: Batch): Promise<void> {
    let written = false;
    try {
      written = await this.spool.append(batch);
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'discovery: the spool cannot be written');
    }
    if (written) {
      this.metrics.observationsSpooled.inc(batch.observations.length);
      return;
    }
    const calls = batch.observations.reduce((sum, observation) => sum + observation.calls, 0);
    this.metrics.observationsDropped.inc(batch.observations.length);
    this.log.warn(
      { observations: batch.observations.length, calls, spoolBytes: this.spool.sizeBytes },
      'discovery: the spool is full; observations dropped (the director has been unreachable too long)',
    );
  }

  private async send(batch: Batch): Promise<SendResult> {
    let response: Response;
    try {
      response = await fetch(new URL(OBSERVATIONS_PATH, this.options.url), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.options.token}`,
          'content-type': 'application/json',
          // A structured field string, as draft-ietf-httpapi-idempotency-key-header writes it.
          ...(batch.key === null ? {} : { 'idempotency-key': `"${batch.key}"` }),
        },
        body: JSON.stringify({ observations: this.exactCosts ? batch.observations : batch.observations.map(inMicroUsd) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      this.log.warn(
        { err: (error as Error).cause === undefined ? (error as Error).message : String((error as Error).cause) },
        'discovery: the director cannot be reached; observations spooled',
      );
      return 'retry';
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return 'sent';
    if (response.status === 400 && this.exactCosts && text.includes('costNanoUsd')) {
      this.exactCosts = false;
      this.log.warn('discovery: the director takes no costNanoUsd (an earlier version); observations go in whole micro-USD');
      return this.send(batch);
    }
    if (
      response.status >= 500 ||
      response.status === 429 ||
      response.status === 401 ||
      response.status === 403 ||
      response.status === 408
    ) {
      this.log.warn({ status: response.status }, 'discovery: the director refused the observations for now; they wait in the spool');
      return 'retry';
    }
    this.log.error(
      { status: response.status, answer: text.slice(0, 500), observations: batch.observations.length },
      'discovery: the director rejected a batch; dropped',
    );
    return 'rejected';
  }
}
