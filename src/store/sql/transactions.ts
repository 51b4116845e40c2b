// Reading the ledger one call at a time, newest first, for the console's transaction list and detail: keyset-paginated
// on the row id, every filter optional. The figures read the rollups (analytics.ts); this reads the rows themselves.
import type { LedgerEntry, LedgerFilter, Page } from '../director-store.js';
import { storedServiceTier } from '../../ir/usage.js';
import { StoreInvalid } from '../errors.js';
import type { Reader } from './change.js';
import { decodeCursor, pageLimit, toPage } from './cursor.js';
import { LEDGER_NANO_COST_SQL, OUTCOME_SQL, callOutcome } from './rollup.js';

const optionalText = (condition: string) => `(CAST(? AS TEXT) IS NULL OR ${condition})`;
const optionalInteger = (condition: string) => `(CAST(? AS BIGINT) IS NULL OR ${condition})`;

const LEDGER_ENTRY = `id, request_id, started_at, operation, api, consumer, team, requested_model, provider, provider_model, stream,
  input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, tokens_estimated, cost_micro_usd, latency_ms,
  time_to_first_token_ms, status, error_class, attempts, served_model, violations, calls, discovered_consumer, identity,
  saved_micro_usd, cache_write_1h_tokens, web_searches, service_tier, file_searches, ${LEDGER_NANO_COST_SQL} AS cost_nano_usd`;

export function transactionStatements() {
  return {
    // Newest first by start (then id, for calls that started in the same millisecond); the cursor is the last row's pair.
    // `model` matches the model asked for or the one that served it; `unattributed` is 1 for rows of no consumer only,
    // 0 for rows of one only.
    transactionList: `SELECT ${LEDGER_ENTRY} FROM transactions
      WHERE ${optionalText('consumer = ?')} AND ${optionalInteger('(CASE WHEN consumer IS NULL THEN 1 ELSE 0 END) = ?')}
        AND ${optionalText('team = ?')}
        AND ${optionalText('(requested_model = ? OR served_model = ?)')} AND ${optionalText('provider = ?')}
        AND ${optionalText(`${OUTCOME_SQL} = ?`)} AND ${optionalInteger('started_at >= ?')} AND ${optionalInteger('started_at < ?')}
        AND ${optionalInteger('(started_at < ? OR (started_at = ? AND id < ?))')}
      ORDER BY started_at DESC, id DESC LIMIT ?`,
    transactionGet: `SELECT ${LEDGER_ENTRY} FROM transactions WHERE id = ?`,
  };
}

export type TransactionStatement = keyof ReturnType<typeof transactionStatements>;

interface LedgerRow {
  id: number | string;
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
  cache_write_1h_tokens: number;
  web_searches: number | string;
  service_tier: string | null;
  file_searches: number | string;
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
  };
}

export async function listTransactions(read: Reader, filter: LedgerFilter): Promise<Page<LedgerEntry>> {
  const limit = pageLimit(filter.limit);
  const consumer = filter.consumer ?? null;
  const unattributed = filter.unattributed === undefined ? null : filter.unattributed ? 1 : 0;
  const team = filter.team ?? null;
  const model = filter.model ?? null;
  const provider = filter.provider ?? null;
  const outcome = filter.outcome ?? null;
  const from = filter.from ?? null;
  const to = filter.to ?? null;
  const listing = { name: 'transactions', filters: [consumer, unattributed, team, model, provider, outcome, from, to] };
  const cursor = decodeCursor(filter.cursor, listing, 'string');
  const position = cursor === null ? null : /^(\d{1,16}):(\d{1,16})$/.exec(cursor);
  const beforeStart = position === null ? null : Number(position[1]);
  const beforeId = position === null ? null : Number(position[2]);
  // A time or an id past what a BIGINT (and a JavaScript number) holds is no row's: PostgreSQL would fail on it.
  if (cursor !== null && !(Number.isSafeInteger(beforeStart) && Number.isSafeInteger(beforeId)))
    throw new StoreInvalid('the cursor is not one this listing returned', { field: 'cursor' });
  const rows = await read.session.all<LedgerRow>('transactionList', [
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
    from,
    from,
    to,
    to,
    beforeStart,
    beforeStart,
    beforeStart,
    beforeId,
    limit + 1,
  ]);
  return toPage(rows, limit, listing, entry, (item) => `${item.startedAt}:${item.id}`);
}

export async function getTransaction(read: Reader, id: number): Promise<LedgerEntry | null> {
  const [row] = await read.session.all<LedgerRow>('transactionGet', [id]);
  return row === undefined ? null : entry(row);
}
