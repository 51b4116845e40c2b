// Stage 3: admission. The resource policy first (403 for a model whose every target is refused), then every budget and
// rate limit that applies: an estimate of the call (prompt tokens counted with the tokenizer, plus max_tokens or the
// default cap, priced at the route's highest price) is reserved in all of them at once, or the call is refused (429) or
// downgraded. Contract: a reservation made here is returned to the handler, which always has it settled or given back
// (settle.ts) once the call is done.
import { SluiceError } from '../../errors.js';
import type { ChatRequest } from '../../ir/chat.js';
import type { EmbeddingsRequest } from '../../ir/embeddings.js';
import { CounterStoreUnavailable, type CounterLine, type ReserveOutcome } from '../../counters/counter-store.js';
import { costMicroUsd } from '../../metering/cost.js';
import { estimateEmbeddingTokens, estimatePromptTokens } from '../../metering/tokenizer.js';
import { bucketKey, counterKey, describeConsumers, describeResources, type Budget, type BudgetBook } from '../../policy/budgets.js';
import { mayUse, type Consumer } from '../../policy/consumers.js';
import type { Governance } from '../../policy/governance.js';
import type { WindowPosition } from '../../policy/windows.js';
import type { ModelRoute } from '../routing/model-routes.js';

export interface Reservation {
  budgets: readonly Budget[];
  lines: CounterLine[];
  positions: WindowPosition[];
  counters: string[];
}

export interface AdmissionPolicy {
  governance: Governance;
  budgets: BudgetBook;
  routes: ReadonlyMap<string, ModelRoute>;
  defaultMaxTokens: number;
}

/** What admission produced: the route that serves the call, what it reserved, and the monitor-mode budgets it broke. */
export interface Admission {
  route: ModelRoute;
  /** Null when no budget applies, or the counters were unreachable and the call was let through unmetered. */
  reservation: Reservation | null;
  violations: string[] | null;
}

/** What admission reads of the call. */
export interface Demand {
  readonly requestId: string;
  readonly chat: ChatRequest | null;
  readonly embeddings: EmbeddingsRequest | null;
}

/** A downgrade may lead to a model with its own exhausted budget and downgrade; the chain is cut after this many. */
const MAX_DOWNGRADES = 3;

/**
 * The route that will serve the call: the requested one, or the model a budget downgraded it to. Synchronous when no
 * budget applies and the model is not refused (the usual call): no promise on the busiest path.
 */
export function admit(policy: AdmissionPolicy, consumer: Consumer, requested: ModelRoute, demand: Demand): Admission | Promise<Admission> {
  if (requested.refusal === null && policy.budgets.for(consumer, requested).length === 0)
    return { route: requested, reservation: null, violations: null };
  return admitAgainstBudgets(policy, consumer, requested, demand);
}

async function admitAgainstBudgets(policy: AdmissionPolicy, consumer: Consumer, requested: ModelRoute, demand: Demand): Promise<Admission> {
  let route = requested;
  let promptTokens = -1;
  for (let downgrades = 0; ; downgrades++) {
    if (route.refusal !== null) throw new SluiceError('model_not_sanctioned', route.refusal, { param: 'model' });
    const budgets = policy.budgets.for(consumer, route);
    if (budgets.length === 0) return { route, reservation: null, violations: null };
    if (promptTokens === -1 && budgets.some((budget) => budget.measure !== 'requests')) promptTokens = await countPrompt(demand);
    const outputTokens = demand.chat !== null ? (demand.chat.maxTokens ?? policy.defaultMaxTokens) : 0;
    const now = policy.governance.clock.now();
    const reservation = plan(budgets, consumer, route, now, Math.max(promptTokens, 0), outputTokens);
    let outcome: ReserveOutcome;
    try {
      const pending = policy.governance.store.reserve(now, reservation.lines);
      outcome = pending instanceof Promise ? await pending : pending;
    } catch (error) {
      if (!(error instanceof CounterStoreUnavailable)) throw error;
      if (policy.governance.failOpen) {
        policy.governance.counterTrouble('reserve', 'admitted_unmetered', error);
        return { route, reservation: null, violations: null };
      }
      policy.governance.counterTrouble('reserve', 'refused', error);
      throw new SluiceError(
        'counters_unavailable',
        'Budgets cannot be checked right now (the counter store is unreachable); retry shortly.',
      );
    }
    if (outcome.admitted) {
      let violations: string[] | null = null;
      for (let i = 0; i < budgets.length; i++) {
        const budget = budgets[i]!;
        if (budget.mode === 'monitor' && outcome.used[i]! > budget.limit) {
          (violations ??= []).push(budget.name);
          policy.governance.violation(budget.name, budget.kind, demand.requestId, consumer.name);
        }
      }
      return { route, reservation, violations };
    }
    const budget = budgets[outcome.refused]!;
    const downgrade = typeof budget.onExhausted === 'object' ? policy.routes.get(budget.onExhausted.downgrade) : undefined;
    if (downgrade !== undefined && downgrade !== route && downgrades < MAX_DOWNGRADES && mayUse(consumer, downgrade.name)) {
      route = downgrade;
      continue;
    }
    policy.governance.refused(budget.name, budget.kind);
    throw refusal(budget, reservation, outcome, now);
  }
}

async function countPrompt(demand: Demand): Promise<number> {
  if (demand.chat !== null) return estimatePromptTokens(demand.chat);
  if (demand.embeddings !== null) return estimateEmbeddingTokens(demand.embeddings);
  return 0;
}

function plan(budgets: readonly Budget[], consumer: Consumer, route: ModelRoute, now: number, input: number, output: number): Reservation {
  const lines: CounterLine[] = [];
  const positions: WindowPosition[] = [];
  const counters: string[] = [];
  let cost = -1;
  for (const budget of budgets) {
    let amount: number;
    switch (budget.measure) {
      case 'input_tokens':
        amount = input;
        break;
      case 'output_tokens':
        amount = output;
        break;
      case 'total_tokens':
        amount = input + output;
        break;
      case 'requests':
        amount = 1;
        break;
      case 'cost_usd':
        if (cost === -1) {
          cost =
            costMicroUsd(
              { inputTokens: input, outputTokens: output, cachedInputTokens: 0, cacheWriteTokens: 0, reported: false },
              route.reservePricing,
            ) ?? 0;
        }
        amount = cost;
        break;
    }
    const position = budget.window.position(now);
    const keys = counterKeys(budget, consumer, position);
    positions.push(position);
    counters.push(keys.counter);
    lines.push({
      key: keys.key,
      previousKey: keys.previousKey,
      previousWeight: position.previousWeight,
      limit: budget.limit,
      amount,
      enforce: budget.mode === 'enforce',
      ttlMs: position.ttlMs,
    });
  }
  return { budgets, lines, positions, counters };
}

/** A budget's counter keys for one consumer (every consumer, unless the budget is per consumer) in one window bucket. */
interface CounterKeys {
  counter: string;
  bucket: string;
  key: string;
  previousKey: string | null;
}

/**
 * The keys last built, per budget and consumer, kept while the window's bucket lasts: the counter store looks each key up
 * a few times per call, and a string built anew is hashed anew at every lookup, where a kept one keeps its hash. Per
 * budget object, so a reload's new budgets start afresh and the old ones' keys go with them.
 */
const keptKeys = new WeakMap<Budget, Map<string, CounterKeys>>();

function counterKeys(budget: Budget, consumer: Consumer, position: WindowPosition): CounterKeys {
  let byConsumer = keptKeys.get(budget);
  if (byConsumer === undefined) keptKeys.set(budget, (byConsumer = new Map()));
  const who = budget.perConsumer ? consumer.name : '';
  let keys = byConsumer.get(who);
  if (keys === undefined || keys.bucket !== position.bucket) {
    const counter = counterKey(budget, consumer);
    keys = {
      counter,
      bucket: position.bucket,
      key: bucketKey(counter, position.bucket),
      previousKey: position.previousBucket === null ? null : bucketKey(counter, position.previousBucket),
    };
    byConsumer.set(who, keys);
  }
  return keys;
}

const UNIT: Record<Budget['measure'], string> = {
  input_tokens: 'tokens',
  output_tokens: 'tokens',
  total_tokens: 'tokens',
  requests: 'requests',
  cost_usd: 'usd',
};

function refusal(budget: Budget, reservation: Reservation, outcome: ReserveOutcome, now: number): SluiceError {
  const line = reservation.lines[outcome.refused]!;
  const used = outcome.used[outcome.refused]!;
  const resetMs = Math.max(0, budget.window.resetInMs(now, used, line.amount, budget.limit));
  const retryAfter = Math.max(1, Math.ceil(resetMs / 1000));
  const scale = budget.measure === 'cost_usd' ? 1 / 1_000_000 : 1;
  const unit = UNIT[budget.measure];
  const remaining = Math.max(0, budget.limit - used);
  const format = (value: number) => (budget.measure === 'cost_usd' ? (value * scale).toFixed(6) : String(Math.floor(value)));
  const headers: Record<string, string> = {
    'retry-after': String(retryAfter),
    [`x-ratelimit-limit-${unit}`]: format(budget.limit),
    [`x-ratelimit-remaining-${unit}`]: format(remaining),
    [`x-ratelimit-reset-${unit}`]: duration(resetMs),
    'x-sluice-budget': budget.name,
  };
  const what =
    budget.kind === 'rate_limit'
      ? `Rate limit '${budget.name}' (${budget.measure === 'requests' ? 'requests' : 'tokens'} per minute, ${describeConsumers(budget.consumers)}, ${describeResources(budget.resources)})`
      : `Budget '${budget.name}' (${budget.measure} per ${budget.window.kind}, ${describeConsumers(budget.consumers)}, ${describeResources(budget.resources)})`;
  const message = `${what} has ${format(remaining)} of ${format(budget.limit)} ${unit === 'usd' ? 'USD' : unit} left; this call needs up to ${format(line.amount)}. Retry after ${retryAfter} s.`;
  return new SluiceError(budget.kind === 'rate_limit' ? 'rate_limited' : 'budget_exhausted', message, { headers });
}

/** OpenAI's x-ratelimit-reset format: "1s", "6m0s", "2h3m4s", "20ms". */
function duration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  let seconds = Math.ceil(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  return hours > 0 ? `${hours}h${minutes}m${seconds}s` : minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}
