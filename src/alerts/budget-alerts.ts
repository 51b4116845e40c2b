// Threshold alerts of budgets: one event per threshold per window (across replicas, claimed in the counter store),
// sent as a structured log line, a metric and a signed POST to every configured webhook.
import { randomUUID } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { CounterStore } from '../counters/counter-store.js';
import { describeConsumers, describeResources, type Budget } from '../policy/budgets.js';
import type { ThresholdAlerts } from '../policy/governance.js';
import type { WindowPosition } from '../policy/windows.js';
import type { BudgetAlert } from './alert-event.js';
import type { WebhookNotifier } from './webhooks.js';

/** Local memory of thresholds already claimed, so a budget past 80% does not ask the store on every call. */
const MAX_REMEMBERED = 100_000;

export class BudgetAlerts implements ThresholdAlerts {
  private readonly store: CounterStore;
  private readonly notifier: WebhookNotifier | null;
  private readonly logger: Logger;
  private readonly sent: Counter<'budget' | 'threshold'>;
  /** alert key -> when its window ends (ms). */
  private readonly claimed: Map<string, number>;

  constructor(options: { store: CounterStore; notifier: WebhookNotifier | null; logger: Logger; registry: Registry }) {
    this.store = options.store;
    this.notifier = options.notifier;
    this.logger = options.logger;
    this.claimed = new Map();
    this.sent = new Counter({
      name: 'sluice_budget_alerts_total',
      help: 'Budget threshold alerts raised (one per threshold per window)',
      labelNames: ['budget', 'threshold'],
      registers: [options.registry],
    });
  }

  /**
   * Called after a settlement with the window's usage; raises every threshold now reached and not yet raised in this
   * window. Returns a promise only when the store must be asked (a threshold newly reached).
   */
  check(now: number, budget: Budget, counter: string, position: WindowPosition, used: number): Promise<void> | undefined {
    if (budget.alerts.length === 0) return undefined;
    let pending: Promise<void>[] | undefined;
    for (const threshold of budget.alerts) {
      if (used < (budget.limit * threshold) / 100) break;
      // Rolling windows have no fixed start: one alert per threshold per window length.
      const key = `alert:${counter}:${position.bucket}:${threshold}`;
      const until = this.claimed.get(key);
      if (until !== undefined && until > now) continue;
      if (this.claimed.size >= MAX_REMEMBERED) this.claimed.clear();
      this.claimed.set(key, now + position.ttlMs);
      (pending ??= []).push(this.claim(now, key, position, budget, threshold, used));
    }
    return pending === undefined ? undefined : Promise.all(pending).then(() => undefined);
  }

  private async claim(now: number, key: string, position: WindowPosition, budget: Budget, threshold: number, used: number): Promise<void> {
    if (!(await this.store.claim(now, key, position.ttlMs))) return;
    // USD for cost_usd, whose counters count nano-USD (divided, so 1,200,000 reads 0.0012, not 0.0012000000000000001).
    const perUnit = budget.measure === 'cost_usd' ? 1e9 : 1;
    const event: BudgetAlert = {
      id: randomUUID(),
      type: 'budget.threshold_crossed',
      at: new Date(now).toISOString(),
      budget: budget.name,
      template: budget.template,
      consumers: describeConsumers(budget.consumers),
      resources: describeResources(budget.resources),
      measure: budget.measure,
      mode: budget.mode,
      thresholdPercent: threshold,
      limit: budget.limit / perUnit,
      used: Math.round(used) / perUnit,
      window: { kind: budget.window.kind, start: new Date(position.start).toISOString(), end: new Date(position.end).toISOString() },
    };
    this.sent.labels(budget.name, String(threshold)).inc();
    this.logger.warn({ alert: event }, `budget ${budget.name} reached ${threshold}% of its limit`);
    this.notifier?.send(event);
  }

  async close(): Promise<void> {
    await this.notifier?.close();
  }
}
