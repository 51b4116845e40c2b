// /api/budget-templates/{name}/instances: the budgets a template is materialized into, one per consumer its selector
// matches (policy/budgets.ts decides, as the gateway's does), each with its usage so far in its current window.
import { createRoute, z } from '@hono/zod-openapi';
import type { BudgetConfig } from '../../config/governance-schema.js';
import { compileBudgets, type BudgetSubject } from '../../policy/budgets.js';
import type { DirectorStore } from '../../store/director-store.js';
import { authorize } from '../access.js';
import { budgetBurnDown, shownAmount, shownUnit } from '../analytics/budget-usage.js';
import { HOUR_MS } from '../analytics/calendar.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { errors, json, nameParam } from './schemas.js';

const instance = z
  .object({
    name: z.string().openapi({ description: '<template>/<consumer>, as alerts and refusals name it' }),
    consumer: z.string(),
    team: z.string().nullable(),
    unit: z.enum(['tokens', 'requests', 'microUsd']),
    limit: z.number(),
    used: z.number().nullable().openapi({ description: 'Null for windows under an hour: usage is rolled up by the hour' }),
    usedPercent: z.number().nullable(),
    exhausted: z.boolean().nullable(),
    nanoUsd: z
      .object({ limit: z.number().int(), used: z.number().int().nullable() })
      .nullable()
      .openapi({ description: 'cost_usd: limit and used exactly, in integer nano-USD (limit, used are whole micro-USD); null otherwise' }),
  })
  .openapi('BudgetTemplateInstance');

async function allConsumers(store: DirectorStore): Promise<BudgetSubject[]> {
  const consumers: BudgetSubject[] = [];
  let cursor: string | null = null;
  do {
    const page = await store.listConsumers({ limit: 1000, cursor });
    consumers.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return consumers;
}

export function registerTemplateInstanceRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/budget-templates/{name}/instances',
      tags: ['budget templates'],
      summary: 'The budgets a template is materialized into (one per matching consumer), with their usage in the current window',
      request: { params: nameParam },
      responses: { 200: json(z.object({ template: z.string(), items: z.array(instance) }), 'Its instances'), ...errors(404) },
    }),
    async (c) => {
      authorize(c, 'read');
      const { name } = c.req.valid('param');
      const template = await store.getDefinition('budgetTemplate', name);
      if (template === null) throw new ApiError(404, 'not_found', `budget template "${name}" does not exist`);
      const consumers = await allConsumers(store);
      const budgets = (await store.listDefinitions('budget')).map((stored) => stored.definition);
      const teams = new Map(consumers.map((consumer) => [consumer.name, consumer.team]));
      const now = Date.now();
      const items = [];
      for (const compiled of compileBudgets(budgets, [template.definition], [], consumers)) {
        if (compiled.template !== name || typeof compiled.consumers !== 'object' || !('consumer' in compiled.consumers)) continue;
        const consumer = compiled.consumers.consumer;
        const terms = template.definition;
        const asBudget: BudgetConfig = {
          name: compiled.name,
          consumers: { consumer },
          resources: terms.resources,
          measure: terms.measure,
          limit: terms.limit,
          window: terms.window,
          mode: terms.mode,
          alerts: terms.alerts,
          onExhausted: terms.onExhausted,
        };
        // The compiled limit is in counter units: nano-USD for cost_usd, shown as whole micro-USD beside the exact figure.
        const unit =
          terms.measure === 'cost_usd' ? ('nanoUsd' as const) : terms.measure === 'requests' ? ('requests' as const) : ('tokens' as const);
        const common = {
          name: compiled.name,
          consumer,
          team: teams.get(consumer) ?? null,
          unit: shownUnit(unit),
          limit: shownAmount(unit, compiled.limit),
        };
        const exact = (used: number | null) => (unit === 'nanoUsd' ? { limit: compiled.limit, used } : null);
        const position = compiled.window.position(now);
        if (position.end - position.start < HOUR_MS) {
          items.push({ ...common, used: null, usedPercent: null, exhausted: null, nanoUsd: exact(null) });
          continue;
        }
        const progress = await budgetBurnDown(store, asBudget, now);
        items.push({
          ...common,
          used: shownAmount(progress.unit, progress.used),
          usedPercent: Math.round((progress.used / progress.limit) * 10_000) / 100,
          exhausted: progress.exhausted,
          nanoUsd: exact(progress.used),
        });
      }
      return c.json({ template: name, items }, 200);
    },
  );
}
