// A stored budget's usage so far in its current window, from the rollups, and its projected burn-down (burn-down.ts).
import type { BudgetConfig, Measure } from '../../config/governance-schema.js';
import { microFromNano } from '../../metering/cost.js';
import { costLimitNanoUsd } from '../../policy/budgets.js';
import { budgetWindow } from '../../policy/windows.js';
import type { AnalyticsStore, UsageFilter, UsageTotals } from '../../store/analytics-store.js';
import { ApiError } from '../errors.js';
import { burnDown, type BurnDown } from './burn-down.js';
import { HOUR_MS, hourCeil, hourFloor } from './calendar.js';

export interface BudgetBurnDown extends BurnDown {
  /** The window the usage is counted in (rolling: the last window length, rounded out to whole hours). */
  window: { kind: string; start: number; end: number };
  /**
   * What the figures count: tokens, requests, or nano-USD for cost_usd, as the gateway's counters count it (the API shows
   * them as whole micro-USD beside the exact nano-USD: shownAmount).
   */
  unit: 'tokens' | 'requests' | 'nanoUsd';
  /**
   * cost_usd: the served calls in the window whose model had no price, which `used` leaves out (as the gateway counts
   * them: nothing); null for other measures. Said, so a cost budget's figures never look complete when they are not.
   */
  unpricedCalls: number | null;
}

/** Who and what the budget covers, as a rollup filter. */
function filterOf(budget: BudgetConfig): UsageFilter {
  const filter: UsageFilter = {};
  if (typeof budget.consumers === 'object') Object.assign(filter, budget.consumers);
  if (typeof budget.resources === 'object') Object.assign(filter, budget.resources);
  return filter;
}

/**
 * Counted as the gateway counts it (settle.ts): total tokens are input + output; cost in nano-USD; requests are the calls
 * it admitted (served or failed), never those it refused (unknown model, unsanctioned, over a budget or rate limit), for
 * which no budget reserved anything. Refused calls carry no tokens and no cost. Calls answered from the response cache
 * are not admitted either (docs/agents.md#response-cache): their calls and tokens are left out, and they cost 0.
 */
function amount(measure: Measure, totals: UsageTotals): number {
  switch (measure) {
    case 'input_tokens':
      return totals.inputTokens - totals.cacheHitInputTokens;
    case 'output_tokens':
      return totals.outputTokens - totals.cacheHitOutputTokens;
    case 'total_tokens':
      return totals.inputTokens - totals.cacheHitInputTokens + totals.outputTokens - totals.cacheHitOutputTokens;
    case 'cost_usd':
      return totals.costNanoUsd;
    case 'requests':
      return totals.calls - totals.refusedCalls - totals.cacheHitCalls;
  }
}

async function used(store: AnalyticsStore, budget: BudgetConfig, from: number, to: number): Promise<{ used: number; unpriced: number }> {
  if (to <= from) return { used: 0, unpriced: 0 };
  // Month buckets: at most two rows per window here, summed; the grouping is none.
  const rows = await store.usage({ from, to, bucket: 'month', groupBy: [], filter: filterOf(budget) });
  return rows.reduce((total, row) => ({ used: total.used + amount(budget.measure, row), unpriced: total.unpriced + row.unpricedCalls }), {
    used: 0,
    unpriced: 0,
  });
}

/**
 * The first hour the budget's scope was called in: its team's, consumer's, model's, provider's or resource's own first
 * call (both, for a budget scoped by each), everyone's the ledger's. The time before it is unknown rather than idle (a
 * team onboarded, or a model put in service, three days ago, spread over the month, ran at a fraction of its rate);
 * undefined while there is none.
 */
async function scopeFirstHour(store: AnalyticsStore, budget: BudgetConfig): Promise<number | undefined> {
  return (await store.firstHour(filterOf(budget))) ?? undefined;
}

/**
 * The rollups are hourly, so windows shorter than an hour (minute, rolling under 1h) are refused. A calendar window
 * (hour, day, month) starts on an hour: its usage is exact, up to the hour under way. A rolling window is approximated
 * by whole hours; its recent rate is read from its latest quarter (at least an hour).
 */
export async function budgetBurnDown(store: AnalyticsStore, budget: BudgetConfig, now: number): Promise<BudgetBurnDown> {
  const window = budgetWindow(budget.window);
  const position = window.position(now);
  const lengthMs = position.end - position.start;
  if (lengthMs < HOUR_MS) {
    // The path names the budget (or the template) whose window it is.
    const message = `has a ${window.kind} window: burn-downs are read from hourly rollups, so windows of an hour or more only`;
    throw new ApiError(400, 'invalid_request', `Budget "${budget.name}" ${message}.`, [{ path: 'name', message }]);
  }
  const limit = budget.measure === 'cost_usd' ? costLimitNanoUsd(budget.limit) : budget.limit;
  const unit = budget.measure === 'cost_usd' ? 'nanoUsd' : budget.measure === 'requests' ? 'requests' : 'tokens';
  const to = hourCeil(now + 1);
  const unpricedOf = (figures: { unpriced: number }) => (budget.measure === 'cost_usd' ? figures.unpriced : null);
  if (!window.rolling) {
    const [sofar, since] = await Promise.all([used(store, budget, position.start, to), scopeFirstHour(store, budget)]);
    const projection = burnDown({ limit, used: sofar.used, now, window: position, ...(since === undefined ? {} : { since }) });
    return {
      ...projection,
      window: { kind: window.kind, start: position.start, end: position.end },
      unit,
      unpricedCalls: unpricedOf(sofar),
    };
  }
  const start = hourFloor(now - lengthMs);
  const recentFrom = hourFloor(now - Math.max(HOUR_MS, lengthMs / 4));
  const [total, recent, since] = await Promise.all([
    used(store, budget, start, to),
    used(store, budget, recentFrom, to),
    scopeFirstHour(store, budget),
  ]);
  const projection = burnDown({
    limit,
    used: total.used,
    now,
    window: position,
    ...(since === undefined ? {} : { since }),
    rolling: { lengthMs, recentUsed: recent.used, recentMs: now - recentFrom },
  });
  return { ...projection, window: { kind: window.kind, start, end: now }, unit, unpricedCalls: unpricedOf(total) };
}

/**
 * A figure of a burn-down as the API shows it, in the unit it names: tokens and requests as they are, nano-USD as whole
 * micro-USD (the `microUsd` unit since the first version; rounded half away from zero, once, from the exact sum).
 */
export function shownAmount(unit: BudgetBurnDown['unit'], amount: number): number {
  return unit === 'nanoUsd' ? microFromNano(amount) : amount;
}

/** The unit the API names for figures counted in `unit`. */
export function shownUnit(unit: BudgetBurnDown['unit']): 'tokens' | 'requests' | 'microUsd' {
  return unit === 'nanoUsd' ? 'microUsd' : unit;
}
