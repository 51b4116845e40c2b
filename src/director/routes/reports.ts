// /api/forecast, /api/budgets/{name}/burn-down and /api/reports/chargeback: what the month will cost, when a budget runs
// out, and who pays for what. All read the hourly rollups; money goes out as integer micro-USD beside its USD decimal.
import { createRoute, z } from '@hono/zod-openapi';
import { MEASURES } from '../../config/governance-schema.js';
import { authorize } from '../access.js';
import { budgetBurnDown, shownAmount, shownUnit } from '../analytics/budget-usage.js';
import { monthName, parseMonth, type Span } from '../analytics/calendar.js';
import { chargeback, chargebackCsv } from '../analytics/chargeback.js';
import type { MonthForecast } from '../analytics/forecast.js';
import { formatNanoUsd, money } from '../analytics/money.js';
import { forecastSpend } from '../analytics/spend-forecast.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { errors, iso, json, nameParam } from './schemas.js';
import { moneyBody, usageTeam } from './usage.js';

const query = (name: string) => ({ param: { name, in: 'query' as const } });
const monthParam = (name: string) =>
  z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month, YYYY-MM')
    .optional()
    .openapi({ ...query(name), example: '2026-12' });

const forecastItem = z
  .object({
    actualToDate: moneyBody,
    forecast: moneyBody,
    low: moneyBody,
    high: z.union([moneyBody, z.null()]),
    method: z.enum(['complete', 'weekly-seasonal-28d', 'flat-mean', 'no-history']),
    historyDays: z.number(),
  })
  .openapi('MonthForecast', {
    description:
      'high is null when there is too little history to bound the month by (none, or one day: no spread to measure); low is then the actual to date',
  });
const forecastBody = z.object({
  month: z.string(),
  from: z.string(),
  to: z.string(),
  asOf: z.string(),
  overall: z.union([forecastItem, z.null()]).openapi({ description: "Null for a team-owner: its team's line is in teams" }),
  teams: z.array(forecastItem.extend({ team: z.string() })),
});

const burnDownBody = z
  .object({
    budget: z.string(),
    measure: z.enum(MEASURES),
    unit: z.enum(['tokens', 'requests', 'microUsd']),
    window: z.object({ kind: z.string(), start: z.string(), end: z.string() }),
    limit: z.number(),
    used: z.number(),
    remaining: z.number(),
    usedPercent: z.number(),
    exhausted: z.boolean(),
    projectedAtEnd: z.number(),
    exhaustsAt: z.string().nullable(),
    horizon: z.string(),
    method: z.enum(['linear-since-window-start', 'rolling-recent-rate']),
    usd: z.object({ limit: z.string(), used: z.string(), remaining: z.string(), projectedAtEnd: z.string() }).nullable(),
    nanoUsd: z
      .object({ limit: z.number().int(), used: z.number().int(), remaining: z.number().int(), projectedAtEnd: z.number().int() })
      .nullable()
      .openapi({ description: 'cost_usd: the figures exactly, in integer nano-USD (limit, used... are whole micro-USD); null otherwise' }),
    unpricedCalls: z.number().nullable().openapi({
      description: 'cost_usd: served calls in the window whose model has no price, left out of used (they count nothing); null otherwise',
    }),
  })
  .openapi('BudgetBurnDown');

const chargebackLine = z
  .object({
    team: z.string(),
    calls: z.number(),
    inputTokens: z.number(),
    outputTokens: z.number(),
    cachedInputTokens: z.number(),
    totalTokens: z.number(),
    cost: moneyBody,
    unpricedCalls: z.number().openapi({ description: 'Served calls of models with no known price: their cost is not in `cost`' }),
    refusedCalls: z.number().openapi({ description: 'Calls the gateway refused before admitting them (401, 403, 404, 429, ...)' }),
    failedCalls: z.number().openapi({ description: 'Calls admitted but not served (upstream errors and timeouts)' }),
    cacheWriteTokens: z.number().openapi({ description: 'Input tokens written to a prompt cache (in inputTokens and totalTokens)' }),
    cacheWrite1hTokens: z.number().openapi({ description: 'Of cacheWriteTokens, those written to a 1-hour cache' }),
    saved: moneyBody.openapi({ description: 'What the calls answered from the response cache would have cost' }),
  })
  .openapi('ChargebackLine');
const chargebackBody = z.object({
  period: z.string(),
  from: z.string(),
  to: z.string(),
  items: z.array(chargebackLine),
  total: chargebackLine.omit({ team: true }),
});

function renderForecast(forecast: MonthForecast) {
  return {
    actualToDate: money(forecast.actualToDate),
    forecast: money(forecast.forecast),
    low: money(forecast.low),
    high: forecast.high === null ? null : money(forecast.high),
    method: forecast.method,
    historyDays: forecast.historyDays,
  };
}

function month(text: string | undefined, now: number): { name: string; span: Span } {
  const name = text ?? monthName(now);
  return { name, span: parseMonth(name)! };
}

export function registerReportRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/forecast',
      tags: ['analytics'],
      summary: 'Month-end spend forecast with an 80% range, overall and per team (weekday means of the last 28 days)',
      request: { query: z.object({ month: monthParam('month'), team: z.string().optional().openapi(query('team')) }) },
      responses: { 200: json(forecastBody, 'The forecast'), ...errors(400) },
    }),
    async (c) => {
      const params = c.req.valid('query');
      const { team, oneTeam } = usageTeam(c, params.team);
      const now = Date.now();
      const { name, span } = month(params.month, now);
      const result = await forecastSpend(store, span, now, team);
      return c.json(
        {
          month: name,
          from: iso(span.start)!,
          to: iso(span.end)!,
          asOf: iso(now)!,
          // A team-owner sees its team, not the whole (for an admin naming a team, the whole is that team).
          overall: oneTeam ? null : renderForecast(result.overall),
          teams: result.teams.map((line) => ({ team: line.team, ...renderForecast(line) })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/budgets/{name}/burn-down',
      tags: ['budgets'],
      summary: "A budget's usage so far in its window and when it is projected to run out (from the hourly rollups)",
      request: { params: nameParam },
      responses: { 200: json(burnDownBody, 'The burn-down'), ...errors(400, 404) },
    }),
    async (c) => {
      authorize(c, 'read');
      const { name } = c.req.valid('param');
      const stored = await store.getDefinition('budget', name);
      if (stored === null) throw new ApiError(404, 'not_found', `budget "${name}" does not exist`);
      const budget = stored.definition;
      const result = await budgetBurnDown(store, budget, Date.now());
      const shown = (amount: number) => shownAmount(result.unit, amount);
      const costed = result.unit === 'nanoUsd';
      return c.json(
        {
          budget: name,
          measure: budget.measure,
          unit: shownUnit(result.unit),
          window: { kind: result.window.kind, start: iso(result.window.start)!, end: iso(result.window.end)! },
          limit: shown(result.limit),
          used: shown(result.used),
          remaining: shown(result.remaining),
          // From the exact figures: calls under a micro-USD each move it before `used` does.
          usedPercent: Math.round((result.used / result.limit) * 10_000) / 100,
          exhausted: result.exhausted,
          projectedAtEnd: shown(result.projectedAtEnd),
          exhaustsAt: iso(result.exhaustsAt),
          horizon: iso(result.horizon)!,
          method: result.method,
          usd: !costed
            ? null
            : {
                limit: formatNanoUsd(result.limit),
                used: formatNanoUsd(result.used),
                remaining: formatNanoUsd(result.remaining),
                projectedAtEnd: formatNanoUsd(result.projectedAtEnd),
              },
          nanoUsd: !costed
            ? null
            : { limit: result.limit, used: result.used, remaining: result.remaining, projectedAtEnd: result.projectedAtEnd },
          unpricedCalls: result.unpricedCalls,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/reports/chargeback',
      tags: ['analytics'],
      summary: "Per team, a month's calls, tokens, cost (USD, 6 decimals), unpriced, refused and failed calls, as JSON or a CSV attachment",
      request: {
        query: z.object({
          period: monthParam('period'),
          format: z.enum(['json', 'csv']).default('json').openapi(query('format')),
          team: z.string().optional().openapi(query('team')),
        }),
      },
      responses: {
        200: {
          description: 'The chargeback',
          content: { 'application/json': { schema: chargebackBody }, 'text/csv': { schema: z.string() } },
        },
        ...errors(400),
      },
    }),
    async (c) => {
      const params = c.req.valid('query');
      const { team } = usageTeam(c, params.team);
      const { name, span } = month(params.period, Date.now());
      const lines = await chargeback(store, span, team);
      if (params.format === 'csv') {
        return c.body(chargebackCsv(name, lines), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="sluice-chargeback-${name}.csv"`,
        });
      }
      const total = {
        calls: 0,
        inputTokens: 0,
        outputTokens: 0,
        cachedInputTokens: 0,
        totalTokens: 0,
        costNanoUsd: 0,
        unpricedCalls: 0,
        refusedCalls: 0,
        failedCalls: 0,
        cacheWriteTokens: 0,
        cacheWrite1hTokens: 0,
        savedNanoUsd: 0,
      };
      for (const line of lines) for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += line[key];
      const render = ({ costNanoUsd, savedNanoUsd, ...counts }: typeof total) => ({
        ...counts,
        cost: money(costNanoUsd),
        saved: money(savedNanoUsd),
      });
      return c.json(
        {
          period: name,
          from: iso(span.start)!,
          to: iso(span.end)!,
          items: lines.map(({ team: lineTeam, ...rest }) => ({ team: lineTeam, ...render(rest) })),
          total: render(total),
        },
        200,
      );
    },
  );
}
