// POST /api/apply: a declared document (what `sluice apply -f FILE` sends) applied all or nothing, or checked and rolled
// back (dryRun). See ../apply.ts.
import { createRoute, z } from '@hono/zod-openapi';
import { authorize } from '../access.js';
import { applyDocument } from '../apply.js';
import { applyRequestSchema } from '../../schemas/apply-document.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { body, errors, json } from './schemas.js';

const outcome = z
  .object({
    kind: z.string(),
    name: z.string(),
    path: z.string().openapi({ description: 'Where the entity is in the document, e.g. budgets.0' }),
    action: z.enum(['created', 'updated', 'unchanged', 'would create', 'would update']),
    changed: z.array(z.string()).openapi({ description: 'The fields an update changes' }),
  })
  .openapi('ApplyOutcome');
const answer = z.object({ dryRun: z.boolean(), results: z.array(outcome) }).openapi('ApplyResult');

export function registerApplyRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/apply',
      tags: ['apply'],
      summary:
        'Create or update the teams, models, consumers, budgets, templates, rate limits and resources a document declares, all or nothing (nothing is deleted)',
      description:
        'Every entity and reference is checked in one transaction before anything is written; any problem answers 400 with ' +
        'every problem by its path in the document, and nothing is applied. dryRun: true does everything, then rolls back.',
      request: body(applyRequestSchema),
      responses: { 200: json(answer, 'What was (or, in a dry run, would be) done to each entity'), ...errors(400, 409) },
    }),
    async (c) => {
      const caller = authorize(c, 'write');
      const { dryRun, ...document } = c.req.valid('json');
      const results = await store.batch(caller.actor, (batch) => applyDocument(batch, document, dryRun), { commit: !dryRun });
      return c.json({ dryRun, results }, 200);
    },
  );
}
