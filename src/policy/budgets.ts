// Budgets as the gateway enforces them: explicit budgets, template instances (one per matching consumer) and rate
// limits, compiled once per config into one list, with the look-up of which apply to a consumer calling a model.
import type {
  BudgetConfig,
  BudgetTemplateConfig,
  ConsumerScope,
  Measure,
  RateLimitConfig,
  ResourceScope,
  TemplateSelector,
} from '../config/governance-schema.js';
import { createHash } from 'node:crypto';
import type { Consumer } from './consumers.js';
import { budgetWindow, type BudgetWindow } from './windows.js';

export type ExhaustedAction = 'refuse' | { downgrade: string };

/** What budget scopes read of a routing target; the gateway's Target (gateway/routing/model-routes.ts) has it and more. */
export interface Target {
  provider: { readonly name: string };
  resource: { readonly id: string };
}

/** A target with its provider's model and price (undefined: none known), as the gateway's routing table has it. */
export interface PricedTarget extends Target {
  model: string;
  pricing: object | undefined;
}

/** What budget scopes read of a model's route; the gateway's ModelRoute has it and more. */
export interface ModelRoute {
  name: string;
  /** Every configured target, refused ones included. */
  configuredTargets: readonly Target[];
}

export interface Budget {
  /**
   * Identity in counter keys: the budget's name and a digest of what it counts (measure, consumer and resource scope;
   * countedTerms). Usage survives edits of the limit, mode, alerts or downgrade; a reload that changes what is counted
   * gets a new counter, seeded from the ledger, never the old one read in another unit or over another scope.
   */
  readonly id: string;
  /** As users see it: the budget's name; "<template>/<consumer>" for a template's instance. */
  readonly name: string;
  readonly kind: 'budget' | 'rate_limit';
  readonly template: string | null;
  readonly consumers: ConsumerScope;
  readonly resources: ResourceScope;
  readonly measure: Measure;
  /** In counter units: tokens, requests, or nano-USD for cost_usd (costLimitNanoUsd). */
  readonly limit: number;
  readonly window: BudgetWindow;
  readonly mode: 'monitor' | 'enforce';
  /** Alert thresholds in percent, ascending. */
  readonly alerts: readonly number[];
  readonly onExhausted: ExhaustedAction;
  /** Rate limits `per: consumer`: each consumer in scope has its own counter. */
  readonly perConsumer: boolean;
}

/** Everything the compiler needs to know of a consumer. */
export type BudgetSubject = Pick<Consumer, 'name' | 'team' | 'labels'>;

export function compileBudgets(
  budgets: readonly BudgetConfig[],
  templates: readonly BudgetTemplateConfig[],
  rateLimits: readonly RateLimitConfig[],
  consumers: readonly BudgetSubject[],
): Budget[] {
  const out: Budget[] = budgets.map((config) =>
    fromTerms(
      `budget:${config.name}:${countedTerms(config.measure, config.consumers, config.resources)}`,
      config.name,
      'budget',
      null,
      config.consumers,
      config,
    ),
  );
  for (const template of templates) {
    for (const consumer of consumers) {
      if (!selects(template.selector, consumer)) continue;
      // An explicit budget of the same consumer, resources, measure and window replaces the template's for it.
      const overridden = budgets.some(
        (budget) =>
          typeof budget.consumers === 'object' &&
          'consumer' in budget.consumers &&
          budget.consumers.consumer === consumer.name &&
          sameTerms(budget, template),
      );
      if (overridden) continue;
      out.push(
        fromTerms(
          `template:${template.name}:${consumer.name}:${countedTerms(template.measure, { consumer: consumer.name }, template.resources)}`,
          `${template.name}/${consumer.name}`,
          'budget',
          template.name,
          { consumer: consumer.name },
          template,
        ),
      );
    }
  }
  for (const limit of rateLimits) {
    const common = {
      kind: 'rate_limit' as const,
      template: null,
      consumers: limit.consumers,
      resources: limit.resources,
      window: budgetWindow({ rolling: '1m' }),
      mode: limit.mode,
      alerts: [],
      onExhausted: 'refuse' as const,
      perConsumer: limit.per === 'consumer',
    };
    const scope = countedTerms(limit.per, limit.consumers, limit.resources);
    if (limit.tokensPerMinute !== undefined) {
      out.push({
        ...common,
        id: `rate:${limit.name}:tokens:${scope}`,
        name: limit.name,
        measure: 'total_tokens',
        limit: limit.tokensPerMinute,
      });
    }
    if (limit.requestsPerMinute !== undefined) {
      out.push({
        ...common,
        id: `rate:${limit.name}:requests:${scope}`,
        name: limit.name,
        measure: 'requests',
        limit: limit.requestsPerMinute,
      });
    }
  }
  return out;
}

/**
 * A short digest of what a counter counts: a measure (for a rate limit, whether per consumer), and the consumer and
 * resource scope. Worked out once per compile, never per call.
 */
function countedTerms(measure: string, consumers: ConsumerScope, resources: ResourceScope): string {
  // cost_usd counts nano-USD since migration 22, where it counted micro-USD: its counters are new ones, seeded from the
  // ledger in nano-USD, never a counter an earlier version (or one still running beside this one) filled in micro-USD.
  return createHash('sha256')
    .update(JSON.stringify([measure === 'cost_usd' ? 'cost_usd:nano' : measure, consumers, resources]))
    .digest('base64url')
    .slice(0, 10);
}

type Terms = Pick<BudgetConfig, 'resources' | 'measure' | 'limit' | 'window' | 'mode' | 'alerts' | 'onExhausted'>;

function fromTerms(
  id: string,
  name: string,
  kind: Budget['kind'],
  template: string | null,
  consumers: ConsumerScope,
  terms: Terms,
): Budget {
  return {
    id,
    name,
    kind,
    template,
    consumers,
    resources: terms.resources,
    measure: terms.measure,
    limit: terms.measure === 'cost_usd' ? costLimitNanoUsd(terms.limit) : terms.limit,
    window: budgetWindow(terms.window),
    mode: terms.mode,
    alerts: [...terms.alerts].sort((a, b) => a - b),
    onExhausted: terms.onExhausted,
    perConsumer: false,
  };
}

function sameTerms(a: Terms, b: Terms): boolean {
  return (
    JSON.stringify(a.resources) === JSON.stringify(b.resources) &&
    a.measure === b.measure &&
    JSON.stringify(a.window) === JSON.stringify(b.window)
  );
}

function selects(selector: TemplateSelector, consumer: BudgetSubject): boolean {
  if (selector === 'everyone') return true;
  if ('team' in selector) return consumer.team === selector.team;
  return Object.entries(selector.labels).every(([key, value]) => consumer.labels[key] === value);
}

function coversConsumer(scope: ConsumerScope, consumer: BudgetSubject): boolean {
  if (scope === 'everyone') return true;
  if ('consumer' in scope) return consumer.name === scope.consumer;
  return consumer.team === scope.team;
}

/** Whether a call on this route may be counted by the budget: for provider and resource scopes, any target may serve it. */
function coversRoute(scope: ResourceScope, route: ModelRoute): boolean {
  if (scope === 'any') return true;
  if ('model' in scope) return route.name === scope.model;
  return route.configuredTargets.some((target) => coversTarget(scope, target));
}

/** Whether the target that served the call is one the budget counts (model and any scopes: every target of the route). */
export function coversTarget(scope: ResourceScope, target: Target): boolean {
  if (scope === 'any' || 'model' in scope) return true;
  if ('provider' in scope) return target.provider.name === scope.provider;
  return target.resource.id === scope.resource;
}

/** A target with no price that a cost budget covers: its calls cost nothing as far as the budget can tell. */
export interface UnpricedUnderBudget {
  budget: string;
  model: string;
  target: string;
  /** The budget enforces its limit (under `admission.unpriced: refuse` its calls to the target are refused). */
  enforced: boolean;
}

/**
 * The targets cost budgets cover that have neither a catalog price nor `pricing`: their calls are counted at $0 (the
 * ledger marks them unpriced), so such a budget does not hold them back. Found at start and reload, never per call.
 */
export function unpricedUnderCostBudgets(
  budgets: readonly Budget[],
  routes: ReadonlyMap<string, { name: string; configuredTargets: ReadonlyArray<PricedTarget> }>,
): UnpricedUnderBudget[] {
  const found: UnpricedUnderBudget[] = [];
  const seen = new Set<string>();
  for (const budget of budgets) {
    if (budget.measure !== 'cost_usd') continue;
    for (const route of routes.values()) {
      if (!coversRoute(budget.resources, route)) continue;
      for (const target of route.configuredTargets) {
        if (target.pricing !== undefined || !coversTarget(budget.resources, target)) continue;
        // A template's instances share their template's terms: one line for the template, not one per consumer.
        const name = budget.template ?? budget.name;
        const line = {
          budget: name,
          model: route.name,
          target: `${target.provider.name}/${target.model}`,
          enforced: budget.mode === 'enforce',
        };
        const key = JSON.stringify(line);
        if (seen.has(key)) continue;
        seen.add(key);
        found.push(line);
      }
    }
  }
  return found;
}

/** A cost_usd limit in USD as its counters count it: whole nano-USD (src/metering/cost.ts). */
export function costLimitNanoUsd(limitUsd: number): number {
  return Math.round(limitUsd * 1e9);
}

/** The budget's counter for this consumer: shared by its whole scope unless the budget counts per consumer. */
export function counterKey(budget: Budget, consumer: Pick<BudgetSubject, 'name'>): string {
  return budget.perConsumer ? `${budget.id}:${consumer.name}` : budget.id;
}

/** The key of one window bucket of a counter (windows.ts names the bucket): what admission reserves in, and seeding fills. */
export function bucketKey(counter: string, bucket: string): string {
  return `${counter}:${bucket}`;
}

/** Describes scopes for messages and alerts. */
export function describeConsumers(scope: ConsumerScope): string {
  if (scope === 'everyone') return 'everyone';
  return 'consumer' in scope ? `consumer ${scope.consumer}` : `team ${scope.team}`;
}

export function describeResources(scope: ResourceScope): string {
  if (scope === 'any') return 'any model';
  if ('model' in scope) return `model ${scope.model}`;
  if ('provider' in scope) return `provider ${scope.provider}`;
  return `resource ${scope.resource}`;
}

/** The compiled budgets and, per consumer and model, the ones that apply: built on first use, kept until the next reload. */
export class BudgetBook {
  readonly budgets: readonly Budget[];
  private readonly applicable: WeakMap<Consumer, Map<string, readonly Budget[]>>;

  constructor(budgets: readonly Budget[]) {
    this.budgets = budgets;
    this.applicable = new WeakMap();
  }

  for(consumer: Consumer, route: ModelRoute): readonly Budget[] {
    let byModel = this.applicable.get(consumer);
    if (byModel === undefined) this.applicable.set(consumer, (byModel = new Map()));
    let found = byModel.get(route.name);
    if (found === undefined) {
      found = this.budgets.filter((budget) => coversConsumer(budget.consumers, consumer) && coversRoute(budget.resources, route));
      byModel.set(route.name, found);
    }
    return found;
  }
}
