// Stage 3: admission. The resource policy first (403 for a model whose every target is refused), then every budget and
// rate limit that applies: an estimate of the call (prompt tokens counted with the tokenizer, plus max_tokens or the
// default cap, and the searches its search tools may run, priced at the route's highest price) is reserved in all of
// them at once, or the call is refused (429) or downgraded. Contract: a reservation made here is returned to the
// handler, which always has it settled or given back (settle.ts) once the call is done.
import { SluiceError } from '../../errors.js';
import type { ChatRequest } from '../../ir/chat.js';
import type { EmbeddingsRequest } from '../../ir/embeddings.js';
import type { Usage } from '../../ir/usage.js';
import { CounterStoreUnavailable, type CounterLine, type ReserveOutcome } from '../../counters/counter-store.js';
import { costNanoUsd } from '../../metering/cost.js';
import { countEmbeddingTokens, countPromptTokens } from '../../metering/tokenizer.js';
import {
  bucketKey,
  counterKey,
  coversTarget,
  describeConsumers,
  describeResources,
  type Budget,
  type BudgetBook,
} from '../../policy/budgets.js';
import { mayUse, type Consumer } from '../../policy/consumers.js';
import type { Governance } from '../../policy/governance.js';
import type { WindowPosition } from '../../policy/windows.js';
import type { ModelRoute } from '../routing/model-routes.js';

/**
 * What a call holds while in flight, for settlement: compact, since a governed gateway holds one per open stream. The
 * counter lines themselves (eight objects, with a boxed double or three each) are built for the reservation and again
 * for settlement, and die young in between.
 */
export interface Reservation {
  budgets: readonly Budget[];
  /** Per budget, its counter keys in the window bucket the call was reserved in (shared by the bucket's calls). */
  keys: CounterKeys[];
  /** Per budget, FIGURES numbers: the previous bucket's weight, the amount reserved and the keys' time to live. */
  figures: number[];
  /**
   * Per budget, the window the call was reserved in, for settlement to raise the budget's alerts in (null for a budget
   * without alerts); null when no budget has alerts, as most have none.
   */
  positions: Array<WindowPosition | null> | null;
}

/** A reservation's figures per budget, and where each is. */
export const FIGURES = 3;
export const PREVIOUS_WEIGHT = 0;
export const AMOUNT = 1;
export const TTL_MS = 2;

export interface AdmissionPolicy {
  governance: Governance;
  budgets: BudgetBook;
  routes: ReadonlyMap<string, ModelRoute>;
  defaultMaxTokens: number;
  /** The uses reserved for a search tool the client set no bound on (`max_uses`, `max_tool_calls`). */
  defaultMaxSearches: number;
  /** `admission.unpriced: refuse`: a call an enforced cost budget cannot count (a target with no price) is a 403. */
  refuseUnpriced: boolean;
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
 * The route that will serve the call: the requested one, or the model a budget downgraded it to. Synchronous whenever
 * nothing needs waiting for: always when no budget applies and the model is not refused (the usual call), and for a
 * budgeted call when the counters are in memory and the tokenizer's tables are loaded. A refusal may be thrown.
 */
export function admit(policy: AdmissionPolicy, consumer: Consumer, requested: ModelRoute, demand: Demand): Admission | Promise<Admission> {
  if (requested.refusal === null && policy.budgets.for(consumer, requested).length === 0)
    return { route: requested, reservation: null, violations: null };
  return admitAgainstBudgets(policy, consumer, requested, demand, 0, -1);
}

/**
 * `route`: the requested model, or the `downgrades`th model a budget downgraded it to. `promptTokens`: -1 until counted
 * (only budgets that measure tokens or cost need the count).
 */
function admitAgainstBudgets(
  policy: AdmissionPolicy,
  consumer: Consumer,
  route: ModelRoute,
  demand: Demand,
  downgrades: number,
  promptTokens: number,
): Admission | Promise<Admission> {
  if (route.refusal !== null) throw new SluiceError('model_not_sanctioned', route.refusal, { param: 'model' });
  const budgets = policy.budgets.for(consumer, route);
  if (budgets.length === 0) return { route, reservation: null, violations: null };
  const unpriced = unpricedRefusal(policy, budgets, route);
  if (unpriced !== null) throw unpriced;
  if (promptTokens === -1 && countsTokens(budgets)) {
    const counted = countPrompt(demand);
    if (counted instanceof Promise)
      return counted.then((tokens) => admitAgainstBudgets(policy, consumer, route, demand, downgrades, tokens));
    promptTokens = counted;
  }
  const outputTokens = demand.chat !== null ? (demand.chat.maxTokens ?? policy.defaultMaxTokens) * (demand.chat.choices ?? 1) : 0;
  const now = policy.governance.clock.now();
  const { reservation, lines } = plan(policy, budgets, consumer, route, demand, now, Math.max(promptTokens, 0), outputTokens);
  let pending: ReserveOutcome | Promise<ReserveOutcome>;
  try {
    pending = policy.governance.store.reserve(now, lines);
  } catch (error) {
    return unmetered(policy, route, error);
  }
  if (pending instanceof Promise) {
    return pending.then(
      (outcome) => decide(policy, consumer, route, demand, downgrades, promptTokens, reservation, outcome, now),
      (error: unknown) => unmetered(policy, route, error),
    );
  }
  return decide(policy, consumer, route, demand, downgrades, promptTokens, reservation, pending, now);
}

/** Admitted, or downgraded to another model's admission, or refused (thrown). A function rather than a closure per call. */
function decide(
  policy: AdmissionPolicy,
  consumer: Consumer,
  route: ModelRoute,
  demand: Demand,
  downgrades: number,
  promptTokens: number,
  reservation: Reservation,
  outcome: ReserveOutcome,
  now: number,
): Admission | Promise<Admission> {
  const budgets = reservation.budgets;
  if (outcome.admitted) return { route, reservation, violations: violations(policy, consumer, demand, budgets, outcome) };
  const budget = budgets[outcome.refused]!;
  const downgrade = typeof budget.onExhausted === 'object' ? policy.routes.get(budget.onExhausted.downgrade) : undefined;
  // A downgrade the resource policy refuses (no target left), or one a cost budget could not count under
  // `admission.unpriced: refuse`, cannot serve the call: the budget that ran out is the answer, not a 403 about a model
  // the caller never asked for.
  if (
    downgrade !== undefined &&
    downgrade !== route &&
    downgrade.refusal === null &&
    downgrades < MAX_DOWNGRADES &&
    mayUse(consumer, downgrade.name) &&
    unpricedRefusal(policy, policy.budgets.for(consumer, downgrade), downgrade) === null
  )
    return admitAgainstBudgets(policy, consumer, downgrade, demand, downgrades + 1, promptTokens);
  policy.governance.refused(budget.name, budget.kind);
  throw refusal(budget, reservation, outcome, now);
}

/**
 * Under `admission.unpriced: refuse`, the 403 for a call to `route` that one of `budgets` (those applying to the caller)
 * could not count: an enforced cost budget covering a target with no price, whose calls it would count at $0. Null
 * otherwise, at once for the usual route, whose targets all have prices.
 */
export function unpricedRefusal(policy: AdmissionPolicy, budgets: readonly Budget[], route: ModelRoute): SluiceError | null {
  if (!policy.refuseUnpriced || route.unpricedTargets.length === 0) return null;
  for (const budget of budgets) {
    if (budget.measure !== 'cost_usd' || budget.mode !== 'enforce') continue;
    for (const target of route.unpricedTargets) {
      if (!coversTarget(budget.resources, target)) continue;
      return new SluiceError(
        'model_unpriced',
        `The model '${route.name}' cannot be served under budget '${budget.name}', which limits cost: ${target.provider.name}/${target.model} has no price, so the budget could not count the call. Ask an operator to give the model pricing.`,
        { param: 'model' },
      );
    }
  }
  return null;
}

/** Whether any of the budgets measures tokens or cost, for which the prompt is counted. */
function countsTokens(budgets: readonly Budget[]): boolean {
  for (const budget of budgets) if (budget.measure !== 'requests') return true;
  return false;
}

/** The monitor-mode budgets this admitted call took past their limits, each reported as a violation. */
function violations(
  policy: AdmissionPolicy,
  consumer: Consumer,
  demand: Demand,
  budgets: readonly Budget[],
  outcome: ReserveOutcome,
): string[] | null {
  let broken: string[] | null = null;
  for (let i = 0; i < budgets.length; i++) {
    const budget = budgets[i]!;
    if (budget.mode === 'monitor' && outcome.used[i]! > budget.limit) {
      (broken ??= []).push(budget.name);
      policy.governance.violation(budget.name, budget.kind, demand.requestId, consumer.name);
    }
  }
  return broken;
}

/** The counters could not be reached: the call goes through unmetered (fail-open) or is refused. */
function unmetered(policy: AdmissionPolicy, route: ModelRoute, error: unknown): Admission {
  if (!(error instanceof CounterStoreUnavailable)) throw error;
  if (policy.governance.failOpen) {
    policy.governance.counterTrouble('reserve', 'admitted_unmetered', error);
    return { route, reservation: null, violations: null };
  }
  policy.governance.counterTrouble('reserve', 'refused', error);
  throw new SluiceError(
    'counters_unavailable',
    error.reason === 'unseeded'
      ? 'Budgets cannot be checked right now (the counters are being restored); retry shortly.'
      : 'Budgets cannot be checked right now (the counter store is unreachable); retry shortly.',
  );
}

/** The prompt's tokens: synchronous once the tokenizer's tables are loaded. */
function countPrompt(demand: Demand): number | Promise<number> {
  if (demand.chat !== null) return countPromptTokens(demand.chat);
  if (demand.embeddings !== null) return countEmbeddingTokens(demand.embeddings);
  return 0;
}

/** The reservation, and the counter lines it is made in. */
interface Plan {
  reservation: Reservation;
  lines: CounterLine[];
}

/** A bound on the characters a model billed by the character may charge for: the texts' lengths, else 4 a token. */
function promptCharacters(demand: Demand, input: number): number {
  if (demand.embeddings === null) return input * 4;
  let characters = 0;
  for (const text of demand.embeddings.input) characters += typeof text === 'string' ? text.length : text.length * 4;
  return characters;
}

function plan(
  policy: AdmissionPolicy,
  budgets: readonly Budget[],
  consumer: Consumer,
  route: ModelRoute,
  demand: Demand,
  now: number,
  input: number,
  output: number,
): Plan {
  const lines: CounterLine[] = [];
  const keys: CounterKeys[] = [];
  const figures: number[] = [];
  let positions: Array<WindowPosition | null> | null = null;
  let cost = -1;
  for (let i = 0; i < budgets.length; i++) {
    const budget = budgets[i]!;
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
          const usage: Usage = {
            inputTokens: input,
            outputTokens: output,
            cachedInputTokens: 0,
            cacheWriteTokens: 0,
            reported: false,
            ...(route.reservePricing?.inputCharacters !== undefined && { billableCharacters: promptCharacters(demand, input) }),
          };
          // A call asking for a tier priced apart is reserved at that tier's prices, as it will be billed.
          const tier = demand.chat?.serviceTier;
          if (tier !== undefined) usage.serviceTier = tier;
          // So is a call asking to run US-only, at the multiple metering applies to what the answer says (cost.ts).
          if (demand.chat?.inferenceGeo !== undefined) usage.inferenceGeo = demand.chat.inferenceGeo;
          // The provider's searches are billed per use: as many as the client allowed, or the configured default.
          const searches = demand.chat?.searchTools;
          if (searches?.webSearches !== undefined) usage.webSearches = searches.webSearches ?? policy.defaultMaxSearches;
          if (searches?.fileSearches !== undefined) usage.fileSearches = searches.fileSearches ?? policy.defaultMaxSearches;
          cost = costNanoUsd(usage, route.reservePricing) ?? 0;
        }
        amount = cost;
        break;
    }
    const position = budget.window.position(now);
    const budgetKeys = counterKeys(budget, consumer, position);
    if (budget.alerts.length > 0) (positions ??= new Array<WindowPosition | null>(budgets.length).fill(null))[i] = position;
    keys.push(budgetKeys);
    figures.push(position.previousWeight, amount, position.ttlMs);
    lines.push({
      key: budgetKeys.key,
      previousKey: budgetKeys.previousKey,
      previousWeight: position.previousWeight,
      limit: budget.limit,
      amount,
      enforce: budget.mode === 'enforce',
      ttlMs: position.ttlMs,
    });
  }
  return { reservation: { budgets, keys, figures, positions }, lines };
}

/** A budget's counter keys for one consumer (every consumer, unless the budget is per consumer) in one window bucket. */
export interface CounterKeys {
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
  const amount = reservation.figures[outcome.refused * FIGURES + AMOUNT]!;
  if (amount > budget.limit) return neverFits(budget, amount);
  const used = outcome.used[outcome.refused]!;
  // Every store tells the buckets apart; were one not to, all of the usage is taken as the current bucket's, which
  // rolls off last, so the wait is never too early.
  const buckets = outcome.refusedBuckets ?? { current: used, previous: 0 };
  const resetMs = Math.max(0, budget.window.resetInMs(now, buckets.previous, buckets.current, amount, budget.limit));
  const retryAfter = Math.max(1, Math.ceil(resetMs / 1000));
  const unit = UNIT[budget.measure];
  const remaining = Math.max(0, budget.limit - used);
  const format = (value: number) => (unit === 'usd' ? usdFigure(value) : String(Math.floor(value)));
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
  const message = `${what} has ${format(remaining)} of ${format(budget.limit)} ${unit === 'usd' ? 'USD' : unit} left; this call needs up to ${format(amount)}. Retry after ${retryAfter} s.`;
  return new SluiceError(budget.kind === 'rate_limit' ? 'rate_limited' : 'budget_exhausted', message, { headers });
}

/**
 * A call whose reservation alone is more than the budget's whole limit: no window, however empty, admits it, so a 429
 * with a Retry-After would only have SDKs retry it in vain (they retry 408, 409, 429 and 5xx). A 400 says the request
 * itself must change, and how.
 */
function neverFits(budget: Budget, amount: number): SluiceError {
  const unit = UNIT[budget.measure];
  const format = (value: number) => (unit === 'usd' ? usdFigure(value) : String(Math.floor(value)));
  const what =
    budget.kind === 'rate_limit'
      ? `rate limit '${budget.name}' (${budget.measure === 'requests' ? 'requests' : 'tokens'} per minute)`
      : `budget '${budget.name}' (${budget.measure} per ${budget.window.kind})`;
  const message = `This call's reservation of ${format(amount)} ${unit === 'usd' ? 'USD' : unit} exceeds the whole limit of ${format(budget.limit)} ${unit === 'usd' ? 'USD' : unit} of ${what}: it can never fit, so retrying will not help. ${HOW_TO_FIT[budget.measure]}`;
  const param =
    budget.measure === 'output_tokens' || budget.measure === 'total_tokens' || budget.measure === 'cost_usd' ? 'max_tokens' : null;
  return new SluiceError('reservation_exceeds_budget', message, { param, headers: { 'x-sluice-budget': budget.name } });
}

const HOW_TO_FIT: Record<Budget['measure'], string> = {
  input_tokens: 'To fit, shorten the input (the reservation counts its tokens).',
  output_tokens: 'To fit, lower max_tokens (the reservation counts max_tokens, times n).',
  total_tokens: "To fit, lower max_tokens (the reservation counts the prompt's tokens plus max_tokens) or shorten the prompt.",
  cost_usd:
    "To fit, lower max_tokens or the search tools' max uses, shorten the prompt, or use a cheaper model (the reservation prices the prompt, max_tokens and every search allowed at the model's highest price).",
  requests: 'The limit admits no call at all; ask an operator to raise it.',
};

/**
 * Nano-USD (a cost budget's counter unit) as USD in a header or message: six decimals as before costs were counted to the
 * nano-USD ("0.001200"), and up to nine where a figure has less than a micro-USD in it ("0.00000198"), so a budget of
 * tiny calls never reads "0.000000 left" while it has room.
 */
export function usdFigure(nanoUsd: number): string {
  const text = (Math.max(0, nanoUsd) / 1e9).toFixed(9);
  let end = text.length;
  while (end > text.length - 3 && text[end - 1] === '0') end--;
  return text.slice(0, end);
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
