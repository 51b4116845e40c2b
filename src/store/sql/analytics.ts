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
import { DIMENSION_COLUMN, groupingMask, type AnalyticsStatement, type DimensionColumns } from './analytics-statements.js';
import type { Reader } from './change.js';
import { DAY_MS, HOUR_MS } from './rollup.js';
import type { SqlValue } from './session.js';

interface UsageSqlRow extends DimensionColumns {
  bucket_start: number;
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cost_micro_usd: number;
  unpriced_calls: number;
  refused_calls: number;
  failed_calls: number;
}
interface DriverSqlRow extends DimensionColumns {
  current_cost: number;
  previous_cost: number;
  current_calls: number;
  previous_calls: number;
}

const MAX_DRIVERS = 1000;

function checkPeriod(period: UsagePeriod, name: string): void {
  for (const [end, value] of [
    ['from', period.from],
    ['to', period.to],
  ] as const) {
    if (!Number.isSafeInteger(value) || value % HOUR_MS !== 0) {
      throw new StoreInvalid(`${name}.${end} must be a whole UTC hour (the rollups' grain), got ${String(value)}`);
    }
  }
  if (period.from >= period.to) throw new StoreInvalid(`${name}: from must be before to`);
}

function checkGroupBy(groupBy: readonly UsageDimension[]): void {
  for (const dimension of groupBy) {
    if (!USAGE_DIMENSIONS.includes(dimension)) throw new StoreInvalid(`cannot group usage by "${String(dimension)}"`);
  }
}

/** Two parameters per filter (the resource filter three), null for a filter not set. */
function filterParams(filter: UsageFilter = {}): SqlValue[] {
  const optional = (value: string | undefined): SqlValue[] => (value === undefined ? [null, null] : [value, value]);
  let resource: SqlValue[] = [null, null, null];
  if (filter.resource !== undefined) {
    const slash = filter.resource.indexOf('/');
    if (slash <= 0) throw new StoreInvalid(`a resource filter is provider/model, got "${filter.resource}"`);
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

export async function usage(read: Reader, query: UsageQuery): Promise<UsageRow[]> {
  checkPeriod(query, 'usage');
  checkGroupBy(query.groupBy);
  if (!USAGE_BUCKETS.includes(query.bucket)) throw new StoreInvalid(`usage buckets are hour, day or month, got "${String(query.bucket)}"`);
  const statement: AnalyticsStatement = `usage:${query.bucket}:${groupingMask(query.groupBy)}`;
  const period = query.bucket === 'hour' ? [query.from, query.to] : periodParts(query);
  const rows = await read.session.all<UsageSqlRow>(statement, [...period, ...filterParams(query.filter)]);
  return rows.map((row) => ({
    bucketStart: Number(row.bucket_start),
    group: groupOf(row, query.groupBy),
    calls: Number(row.calls),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cachedInputTokens: Number(row.cached_input_tokens),
    costMicroUsd: Number(row.cost_micro_usd),
    unpricedCalls: Number(row.unpriced_calls),
    refusedCalls: Number(row.refused_calls),
    failedCalls: Number(row.failed_calls),
  }));
}

export async function topDrivers(read: Reader, query: TopDriversQuery): Promise<CostDriver[]> {
  checkPeriod(query.current, 'current');
  checkPeriod(query.previous, 'previous');
  checkGroupBy(query.groupBy);
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_DRIVERS) {
    throw new StoreInvalid(`limit must be 1 to ${MAX_DRIVERS}, got ${String(query.limit)}`);
  }
  const { current, previous } = query;
  const rows = await read.session.all<DriverSqlRow>(`topDrivers:${groupingMask(query.groupBy)}`, [
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
    query.limit,
  ]);
  return rows.map((row) => {
    const currentCost = Number(row.current_cost);
    const previousCost = Number(row.previous_cost);
    return {
      group: groupOf(row, query.groupBy),
      currentCostMicroUsd: currentCost,
      previousCostMicroUsd: previousCost,
      deltaMicroUsd: currentCost - previousCost,
      currentCalls: Number(row.current_calls),
      previousCalls: Number(row.previous_calls),
    };
  });
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
