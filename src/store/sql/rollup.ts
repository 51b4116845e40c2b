// The hourly usage rollups a ledger batch adds to: the batch summed per key in memory, then one upsert row per key.
// Migration 6 computes the same key for rows already in the ledger: keep the two in step.
import type { Transaction } from '../../ledger/transaction.js';
import { ROLLUP_ROWS_PER_STATEMENT, type AnalyticsStatement } from './analytics-statements.js';
import type { SqlSession, SqlValue } from './session.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** What a rollup row sums: the status the client got, 400 and above, is an error (refusals and failures alike). */
export function statusClass(status: number): 'ok' | 'error' {
  return status >= 400 ? 'error' : 'ok';
}

interface RollupLine {
  /** hour_start, consumer, team, requested_model, provider, provider_model, status_class */
  key: [number, string, string, string, string, string, string];
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  costMicroUsd: number;
  unpricedCalls: number;
}

/**
 * The batch's sums per rollup key, ordered by key. The order matters on PostgreSQL: two ledger writers upserting the
 * same keys lock their rows in the same order, so they wait for each other instead of deadlocking.
 */
export function rollUp(rows: readonly Transaction[]): RollupLine[] {
  const lines = new Map<string, RollupLine>();
  for (const row of rows) {
    const key: RollupLine['key'] = [
      Math.floor(row.startedAt / HOUR_MS) * HOUR_MS, row.consumer ?? '', row.team ?? '', row.requestedModel ?? '',
      row.provider ?? '', row.providerModel ?? '', statusClass(row.status),
    ];
    const id = JSON.stringify(key);
    let line = lines.get(id);
    if (line === undefined) {
      line = { key, calls: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costMicroUsd: 0, unpricedCalls: 0 };
      lines.set(id, line);
    }
    line.calls += 1;
    line.inputTokens += row.inputTokens;
    line.outputTokens += row.outputTokens;
    line.cachedInputTokens += row.cachedInputTokens;
    if (row.costMicroUsd === null) line.unpricedCalls += 1;
    else line.costMicroUsd += row.costMicroUsd;
  }
  return [...lines.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, line]) => line);
}

function values(line: RollupLine): SqlValue[] {
  return [...line.key, line.calls, line.inputTokens, line.outputTokens, line.cachedInputTokens, line.costMicroUsd, line.unpricedCalls];
}

/** The hourly lines summed per day (the key's first part a day's start), in key order like the hourly ones. */
export function rollUpDays(hours: readonly RollupLine[]): RollupLine[] {
  const days = new Map<string, RollupLine>();
  for (const hour of hours) {
    const key: RollupLine['key'] = [Math.floor(hour.key[0] / DAY_MS) * DAY_MS, ...hour.key.slice(1) as [string, string, string, string, string, string]];
    const id = JSON.stringify(key);
    const day = days.get(id);
    if (day === undefined) {
      days.set(id, { ...hour, key });
      continue;
    }
    day.calls += hour.calls;
    day.inputTokens += hour.inputTokens;
    day.outputTokens += hour.outputTokens;
    day.cachedInputTokens += hour.cachedInputTokens;
    day.costMicroUsd += hour.costMicroUsd;
    day.unpricedCalls += hour.unpricedCalls;
  }
  return [...days.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, line]) => line);
}

/** Runs in the batch's transaction (ledger.ts): the hourly and daily rollups commit with the rows they count, or not at all. */
export async function addToRollups(session: SqlSession, rows: readonly Transaction[]): Promise<void> {
  const hours = rollUp(rows);
  for (const [table, lines] of [['rollupUpsert', hours], ['rollupDailyUpsert', rollUpDays(hours)]] as const) {
    for (let at = 0; at < lines.length; at += ROLLUP_ROWS_PER_STATEMENT) {
      const chunk = lines.slice(at, at + ROLLUP_ROWS_PER_STATEMENT);
      await session.run(`${table}:${chunk.length}` satisfies AnalyticsStatement, chunk.flatMap(values));
    }
  }
}
