// The hourly usage rollups a ledger batch adds to: the batch summed per key in memory, then one upsert row per key.
// Migration 6 computes the same key for rows already in the ledger, and migration 10 the same outcomes (OUTCOME_SQL): keep
// them in step. Reconciliation moves usage between keys (moveInRollups) when it gives past ledger rows their consumer.
import type { ErrorCode } from '../../errors.js';
import { nanoCostOf, nanoSavedOf, type Transaction } from '../../ir/transaction.js';
import { ROLLUP_ROWS_PER_STATEMENT, type AnalyticsStatement } from './analytics-statements.js';
import { statementChunks } from './chunks.js';
import type { SqlSession, SqlValue } from './session.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** What a rollup row sums: the status the client got, 400 and above, is an error (refusals and failures alike). */
export function statusClass(status: number): 'ok' | 'error' {
  return status >= 400 ? 'error' : 'ok';
}

/**
 * The errors with which the gateway refuses a call before admitting it (authentication, the request itself, the model's
 * name or sanction, a budget or rate limit, counters it cannot check, shutting down): no provider was asked and no budget
 * counts the call (src/gateway/pipeline/admit.ts reserves only for what it admits). Every other error befell an
 * admitted call (an upstream failure, a timeout, a target that cannot serve it, the client leaving).
 */
export const REFUSALS: readonly ErrorCode[] = [
  'invalid_api_key',
  'model_not_found',
  'route_not_found',
  'method_not_allowed',
  'invalid_json',
  'invalid_request',
  'body_too_large',
  'model_not_sanctioned',
  'budget_exhausted',
  'rate_limited',
  'counters_unavailable',
  'shutting_down',
];
const REFUSED = new Set<string>(REFUSALS);

/**
 * How a call ended, as the figures count it. Served: the provider answered (status under 400), or answered in part before
 * the client left (499 with a target): what metering prices and budgets count (settle.ts). Refused: by the gateway,
 * before admission. Failed: admitted, then not served.
 */
export type CallOutcome = 'served' | 'refused' | 'failed';

export function callOutcome(row: Pick<Transaction, 'status' | 'errorClass' | 'provider'>): CallOutcome {
  if (row.errorClass !== null && REFUSED.has(row.errorClass)) return 'refused';
  return row.status < 400 || (row.status === 499 && row.provider !== null) ? 'served' : 'failed';
}

/** callOutcome over the ledger's columns, for the statements that sum ledger rows themselves (migration 10, reconciliation). */
export const OUTCOME_SQL = `CASE WHEN error_class IN (${REFUSALS.map((code) => `'${code}'`).join(', ')}) THEN 'refused'
  WHEN status < 400 OR (status = 499 AND provider IS NOT NULL) THEN 'served' ELSE 'failed' END`;

/**
 * A call answered from the response cache (src/gateway/cache/chat-cache.ts, docs/agents.md#response-cache): a gateway's
 * row (not an observation's, which stands for `calls`) answered with no upstream attempt yet by a provider and provider
 * model, the answer it replays. Such a call is never admitted against budgets or rate limits: the figures budgets read
 * (burn-downs, counter seeding) take these out. Every other call a target answered made at least one attempt.
 */
export function responseCacheHit(row: Pick<RollupSource, 'attempts' | 'provider' | 'status' | 'calls'>): boolean {
  return (row.calls ?? null) === null && row.attempts === 0 && row.provider !== null && row.status < 400;
}

/**
 * A ledger row's cost in nano-USD: cost_nano_usd, or for a row written before migration 22 (which left it NULL rather
 * than rewrite the ledger) its whole micro-USD x 1,000; NULL for an unpriced call, as cost_micro_usd.
 */
export const LEDGER_NANO_COST_SQL = 'COALESCE(cost_nano_usd, cost_micro_usd * 1000)';

/** A ledger row's response-cache saving in nano-USD: saved_nano_usd, or for a row before migration 24 saved_micro_usd x 1,000. */
export const LEDGER_NANO_SAVED_SQL = 'COALESCE(saved_nano_usd, saved_micro_usd * 1000)';

/** responseCacheHit over the ledger's columns. */
export const CACHE_HIT_SQL = '(calls IS NULL AND attempts = 0 AND provider IS NOT NULL AND status < 400)';

/** What a rollup line is made of: a ledger row, standing for `calls` calls (observations; absent for a gateway's row, one call). */
export type RollupSource = Pick<
  Transaction,
  | 'startedAt'
  | 'consumer'
  | 'team'
  | 'requestedModel'
  | 'provider'
  | 'providerModel'
  | 'status'
  | 'errorClass'
  | 'inputTokens'
  | 'outputTokens'
  | 'cachedInputTokens'
  | 'costMicroUsd'
> &
  // Absent for records before costs were kept to the nano-USD (nanoCostOf): their costMicroUsd x 1,000.
  Partial<Pick<Transaction, 'costNanoUsd'>> &
  // Absent for observations, which state no prompt-cache writes and are never answered from the response cache.
  Partial<Pick<Transaction, 'cacheWriteTokens' | 'cacheWrite1hTokens' | 'savedMicroUsd' | 'savedNanoUsd' | 'attempts'>> & {
    calls?: number | null;
  };

export interface RollupLine {
  /** hour_start, consumer, team, requested_model, provider, provider_model, status_class */
  key: [number, string, string, string, string, string, string];
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** The rows' costs rounded to whole micro-USD, summed: kept for readers of the rollups before migration 22. */
  costMicroUsd: number;
  /** The rows' costs to the nano-USD, summed (migration 22): what every figure Sluice shows reads. */
  costNanoUsd: number;
  /** Served calls with no known price. */
  unpricedCalls: number;
  refusedCalls: number;
  failedCalls: number;
  /** Prompt-cache writes, and of them the 1-hour cache's (migration 17). */
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  /** What calls answered from the response cache would have cost (migration 17), each rounded to whole micro-USD. */
  savedMicroUsd: number;
  /** The same to the nano-USD (migration 24): what every figure Sluice shows reads. */
  savedNanoUsd: number;
  /** Calls answered from the response cache (responseCacheHit), and their tokens, in the sums above too (migration 21). */
  cacheHitCalls: number;
  cacheHitInputTokens: number;
  cacheHitOutputTokens: number;
}

/** The sums of a rollup line, in ROLLUP_SUM_COLUMNS' order (analytics-statements.ts): the upserts' parameters. */
const SUMS = [
  'calls',
  'inputTokens',
  'outputTokens',
  'cachedInputTokens',
  'costMicroUsd',
  'unpricedCalls',
  'refusedCalls',
  'failedCalls',
  'cacheWriteTokens',
  'cacheWrite1hTokens',
  'savedMicroUsd',
  'cacheHitCalls',
  'cacheHitInputTokens',
  'cacheHitOutputTokens',
  'costNanoUsd',
  'savedNanoUsd',
] as const satisfies ReadonlyArray<Exclude<keyof RollupLine, 'key'>>;

function emptyLine(key: RollupLine['key']): RollupLine {
  return {
    key,
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    costMicroUsd: 0,
    costNanoUsd: 0,
    unpricedCalls: 0,
    refusedCalls: 0,
    failedCalls: 0,
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    savedMicroUsd: 0,
    savedNanoUsd: 0,
    cacheHitCalls: 0,
    cacheHitInputTokens: 0,
    cacheHitOutputTokens: 0,
  };
}

/** Adds `line`'s sums, times `sign`, to `into`'s. */
function addSums(into: RollupLine, line: RollupLine, sign: 1 | -1 = 1): void {
  for (const sum of SUMS) into[sum] += sign * line[sum];
}

/**
 * The batch's sums per rollup key, ordered by key. The order matters on PostgreSQL: two ledger writers upserting the
 * same keys lock their rows in the same order, so they wait for each other instead of deadlocking.
 */
export function rollUp(rows: readonly RollupSource[]): RollupLine[] {
  const lines = new Map<string, RollupLine>();
  // A batch comes mostly in runs of one key (a consumer's calls to one model): a row with its previous row's key adds
  // to that row's line without making the key again (its string was most of a row's cost here).
  let previous: RollupSource | null = null;
  let line: RollupLine | null = null;
  for (const row of rows) {
    if (line === null || previous === null || !sameKey(row, previous)) {
      const key: RollupLine['key'] = [
        Math.floor(row.startedAt / HOUR_MS) * HOUR_MS,
        row.consumer ?? '',
        row.team ?? '',
        row.requestedModel ?? '',
        row.provider ?? '',
        row.providerModel ?? '',
        statusClass(row.status),
      ];
      const id = keyId(key);
      line = lines.get(id) ?? null;
      if (line === null) {
        line = emptyLine(key);
        lines.set(id, line);
      }
    }
    previous = row;
    const calls = row.calls ?? 1;
    line.calls += calls;
    line.inputTokens += row.inputTokens;
    line.outputTokens += row.outputTokens;
    line.cachedInputTokens += row.cachedInputTokens;
    line.cacheWriteTokens += row.cacheWriteTokens ?? 0;
    line.cacheWrite1hTokens += row.cacheWrite1hTokens ?? 0;
    line.savedMicroUsd += row.savedMicroUsd ?? 0;
    line.savedNanoUsd += nanoSavedOf(row);
    if (responseCacheHit(row)) {
      line.cacheHitCalls += 1;
      line.cacheHitInputTokens += row.inputTokens;
      line.cacheHitOutputTokens += row.outputTokens;
    }
    const outcome = callOutcome(row);
    if (outcome === 'refused') line.refusedCalls += calls;
    else if (outcome === 'failed') line.failedCalls += calls;
    if (row.costMicroUsd !== null) {
      line.costMicroUsd += row.costMicroUsd;
      line.costNanoUsd += nanoCostOf(row)!;
    } else if (outcome === 'served') line.unpricedCalls += calls;
  }
  return inKeyOrder(lines);
}

/** Whether two rows fall on the same rollup line: the same hour, names and status class. */
function sameKey(a: RollupSource, b: RollupSource): boolean {
  return (
    a.consumer === b.consumer &&
    a.team === b.team &&
    a.requestedModel === b.requestedModel &&
    a.provider === b.provider &&
    a.providerModel === b.providerModel &&
    statusClass(a.status) === statusClass(b.status) &&
    Math.floor(a.startedAt / HOUR_MS) === Math.floor(b.startedAt / HOUR_MS)
  );
}

/**
 * A rollup key as one string, for grouping and for the upsert order: the parts joined by NUL, cheaper per ledger row
 * than JSON. A part holding a NUL itself (a client can send any model name) makes the key JSON instead: JSON keys start
 * with "[", joined ones with the hour's digits, so the two forms never meet and every writer orders keys alike.
 */
function keyId(key: RollupLine['key']): string {
  for (let i = 1; i < key.length; i++) if ((key[i] as string).includes('\u0000')) return JSON.stringify(key);
  return `${key[0]}\u0000${key[1]}\u0000${key[2]}\u0000${key[3]}\u0000${key[4]}\u0000${key[5]}\u0000${key[6]}`;
}

/**
 * Lines grouped by keyId, in the one order every writer of the rollups upserts them (ledger batches, reconciliation's
 * moves): on PostgreSQL two transactions locking the same keys in the same order wait for each other, never deadlock.
 */
function inKeyOrder(lines: ReadonlyMap<string, RollupLine>): RollupLine[] {
  return [...lines.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, line]) => line);
}

function values(line: RollupLine): SqlValue[] {
  return [...line.key, ...SUMS.map((sum) => line[sum])];
}

/** The hourly lines summed per day (the key's first part a day's start), in key order like the hourly ones. */
export function rollUpDays(hours: readonly RollupLine[]): RollupLine[] {
  const days = new Map<string, RollupLine>();
  for (const hour of hours) {
    const key: RollupLine['key'] = [
      Math.floor(hour.key[0] / DAY_MS) * DAY_MS,
      ...(hour.key.slice(1) as [string, string, string, string, string, string]),
    ];
    const id = keyId(key);
    const day = days.get(id);
    if (day === undefined) {
      days.set(id, { ...hour, key });
      continue;
    }
    addSums(day, hour);
  }
  return inKeyOrder(days);
}

/** Runs in the batch's transaction (ledger.ts): the hourly and daily rollups commit with the rows they count, or not at all. */
export async function addToRollups(session: SqlSession, rows: readonly RollupSource[]): Promise<void> {
  await upsertHours(session, rollUp(rows));
}

/** Adds hourly lines (negative sums subtract) to usage_hourly, and the same summed per day to usage_daily. */
async function upsertHours(session: SqlSession, hours: readonly RollupLine[]): Promise<void> {
  for (const [table, lines] of [
    ['rollupUpsert', hours],
    ['rollupDailyUpsert', rollUpDays(hours)],
  ] as const) {
    for (const chunk of statementChunks(lines, ROLLUP_ROWS_PER_STATEMENT)) {
      await session.run(`${table}:${chunk.length}` satisfies AnalyticsStatement, chunk.flatMap(values));
    }
  }
}

/** A ledger aggregate as the reconciliation statements return it: one hour and rollup key's sums (see reconciliation-statements.ts). */
export interface RollupAggregateRow {
  hour_start: number;
  consumer: string;
  team: string;
  requested_model: string;
  provider: string;
  provider_model: string;
  status_class: 'ok' | 'error';
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cost_micro_usd: number;
  cost_nano_usd: number;
  unpriced_calls: number;
  refused_calls: number;
  failed_calls: number;
  cache_write_tokens: number;
  cache_write_1h_tokens: number;
  saved_micro_usd: number;
  saved_nano_usd: number;
  cache_hit_calls: number;
  cache_hit_input_tokens: number;
  cache_hit_output_tokens: number;
}

export function rollupLines(rows: readonly RollupAggregateRow[]): RollupLine[] {
  return rows.map((row) => ({
    key: [Number(row.hour_start), row.consumer, row.team, row.requested_model, row.provider, row.provider_model, row.status_class],
    calls: Number(row.calls),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cachedInputTokens: Number(row.cached_input_tokens),
    costMicroUsd: Number(row.cost_micro_usd),
    costNanoUsd: Number(row.cost_nano_usd),
    unpricedCalls: Number(row.unpriced_calls),
    refusedCalls: Number(row.refused_calls),
    failedCalls: Number(row.failed_calls),
    cacheWriteTokens: Number(row.cache_write_tokens),
    cacheWrite1hTokens: Number(row.cache_write_1h_tokens),
    savedMicroUsd: Number(row.saved_micro_usd),
    savedNanoUsd: Number(row.saved_nano_usd),
    cacheHitCalls: Number(row.cache_hit_calls),
    cacheHitInputTokens: Number(row.cache_hit_input_tokens),
    cacheHitOutputTokens: Number(row.cache_hit_output_tokens),
  }));
}

/**
 * Moves usage the rollups hold under one attribution to another, in the caller's transaction: `lines` are the ledger's
 * sums of the rows being re-attributed, keyed as they are rolled up now (their current consumer and team), and `to` the
 * consumer and team the rows now have. Each line is subtracted from its key and added to the key with the new consumer
 * and team, hourly and daily; keys left with no calls are removed. Only these rows' sums move, by addition: a ledger batch
 * committing into the same hours at the same time adds its own, and neither is lost (recomputing whole hours from the
 * ledger would, on PostgreSQL, drop a batch that committed between the recount's read and its write). One pass in key
 * order, like every ledger batch, so the two wait for each other rather than deadlock.
 */
export async function moveInRollups(
  session: SqlSession,
  lines: readonly RollupLine[],
  to: { consumer: string | null; team: string | null },
): Promise<void> {
  const deltas = new Map<string, RollupLine>();
  const add = (line: RollupLine, sign: 1 | -1) => {
    const id = keyId(line.key);
    const delta = deltas.get(id) ?? emptyLine(line.key);
    addSums(delta, line, sign);
    deltas.set(id, delta);
  };
  for (const line of lines) {
    add(line, -1);
    const [hour, , , model, provider, providerModel, status] = line.key;
    add({ ...line, key: [hour, to.consumer ?? '', to.team ?? '', model, provider, providerModel, status] }, 1);
  }
  const changed = inKeyOrder(deltas).filter((delta) => SUMS.some((sum) => delta[sum] !== 0));
  if (changed.length === 0) return;
  await upsertHours(session, changed);
  for (const line of changed.filter((delta) => delta.calls < 0)) {
    await session.run('rollupDeleteEmptyHour', line.key);
    await session.run('rollupDeleteEmptyDay', [Math.floor(line.key[0] / DAY_MS) * DAY_MS, ...line.key.slice(1)]);
  }
}
