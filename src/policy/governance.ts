// What admission and settlement share for the gateway's life: the counter store and its fail mode, the clock,
// the alerts, and the metrics and log lines of refusals, violations and counter trouble.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { CounterStoreUnavailable, type CounterStore, type CounterTroubleReason } from '../counters/counter-store.js';
import type { Budget } from './budgets.js';
import type { Clock } from './clock.js';
import type { WindowPosition } from './windows.js';

/** At most one log line per this interval about an unreachable counter store: an outage must not flood the log. */
const OUTAGE_LOG_INTERVAL_MS = 10_000;

/** The alarm's words for what failed, and its `cause` field: Redis itself, or the seeding of lost counters from the ledger. */
const TROUBLE: Record<CounterTroubleReason, { words: string; cause: string }> = {
  unreachable: { words: 'counters unreachable', cause: 'redis_unreachable' },
  unseeded: { words: 'counters lost and not re-seeded from the ledger', cause: 'seeding_failed' },
};

const CONSEQUENCE = {
  admitted_unmetered: 'calls admitted without budget checks (fail-open)',
  refused: 'calls refused (fail-closed)',
  lost: 'usage not counted',
} as const;

/** What governance needs of the budget alerts (src/alerts/budget-alerts.ts implements it; policy does not import alerts). */
export interface ThresholdAlerts {
  /** After a settlement, with the window's usage: a promise only when a threshold is newly reached. */
  check(now: number, budget: Budget, counter: string, position: WindowPosition, used: number): Promise<void> | undefined;
  close(): Promise<void>;
}

export class Governance {
  readonly store: CounterStore;
  readonly failOpen: boolean;
  readonly clock: Clock;
  readonly alerts: ThresholdAlerts;
  readonly logger: Logger;
  private readonly refusals: Counter<'budget' | 'kind'>;
  private readonly violations: Counter<'policy' | 'kind'>;
  private readonly counterFailures: Counter<'operation' | 'outcome'>;
  /** Per reason, when it was last logged: a seeding failure's alarm is not hidden by an outage's, nor the reverse. */
  private readonly lastOutageLog: Record<CounterTroubleReason, number>;
  /** Per policy broken in monitor mode: when it was last logged, and how many since went unlogged. Keys are config names. */
  private readonly violationLog: Map<string, { at: number; unlogged: number }>;

  constructor(options: {
    store: CounterStore;
    failOpen: boolean;
    clock: Clock;
    alerts: ThresholdAlerts;
    logger: Logger;
    registry: Registry;
  }) {
    this.store = options.store;
    this.failOpen = options.failOpen;
    this.clock = options.clock;
    this.alerts = options.alerts;
    this.logger = options.logger;
    this.lastOutageLog = { unreachable: 0, unseeded: 0 };
    this.violationLog = new Map();
    const registers = [options.registry];
    this.refusals = new Counter({
      name: 'sluice_budget_refusals_total',
      help: 'Calls refused by an enforced budget or rate limit',
      labelNames: ['budget', 'kind'],
      registers,
    });
    this.violations = new Counter({
      name: 'sluice_policy_violations_total',
      help: 'Calls that broke a policy in monitor mode (served anyway)',
      labelNames: ['policy', 'kind'],
      registers,
    });
    this.counterFailures = new Counter({
      name: 'sluice_counter_store_failures_total',
      help: 'Counter store operations that failed (Redis unreachable or slow, or lost counters not re-seeded from the ledger); outcome says whether the call was admitted unmetered or refused',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    const store = this.store;
    new Gauge({
      name: 'sluice_counter_store_up',
      help: '1 while the counter store answers (always 1 in memory)',
      registers,
      collect() {
        this.set('available' in store && (store as { available: boolean }).available === false ? 0 : 1);
      },
    });
  }

  refused(budget: string, kind: string): void {
    this.refusals.labels(budget, kind).inc();
  }

  /**
   * A call broke a policy in monitor mode and is served. The metric counts each one and the ledger row records it; the log
   * says so at most once per interval per policy, with how many it left out since, so a key holder cannot flood it.
   */
  violation(policy: string, kind: 'budget' | 'rate_limit' | 'resource', requestId: string, consumer: string | null): void {
    this.violations.labels(policy, kind).inc();
    const key = `${kind}\u0000${policy}`;
    const now = Date.now();
    const last = this.violationLog.get(key);
    if (last !== undefined && now - last.at < OUTAGE_LOG_INTERVAL_MS) {
      last.unlogged++;
      return;
    }
    const unlogged = last?.unlogged ?? 0;
    this.violationLog.set(key, { at: now, unlogged: 0 });
    this.logger.warn(
      { requestId, consumer, policy, kind, ...(unlogged > 0 ? { alsoSinceLastLine: unlogged } : {}) },
      'policy violation (monitor mode: the call is served)',
    );
  }

  /**
   * A counter operation failed; the log says so at most once per interval per reason (Redis unreachable, or the counters
   * not re-seeded from the ledger), naming which, and the metric counts every one.
   */
  counterTrouble(operation: 'reserve' | 'settle' | 'alert', outcome: keyof typeof CONSEQUENCE, error: Error): void {
    this.counterFailures.labels(operation, outcome).inc();
    const reason = error instanceof CounterStoreUnavailable ? error.reason : 'unreachable';
    const now = Date.now();
    if (now - this.lastOutageLog[reason] < OUTAGE_LOG_INTERVAL_MS) return;
    this.lastOutageLog[reason] = now;
    const trouble = TROUBLE[reason];
    this.logger.error(
      { store: this.store.kind, operation, outcome, cause: trouble.cause, err: error.message },
      `ALARM: ${trouble.words}, ${CONSEQUENCE[outcome]}`,
    );
  }

  async close(): Promise<void> {
    await this.alerts.close();
    await this.store.close();
  }
}
