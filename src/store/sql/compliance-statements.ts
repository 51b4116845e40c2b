// Compliance's statements: assessments, POA&M items, the hash chains' blocks and anchors, the sealed tables' rows as the
// chains hash them, and the evidence reads over the ledger. Static like the rest of the catalogue (statements.ts).
import type { ChainName } from '../compliance-store.js';
import type { Dialect } from '../dialect.js';

/** A hashed column: its name, and the expression read for it. */
type HashedColumn = readonly [name: string, expression: string];

/**
 * How each sealed table's rows are hashed, layout after layout: layout n is layout n - 1's columns and those its entry
 * adds. Each block records the layout it was sealed with (chain_blocks.row_layout, migration 19) and is verified with it
 * for good, so a layout once shipped never changes. Sealing takes the newest. A column added to a sealed table is added
 * here as a new entry at the end of its list (or to CHAIN_EXCLUDED_COLUMNS, with the reason): until it is,
 * test/architecture/chain-columns.test.ts fails. `id` comes first.
 * Observed rows (discovery) get their consumer and team from a resolution after they are written (an audited admin
 * change), so for them those two are hashed as NULL.
 */
const ROW_LAYOUTS: Readonly<Record<ChainName, ReadonlyArray<readonly HashedColumn[]>>> = {
  transactions: [
    // 1: schema version 12's columns, the chains' first (blocks sealed before migration 19).
    [
      ...plainColumns('id, request_id, started_at, operation, api'),
      ['consumer', 'CASE WHEN discovered_consumer IS NULL THEN consumer END'],
      ['team', 'CASE WHEN discovered_consumer IS NULL THEN team END'],
      ...plainColumns(`requested_model, provider, provider_model, stream, input_tokens, output_tokens, cached_input_tokens,
        cache_write_tokens, tokens_estimated, cost_micro_usd, latency_ms, time_to_first_token_ms, status, error_class, attempts,
        served_model, violations, calls, discovered_consumer`),
    ],
    // 2: the columns versions 13 to 18 added.
    plainColumns('identity, saved_micro_usd, cache_write_1h_tokens, web_searches, file_searches, service_tier'),
    // 3: the cost to the nano-USD, version 22's (NULL in rows written before it).
    plainColumns('cost_nano_usd'),
    // 4: the response-cache saving to the nano-USD, version 24's (NULL in rows written before it).
    plainColumns('saved_nano_usd'),
    // 5: the reasoning tokens, version 25's (NULL in rows written before it and where the provider states no split).
    plainColumns('reasoning_tokens'),
  ],
  audit_log: [plainColumns('id, at, actor, action, entity_type, entity_id, before_json, after_json')],
};

/** A sealed table's columns no layout hashes, deliberately: none so far. Each entry says why in a comment. */
export const CHAIN_EXCLUDED_COLUMNS: Readonly<Record<ChainName, readonly string[]>> = { transactions: [], audit_log: [] };

function plainColumns(names: string): HashedColumn[] {
  return names.split(',').map((name) => [name.trim(), name.trim()] as const);
}

/** Each layout's columns whole (index 0 is layout 1), with their expressions. */
const LAYOUT_COLUMNS: Readonly<Record<ChainName, ReadonlyArray<readonly HashedColumn[]>>> = {
  transactions: cumulative(ROW_LAYOUTS.transactions),
  audit_log: cumulative(ROW_LAYOUTS.audit_log),
};

function cumulative(layouts: ReadonlyArray<readonly HashedColumn[]>): HashedColumn[][] {
  return layouts.map((_, n) => layouts.slice(0, n + 1).flat());
}

/** Each sealed table's hashed columns by name, per layout (index 0 is layout 1), in the order chainRows reads them. */
export const CHAIN_COLUMNS: Readonly<Record<ChainName, ReadonlyArray<readonly string[]>>> = {
  transactions: LAYOUT_COLUMNS.transactions.map((columns) => columns.map(([name]) => name)),
  audit_log: LAYOUT_COLUMNS.audit_log.map((columns) => columns.map(([name]) => name)),
};

/** A ledger row that is not an observation of a discovered consumer still pending (retention keeps those). */
const NOT_PENDING = (table: string) =>
  `(${table}.discovered_consumer IS NULL OR ${table}.discovered_consumer NOT IN (SELECT d.id FROM discovered_consumers AS d WHERE d.status = 'pending'))`;

/** Any constant but the migrations' (dialect.ts): the key of the advisory lock a pruning's chunk takes on PostgreSQL. */
const PRUNE_LOCK_KEY = 7_318_462_016;

const ASSESSMENT_SUMMARY = 'uuid, started_at, ended_at, origin, actor, satisfied, not_satisfied';
const POAM_ITEM = `uuid, objective_id, control_id, title, description, first_seen_at, first_assessment, last_seen_at, last_assessment,
  closed_at, closed_by_assessment`;
const BLOCK = 'chain, block, after_row_id, last_row_id, row_count, row_digests, previous_hash, hash, sealed_at, row_layout';
const ANCHOR = 'id, chain, block, head_hash, sealed_rows, last_row_id, anchored_at';
const PRUNING = 'chain, through_block, through_row_id, through_hash, pruned_rows, sealed_before, pruned_at';

/** A gateway row of the period (observed traffic has its own rows, discovered_consumer set). */
const GATEWAY_PERIOD = 'discovered_consumer IS NULL AND started_at >= ? AND started_at < ?';

/**
 * What every ledger row must say (AU-3): which call (request id), when (a start time), what (operation and API), the
 * outcome (an HTTP status, an error class when it failed); a served call also who (consumer), which model and provider,
 * and its cost (NULL only when the model has no price, counted apart as unpriced).
 */
const INCOMPLETE = `(request_id = '' OR started_at <= 0 OR operation NOT IN ('chat', 'embeddings', 'mcp_tool_call') OR api = ''
  OR status < 100 OR status > 599 OR (status >= 400 AND error_class IS NULL)
  OR (status < 400 AND (consumer IS NULL OR requested_model IS NULL OR provider IS NULL OR provider_model IS NULL)))`;

export type ComplianceStatement =
  | 'assessmentInsert'
  | 'assessmentLatest'
  | 'assessmentGet'
  | 'assessmentList'
  | 'poamOpenGet'
  | 'poamInsert'
  | 'poamUpdate'
  | 'poamClose'
  | 'poamList'
  | 'chainHead'
  | 'chainBlocks'
  | 'chainLinks'
  | 'chainBlockDigests'
  | 'chainBlockInsert'
  | 'chainAnchorInsert'
  | 'chainAnchorList'
  | 'chainAnchorListAll'
  | 'chainPruningLatest'
  | 'chainPruningInsert'
  | 'chainPrunedRowsDelete'
  | 'chainPruneLock'
  | 'databaseClock'
  | 'chainPruneNewestStart'
  | `chain${'Horizon' | 'CountAfter' | 'RowAfter'}:${ChainName}`
  | `chainRows:${ChainName}:${number}`
  | 'evidenceLedgerCounts'
  | 'evidenceIncompleteIds'
  | 'evidenceResourceViolations'
  | 'evidenceCallsByConsumer'
  | 'evidenceCallsByProvider'
  | 'evidenceUnrevokedKeys';

export function complianceStatements(dialect: Dialect): Record<ComplianceStatement, string> {
  const chainStatements: Record<string, string> = {};
  for (const chain of ['transactions', 'audit_log'] as const) {
    // On SQLite each row is read as one JSON array, which JSON.parse turns into the same values (SQLite writes a REAL
    // with the digits that read back as the same double; a test compares both reads) in about 60% of the time of
    // better-sqlite3's raw rows: sealing reads every ledger row once. PostgreSQL's rows come as they are.
    LAYOUT_COLUMNS[chain].forEach((columns, index) => {
      const read =
        dialect.name === 'sqlite'
          ? `json_array(${columns.map(([, expression]) => expression).join(', ')}) AS row`
          : columns.map(([name, expression]) => (name === expression ? name : `${expression} AS ${name}`)).join(', ');
      chainStatements[`chainRows:${chain}:${index + 1}`] = `SELECT ${read} FROM ${chain} WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`;
    });
    // PostgreSQL assigns ids at insert, not at commit: its function (migration 12) takes a SHARE lock first, which waits
    // for the inserts in progress and holds new ones back until the caller's transaction ends, so no row below the
    // maximum it reads can still appear. SQLite assigns ids under its one write lock, in commit order: a read suffices.
    chainStatements[`chainHorizon:${chain}`] =
      dialect.name === 'postgres' ? `SELECT chain_horizon_${chain}() AS id` : `SELECT COALESCE(MAX(id), 0) AS id FROM ${chain}`;
    chainStatements[`chainCountAfter:${chain}`] = `SELECT COUNT(*) AS count FROM ${chain} WHERE id > ?`;
    chainStatements[`chainRowAfter:${chain}`] = `SELECT id FROM ${chain} WHERE id > ? ORDER BY id LIMIT 1`;
  }
  return {
    ...(chainStatements as Record<
      `chain${'Horizon' | 'CountAfter' | 'RowAfter'}:${ChainName}` | `chainRows:${ChainName}:${number}`,
      string
    >),
    assessmentInsert: `INSERT INTO compliance_assessments (${ASSESSMENT_SUMMARY}, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    assessmentLatest: `SELECT ${ASSESSMENT_SUMMARY}, result FROM compliance_assessments ORDER BY id DESC LIMIT 1`,
    assessmentGet: `SELECT ${ASSESSMENT_SUMMARY}, result FROM compliance_assessments WHERE uuid = ?`,
    // Newest first; the cursor is the last id seen.
    assessmentList: `SELECT id, ${ASSESSMENT_SUMMARY} FROM compliance_assessments
      WHERE (CAST(? AS BIGINT) IS NULL OR id < ?) ORDER BY id DESC LIMIT ?`,

    poamOpenGet: `SELECT ${POAM_ITEM} FROM compliance_poam_items WHERE objective_id = ? AND closed_at IS NULL`,
    poamInsert: `INSERT INTO compliance_poam_items (uuid, objective_id, control_id, title, description, first_seen_at, first_assessment,
      last_seen_at, last_assessment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    poamUpdate: 'UPDATE compliance_poam_items SET title = ?, description = ?, last_seen_at = ?, last_assessment = ? WHERE uuid = ?',
    poamClose: 'UPDATE compliance_poam_items SET closed_at = ?, closed_by_assessment = ? WHERE uuid = ?',
    poamList: `SELECT ${POAM_ITEM} FROM compliance_poam_items ORDER BY id`,

    chainHead: `SELECT ${BLOCK} FROM chain_blocks WHERE chain = ? ORDER BY block DESC LIMIT 1`,
    chainBlocks: `SELECT ${BLOCK} FROM chain_blocks WHERE chain = ? AND block > ? ORDER BY block LIMIT ?`,
    // The blocks without their row digests (some 100 KB a block), for a verification that rehashes only some blocks' rows.
    chainLinks: `SELECT ${BLOCK.replace('row_digests', "'' AS row_digests")} FROM chain_blocks WHERE chain = ? AND block > ? ORDER BY block LIMIT ?`,
    chainBlockDigests: 'SELECT row_digests FROM chain_blocks WHERE chain = ? AND block = ?',
    chainBlockInsert: `INSERT INTO chain_blocks (${BLOCK}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    chainAnchorInsert:
      'INSERT INTO chain_anchors (chain, block, head_hash, sealed_rows, last_row_id, anchored_at) VALUES (?, ?, ?, ?, ?, ?)',
    chainAnchorList: `SELECT ${ANCHOR} FROM chain_anchors WHERE chain = ? ORDER BY id DESC LIMIT ?`,
    chainAnchorListAll: `SELECT ${ANCHOR} FROM chain_anchors ORDER BY id DESC LIMIT ?`,
    chainPruningLatest: `SELECT ${PRUNING} FROM chain_prunings WHERE chain = ? ORDER BY through_block DESC LIMIT 1`,
    chainPruningInsert: `INSERT INTO chain_prunings (${PRUNING}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    // One block's rows, a range of the primary key: retention keeps a block whose rows started after its cut.
    chainPruneNewestStart: 'SELECT MAX(started_at) AS started_at FROM transactions WHERE id > ? AND id <= ?',
    // Two directors on one PostgreSQL deleting the same rows at once lock them in their plans' orders, which need not agree
    // (a plan follows the statistics of the moment, and a connection may keep a cached one): a deadlock. Each chunk first
    // takes this lock, until its transaction ends, so chunks run one at a time and each sees the rows the one before
    // deleted. SQLite's one write lock does the same.
    chainPruneLock: dialect.name === 'postgres' ? `SELECT pg_advisory_xact_lock(${PRUNE_LOCK_KEY})` : 'SELECT 1',
    // The server's clock, in epoch milliseconds (SQLite's is the host's: never asked).
    databaseClock: dialect.name === 'postgres' ? 'SELECT CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT) AS now' : 'SELECT NULL AS now',
    // A bounded chunk, lowest ids first, from after the last row the chunk before deleted: the rows kept below it are
    // passed over once a run, not once a chunk. Observations of a discovered consumer still pending are kept: resolving it
    // moves their usage in the rollups to its consumer (reconciliation.ts reads them for that); once it is resolved or
    // ignored, the next pruning deletes them. The chunk is a range of the primary key, up to its limit-th row deleted:
    // `id IN (SELECT ... LIMIT ?)` had PostgreSQL hash-join the subquery's ids against a scan of the whole ledger at every
    // chunk. The ids deleted come back, for the next chunk's lower bound.
    chainPrunedRowsDelete: `DELETE FROM transactions WHERE id > ? AND id <= (
        SELECT MAX(chunk.id) FROM (SELECT t.id FROM transactions AS t WHERE t.id > ? AND t.id <= ? AND ${NOT_PENDING('t')}
          ORDER BY t.id LIMIT ?) AS chunk)
      AND ${NOT_PENDING('transactions')} RETURNING id`,

    evidenceLedgerCounts: `SELECT COUNT(*) AS rows_count,
        COALESCE(SUM(CASE WHEN status < 400 THEN 1 ELSE 0 END), 0) AS served,
        COALESCE(SUM(CASE WHEN status < 400 AND consumer IS NULL THEN 1 ELSE 0 END), 0) AS served_anonymous,
        COALESCE(SUM(CASE WHEN ${INCOMPLETE} THEN 1 ELSE 0 END), 0) AS incomplete,
        COALESCE(SUM(CASE WHEN status < 400 AND cost_micro_usd IS NULL THEN 1 ELSE 0 END), 0) AS served_unpriced,
        (SELECT COUNT(*) FROM transactions AS observed WHERE observed.discovered_consumer IS NOT NULL
          AND observed.started_at >= ? AND observed.started_at < ?) AS observed_rows
      FROM transactions WHERE ${GATEWAY_PERIOD}`,
    evidenceIncompleteIds: `SELECT id FROM transactions WHERE ${GATEWAY_PERIOD} AND ${INCOMPLETE} ORDER BY id LIMIT ?`,
    evidenceResourceViolations: `SELECT provider || '/' || provider_model AS name, COUNT(*) AS calls FROM transactions
      WHERE ${GATEWAY_PERIOD} AND status < 400 AND violations LIKE '%resource:%'
      GROUP BY provider, provider_model ORDER BY 1`,
    evidenceCallsByConsumer: `SELECT consumer AS name, COUNT(*) AS calls FROM transactions
      WHERE ${GATEWAY_PERIOD} AND consumer IS NOT NULL GROUP BY consumer ORDER BY consumer`,
    evidenceCallsByProvider: `SELECT provider AS name, CAST(SUM(COALESCE(calls, 1)) AS BIGINT) AS calls FROM transactions
      WHERE started_at >= ? AND started_at < ? AND provider IS NOT NULL GROUP BY provider ORDER BY provider`,
    evidenceUnrevokedKeys: `SELECT id, consumer, name, created_at, expires_at, last_used_at FROM consumer_keys
      WHERE revoked_at IS NULL ORDER BY consumer, id`,
  };
}
