// Reading the ledger one call at a time, for the console's transaction list and detail: in a chosen order (newest first
// unless asked otherwise) with keyset paging on the sort key and the row id, every filter optional. The figures read the
// rollups (analytics.ts); this reads the rows themselves.
import type { LedgerEntry, LedgerFilter, Page } from '../director-store.js';
import { storedServiceTier } from '../../ir/usage.js';
import { SORT_ORDERS, TRANSACTION_SORTS, type SortOrder, type TransactionSort } from '../../schemas/listing-order.js';
import type { Reader } from './change.js';
import {
  decodeSortedCursor,
  orderBy,
  pageLimit,
  rowsAfter,
  rowsAfterParameters,
  toSortedPage,
  type SortedPosition,
  type SortKey,
} from './cursor.js';
import { LEDGER_NANO_COST_SQL, LEDGER_NANO_SAVED_SQL, OUTCOME_SQL, callOutcome } from './rollup.js';

const optionalText = (condition: string) => `(CAST(? AS TEXT) IS NULL OR ${condition})`;
const optionalInteger = (condition: string) => `(CAST(? AS BIGINT) IS NULL OR ${condition})`;

const LEDGER_ENTRY = `id, request_id, started_at, operation, api, consumer, team, requested_model, provider, provider_model, stream,
  input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, tokens_estimated, cost_micro_usd, latency_ms,
  time_to_first_token_ms, status, error_class, attempts, served_model, violations, calls, discovered_consumer, identity,
  saved_micro_usd, cache_write_1h_tokens, web_searches, service_tier, file_searches, ${LEDGER_NANO_COST_SQL} AS cost_nano_usd,
  ${LEDGER_NANO_SAVED_SQL} AS saved_nano_usd, reasoning_tokens`;

/**
 * Each order's key. An unpriced call has no cost, and an observed call (reported by an observer, not proxied) no latency
 * Sluice measured (its row holds 0): both come last in either order, as the console shows them ("unpriced", "observed").
 * Tokens are summed as BIGINT: two INTEGER columns' sum could overflow PostgreSQL's INTEGER.
 */
const SORT_KEYS: Record<TransactionSort, SortKey> = {
  time: { sql: 'started_at', type: 'number', nullable: false },
  cost: { sql: LEDGER_NANO_COST_SQL, type: 'number', nullable: true },
  latency: { sql: "(CASE WHEN operation = 'observed' THEN NULL ELSE latency_ms END)", type: 'number', nullable: true },
  total_tokens: { sql: '(CAST(input_tokens AS BIGINT) + output_tokens)', type: 'number', nullable: false },
};

/** The start's bounds when the filter names none: every row (a plain range, so both databases can seek the start's index). */
const EARLIEST = -Number.MAX_SAFE_INTEGER;
const LATEST = Number.MAX_SAFE_INTEGER;

/** A listing's statements: its first page, a page after a row with a key, and (a key that may be NULL) after a row of none. */
type PageStatement = '' | ':after' | ':afterNull';
type ListStatement = `transactionList:${TransactionSort}:${SortOrder}${PageStatement}`;

/**
 * `model` matches the model asked for or the one that served it; `unattributed` is 1 for rows of no consumer only, 0 for
 * rows of one only; [from, to) on the start, always bound (EARLIEST, LATEST when not given).
 */
function listStatement(key: SortKey, order: SortOrder, after: string | null): string {
  return `SELECT ${LEDGER_ENTRY}, ${key.sql} AS sort_key FROM transactions
      WHERE ${optionalText('consumer = ?')} AND ${optionalInteger('(CASE WHEN consumer IS NULL THEN 1 ELSE 0 END) = ?')}
        AND ${optionalText('team = ?')}
        AND ${optionalText('(requested_model = ? OR served_model = ?)')} AND ${optionalText('provider = ?')}
        AND ${optionalText(`${OUTCOME_SQL} = ?`)} AND started_at >= ? AND started_at < ?${after === null ? '' : ` AND ${after}`}
      ORDER BY ${orderBy(key, order)} LIMIT ?`;
}

export function transactionStatements() {
  const statements = {} as Record<ListStatement, string>;
  for (const sort of TRANSACTION_SORTS)
    for (const order of SORT_ORDERS) {
      const key = SORT_KEYS[sort];
      statements[`transactionList:${sort}:${order}`] = listStatement(key, order, null);
      statements[`transactionList:${sort}:${order}:after`] = listStatement(key, order, rowsAfter(key, order, false));
      if (key.nullable) statements[`transactionList:${sort}:${order}:afterNull`] = listStatement(key, order, rowsAfter(key, order, true));
    }
  return { ...statements, transactionGet: `SELECT ${LEDGER_ENTRY} FROM transactions WHERE id = ?` };
}

/**
 * The listings in an order other than time's, which read every row of the period and keep the top page: PostgreSQL plans
 * them at each call for the period and filters given (see isAnalyticsRead), SQLite prepares them on first use.
 */
export function isSortedLedgerRead(name: string): boolean {
  return name.startsWith('transactionList:') && !name.startsWith('transactionList:time:');
}

export type TransactionStatement = keyof ReturnType<typeof transactionStatements>;

interface LedgerRow {
  id: number | string;
  sort_key: number | string | null;
  request_id: string;
  started_at: number | string;
  operation: string;
  api: string;
  consumer: string | null;
  team: string | null;
  requested_model: string | null;
  provider: string | null;
  provider_model: string | null;
  stream: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  tokens_estimated: number;
  cost_micro_usd: number | string | null;
  cost_nano_usd: number | string | null;
  latency_ms: number;
  time_to_first_token_ms: number | null;
  status: number;
  error_class: string | null;
  attempts: number;
  served_model: string | null;
  violations: string | null;
  calls: number | null;
  discovered_consumer: number | string | null;
  identity: string | null;
  saved_micro_usd: number | string;
  saved_nano_usd: number | string;
  cache_write_1h_tokens: number;
  web_searches: number | string;
  service_tier: string | null;
  file_searches: number | string;
  reasoning_tokens: number | string | null;
}

/** PostgreSQL returns BIGINT columns as strings. */
const integer = (value: number | string) => Number(value);

function entry(row: LedgerRow): LedgerEntry {
  return {
    id: integer(row.id),
    requestId: row.request_id,
    startedAt: integer(row.started_at),
    operation: row.operation,
    api: row.api,
    consumer: row.consumer,
    team: row.team,
    requestedModel: row.requested_model,
    provider: row.provider,
    providerModel: row.provider_model,
    stream: Number(row.stream) === 1,
    inputTokens: integer(row.input_tokens),
    outputTokens: integer(row.output_tokens),
    cachedInputTokens: integer(row.cached_input_tokens),
    cacheWriteTokens: integer(row.cache_write_tokens),
    cacheWrite1hTokens: integer(row.cache_write_1h_tokens),
    webSearches: integer(row.web_searches),
    serviceTier: storedServiceTier(row.service_tier) ?? null,
    fileSearches: integer(row.file_searches),
    reasoningTokens: row.reasoning_tokens === null ? null : integer(row.reasoning_tokens),
    tokensEstimated: Number(row.tokens_estimated) === 1,
    costMicroUsd: row.cost_micro_usd === null ? null : integer(row.cost_micro_usd),
    costNanoUsd: row.cost_nano_usd === null ? null : integer(row.cost_nano_usd),
    latencyMs: integer(row.latency_ms),
    timeToFirstTokenMs: row.time_to_first_token_ms === null ? null : integer(row.time_to_first_token_ms),
    status: integer(row.status),
    errorClass: row.error_class,
    attempts: integer(row.attempts),
    servedModel: row.served_model,
    violations: row.violations === null || row.violations === '' ? [] : row.violations.split(','),
    calls: row.calls === null ? 1 : integer(row.calls),
    discoveredConsumer: row.discovered_consumer === null ? null : integer(row.discovered_consumer),
    outcome: callOutcome({ status: integer(row.status), errorClass: row.error_class, provider: row.provider }),
    identity: row.identity,
    savedMicroUsd: integer(row.saved_micro_usd),
    savedNanoUsd: integer(row.saved_nano_usd),
  };
}

/**
 * The start's range [from, to) a page reads. In time order after a cursor, its side of the range is the cursor's row: a
 * page deep in the ledger then seeks the start's index from where the last one ended. SQLite's index range takes one
 * bound each side, and took the period's (every row newer than the cursor walked, page 1000 of 200,000 rows 8 times
 * slower than page 1); the rows after the cursor are still told apart by id within its millisecond (rowsAfter).
 */
function startRange(sort: TransactionSort, order: SortOrder, position: SortedPosition | null, from: number | null, to: number | null) {
  const range = { from: from ?? EARLIEST, to: to ?? LATEST };
  if (sort !== 'time' || position === null || typeof position.key !== 'number') return range;
  if (order === 'desc') range.to = Math.min(range.to, position.key + 1);
  else range.from = Math.max(range.from, position.key);
  return range;
}

export async function listTransactions(read: Reader, filter: LedgerFilter): Promise<Page<LedgerEntry>> {
  const limit = pageLimit(filter.limit);
  const sort = filter.sort ?? 'time';
  const order = filter.order ?? 'desc';
  const key = SORT_KEYS[sort];
  const consumer = filter.consumer ?? null;
  const unattributed = filter.unattributed === undefined ? null : filter.unattributed ? 1 : 0;
  const team = filter.team ?? null;
  const model = filter.model ?? null;
  const provider = filter.provider ?? null;
  const outcome = filter.outcome ?? null;
  const from = filter.from ?? null;
  const to = filter.to ?? null;
  const listing = {
    name: `transactions:${sort}:${order}`,
    filters: [consumer, unattributed, team, model, provider, outcome, from, to],
  };
  const position = decodeSortedCursor(filter.cursor, listing, key);
  const page: PageStatement = position === null ? '' : position.key === null ? ':afterNull' : ':after';
  const range = startRange(sort, order, position, from, to);
  const rows = await read.session.all<LedgerRow>(`transactionList:${sort}:${order}${page}`, [
    consumer,
    consumer,
    unattributed,
    unattributed,
    team,
    team,
    model,
    model,
    model,
    provider,
    provider,
    outcome,
    outcome,
    range.from,
    range.to,
    ...(position === null ? [] : rowsAfterParameters(position)),
    limit + 1,
  ]);
  return toSortedPage(rows, limit, entry, listing, key);
}

export async function getTransaction(read: Reader, id: number): Promise<LedgerEntry | null> {
  const [row] = await read.session.all<LedgerRow>('transactionGet', [id]);
  return row === undefined ? null : entry(row);
}
