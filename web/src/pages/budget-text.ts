// How the Budgets page words a budget's or a template's terms (measure, limit, window, whom it covers), and a budget's
// value in a column of its table, as the table sorts.
import type { Budget, BudgetTerms, BurnDown, Stored, Template } from '../api';
import { usd } from '../format';

export const MEASURES: Array<[BudgetTerms['measure'], string]> = [
  ['cost_usd', 'Cost (USD)'],
  ['total_tokens', 'Total tokens'],
  ['input_tokens', 'Input tokens'],
  ['output_tokens', 'Output tokens'],
  ['requests', 'Requests'],
];

export function windowText(window: BudgetTerms['window']): string {
  return typeof window === 'string' ? `per ${window}` : `rolling ${window.rolling}`;
}

export function limitText(terms: BudgetTerms): string {
  return terms.measure === 'cost_usd'
    ? usd(Math.round(terms.limit * 1_000_000_000))
    : `${terms.limit.toLocaleString('en-US')} ${MEASURES.find(([id]) => id === terms.measure)?.[1].toLowerCase()}`;
}

export function scopeText(budget: Budget): string {
  if (budget.consumers === 'everyone') return 'everyone';
  return 'team' in budget.consumers ? `team ${budget.consumers.team}` : `consumer ${budget.consumers.consumer}`;
}

export function selectorText(template: Template): string {
  if (template.selector === 'everyone') return 'every consumer';
  if ('team' in template.selector) return `consumers of team ${template.selector.team}`;
  return `consumers labelled ${Object.entries(template.selector.labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ')}`;
}

/**
 * A budget's value in a column, as it sorts: its name, what it covers, its use this window in percent, when it runs
 * out (an exhausted one now, one that lasts the window after every date) or its mode. One whose window is too short
 * to track has no use or projection: it stays last.
 */
export function budgetValue({ budget, burn }: { budget: Stored<Budget>; burn: BurnDown | null }, column: string): number | string | null {
  if (column === 'covers') return scopeText(budget);
  if (column === 'mode') return budget.mode;
  if (column === 'used') return burn === null ? null : burn.usedPercent;
  if (column === 'projection') {
    if (burn === null) return null;
    if (burn.exhausted) return 0;
    return burn.exhaustsAt === null ? Number.MAX_SAFE_INTEGER : Date.parse(burn.exhaustsAt);
  }
  return budget.name;
}
