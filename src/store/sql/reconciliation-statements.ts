// Reconciliation's statements: observations into the ledger, discovered consumers, rules, the ledger sums that move with a
// resolution, and the discovered resources read from the rollups. Static like the rest of the catalogue (statements.ts).
import { ROLLUP_KEY_COLUMNS } from './analytics-statements.js';
import { CACHE_HIT_SQL, LEDGER_NANO_COST_SQL, LEDGER_NANO_SAVED_SQL, OUTCOME_SQL } from './rollup.js';

/**
 * Observation rows per multi-row INSERT, largest first: a batch goes in as 50s, then 10s, then ones (1,000 observations
 * are 20 statements; 50 x 25 columns is the ledger's statement-size budget). Three sizes rather than all fifty: SQLite
 * prepares the catalogue at every open, the ledger writer's included, and fifty such statements took some 12 ms.
 */
export const OBSERVATION_INSERT_SIZES = [50, 10, 1] as const;

/** The ledger's columns (statements.ts' TRANSACTION_COLUMNS) and the two reconciliation adds (migration 8). */
export const OBSERVATION_COLUMNS_EXTRA = ['calls', 'discovered_consumer'] as const;

const DISCOVERED = `id, identity_kind, identity_value, identity_host, hints, first_seen_at, last_seen_at, calls, status, consumer,
  resolved_by, resolved_at`;
const RULE = 'id, match_cidr, match_key_fingerprint, match_user_agent, consumer, note, created_at';

export type ReconciliationStatement =
  | `observationInsert:${number}`
  | 'discoveredUpsert'
  | 'discoveredHintsUpdate'
  | 'discoveredGet'
  | 'discoveredList'
  | 'discoveredPending'
  | 'discoveredResolve'
  | 'ledgerDiscoveredSums'
  | 'ledgerAttribute'
  | 'rollupDeleteEmptyHour'
  | 'rollupDeleteEmptyDay'
  | 'ruleInsert'
  | 'ruleGet'
  | 'ruleList'
  | 'ruleDelete'
  | 'discoveredResources';

export function reconciliationStatements(transactionColumns: readonly string[]): Record<ReconciliationStatement, string> {
  const statements: Record<string, string> = {
    // One row per identity: the times widen, the calls add up; hints are merged by the caller, which holds the row's lock
    // from here to commit (PostgreSQL's upsert takes it; SQLite has one writer).
    discoveredUpsert: `INSERT INTO discovered_consumers (identity_kind, identity_value, identity_host, hints, first_seen_at, last_seen_at, calls, status)
      VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')
      ON CONFLICT (identity_kind, identity_value, identity_host) DO UPDATE SET
        first_seen_at = CASE WHEN excluded.first_seen_at < discovered_consumers.first_seen_at THEN excluded.first_seen_at ELSE discovered_consumers.first_seen_at END,
        last_seen_at = CASE WHEN excluded.last_seen_at > discovered_consumers.last_seen_at THEN excluded.last_seen_at ELSE discovered_consumers.last_seen_at END,
        calls = discovered_consumers.calls + excluded.calls
      RETURNING ${DISCOVERED}`,
    discoveredHintsUpdate: 'UPDATE discovered_consumers SET hints = ? WHERE id = ?',
    discoveredGet: `SELECT ${DISCOVERED} FROM discovered_consumers WHERE id = ?`,
    // Keyset pagination in the order discovered.
    discoveredList: `SELECT ${DISCOVERED} FROM discovered_consumers
      WHERE (CAST(? AS TEXT) IS NULL OR status = ?) AND (CAST(? AS BIGINT) IS NULL OR id > ?)
      ORDER BY id LIMIT ?`,
    // In identity order, the order intake takes their locks in: a rule resolving many waits for intake, never deadlocks with it.
    discoveredPending: `SELECT ${DISCOVERED} FROM discovered_consumers WHERE status = 'pending'
      ORDER BY identity_kind, identity_value, identity_host`,
    discoveredResolve: 'UPDATE discovered_consumers SET status = ?, consumer = ?, resolved_by = ?, resolved_at = ? WHERE id = ?',

    // A discovered consumer's ledger rows summed per rollup key, as rollup.ts keys them (hour, names or '', status class).
    ledgerDiscoveredSums: `SELECT (started_at / 3600000) * 3600000 AS hour_start, COALESCE(consumer, '') AS consumer, COALESCE(team, '') AS team,
        COALESCE(requested_model, '') AS requested_model, COALESCE(provider, '') AS provider, COALESCE(provider_model, '') AS provider_model,
        CASE WHEN status >= 400 THEN 'error' ELSE 'ok' END AS status_class,
        CAST(SUM(COALESCE(calls, 1)) AS BIGINT) AS calls, CAST(SUM(input_tokens) AS BIGINT) AS input_tokens,
        CAST(SUM(output_tokens) AS BIGINT) AS output_tokens, CAST(SUM(cached_input_tokens) AS BIGINT) AS cached_input_tokens,
        CAST(COALESCE(SUM(cost_micro_usd), 0) AS BIGINT) AS cost_micro_usd,
        CAST(COALESCE(SUM(${LEDGER_NANO_COST_SQL}), 0) AS BIGINT) AS cost_nano_usd,
        CAST(SUM(CASE WHEN cost_micro_usd IS NULL AND ${OUTCOME_SQL} = 'served' THEN COALESCE(calls, 1) ELSE 0 END) AS BIGINT) AS unpriced_calls,
        CAST(SUM(CASE WHEN ${OUTCOME_SQL} = 'refused' THEN COALESCE(calls, 1) ELSE 0 END) AS BIGINT) AS refused_calls,
        CAST(SUM(CASE WHEN ${OUTCOME_SQL} = 'failed' THEN COALESCE(calls, 1) ELSE 0 END) AS BIGINT) AS failed_calls,
        CAST(SUM(cache_write_tokens) AS BIGINT) AS cache_write_tokens, CAST(SUM(cache_write_1h_tokens) AS BIGINT) AS cache_write_1h_tokens,
        CAST(SUM(saved_micro_usd) AS BIGINT) AS saved_micro_usd, CAST(SUM(${LEDGER_NANO_SAVED_SQL}) AS BIGINT) AS saved_nano_usd,
        CAST(SUM(CASE WHEN ${CACHE_HIT_SQL} THEN 1 ELSE 0 END) AS BIGINT) AS cache_hit_calls,
        CAST(SUM(CASE WHEN ${CACHE_HIT_SQL} THEN input_tokens ELSE 0 END) AS BIGINT) AS cache_hit_input_tokens,
        CAST(SUM(CASE WHEN ${CACHE_HIT_SQL} THEN output_tokens ELSE 0 END) AS BIGINT) AS cache_hit_output_tokens
      FROM transactions WHERE discovered_consumer = ?
      GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7`,
    ledgerAttribute: 'UPDATE transactions SET consumer = ?, team = ? WHERE discovered_consumer = ?',
    rollupDeleteEmptyHour: `DELETE FROM usage_hourly WHERE ${ROLLUP_KEY_COLUMNS.map((column) => `${column} = ?`).join(' AND ')} AND calls = 0`,
    rollupDeleteEmptyDay: `DELETE FROM usage_daily WHERE ${['day_start', ...ROLLUP_KEY_COLUMNS.slice(1)].map((column) => `${column} = ?`).join(' AND ')} AND calls = 0`,

    ruleInsert: `INSERT INTO reconciliation_rules (match_cidr, match_key_fingerprint, match_user_agent, consumer, note, created_at)
      VALUES (?, ?, ?, ?, ?, ?) RETURNING ${RULE}`,
    ruleGet: `SELECT ${RULE} FROM reconciliation_rules WHERE id = ?`,
    ruleList: `SELECT ${RULE} FROM reconciliation_rules ORDER BY id`,
    ruleDelete: 'DELETE FROM reconciliation_rules WHERE id = ?',

    // Every provider/model the rollups hold (gateway calls and observations alike), summed first, then those with no
    // status or an explicit `unreviewed` one kept. A call refused before routing has no provider and is no resource.
    discoveredResources: `SELECT seen.provider, seen.provider_model, seen.first_hour, seen.last_hour, seen.calls
      FROM (SELECT provider, provider_model, MIN(hour_start) AS first_hour, MAX(hour_start) AS last_hour, CAST(SUM(calls) AS BIGINT) AS calls
            FROM usage_hourly WHERE provider <> '' GROUP BY provider, provider_model) AS seen
      LEFT JOIN resources AS r ON r.id = seen.provider || '/' || seen.provider_model
      WHERE r.id IS NULL OR r.status = 'unreviewed'
      ORDER BY seen.provider, seen.provider_model`,
  };
  const columns = [...transactionColumns, ...OBSERVATION_COLUMNS_EXTRA];
  const row = `(${columns.map(() => '?').join(', ')})`;
  for (const rows of OBSERVATION_INSERT_SIZES) {
    statements[`observationInsert:${rows}`] =
      `INSERT INTO transactions (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => row).join(', ')}`;
  }
  return statements as Record<ReconciliationStatement, string>;
}
