// /api/usage and /api/usage/top-drivers: who uses which models, and what moves the spend, read from the hourly rollups.
// Read roles see everything; a team-owner sees its own team's usage only (its team filter is forced).
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { USAGE_BUCKETS, USAGE_DIMENSIONS, type UsageBucket, type UsageDimension, type UsageFilter } from '../../store/director-store.js';
import { authorize, type ApiEnv } from '../access.js';
import { DAY_MS, dayFloor, HOUR_MS, hourFloor, monthFloor } from '../analytics/calendar.js';
import { money } from '../analytics/money.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { errors, iso, isoTime, json } from './schemas.js';

const query = (name: string) => ({ param: { name, in: 'query' as const } });
const dimensionList = new RegExp(`^$|^(${USAGE_DIMENSIONS.join('|')})(,(${USAGE_DIMENSIONS.join('|')}))*$`);
const groupByParam = (name: string) =>
  z
    .string()
    .regex(dimensionList, `a comma list of ${USAGE_DIMENSIONS.join(', ')}`)
    .optional()
    .openapi({ ...query(name), example: 'team,model' });

/** The filters every usage read takes, as query parameters. */
export const filterQuery = {
  team: z.string().optional().openapi(query('team')),
  consumer: z.string().optional().openapi(query('consumer')),
  model: z.string().optional().openapi(query('model')),
  provider: z.string().optional().openapi(query('provider')),
  resource: z
    .string()
    .regex(/^[^/]+\/.+$/, 'provider/model')
    .optional()
    .openapi(query('resource')),
};

export const moneyBody = z
  .object({
    microUsd: z.number().int().openapi({ description: 'Whole micro-USD: nanoUsd rounded half away from zero' }),
    nanoUsd: z.number().int().openapi({ description: 'The exact amount, in integer nano-USD (1e-9 USD)' }),
    usd: z.string().openapi({ description: 'microUsd as a USD decimal, six places' }),
  })
  .openapi('Money');
const group = z.record(z.string(), z.string());
const periodBody = z.object({ from: z.string(), to: z.string() });

const usageItem = z
  .object({
    bucketStart: z.string(),
    group,
    calls: z.number(),
    inputTokens: z.number(),
    outputTokens: z.number(),
    cachedInputTokens: z.number(),
    cost: moneyBody,
    unpricedCalls: z.number().openapi({ description: 'Served calls of models with no known price: their cost is not in `cost`' }),
    refusedCalls: z
      .number()
      .openapi({ description: 'Calls the gateway refused before admitting them (401, 403, 404, 429, ...): no provider was asked' }),
    failedCalls: z.number().openapi({ description: 'Calls admitted but not served (upstream errors and timeouts)' }),
    cacheWriteTokens: z
      .number()
      .openapi({ description: 'Input tokens written to a prompt cache (in inputTokens; billed above the input price, in `cost`)' }),
    cacheWrite1hTokens: z.number().openapi({ description: "Of cacheWriteTokens, those written to a 1-hour cache (Anthropic's ttl 1h)" }),
    saved: moneyBody.openapi({ description: 'What the calls answered from the response cache would have cost (their own cost is 0)' }),
  })
  .openapi('UsageRow');
const driverItem = z
  .object({
    group,
    current: moneyBody,
    previous: moneyBody,
    delta: moneyBody,
    currentCalls: z.number(),
    previousCalls: z.number(),
    currentUnpricedCalls: z
      .number()
      .openapi({ description: 'Served calls of models with no known price in the period: their cost is not in `current`' }),
    previousUnpricedCalls: z.number().openapi({ description: 'The same in the previous period: not in `previous`' }),
  })
  .openapi('CostDriver');

/** The longest period per bucket size: three months of hours or three years of days is already more than a chart shows. */
const MAX_SPAN_MS: Record<UsageBucket, number> = { hour: 93 * DAY_MS, day: 1_100 * DAY_MS, month: 100 * 366 * DAY_MS };
const DEFAULT_SPAN_MS = 30 * DAY_MS;

/**
 * Reading usage needs a read role; a team-owner may read its own team's, so its team filter is set for it (and asking
 * for another team is refused, as listing another team's consumers is).
 */
export function usageTeam(c: Context<ApiEnv>, requested: string | undefined): { team: string | undefined; oneTeam: boolean } {
  const caller = c.get('caller');
  if (caller.role === 'team-owner') {
    if (requested !== undefined && requested !== caller.team) {
      throw new ApiError(403, 'forbidden', `A team-owner token reads only team ${caller.team}'s usage.`);
    }
    return { team: caller.team ?? '', oneTeam: true };
  }
  authorize(c, 'read');
  return { team: requested, oneTeam: false };
}

/** A 400 naming the query parameter at fault, as the API's validation names fields. */
export function invalid(path: string, message: string): ApiError {
  return new ApiError(400, 'invalid_request', `Invalid request: ${path}: ${message}`, [{ path, message }]);
}

/** The start of the `bucket` holding `at`: an hour, UTC midnight, or the 1st of the month. */
const BUCKET_FLOOR: Record<UsageBucket, (at: number) => number> = { hour: hourFloor, day: dayFloor, month: monthFloor };

/**
 * A period in whole UTC hours, the rollups' grain; by default the 30 days up to the end of the hour under way, their
 * start moved back to the start of its `bucket`: a first day begun at the current hour 30 days ago would be a partial
 * day, shown as a whole one.
 */
export function hourPeriod(
  fromText: string | undefined,
  toText: string | undefined,
  now: number,
  names: readonly [string, string] = ['from', 'to'],
  bucket: UsageBucket = 'hour',
) {
  const to = toText === undefined ? hourFloor(now) + HOUR_MS : Date.parse(toText);
  const from = fromText === undefined ? BUCKET_FLOOR[bucket](to - DEFAULT_SPAN_MS) : Date.parse(fromText);
  for (const [name, value] of [
    [names[0], from],
    [names[1], to],
  ] as const) {
    if (value % HOUR_MS !== 0) throw invalid(name, 'a whole UTC hour, such as 2026-11-01T00:00:00Z (usage is rolled up by the hour)');
  }
  if (from >= to) throw invalid(names[0], `must be before ${names[1]}`);
  return { from, to };
}

export function dimensions(text: string | undefined, fallback: UsageDimension[]): UsageDimension[] {
  if (text === undefined) return fallback;
  return [...new Set(text.split(',').filter((part) => part !== ''))] as UsageDimension[];
}

export function filterOf(values: Partial<Record<keyof typeof filterQuery, string>>, team: string | undefined): UsageFilter {
  const filter: UsageFilter = {};
  if (team !== undefined) filter.team = team;
  for (const key of ['consumer', 'model', 'provider', 'resource'] as const) if (values[key] !== undefined) filter[key] = values[key];
  return filter;
}

export function registerUsageRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/usage',
      tags: ['analytics'],
      summary: 'Usage per hour, day or month, grouped and filtered (from the hourly rollups)',
      request: {
        query: z.object({
          from: isoTime.optional().openapi(query('from')),
          to: isoTime.optional().openapi(query('to')),
          bucket: z.enum(USAGE_BUCKETS).default('day').openapi(query('bucket')),
          groupBy: groupByParam('groupBy'),
          ...filterQuery,
        }),
      },
      responses: {
        200: json(
          z.object({
            from: z.string(),
            to: z.string(),
            bucket: z.enum(USAGE_BUCKETS),
            groupBy: z.array(z.enum(USAGE_DIMENSIONS)),
            items: z.array(usageItem),
          }),
          'Usage',
        ),
        ...errors(400),
      },
    }),
    async (c) => {
      const params = c.req.valid('query');
      const { team } = usageTeam(c, params.team);
      const { from, to } = hourPeriod(params.from, params.to, Date.now(), ['from', 'to'], params.bucket);
      if (to - from > MAX_SPAN_MS[params.bucket])
        throw invalid('from', `${params.bucket} buckets span at most ${MAX_SPAN_MS[params.bucket] / DAY_MS} days`);
      const groupBy = dimensions(params.groupBy, []);
      const rows = await store.usage({ from, to, bucket: params.bucket, groupBy, filter: filterOf(params, team) });
      return c.json(
        {
          from: iso(from)!,
          to: iso(to)!,
          bucket: params.bucket,
          groupBy,
          items: rows.map((row) => ({
            bucketStart: iso(row.bucketStart)!,
            group: row.group as Record<string, string>,
            calls: row.calls,
            inputTokens: row.inputTokens,
            outputTokens: row.outputTokens,
            cachedInputTokens: row.cachedInputTokens,
            cost: money(row.costNanoUsd),
            unpricedCalls: row.unpricedCalls,
            refusedCalls: row.refusedCalls,
            failedCalls: row.failedCalls,
            cacheWriteTokens: row.cacheWriteTokens,
            cacheWrite1hTokens: row.cacheWrite1hTokens,
            saved: money(row.savedNanoUsd),
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/usage/top-drivers',
      tags: ['analytics'],
      summary: 'The groups whose cost changed most between two periods (by default the period before, of the same length)',
      request: {
        query: z.object({
          from: isoTime.optional().openapi(query('from')),
          to: isoTime.optional().openapi(query('to')),
          previousFrom: isoTime.optional().openapi(query('previousFrom')),
          previousTo: isoTime.optional().openapi(query('previousTo')),
          groupBy: groupByParam('groupBy'),
          limit: z.coerce.number().int().min(1).max(100).default(10).openapi(query('limit')),
          ...filterQuery,
        }),
      },
      responses: {
        200: json(
          z.object({ current: periodBody, previous: periodBody, groupBy: z.array(z.enum(USAGE_DIMENSIONS)), items: z.array(driverItem) }),
          'Cost drivers',
        ),
        ...errors(400),
      },
    }),
    async (c) => {
      const params = c.req.valid('query');
      const { team } = usageTeam(c, params.team);
      const current = hourPeriod(params.from, params.to, Date.now());
      const length = current.to - current.from;
      // Either end of the previous period may be given; the other follows from the current period's length.
      const previousTo =
        params.previousTo ?? iso(params.previousFrom === undefined ? current.from : Date.parse(params.previousFrom) + length)!;
      const previousFrom = params.previousFrom ?? iso(Date.parse(previousTo) - length)!;
      const previous = hourPeriod(previousFrom, previousTo, Date.now(), ['previousFrom', 'previousTo']);
      const groupBy = dimensions(params.groupBy, ['team']);
      if (groupBy.length === 0) throw invalid('groupBy', 'name at least one dimension to compare');
      const drivers = await store.topDrivers({ current, previous, groupBy, filter: filterOf(params, team), limit: params.limit });
      return c.json(
        {
          current: { from: iso(current.from)!, to: iso(current.to)! },
          previous: { from: iso(previous.from)!, to: iso(previous.to)! },
          groupBy,
          items: drivers.map((driver) => ({
            group: driver.group as Record<string, string>,
            current: money(driver.currentCostNanoUsd),
            previous: money(driver.previousCostNanoUsd),
            delta: money(driver.deltaNanoUsd),
            currentCalls: driver.currentCalls,
            previousCalls: driver.previousCalls,
            currentUnpricedCalls: driver.currentUnpricedCalls,
            previousUnpricedCalls: driver.previousUnpricedCalls,
          })),
        },
        200,
      );
    },
  );
}
