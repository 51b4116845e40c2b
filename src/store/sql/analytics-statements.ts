// The usage analytics' statements: the rollup upserts every ledger batch runs, and the reads over usage_hourly and usage_daily.
// Static like the rest of the catalogue: one statement per bucket and grouping, chosen by name, so no SQL is assembled per call.
import { USAGE_BUCKETS, USAGE_DIMENSIONS, type UsageBucket, type UsageDimension } from '../analytics-store.js';
import type { Dialect } from '../dialect.js';
import { statementSizes } from './chunks.js';

/** Distinct rollup keys per multi-row upsert: 50 x 22 columns, the same statement-size budget as the ledger's inserts. */
export const ROLLUP_ROWS_PER_STATEMENT = 50;

export const ROLLUP_KEY_COLUMNS = [
  'hour_start',
  'consumer',
  'team',
  'requested_model',
  'provider',
  'provider_model',
  'status_class',
] as const;
export const ROLLUP_SUM_COLUMNS = [
  'calls',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'cost_micro_usd',
  'unpriced_calls',
  'refused_calls',
  'failed_calls',
  'cache_write_tokens',
  'cache_write_1h_tokens',
  'saved_micro_usd',
  'cache_hit_calls',
  'cache_hit_input_tokens',
  'cache_hit_output_tokens',
  'cost_nano_usd',
  'saved_nano_usd',
] as const;

/**
 * The dimensions the statements group by: all but resourceStatus, which analytics.ts works out from each resource with
 * the gateway's own reading of which listed resource governs a model id (a Bedrock profile takes its foundation
 * model's status), so that it is not written a second time in SQL.
 */
export type SqlDimension = Exclude<UsageDimension, 'resourceStatus'>;
export const SQL_DIMENSIONS: readonly SqlDimension[] = USAGE_DIMENSIONS.filter(
  (dimension): dimension is SqlDimension => dimension !== 'resourceStatus',
);

/** Each dimension's value in a rollup row `u`. */
const DIMENSION_SQL: Record<SqlDimension, string> = {
  consumer: 'u.consumer',
  team: 'u.team',
  model: 'u.requested_model',
  provider: 'u.provider',
  // A call refused before routing has no provider: it is no resource, so neither it nor its status is named.
  resource: "CASE WHEN u.provider = '' THEN '' ELSE u.provider || '/' || u.provider_model END",
  status: 'u.status_class',
};

/** The column each dimension comes back as. */
export const DIMENSION_COLUMN = {
  consumer: 'consumer',
  team: 'team',
  model: 'model',
  provider: 'provider',
  resource: 'resource',
  status: 'status',
  resourceStatus: 'resource_status',
} as const satisfies Record<UsageDimension, string>;

/** The dimension columns of a row the analytics statements return. */
export type DimensionColumns = { [D in UsageDimension as (typeof DIMENSION_COLUMN)[D]]?: string };

/**
 * Which dimensions a statement groups by, as a bit mask in SQL_DIMENSIONS order (consumer 1, team 2, ... status 32).
 * Each of the 64 groupings has its own statements: a grouping chosen by parameters (dimensions not asked for masked
 * to '') made SQLite sort every row on all six columns, over twice the time of sorting on the ones asked for.
 */
export function groupingMask(groupBy: readonly SqlDimension[]): number {
  return SQL_DIMENSIONS.reduce((mask, dimension, bit) => (groupBy.includes(dimension) ? mask | (1 << bit) : mask), 0);
}

const GROUPINGS = 1 << SQL_DIMENSIONS.length;

function grouped(mask: number): SqlDimension[] {
  return SQL_DIMENSIONS.filter((_, bit) => (mask & (1 << bit)) !== 0);
}

export type AnalyticsStatement =
  | `usage:${UsageBucket}:${number}`
  | `topDrivers:${number}`
  | 'usageExtent'
  | 'teamFirstHour'
  | 'firstDay'
  | 'firstHourOfDay'
  | `rollupUpsert:${number}`
  | `rollupDailyUpsert:${number}`;

/** The grouped reads: 64 groupings x 4 statements, prepared by SQLite only when first used (sqlite-store.ts). */
export function isGroupedRead(name: string): boolean {
  return name.startsWith('usage:') || name.startsWith('topDrivers:');
}

/** `(CAST(? AS TEXT) IS NULL OR ...)` per filter, as in statements.ts; the resource filter takes three parameters. */
const FILTERS = `(CAST(? AS TEXT) IS NULL OR u.team = ?) AND (CAST(? AS TEXT) IS NULL OR u.consumer = ?)
      AND (CAST(? AS TEXT) IS NULL OR u.requested_model = ?) AND (CAST(? AS TEXT) IS NULL OR u.provider = ?)
      AND (CAST(? AS TEXT) IS NULL OR (u.provider = ? AND u.provider_model = ?))`;

/** pg reads BIGINT as a number (postgres-store.ts) but SUM of BIGINT is NUMERIC: cast back. */
const sum = (expression: string, as: string) => `CAST(SUM(${expression}) AS BIGINT) AS ${as}`;

const ROLLUP_COLUMNS = [...ROLLUP_KEY_COLUMNS.slice(1), ...ROLLUP_SUM_COLUMNS].join(', ');
const inRange = (column: string) => `(${column} >= CAST(? AS BIGINT) AND ${column} < CAST(? AS BIGINT))`;

/**
 * The rollup rows a read takes, as `u` with an `hour_start`. Hourly reads take usage_hourly; day and month reads take
 * whole days from usage_daily (a day's row has its start as hour_start) and only the hours of the partial days at the
 * ends of each period from usage_hourly. Parameters, per period: its head hours, its tail hours, its whole days
 * (analytics.ts splits them); an empty range is [0, 0).
 */
function source(periods: 0 | 1 | 2): string {
  if (periods === 0) return 'usage_hourly AS u';
  const each = (column: string, ranges: number) => Array.from({ length: ranges }, () => inRange(column)).join(' OR ');
  return `(SELECT hour_start, ${ROLLUP_COLUMNS} FROM usage_hourly WHERE ${each('hour_start', 2 * periods)}
      UNION ALL
      SELECT day_start AS hour_start, ${ROLLUP_COLUMNS} FROM usage_daily WHERE ${each('day_start', periods)}) AS u`;
}

const columns = (dimensions: readonly SqlDimension[]) => dimensions.map((d) => `${DIMENSION_SQL[d]} AS ${DIMENSION_COLUMN[d]}`);
/** 1, 2, ... n: GROUP BY and ORDER BY name output columns by position, the same in both databases. */
const positions = (count: number) => Array.from({ length: count }, (_, i) => i + 1).join(', ');

/** Parameters: for hours, from and to; for days and months, the period's parts (see source); then the filters. */
function usageStatement(dialect: Dialect, bucket: UsageBucket, mask: number): string {
  const dimensions = grouped(mask);
  const all = positions(dimensions.length + 1);
  // Days are whole multiples of 86,400,000 ms from the epoch in UTC: integer division in both databases.
  const start = bucket === 'hour' ? 'u.hour_start' : '(u.hour_start / 86400000) * 86400000';
  const byHourOrDay = `SELECT ${[`${start} AS bucket_start`, ...columns(dimensions)].join(', ')},
      ${ROLLUP_SUM_COLUMNS.map((column) => sum(`u.${column}`, column)).join(', ')}
    FROM ${bucket === 'hour' ? `${source(0)} WHERE ${inRange('u.hour_start')} AND` : `${source(1)} WHERE`} ${FILTERS}
    GROUP BY ${all}`;
  if (bucket !== 'month') return `${byHourOrDay} ORDER BY ${all}`;
  // Months from the days: the month's start (the dialects' date arithmetic) is then worked out once per day and group
  // rather than once per rollup row, a third of the month query's time in SQLite.
  return `SELECT ${[`${dialect.monthStart('d.bucket_start')} AS bucket_start`, ...dimensions.map((d) => `d.${DIMENSION_COLUMN[d]} AS ${DIMENSION_COLUMN[d]}`)].join(', ')},
      ${ROLLUP_SUM_COLUMNS.map((column) => sum(`d.${column}`, column)).join(', ')}
    FROM (${byHourOrDay}) AS d
    GROUP BY ${all}
    ORDER BY ${all}`;
}

/**
 * Both periods in one scan: each sum takes the rows of its own period. Parameters: a period's from and to for each sum,
 * in the order current cost, previous cost, current calls, previous calls, current and previous unpriced calls; the
 * parts of current and previous (see source); the filters; the limit. Ungrouped, HAVING keeps an empty scan from
 * answering one row of NULLs.
 */
function topDriversStatement(mask: number): string {
  const dimensions = grouped(mask);
  const inPeriod = 'u.hour_start >= CAST(? AS BIGINT) AND u.hour_start < CAST(? AS BIGINT)';
  const within = (column: string) => `CASE WHEN ${inPeriod} THEN ${column} ELSE 0 END`;
  return `SELECT * FROM (
    SELECT ${[
      ...columns(dimensions),
      sum(within('u.cost_nano_usd'), 'current_cost'),
      sum(within('u.cost_nano_usd'), 'previous_cost'),
      sum(within('u.calls'), 'current_calls'),
      sum(within('u.calls'), 'previous_calls'),
      sum(within('u.unpriced_calls'), 'current_unpriced_calls'),
      sum(within('u.unpriced_calls'), 'previous_unpriced_calls'),
    ].join(', ')}
    FROM ${source(2)}
    WHERE ${FILTERS}
    ${dimensions.length === 0 ? 'HAVING COUNT(*) > 0' : `GROUP BY ${positions(dimensions.length)}`}
  ) AS drivers
  ORDER BY ${['ABS(current_cost - previous_cost) DESC', ...dimensions.map((d) => DIMENSION_COLUMN[d])].join(', ')}
  LIMIT ?`;
}

/** Adds to a key's sums when it already has a row: each batch's totals are added once, in its own transaction. */
function rollupUpsert(table: 'usage_hourly' | 'usage_daily', rows: number): string {
  const keys = table === 'usage_hourly' ? ROLLUP_KEY_COLUMNS : ['day_start', ...ROLLUP_KEY_COLUMNS.slice(1)];
  const placeholders = `(${[...keys, ...ROLLUP_SUM_COLUMNS].map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${[...keys, ...ROLLUP_SUM_COLUMNS].join(', ')})
    VALUES ${Array.from({ length: rows }, () => placeholders).join(', ')}
    ON CONFLICT (${keys.join(', ')}) DO UPDATE SET
      ${ROLLUP_SUM_COLUMNS.map((column) => `${column} = ${table}.${column} + excluded.${column}`).join(', ')}`;
}

export function analyticsStatements(dialect: Dialect): Record<AnalyticsStatement, string> {
  const statements: Record<string, string> = {
    // The primary key leads with hour_start: both ends are index look-ups.
    usageExtent: 'SELECT MIN(hour_start) AS first_hour, MAX(hour_start) AS last_hour FROM usage_hourly',
    // One look into the (team, hour_start) index, not a scan: a forecast asks it for each team it projects.
    teamFirstHour: 'SELECT MIN(hour_start) AS first_hour FROM usage_hourly WHERE team = ?',
    // Any other scope (a consumer; a model, provider or resource, with or without a team or consumer): the daily rollups,
    // 24 times fewer rows than the hourly, give the first day; then that day's hours give the hour, a range of the
    // primary key. Not the ledger's (consumer, started_at) index: ledger.retention deletes old rows, the rollups stay.
    firstDay: `SELECT MIN(u.day_start) AS first_day FROM usage_daily AS u WHERE ${FILTERS}`,
    firstHourOfDay: `SELECT MIN(u.hour_start) AS first_hour FROM usage_hourly AS u WHERE ${inRange('u.hour_start')} AND ${FILTERS}`,
  };
  for (let mask = 0; mask < GROUPINGS; mask++) {
    for (const bucket of USAGE_BUCKETS) statements[`usage:${bucket}:${mask}`] = usageStatement(dialect, bucket, mask);
    statements[`topDrivers:${mask}`] = topDriversStatement(mask);
  }
  for (const rows of statementSizes(ROLLUP_ROWS_PER_STATEMENT)) {
    statements[`rollupUpsert:${rows}`] = rollupUpsert('usage_hourly', rows);
    statements[`rollupDailyUpsert:${rows}`] = rollupUpsert('usage_daily', rows);
  }
  return statements as Record<AnalyticsStatement, string>;
}
