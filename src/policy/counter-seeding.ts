// Budget and rate-limit counters seeded from the ledger, so a restart (or a Redis that lost its keys) forgets nothing: each
// line's current window buckets are raised to what the ledger says gateways admitted in them.
//
// What is counted mirrors settlement (src/gateway/pipeline/settle.ts) as far as the ledger's rollups can tell: calls a
// target answered, in the budget's consumer and resource scope, their tokens and cost (a call that failed after its target
// answered carries none); never calls answered from the response cache, which admission skips. Exact for calendar
// windows (hour, day, month: whole hours from the rollups, read through the window's end) and for rolling windows (the
// current and the previous bucket, each a fixed span, the previous then read at its weight as admission reads it);
// spans that do not start on an hour (minute windows, rolling ones of odd lengths) are read from the ledger's rows at
// their partial hours. Where the seed and the live counter differ:
//   - `requests` of calls admitted that no target answered (every target failed) are left out: the ledger has no
//     provider for them, like a refusal's, so they cannot be told apart from calls refused before admission;
//   - a downgraded call is in the rollups under the model asked for, so a budget scoped to a model counts it there, not
//     under the model that served it (budgets on everyone, teams, consumers, providers and resources are exact);
//   - the ledger places a call by its arrival, the counter by its admission a moment later: a call arriving in a
//     window's last milliseconds may be seeded into that window rather than the next;
//   - calls in flight, and the ledger's last unflushed batch, when the seed is read, are left out.
// A seed never adds: each counter is raised to the ledger's figure if it holds less (CounterStore.seed), so seeding
// twice, or by several gateways at once, counts the ledger's usage once.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CounterSeed, CounterStore } from '../counters/counter-store.js';
import { bucketKey, counterKey, type Budget } from './budgets.js';
import type { Clock } from './clock.js';
import { resourceId } from './resources.js';

/**
 * What seeding reads of the admitted usage the ledger holds (the store's AnalyticsStore.admittedUsage row has it): one
 * rollup key's calls a target answered, in [from, to).
 */
interface AdmittedUsageRow {
  consumer: string;
  team: string;
  model: string;
  provider: string;
  providerModel: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
}

interface UsagePeriod {
  from: number;
  to: number;
}

/** Where the ledger's usage is read from: the director store. */
export interface AdmittedUsageSource {
  admittedUsage(period: UsagePeriod): Promise<AdmittedUsageRow[]>;
}

export interface CounterSeederOptions {
  store: CounterStore;
  ledger: AdmittedUsageSource;
  clock: Clock;
  logger: Logger;
  /** Every budget the gateway enforces now (the current snapshot's), for a complete seeding. */
  budgets: () => readonly Budget[];
  /** Where the seeding metrics go (sluice_counter_seeding_failures_total, sluice_counters_seeded). */
  registry: Registry;
}

/**
 * When a seeding ran: at start, again once the counters were found lost (or Redis was back), for a reload's budgets, or
 * as a retry of one of those that failed.
 */
export type SeedingOccasion = 'start' | 'reseed' | 'added' | 'retry';

/** After a seeding failed, a seeding of every counter is tried this much later (and so on until one succeeds). */
const RETRY_MS = 10_000;

export interface SeedingOutcome {
  /** Counters given a figure (a line with no usage in the ledger is left alone). */
  seeded: number;
  /** Spans read from the ledger: one per distinct bucket span. */
  reads: number;
}

export class CounterSeeder {
  private readonly options: CounterSeederOptions;
  private readonly failures: Counter<'when'>;
  /**
   * Whether every counter the gateway enforces was seeded from the ledger: false from the start until the start's
   * seeding succeeds, and from any failed seeding until a complete one succeeds.
   */
  private seededNow: boolean;
  /** The next try after a failed seeding (retryUntilSeeded), if one is due. */
  private retry: NodeJS.Timeout | null;
  private stopped: boolean;

  constructor(options: CounterSeederOptions) {
    this.options = options;
    this.seededNow = false;
    this.retry = null;
    this.stopped = false;
    const registers = [options.registry];
    this.failures = new Counter({
      name: 'sluice_counter_seeding_failures_total',
      help: 'Seedings of the budget counters from the ledger that failed (the ledger or the counter store could not be read or written); when: start, reseed (counters lost, or Redis back), added (budgets a reload added), retry (a try after one of those failed)',
      labelNames: ['when'],
      registers,
    });
    const seeded = (): boolean => this.seededNow;
    new Gauge({
      name: 'sluice_counters_seeded',
      help: 'Whether every budget counter was seeded from the ledger (1), or the last seeding failed and they count from what they hold (0)',
      labelNames: ['store'],
      registers,
      // Between workers, 1 only when every worker's seeding succeeded.
      aggregator: 'min',
      collect() {
        this.set({ store: options.store.kind }, seeded() ? 1 : 0);
      },
    });
  }

  /** See seededNow: for /readyz. */
  get seeded(): boolean {
    return this.seededNow;
  }

  /**
   * A seeding failed: counted, and logged at error with its cause (the store's and the ledger's messages name no
   * credential). The counters go on from what they hold, and a seeding of all of them is tried again (retryUntilSeeded).
   */
  failed(when: SeedingOccasion, error: unknown, message: string, fields: Record<string, unknown> = {}): void {
    this.seededNow = false;
    this.failures.labels(when).inc();
    this.options.logger.error({ ...fields, when, counters: this.options.store.kind, err: (error as Error).message }, message);
    this.retryUntilSeeded();
  }

  /** Seeds every line of every budget the gateway enforces, and marks the store seeded. */
  async seedAll(): Promise<SeedingOutcome> {
    const outcome = await this.seed(this.options.budgets(), true);
    this.seededNow = true;
    return outcome;
  }

  /**
   * After a seeding failed: seedAll again every RETRY_MS until one succeeds (or another seeding did), so counters left
   * unseeded by a ledger that could not be read are seeded once it can be (memory counters, or Redis ones whose marker
   * survived, would otherwise stay so until a restart). A seed only raises counters to the ledger's figures, so one
   * late counts nothing twice.
   */
  private retryUntilSeeded(): void {
    if (this.retry !== null || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.seededNow || this.stopped) return;
      this.seedAll().then(
        (outcome) =>
          this.options.logger.warn(
            { ...outcome, counters: this.options.store.kind },
            'budget counters seeded from the ledger, after a seeding failed',
          ),
        (error: unknown) => {
          if (!this.stopped)
            this.failed(
              'retry',
              error,
              'budget counters still cannot be seeded from the ledger; counting goes on from what the counters hold',
            );
        },
      );
    }, RETRY_MS);
    this.retry.unref();
  }

  /** No more tries (the gateway stops). */
  stop(): void {
    this.stopped = true;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
  }

  /** Seeds the lines of these budgets only (budgets a reload added): the store's other counters are not touched. */
  async seed(budgets: readonly Budget[], complete: boolean): Promise<SeedingOutcome> {
    const { store, ledger, clock } = this.options;
    const now = clock.now();
    const spans = new Map<string, UsagePeriod>();
    const plans = budgets.map((budget) => ({
      budget,
      buckets: budget.window.buckets(now).map((bucket) => {
        const span = `${bucket.start}:${bucket.end}`;
        spans.set(span, { from: bucket.start, to: bucket.end });
        return { ...bucket, span };
      }),
    }));
    // One read per distinct span, one after another: a start or a reload is no reason to load the database.
    const usage = new Map<string, AdmittedUsageRow[]>();
    for (const [span, period] of spans) usage.set(span, await ledger.admittedUsage(period));
    const seeds = new Map<string, CounterSeed>();
    for (const { budget, buckets } of plans) {
      for (const bucket of buckets) {
        for (const row of usage.get(bucket.span)!) {
          if (!counts(budget, row)) continue;
          const amount = amountOf(budget, row);
          if (amount <= 0) continue;
          const key = bucketKey(counterKey(budget, { name: row.consumer }), bucket.bucket);
          const seed = seeds.get(key);
          if (seed === undefined) seeds.set(key, { key, value: amount, ttlMs: bucket.ttlMs });
          else seed.value += amount;
        }
      }
    }
    await store.seed(now, [...seeds.values()], complete);
    return { seeded: seeds.size, reads: spans.size };
  }

  /** seedAll for the counter store to call when it finds its keys lost (or Redis back): logged, failures rethrown. */
  async reseed(): Promise<void> {
    try {
      const outcome = await this.seedAll();
      this.options.logger.warn(
        { ...outcome, counters: this.options.store.kind },
        'budget counters seeded again from the ledger (Redis lost them, or reconnected)',
      );
    } catch (error) {
      this.failed('reseed', error, 'budget counters cannot be seeded from the ledger; counting goes on from what the counters hold');
      throw error;
    }
  }
}

/**
 * Never stops the start: without the ledger's figures, counting starts from what the counter store holds (logged,
 * counted, and tried again until it succeeds).
 */
export async function seedAtStart(seeder: CounterSeeder, counters: string, logger: Logger): Promise<void> {
  const started = performance.now();
  try {
    const outcome = await seeder.seedAll();
    logger.info({ ...outcome, counters, ms: Math.round(performance.now() - started) }, 'budget counters seeded from the ledger');
  } catch (error) {
    seeder.failed('start', error, 'budget counters cannot be seeded from the ledger; counting starts from what the counters hold', {
      ms: Math.round(performance.now() - started),
    });
  }
}

/**
 * Counters a reload brings in (a new budget, template instance or rate limit, or a budget's new window) are seeded before
 * the snapshot that uses them is installed, from a ledger holding every call this process has finished.
 */
export async function seedAdded(
  seeder: CounterSeeder,
  ledger: { drain(): Promise<void> },
  before: readonly Budget[],
  after: readonly Budget[],
  logger: Logger,
): Promise<void> {
  const known = new Set(before.map((budget) => `${budget.id}\u0000${budget.window.kind}`));
  const added = after.filter((budget) => !known.has(`${budget.id}\u0000${budget.window.kind}`));
  if (added.length === 0) return;
  try {
    await ledger.drain();
    const outcome = await seeder.seed(added, false);
    logger.info({ ...outcome, budgets: added.map((budget) => budget.name) }, 'budget counters of added budgets seeded from the ledger');
  } catch (error) {
    seeder.failed('added', error, 'budget counters of added budgets cannot be seeded from the ledger', {
      budgets: added.map((budget) => budget.name),
    });
  }
}

/** The ledger-side twin of BudgetBook.for and coversTarget: whether the budget counted this call. */
function counts(budget: Budget, row: AdmittedUsageRow): boolean {
  const consumers = budget.consumers;
  if (consumers !== 'everyone') {
    if ('consumer' in consumers ? row.consumer !== consumers.consumer : row.team !== consumers.team) return false;
  }
  const resources = budget.resources;
  if (resources === 'any') return true;
  if ('model' in resources) return row.model === resources.model;
  if ('provider' in resources) return row.provider === resources.provider;
  return resourceId(row.provider, row.providerModel) === resources.resource;
}

/** As settlement counts it: total tokens are input + output; cost in micro-USD; a request per call. */
function amountOf(budget: Budget, row: AdmittedUsageRow): number {
  switch (budget.measure) {
    case 'input_tokens':
      return row.inputTokens;
    case 'output_tokens':
      return row.outputTokens;
    case 'total_tokens':
      return row.inputTokens + row.outputTokens;
    case 'requests':
      return row.calls;
    case 'cost_usd':
      return row.costMicroUsd;
  }
}
