// The chargeback report: per team, a period's calls, tokens, cost, and the calls it could not price, the gateway refused, or
// that failed, as JSON lines or a CSV sheet.
import type { AnalyticsStore } from '../../store/analytics-store.js';
import type { Span } from './calendar.js';
import { formatNanoUsd } from './money.js';

export interface ChargebackLine {
  /** '' for calls with no team. */
  team: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** input + output, as budgets count total tokens. */
  totalTokens: number;
  /** Integer nano-USD. */
  costNanoUsd: number;
  /** Served calls of models without a known price: not in the cost, listed so they are not mistaken for free. */
  unpricedCalls: number;
  /** Refused by the gateway before admission (403, 404, 429, ...): never served, never priced, in no budget. */
  refusedCalls: number;
  /** Admitted, then not served (upstream errors and timeouts). */
  failedCalls: number;
  /** Input tokens written to a prompt cache, and of them the 1-hour cache's: billed above the input price. */
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  /** What the calls answered from the response cache would have cost, in integer nano-USD. */
  savedNanoUsd: number;
}

/** One rollup read with a single month bucket: a row per team. */
export async function chargeback(store: AnalyticsStore, period: Span, team?: string): Promise<ChargebackLine[]> {
  const rows = await store.usage({
    from: period.start,
    to: period.end,
    bucket: 'month',
    groupBy: ['team'],
    filter: team === undefined ? {} : { team },
  });
  const lines = new Map<string, ChargebackLine>();
  for (const row of rows) {
    const name = row.group.team ?? '';
    const line = lines.get(name) ?? {
      team: name,
      calls: 0,
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      totalTokens: 0,
      costNanoUsd: 0,
      unpricedCalls: 0,
      refusedCalls: 0,
      failedCalls: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      savedNanoUsd: 0,
    };
    line.calls += row.calls;
    line.inputTokens += row.inputTokens;
    line.outputTokens += row.outputTokens;
    line.cachedInputTokens += row.cachedInputTokens;
    line.totalTokens += row.inputTokens + row.outputTokens;
    line.costNanoUsd += row.costNanoUsd;
    line.unpricedCalls += row.unpricedCalls;
    line.refusedCalls += row.refusedCalls;
    line.failedCalls += row.failedCalls;
    line.cacheWriteTokens += row.cacheWriteTokens;
    line.cacheWrite1hTokens += row.cacheWrite1hTokens;
    line.savedNanoUsd += row.savedNanoUsd;
    lines.set(name, line);
  }
  return [...lines.values()].sort((a, b) => (a.team < b.team ? -1 : a.team > b.team ? 1 : 0));
}

/**
 * RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. So is one with a semicolon: Excel splits
 * a CSV at ';' in the many locales whose list separator it is, and `ops;=1+2` unquoted would be two cells, the second a
 * formula (OWASP's CSV injection page: mind the field separators, not only a field's first character).
 */
function field(value: string | number): string {
  const text = String(value);
  return /[",;\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The one free-text column: the numbers and amounts are ours and never start with a formula character. A name a
 * spreadsheet would run as a formula (OWASP's list: = + - @ tab, carriage return, line feed; ASVS 1.2.10 adds NUL) is
 * prefixed with ': team names come from admins, but a sheet should never execute one.
 */
function inert(text: string): string {
  // eslint-disable-next-line no-control-regex -- NUL, tab and line breaks are among the characters that start a formula
  return /^[=+\-@\t\r\n\u0000]/.test(text) ? `'${text}` : text;
}

/**
 * Columns added later come last, so a sheet's earlier columns keep their places: refused_calls and failed_calls
 * (unpriced_calls became served calls only), then the prompt-cache writes and the response cache's saving, then the
 * cost and the saving exactly, in integer nano-USD (cost_usd and saved_usd keep their six decimals: a team whose calls
 * cost 60 nano-USD reads 0.000000 there, 60 in cost_nano_usd).
 */
export const CHARGEBACK_COLUMNS = [
  'period',
  'team',
  'calls',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'total_tokens',
  'cost_usd',
  'unpriced_calls',
  'refused_calls',
  'failed_calls',
  'cache_write_tokens',
  'cache_write_1h_tokens',
  'saved_usd',
  'cost_nano_usd',
  'saved_nano_usd',
] as const;

export function chargebackCsv(period: string, lines: readonly ChargebackLine[]): string {
  const rows = lines.map((line) => [
    period,
    inert(line.team),
    line.calls,
    line.inputTokens,
    line.outputTokens,
    line.cachedInputTokens,
    line.totalTokens,
    formatNanoUsd(line.costNanoUsd),
    line.unpricedCalls,
    line.refusedCalls,
    line.failedCalls,
    line.cacheWriteTokens,
    line.cacheWrite1hTokens,
    formatNanoUsd(line.savedNanoUsd),
    line.costNanoUsd,
    line.savedNanoUsd,
  ]);
  return [CHARGEBACK_COLUMNS, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
