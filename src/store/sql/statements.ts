// Every statement the director store runs, written once with `?` placeholders; the dialect fills in the few parts that differ.
// Drivers prepare the whole catalogue up front, so no SQL is assembled per call.
import type { Dialect } from '../dialect.js';
import { statementSizes } from './chunks.js';
import { admittedUsageStatements, type AdmittedUsageStatement } from './admitted-usage.js';
import { analyticsStatements, isGroupedRead, type AnalyticsStatement } from './analytics-statements.js';
import { complianceStatements, type ComplianceStatement } from './compliance-statements.js';
import { identityRuleStatements, type IdentityRuleStatement } from './identity-rules.js';
import { reconciliationStatements, type ReconciliationStatement } from './reconciliation-statements.js';
import { auditStatements, type AuditStatement } from './audit.js';
import { isSortedLedgerRead, transactionStatements, type TransactionStatement } from './transactions.js';

/** Rows per multi-row INSERT (ledger) or UPDATE (key use): 50 x 32 ledger columns stays far under both databases' limits. */
export const ROWS_PER_STATEMENT = 50;

/** Optional filters are `(CAST(? AS type) IS NULL OR ...)`: one static statement, and PostgreSQL learns each parameter's type. */
const optionalText = (condition: string) => `(CAST(? AS TEXT) IS NULL OR ${condition})`;

const TEAM = 'name, owner, created_at';
const CONSUMER = 'name, team, owner, labels, models, created_at, updated_at';
const KEY = 'id, consumer, prefix, name, created_at, expires_at, revoked_at, last_used_at';
const TOKEN = 'id, name, role, team, prefix, created_at, revoked_at';
const DOCUMENT = 'name, definition, created_at, updated_at';
const PROVIDER = 'name, settings, credential_fields, credentials, created_at, updated_at';

export const TRANSACTION_COLUMNS = [
  'request_id',
  'started_at',
  'operation',
  'api',
  'consumer',
  'team',
  'requested_model',
  'provider',
  'provider_model',
  'stream',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'cache_write_tokens',
  'tokens_estimated',
  'cost_micro_usd',
  'latency_ms',
  'time_to_first_token_ms',
  'status',
  'error_class',
  'attempts',
  'served_model',
  'violations',
  'identity',
  'saved_micro_usd',
  'cache_write_1h_tokens',
  'web_searches',
  'service_tier',
  'file_searches',
  'cost_nano_usd',
  'saved_nano_usd',
  'reasoning_tokens',
] as const;

/** Budgets, budget templates, rate limits and models share one table shape. */
export const DOCUMENT_TABLES = {
  budget: 'budgets',
  budgetTemplate: 'budget_templates',
  rateLimit: 'rate_limits',
  model: 'models',
} as const;
export type DocumentKind = keyof typeof DOCUMENT_TABLES;
type DocumentStatement = `${DocumentKind}${'Insert' | 'Get' | 'List' | 'Update' | 'Delete'}`;

/** Statements for the row counts of statementSizes(ROWS_PER_STATEMENT), named `<kind>:<rows>`. */
export type SizedStatement = `${'transactionInsert' | 'keyTouch'}:${number}`;

function fixedStatements(dialect: Dialect) {
  return {
    versionBump: 'UPDATE director_state SET config_version = config_version + 1 WHERE id = 1',
    versionGet: 'SELECT config_version FROM director_state WHERE id = 1',

    teamInsert: `INSERT INTO teams (${TEAM}) VALUES (?, ?, ?)`,
    teamGet: `SELECT ${TEAM} FROM teams WHERE name = ?`,
    teamList: `SELECT ${TEAM} FROM teams ORDER BY name`,
    teamUpdate: 'UPDATE teams SET owner = ? WHERE name = ?',
    teamDelete: 'DELETE FROM teams WHERE name = ?',
    teamConsumerCount: 'SELECT COUNT(*) AS count FROM consumers WHERE team = ?',

    consumerInsert: `INSERT INTO consumers (${CONSUMER}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    consumerGet: `SELECT ${CONSUMER} FROM consumers WHERE name = ?`,
    // Keyset pagination: the page after the cursor's name, in the primary key's order.
    consumerList: `SELECT ${CONSUMER} FROM consumers
      WHERE ${optionalText('team = ?')} AND ${optionalText(dialect.jsonContains('consumers.labels'))} AND ${optionalText('name > ?')}
      ORDER BY name LIMIT ?`,
    consumerUpdate: 'UPDATE consumers SET team = ?, owner = ?, labels = ?, models = ?, updated_at = ? WHERE name = ?',
    consumerDelete: 'DELETE FROM consumers WHERE name = ?',
    consumerModelUsers: `SELECT ${CONSUMER} FROM consumers WHERE models IS NOT NULL ORDER BY name`,

    keyInsert: 'INSERT INTO consumer_keys (id, consumer, hash, prefix, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    keyGet: `SELECT ${KEY} FROM consumer_keys WHERE id = ?`,
    keyList: `SELECT ${KEY} FROM consumer_keys WHERE consumer = ? ORDER BY created_at, id`,
    keyExpiring: `SELECT ${KEY} FROM consumer_keys
      WHERE revoked_at IS NULL AND expires_at > ? AND expires_at <= ?
        AND ${optionalText('consumer IN (SELECT name FROM consumers WHERE team = ?)')}
      ORDER BY expires_at, id LIMIT ?`,
    keyRevoke: 'UPDATE consumer_keys SET revoked_at = ? WHERE id = ?',
    keyExpire: 'UPDATE consumer_keys SET expires_at = ? WHERE id = ?',
    keyDelete: 'DELETE FROM consumer_keys WHERE id = ?',
    keyActive: 'SELECT id, consumer, hash, name, expires_at FROM consumer_keys WHERE revoked_at IS NULL ORDER BY consumer, id',
    keyFind: `SELECT consumer_keys.id AS key_id, ${CONSUMER.split(', ')
      .map((column) => `consumers.${column}`)
      .join(', ')}
      FROM consumer_keys JOIN consumers ON consumers.name = consumer_keys.consumer
      WHERE consumer_keys.hash = ? AND consumer_keys.revoked_at IS NULL
        AND (consumer_keys.expires_at IS NULL OR consumer_keys.expires_at > ?)`,

    tokenInsert: `INSERT INTO admin_tokens (id, name, role, team, hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    tokenGet: `SELECT ${TOKEN} FROM admin_tokens WHERE id = ?`,
    tokenList: `SELECT ${TOKEN} FROM admin_tokens ORDER BY created_at, id`,
    tokenRevoke: 'UPDATE admin_tokens SET revoked_at = ? WHERE id = ?',
    tokenDelete: 'DELETE FROM admin_tokens WHERE id = ?',
    tokenFind: `SELECT ${TOKEN} FROM admin_tokens WHERE hash = ? AND revoked_at IS NULL`,
    tokensOfTeam: `SELECT ${TOKEN} FROM admin_tokens WHERE team = ? ORDER BY created_at, id`,

    resourceInsert: 'INSERT INTO resources (id, status, note) VALUES (?, ?, ?)',
    resourceGet: 'SELECT id, status, note FROM resources WHERE id = ?',
    resourceList: 'SELECT id, status, note FROM resources ORDER BY id',
    resourceUpdate: 'UPDATE resources SET status = ?, note = ? WHERE id = ?',
    resourceDelete: 'DELETE FROM resources WHERE id = ?',

    providerInsert: `INSERT INTO providers (${PROVIDER}) VALUES (?, ?, ?, ?, ?, ?)`,
    providerGet: `SELECT ${PROVIDER} FROM providers WHERE name = ?`,
    providerList: `SELECT ${PROVIDER} FROM providers ORDER BY name`,
    providerUpdate: 'UPDATE providers SET settings = ?, credential_fields = ?, credentials = ?, updated_at = ? WHERE name = ?',
    providerDelete: 'DELETE FROM providers WHERE name = ?',

    webhookInsert: 'INSERT INTO webhooks (id, url, secret, created_at) VALUES (?, ?, ?, ?)',
    webhookGet: 'SELECT id, url, secret, created_at FROM webhooks WHERE id = ?',
    webhookList: 'SELECT id, url, secret, created_at FROM webhooks ORDER BY created_at, id',
    webhookUpdate: 'UPDATE webhooks SET url = ?, secret = ? WHERE id = ?',
    webhookDelete: 'DELETE FROM webhooks WHERE id = ?',

    auditInsert: `INSERT INTO audit_log (at, actor, action, entity_type, entity_id, before_json, after_json)
      VALUES (?, ?, ?, ?, ?, ?, ?)`,

    transactionCount: 'SELECT COUNT(*) AS count FROM transactions',
    // Changes no row when the batch's key is already there: its rows were committed before (ledger.ts).
    ledgerBatchClaim: 'INSERT INTO ledger_batches (id, committed_at, records) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ledgerBatchPrune: 'DELETE FROM ledger_batches WHERE committed_at < ?',
  };
}

function documentStatements(): Record<DocumentStatement, string> {
  const statements: Partial<Record<DocumentStatement, string>> = {};
  for (const [kind, table] of Object.entries(DOCUMENT_TABLES) as Array<[DocumentKind, string]>) {
    statements[`${kind}Insert`] = `INSERT INTO ${table} (${DOCUMENT}) VALUES (?, ?, ?, ?)`;
    statements[`${kind}Get`] = `SELECT ${DOCUMENT} FROM ${table} WHERE name = ?`;
    statements[`${kind}List`] = `SELECT ${DOCUMENT} FROM ${table} ORDER BY name`;
    statements[`${kind}Update`] = `UPDATE ${table} SET definition = ?, updated_at = ? WHERE name = ?`;
    statements[`${kind}Delete`] = `DELETE FROM ${table} WHERE name = ?`;
  }
  return statements as Record<DocumentStatement, string>;
}

function sizedStatements(): Record<SizedStatement, string> {
  const statements: Record<SizedStatement, string> = {};
  const rowPlaceholders = `(${TRANSACTION_COLUMNS.map(() => '?').join(', ')})`;
  for (const rows of statementSizes(ROWS_PER_STATEMENT)) {
    statements[`transactionInsert:${rows}`] = `INSERT INTO transactions (${TRANSACTION_COLUMNS.join(', ')}) VALUES ${Array.from(
      { length: rows },
      () => rowPlaceholders,
    ).join(', ')}`;
    // VALUES columns are column1, column2 in both databases; a key's last use only moves forward.
    statements[`keyTouch:${rows}`] = `UPDATE consumer_keys SET last_used_at = used.column2
      FROM (VALUES ${Array.from({ length: rows }, () => '(CAST(? AS TEXT), CAST(? AS BIGINT))').join(', ')}) AS used
      WHERE consumer_keys.id = used.column1 AND (consumer_keys.last_used_at IS NULL OR consumer_keys.last_used_at < used.column2)`;
  }
  return statements;
}

export type StatementName =
  | keyof ReturnType<typeof fixedStatements>
  | DocumentStatement
  | SizedStatement
  | AnalyticsStatement
  | ReconciliationStatement
  | AdmittedUsageStatement
  | ComplianceStatement
  | TransactionStatement
  | AuditStatement
  | IdentityRuleStatement;

/**
 * The analytics' grouped reads (128 groupings x 4), and the ledger's listings sorted by other than time (transactions.ts),
 * which both drivers treat apart from the rest. SQLite prepares them on
 * first use, not at open: all 512 would add some 40 ms to every open, the ledger's writer thread's included, which never
 * runs them. PostgreSQL plans them at every call with the actual period and filters: the generic plan a named statement
 * gets after five calls guesses one row for any period, scans by index and sorts on disk, twice as slow (measured).
 */
export function isAnalyticsRead(name: StatementName): boolean {
  return isGroupedRead(name) || isSortedLedgerRead(name);
}

/** The whole catalogue for one dialect, `?` placeholders still in place (drivers bind them their way). */
export function statementCatalogue(dialect: Dialect): Map<StatementName, string> {
  return new Map(
    Object.entries({
      ...fixedStatements(dialect),
      ...documentStatements(),
      ...sizedStatements(),
      ...analyticsStatements(dialect),
      ...reconciliationStatements(TRANSACTION_COLUMNS),
      ...admittedUsageStatements(dialect),
      ...complianceStatements(dialect),
      ...transactionStatements(),
      ...auditStatements(),
      ...identityRuleStatements(),
    }) as Array<[StatementName, string]>,
  );
}
