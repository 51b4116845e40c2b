// Usage analytics read from the rollups (hourly, and daily for whole days): usage per bucket and group, the biggest cost
// changes, the span covered.
// Never reads the ledger's rows: the rollups grow with hours x active keys, not with calls.
import {
  USAGE_BUCKETS,
  USAGE_DIMENSIONS,
  type CostDriver,
  type TopDriversQuery,
  type UsageDimension,
  type UsageFilter,
  type UsagePeriod,
  type UsageQuery,
  type UsageRow,
} from '../analytics-store.js';
import { StoreInvalid } from '../errors.js';
import { governingResource, type ResourceStatuses } from '../../policy/resources.js';
import {
  DIMENSION_COLUMN,
  groupingMask,
  SQL_DIMENSIONS,
  type AnalyticsStatement,
  type DimensionColumns,
  type SqlDimension,
} from './analytics-statements.js';
import type { Reader } from './change.js';
import { listResources } from './governance.js';
import { DAY_MS, HOUR_MS } from './rollup.js';
import type { SqlValue } from './session.js';

interface UsageSqlRow extends DimensionColumns {
  bucket_start: number;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cost_nano_usd: number;
  unpriced_calls: number;
  refused_calls: number;
  failed_calls: number;
  cache_write_tokens: number;
  cache_write_1h_tokens: number;
  saved_nano_usd: number;
  cache_hit_calls: number;
  cache_hit_input_tokens: number;
  cache_hit_output_tokens: number;
}
interface DriverSqlRow extends DimensionColumns {
  current_cost: number;
  previous_cost: number;
  current_calls: number;
  previous_calls: number;
  current_unpriced_calls: number;
  previous_unpriced_calls: number;
}

const MAX_DRIVERS = 1000;
/** A LIMIT that keeps every row (both databases take it as a 32-bit count). */
const ALL_ROWS = 2_147_483_647;

/** The query parameters of each period: the usage's and top drivers' current one are from and to. */
const PERIOD_FIELDS = {
  usage: { from: 'from', to: 'to' },
  current: { from: 'from', to: 'to' },
  previous: { from: 'previousFrom', to: 'previousTo' },
} as const;

function checkPeriod(period: UsagePeriod, name: keyof typeof PERIOD_FIELDS): void {
  const fields = PERIOD_FIELDS[name];
  for (const [end, value] of [
    ['from', period.from],
    ['to', period.to],
  ] as const) {
    if (!Number.isSafeInteger(value) || value % HOUR_MS !== 0) {
      throw new StoreInvalid(`${name}.${end} must be a whole UTC hour (the rollups' grain), got ${String(value)}`, { field: fields[end] });
    }
  }
  if (period.from >= period.to) throw new StoreInvalid(`${name}: from must be before to`, { field: fields.from });
}

function checkGroupBy(groupBy: readonly UsageDimension[]): void {
  for (const dimension of groupBy) {
    if (!USAGE_DIMENSIONS.includes(dimension)) throw new StoreInvalid(`cannot group usage by "${String(dimension)}"`, { field: 'groupBy' });
  }
}

/** Two parameters per filter (the resource filter three), null for a filter not set. */
function filterParams(filter: UsageFilter = {}): SqlValue[] {
  const optional = (value: string | undefined): SqlValue[] => (value === undefined ? [null, null] : [value, value]);
  let resource: SqlValue[] = [null, null, null];
  if (filter.resource !== undefined) {
    const slash = filter.resource.indexOf('/');
    if (slash <= 0) throw new StoreInvalid(`a resource filter is provider/model, got "${filter.resource}"`, { field: 'resource' });
    resource = [filter.resource, filter.resource.slice(0, slash), filter.resource.slice(slash + 1)];
  }
  return [...optional(filter.team), ...optional(filter.consumer), ...optional(filter.model), ...optional(filter.provider), ...resource];
}

function groupOf(row: DimensionColumns, groupBy: readonly UsageDimension[]): Partial<Record<UsageDimension, string>> {
  const group: Partial<Record<UsageDimension, string>> = {};
  // In USAGE_DIMENSIONS order whatever order they were asked in, as the rows are ordered.
  for (const dimension of USAGE_DIMENSIONS) if (groupBy.includes(dimension)) group[dimension] = row[DIMENSION_COLUMN[dimension]] ?? '';
  return group;
}

/**
 * A period as the day and month reads take it: its hours before its first whole day, its hours after its last whole day,
 * and its whole days in between. A period within one day is all head; empty ranges are [0, 0).
 */
export function periodParts(period: UsagePeriod): SqlValue[] {
  const firstDay = Math.ceil(period.from / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(period.to / DAY_MS) * DAY_MS;
  if (firstDay >= lastDay) return [period.from, period.to, 0, 0, 0, 0];
  return [period.from, firstDay, lastDay, period.to, firstDay, lastDay];
}

/**
 * What the statement groups by for `groupBy`: a resource status is each resource's, so asked for it the rows come by
 * resource, and statusesOf names their statuses before rows of one status are added together (mergeRows).
 */
function sqlGrouping(groupBy: readonly UsageDimension[]): SqlDimension[] {
  const byStatus = groupBy.includes('resourceStatus');
  return SQL_DIMENSIONS.filter((dimension) => groupBy.includes(dimension) || (byStatus && dimension === 'resource'));
}

/**
 * Sets each row's resource status: that of the listed resource governing it (policy/resources.ts, as the gateway and
 * discovery judge a call), today's, so a change applies to the past too. A call that reached no provider is no resource.
 */
async function statusesOf<Row extends DimensionColumns>(read: Reader, rows: Row[]): Promise<Row[]> {
  const statuses: ResourceStatuses = Object.fromEntries((await listResources(read)).map((resource) => [resource.id, resource.status]));
  const known = new Map<string, string>();
  for (const row of rows) {
    const resource = row.resource ?? '';
    let status = known.get(resource);
    if (status === undefined) {
      const slash = resource.indexOf('/');
      status = slash <= 0 ? '' : governingResource(statuses, resource.slice(0, slash), resource.slice(slash + 1)).status;
      known.set(resource, status);
    }
    row.resource_status = status;
  }
  return rows;
}

/** Rows of the same key (bucket and group) added together, in the order of their first row. */
function mergeRows<Row>(rows: readonly Row[], keyOf: (row: Row) => string, add: (into: Row, row: Row) => void): Row[] {
  const merged = new Map<string, Row>();
  for (const row of rows) {
    const key = keyOf(row);
    const into = merged.get(key);
    if (into === undefined) merged.set(key, { ...row });
    else add(into, row);
  }
  return [...merged.values()];
}

/** The statements' order (ORDER BY the group's columns, in USAGE_DIMENSIONS order), for rows merged after them. */
function compareGroups(a: Partial<Record<UsageDimension, string>>, b: Partial<Record<UsageDimension, string>>): number {
  for (const dimension of USAGE_DIMENSIONS) {
    const [x, y] = [a[dimension] ?? '', b[dimension] ?? ''];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export async function usage(read: Reader, query: UsageQuery): Promise<UsageRow[]> {
  checkPeriod(query, 'usage');
  checkGroupBy(query.groupBy);
  if (!USAGE_BUCKETS.includes(query.bucket))
    throw new StoreInvalid(`usage buckets are hour, day or month, got "${String(query.bucket)}"`, { field: 'bucket' });
  const statement: AnalyticsStatement = `usage:${query.bucket}:${groupingMask(sqlGrouping(query.groupBy))}`;
  const period = query.bucket === 'hour' ? [query.from, query.to] : periodParts(query);
  const byStatus = query.groupBy.includes('resourceStatus');
  const rows = await read.session.all<UsageSqlRow>(statement, [...period, ...filterParams(query.filter)]);
  const usageRows = (byStatus ? await statusesOf(read, rows) : rows).map((row) => ({
    bucketStart: Number(row.bucket_start),
    group: groupOf(row, query.groupBy),
    calls: Number(row.calls),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cachedInputTokens: Number(row.cached_input_tokens),
    costNanoUsd: Number(row.cost_nano_usd),
    unpricedCalls: Number(row.unpriced_calls),
    refusedCalls: Number(row.refused_calls),
    failedCalls: Number(row.failed_calls),
    cacheWriteTokens: Number(row.cache_write_tokens),
    cacheWrite1hTokens: Number(row.cache_write_1h_tokens),
    savedNanoUsd: Number(row.saved_nano_usd),
    cacheHitCalls: Number(row.cache_hit_calls),
    cacheHitInputTokens: Number(row.cache_hit_input_tokens),
    cacheHitOutputTokens: Number(row.cache_hit_output_tokens),
  }));
  if (!byStatus) return usageRows;
  return mergeRows(usageRows, (row) => JSON.stringify([row.bucketStart, row.group]), addTotals).sort(
    (a, b) => a.bucketStart - b.bucketStart || compareGroups(a.group, b.group),
  );
}

function addTotals(into: UsageRow, row: UsageRow): void {
  into.calls += row.calls;
  into.inputTokens += row.inputTokens;
  into.outputTokens += row.outputTokens;
  into.cachedInputTokens += row.cachedInputTokens;
  into.costNanoUsd += row.costNanoUsd;
  into.unpricedCalls += row.unpricedCalls;
  into.refusedCalls += row.refusedCalls;
  into.failedCalls += row.failedCalls;
  into.cacheWriteTokens += row.cacheWriteTokens;
  into.cacheWrite1hTokens += row.cacheWrite1hTokens;
  into.savedNanoUsd += row.savedNanoUsd;
  into.cacheHitCalls += row.cacheHitCalls;
  into.cacheHitInputTokens += row.cacheHitInputTokens;
  into.cacheHitOutputTokens += row.cacheHitOutputTokens;
}

export async function topDrivers(read: Reader, query: TopDriversQuery): Promise<CostDriver[]> {
  checkPeriod(query.current, 'current');
  checkPeriod(query.previous, 'previous');
  checkGroupBy(query.groupBy);
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_DRIVERS) {
    throw new StoreInvalid(`limit must be 1 to ${MAX_DRIVERS}, got ${String(query.limit)}`, { field: 'limit' });
  }
  const { current, previous } = query;
  const byStatus = query.groupBy.includes('resourceStatus');
  const rows = await read.session.all<DriverSqlRow>(`topDrivers:${groupingMask(sqlGrouping(query.groupBy))}`, [
    current.from,
    current.to,
    previous.from,
    previous.to,
    current.from,
    current.to,
    previous.from,
    previous.to,
    current.from,
    current.to,
    previous.from,
    previous.to,
    ...hourParts(current, previous),
    ...dayParts(current, previous),
    ...filterParams(query.filter),
    // By resource status: every resource's row, since the largest changes are known only once they are added up by status.
    byStatus ? ALL_ROWS : query.limit,
  ]);
  const drivers = (byStatus ? await statusesOf(read, rows) : rows).map((row) => {
    const currentCost = Number(row.current_cost);
    const previousCost = Number(row.previous_cost);
    return {
      group: groupOf(row, query.groupBy),
      currentCostNanoUsd: currentCost,
      previousCostNanoUsd: previousCost,
      deltaNanoUsd: currentCost - previousCost,
      currentCalls: Number(row.current_calls),
      previousCalls: Number(row.previous_calls),
      currentUnpricedCalls: Number(row.current_unpriced_calls),
      previousUnpricedCalls: Number(row.previous_unpriced_calls),
    };
  });
  if (!byStatus) return drivers;
  return mergeRows(drivers, (driver) => JSON.stringify(driver.group), addDriver)
    .sort((a, b) => Math.abs(b.deltaNanoUsd) - Math.abs(a.deltaNanoUsd) || compareGroups(a.group, b.group))
    .slice(0, query.limit);
}

function addDriver(into: CostDriver, driver: CostDriver): void {
  into.currentCostNanoUsd += driver.currentCostNanoUsd;
  into.previousCostNanoUsd += driver.previousCostNanoUsd;
  into.deltaNanoUsd += driver.deltaNanoUsd;
  into.currentCalls += driver.currentCalls;
  into.previousCalls += driver.previousCalls;
  into.currentUnpricedCalls += driver.currentUnpricedCalls;
  into.previousUnpricedCalls += driver.previousUnpricedCalls;
}

/**
 * Both periods' head and tail hours, then both periods' whole days: the order the two-period source takes them. Periods
 * that overlap are read from the hours alone: a day row of one period could otherwise hold hours the other also reads.
 */
function hourParts(current: UsagePeriod, previous: UsagePeriod): SqlValue[] {
  if (overlap(current, previous)) return [current.from, current.to, 0, 0, previous.from, previous.to, 0, 0];
  return [...periodParts(current).slice(0, 4), ...periodParts(previous).slice(0, 4)];
}

function dayParts(current: UsagePeriod, previous: UsagePeriod): SqlValue[] {
  if (overlap(current, previous)) return [0, 0, 0, 0];
  return [...periodParts(current).slice(4), ...periodParts(previous).slice(4)];
}

function overlap(a: UsagePeriod, b: UsagePeriod): boolean {
  return a.from < b.to && b.from < a.to;
}

export async function usageExtent(read: Reader): Promise<{ firstHour: number; lastHour: number } | null> {
  const [row] = await read.session.all<{ first_hour: number | null; last_hour: number | null }>('usageExtent', []);
  if (row === undefined || row.first_hour === null || row.last_hour === null) return null;
  return { firstHour: Number(row.first_hour), lastHour: Number(row.last_hour) };
}

/**
 * The first hour the rollups hold a call of the filter's scope, or null when they hold none; the rollups' first hour for
 * an empty filter. A team alone is one look into an index; any other scope reads the daily rollups (a consumer's too:
 * the ledger's rows would be one look as well, but ledger.retention deletes the old ones, and the rollups stay).
 */
export async function firstHour(read: Reader, filter: UsageFilter): Promise<number | null> {
  const parts = (Object.keys(filter) as Array<keyof UsageFilter>).filter((part) => filter[part] !== undefined);
  if (parts.length === 0) return (await usageExtent(read))?.firstHour ?? null;
  if (parts.length === 1 && filter.team !== undefined) return teamFirstHour(read, filter.team);
  const params = filterParams(filter);
  const [day] = await read.session.all<{ first_day: number | string | null }>('firstDay', params);
  if (day === undefined || day.first_day === null) return null;
  const dayStart = Number(day.first_day);
  const [hour] = await read.session.all<{ first_hour: number | string | null }>('firstHourOfDay', [dayStart, dayStart + DAY_MS, ...params]);
  return hour === undefined || hour.first_hour === null ? null : Number(hour.first_hour);
}

async function teamFirstHour(read: Reader, team: string): Promise<number | null> {
  const [row] = await read.session.all<{ first_hour: number | string | null }>('teamFirstHour', [team]);
  return row === undefined || row.first_hour === null ? null : Number(row.first_hour);
}
