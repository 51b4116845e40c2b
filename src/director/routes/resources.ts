// /api/resources: models at providers ("openai/gpt-4o", URL-encoded in paths) and whether they are sanctioned.
import { createRoute, z } from '@hono/zod-openapi';
import { resourceStatusSchema } from '../../config/governance-schema.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { noteText } from '../../config/limits.js';
import { ApiError } from '../errors.js';
import { resourceIssues } from '../references.js';
import { body, errors, json } from './schemas.js';

const resource = z.object({ id: z.string(), status: resourceStatusSchema, note: z.string().nullable() }).openapi('Resource');
const idParam = z.object({
  id: z.string().regex(/^[^/]+\/.+$/, 'provider/model').openapi({ param: { name: 'id', in: 'path', description: 'provider/model, URL-encoded' } }),
});
const statusInput = z.object({ status: resourceStatusSchema, note: noteText().nullable().optional() }).strict();

export function registerResourceRoutes(app: DirectorApi, { store, catalog }: RouteDeps): void {
  app.openapi(createRoute({
    method: 'get', path: '/api/resources', tags: ['resources'], summary: 'Resources with a status (those not listed are unreviewed)',
    responses: { 200: json(z.object({ items: z.array(resource) }), 'The resources'), ...errors() },
  }), async (c) => {
    authorize(c, 'read');
    return c.json({ items: await store.listResources() }, 200);
  });

  app.openapi(createRoute({
    method: 'put', path: '/api/resources/{id}', tags: ['resources'], summary: 'Set a resource\'s status (sanctioned, unsanctioned, unreviewed)',
    request: { params: idParam, ...body(statusInput) }, responses: { 200: json(resource, 'Set'), ...errors(400) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    const { id } = c.req.valid('param');
    const input = c.req.valid('json');
    const issues = resourceIssues(id, catalog());
    if (issues.length > 0) throw new ApiError(400, 'invalid_request', `Invalid resource: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
    const existing = await store.getResource(id);
    const saved = existing === null
      ? await store.createResource(caller.actor, { id, status: input.status, note: input.note ?? null })
      : await store.updateResource(caller.actor, id, { status: input.status, ...(input.note === undefined ? {} : { note: input.note }) });
    return c.json(saved, 200);
  });

  app.openapi(createRoute({
    method: 'delete', path: '/api/resources/{id}', tags: ['resources'], summary: 'Forget a resource\'s status (it becomes unreviewed)',
    request: { params: idParam }, responses: { 204: { description: 'Deleted' }, ...errors(404) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    await store.deleteResource(caller.actor, c.req.valid('param').id);
    return c.body(null, 204);
  });
}
