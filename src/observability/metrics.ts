// Prometheus metrics under the OpenTelemetry GenAI semantic-convention names, one registry per gateway instance.
import { Counter, Gauge, Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries, type Labels } from './series-metrics.js';
import { nanoCostOf } from '../ir/transaction.js';
import type { Transaction } from '../ledger/transaction.js';
import type { LedgerStatus } from '../ledger/status.js';

/**
 * The label sets of the per-call metrics held at most, past which calls are counted in one overflow series per status
 * class and operation. A streamed call's set renders 67 exposition lines (about 11 KB): measured at the bound, a scrape
 * is about 11 MB and took 0.5-1.2 s to render on a busy 2-core machine, time the event loop spends away from calls.
 * Realistic configs (tens of consumers x a few models x a few statuses) stay far below it.
 */
export const DEFAULT_MAX_LABEL_SETS = 1_000;

/** What a label says for a name the current config does not hold (a client's made-up model, a consumer since removed). */
const UNKNOWN = 'unknown';
const OVERFLOW = 'overflow';

/**
 * The error classes of a stream that ended before its provider's end with the client still reading, the reasons of
 * sluice_streams_cut_total: broken off upstream, cut at retry.maxStreamMs, ended by the provider's own error event.
 */
const STREAM_CUTS = ['stream_interrupted', 'stream_time_limit', 'stream_error'] as const;

/** The names labels may carry: those of the current config. */
export interface ConfiguredNames {
  models: Iterable<string>;
  consumers: Iterable<string>;
  providers: Iterable<string>;
  /** When the snapshot's unrevoked keys with an end stop working (epoch ms), for sluice_consumer_keys_expiring. */
  keyEnds?: readonly number[];
}

/** The look-aheads of sluice_consumer_keys_expiring: an alert on `within="7d"` warns a week ahead. */
const KEY_EXPIRY_WINDOWS: ReadonlyArray<[string, number]> = [
  ['1d', 86_400_000],
  ['7d', 7 * 86_400_000],
  ['30d', 30 * 86_400_000],
];

interface Series {
  labels: Labels;
  duration: HistogramSeries;
  timeToFirstToken: HistogramSeries;
  inputTokens: HistogramSeries;
  outputTokens: HistogramSeries;
  cost: CounterSeries;
}

export class GatewayMetrics {
  readonly registry: Registry;
  private readonly series: Map<string, Series>;
  private readonly tokenUsage: SeriesHistogram;
  private readonly duration: SeriesHistogram;
  private readonly timeToFirstToken: SeriesHistogram;
  private readonly cost: SeriesCounter;
  private readonly maxLabelSets: number;
  private models: ReadonlySet<string>;
  private consumers: ReadonlySet<string>;
  private providers: ReadonlySet<string>;
  private keyEnds: readonly number[];
  readonly ledgerBuffered: Gauge;
  private readonly unauthenticatedCalls: Counter<'route'>;
  /** sluice_streams_cut_total's series, one per reason, bound once. */
  private readonly streamsCut: ReadonlyMap<string, Counter.Internal>;
  /** Calls observed since start, every one: unlike the series, never dropped by a reload (compliance compares it with the ledger). */
  callsObserved: number;

  constructor(ledger: () => LedgerStatus, options: { maxLabelSets?: number } = {}) {
    this.registry = new Registry();
    this.series = new Map();
    this.maxLabelSets = options.maxLabelSets ?? DEFAULT_MAX_LABEL_SETS;
    this.models = new Set();
    this.consumers = new Set();
    this.providers = new Set();
    this.keyEnds = [];
    this.callsObserved = 0;
    this.tokenUsage = new SeriesHistogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens used per call (gen_ai.client.token.usage), by token type input or output',
      buckets: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304],
      registry: this.registry,
    });
    this.duration = new SeriesHistogram({
      name: 'gen_ai_server_request_duration',
      help: 'Seconds from request to the end of the response (gen_ai.server.request.duration)',
      buckets: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92],
      registry: this.registry,
    });
    this.timeToFirstToken = new SeriesHistogram({
      name: 'gen_ai_server_time_to_first_token',
      help: 'Seconds until the first streamed token reached the client (gen_ai.server.time_to_first_token)',
      buckets: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
      registry: this.registry,
    });
    this.cost = new SeriesCounter({
      name: 'sluice_cost_micro_usd_total',
      help: 'Priced cost of calls in micro-USD',
      registry: this.registry,
    });
    this.ledgerBuffered = new Gauge({
      name: 'sluice_ledger_buffered_records',
      help: 'Ledger records in memory, not yet committed: the batch filling and batches waiting for the store',
      registers: [this.registry],
      collect() {
        this.set(ledger().bufferedRecords);
      },
    });
    this.addLedgerMetrics(ledger);
    const keyEnds = () => this.keyEnds;
    new Gauge({
      name: 'sluice_consumer_keys_expiring',
      help: 'Unrevoked consumer keys that stop working within the look-ahead (and have not yet), by look-ahead 1d, 7d or 30d',
      labelNames: ['within'],
      registers: [this.registry],
      // Every worker holds the same snapshot: one worker's count is the count.
      aggregator: 'first',
      collect() {
        const now = Date.now();
        for (const [within, ms] of KEY_EXPIRY_WINDOWS) this.set({ within }, keyEnds().filter((end) => end > now && end <= now + ms).length);
      },
    });
    this.unauthenticatedCalls = new Counter({
      name: 'sluice_unauthenticated_requests_total',
      help: 'Calls refused for a missing or unknown API key (counted here, not written to the ledger), by route',
      labelNames: ['route'],
      registers: [this.registry],
    });
    const streamsCut = new Counter({
      name: 'sluice_streams_cut_total',
      help: 'Streamed calls that ended before the provider ended them, by reason (the ledger error class)',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.streamsCut = new Map(STREAM_CUTS.map((reason) => [reason, streamsCut.labels(reason)]));
  }

  /** A call refused before it had a consumer: counted rather than recorded, so garbage traffic cannot fill the ledger. */
  unauthenticated(route: string): void {
    this.unauthenticatedCalls.labels(route).inc();
  }

  /** The ledger's state, read from the writer at each scrape (its counters are running totals it keeps). */
  private addLedgerMetrics(ledger: () => LedgerStatus): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: (status: LedgerStatus) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read(ledger()));
        },
      });
    gauge('sluice_ledger_spooled_records', 'Ledger records in spool files, waiting for the store', (status) => status.spooledRecords);
    gauge('sluice_ledger_spooled_bytes', 'Bytes of ledger spool files', (status) => status.spooledBytes);
    gauge(
      'sluice_ledger_behind',
      '1 while the ledger cannot write (store failing) or holds spooled records; readiness is red meanwhile',
      (status) => (status.behind ? 1 : 0),
    );
    gauge(
      'sluice_ledger_oldest_unwritten_seconds',
      'Age of the oldest ledger batch not yet committed (0 when none waits)',
      (status) => status.oldestUnwrittenMs / 1000,
    );
    new Counter({
      name: 'sluice_ledger_written_records_total',
      help: 'Ledger records committed to the store',
      registers,
      collect() {
        this.reset();
        this.inc(ledger().writtenRecords);
      },
    });
    new Counter({
      name: 'sluice_ledger_write_failures_total',
      help: 'Ledger batch writes that failed: reason unavailable (store unreachable, locked, full; retried) or refused (the rows; split)',
      labelNames: ['reason'],
      registers,
      collect() {
        const { writeFailures } = ledger();
        this.reset();
        this.inc({ reason: 'unavailable' }, writeFailures.unavailable);
        this.inc({ reason: 'refused' }, writeFailures.refused);
      },
    });
    new Counter({
      name: 'sluice_ledger_dropped_records_total',
      help: 'Ledger records given up: refused by the store on their own, past the spool bound, or unwritable to or unreadable from the spool',
      labelNames: ['reason'],
      registers,
      collect() {
        const { droppedRecords } = ledger();
        this.reset();
        this.inc({ reason: 'refused' }, droppedRecords.refused);
        this.inc({ reason: 'spool_full' }, droppedRecords.spoolFull);
        this.inc({ reason: 'spool_failed' }, droppedRecords.spoolFailed);
      },
    });
    new Counter({
      name: 'sluice_ledger_repaired_values_total',
      help: 'Ledger strings made storable before writing (a NUL or lone surrogate replaced, or cut at the length cap)',
      registers,
      collect() {
        this.reset();
        this.inc(ledger().repairedValues);
      },
    });
  }

  /**
   * Takes the names of a new config (at start and on every reload). Label values come only from these, so nothing a
   * client sends can add a series; the series of names the config no longer holds are dropped with them.
   */
  configure(names: ConfiguredNames): void {
    this.models = new Set(names.models);
    this.consumers = new Set(names.consumers);
    this.providers = new Set(names.providers);
    this.keyEnds = names.keyEnds ?? [];
    for (const [key, series] of this.series) {
      const { consumer, model, provider } = series.labels;
      if (isKept(this.consumers, consumer!) && isKept(this.models, model!) && isKept(this.providers, provider!)) continue;
      this.series.delete(key);
      this.unbind(series);
    }
  }

  observe(tx: Transaction): void {
    this.callsObserved++;
    // Set look-ups only: a name a client made up, or one a reload removed, is "unknown" ("" when there was none).
    const consumer = tx.consumer === null ? '' : this.consumers.has(tx.consumer) ? tx.consumer : UNKNOWN;
    const model = tx.requestedModel === null ? '' : this.models.has(tx.requestedModel) ? tx.requestedModel : UNKNOWN;
    const provider = tx.provider === null ? '' : this.providers.has(tx.provider) ? tx.provider : UNKNOWN;
    const key = `${consumer}\u0000${model}\u0000${provider}\u0000${tx.status}\u0000${tx.operation}`;
    const series = this.series.get(key) ?? this.bind(key, consumer, model, provider, tx);
    series.duration.observe(tx.latencyMs / 1000);
    if (tx.timeToFirstTokenMs !== null) series.timeToFirstToken.observe(tx.timeToFirstTokenMs / 1000);
    if (tx.stream && tx.errorClass !== null) this.streamsCut.get(tx.errorClass)?.inc();
    if (tx.status < 400) {
      series.inputTokens.observe(tx.inputTokens);
      if (tx.operation === 'chat') series.outputTokens.observe(tx.outputTokens);
      // In micro-USD, as the metric's name says, to the nano-USD: a call under half a micro-USD still adds its cost.
      const nano = nanoCostOf(tx);
      if (nano !== null) series.cost.inc(nano / 1000);
    }
  }

  /** Label validation and hashing happen once per label set, not once per call; past the bound, the overflow set. */
  private bind(key: string, consumer: string, model: string, provider: string, tx: Transaction): Series {
    const status = statusLabel(tx.status);
    if (this.series.size >= this.maxLabelSets) {
      const overflowKey = `${OVERFLOW}\u0000${statusClass(tx.status)}\u0000${tx.operation}`;
      let overflow = this.series.get(overflowKey);
      if (overflow === undefined) {
        overflow = this.bindLabels({
          consumer: OVERFLOW,
          model: OVERFLOW,
          provider: OVERFLOW,
          status: statusClass(tx.status),
          gen_ai_operation_name: tx.operation,
        });
        // At most one per status class and operation: the overflow itself stays bounded.
        this.series.set(overflowKey, overflow);
      }
      return overflow;
    }
    const series = this.bindLabels({ consumer, model, provider, status, gen_ai_operation_name: tx.operation });
    this.series.set(key, series);
    return series;
  }

  private bindLabels(labels: Labels): Series {
    return {
      labels,
      duration: this.duration.bind(labels),
      timeToFirstToken: this.timeToFirstToken.bind(labels),
      inputTokens: this.tokenUsage.bind({ ...labels, gen_ai_token_type: 'input' }),
      outputTokens: this.tokenUsage.bind({ ...labels, gen_ai_token_type: 'output' }),
      cost: this.cost.bind(labels),
    };
  }

  private unbind(series: Series): void {
    const labels = series.labels;
    this.duration.unbind(labels);
    this.timeToFirstToken.unbind(labels);
    this.tokenUsage.unbind({ ...labels, gen_ai_token_type: 'input' });
    this.tokenUsage.unbind({ ...labels, gen_ai_token_type: 'output' });
    this.cost.unbind(labels);
  }
}

/** A label value survives a reload when the new config still holds it, or it names no config entry at all. */
function isKept(names: ReadonlySet<string>, value: string): boolean {
  return value === '' || value === UNKNOWN || value === OVERFLOW || names.has(value);
}

/** The status the client got: an HTTP status as such (a bounded set), anything else "other". */
function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';
}

function statusClass(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : 'other';
}
