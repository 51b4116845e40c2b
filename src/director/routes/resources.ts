// /api/resources: models at providers ("openai/gpt-4o", URL-encoded in paths) and whether they are sanctioned.
import { z } from '@hono/zod-openapi';
import { resourceStatusSchema } from '../../config/governance-schema.js';
import type { Resource } from '../../store/director-store.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { noteText } from '../../config/limits.js';
import { ApiError } from '../errors.js';
import { resourceIssues } from '../references.js';
import { registerEntityRoutes } from './entity.js';

const resource = z.object({ id: z.string(), status: resourceStatusSchema, note: z.string().nullable() }).openapi('Resource');
const idParam = z.object({
  id: z
    .string()
    .regex(/^[^/]+\/.+$/, 'provider/model')
    .openapi({ param: { name: 'id', in: 'path', description: 'provider/model, URL-encoded' } }),
});
const statusInput = z.object({ status: resourceStatusSchema, note: noteText().nullable().optional() }).strict();

export function registerResourceRoutes(app: DirectorApi, { store, catalog }: RouteDeps): void {
  registerEntityRoutes<Resource, never, z.infer<typeof statusInput>>(app, {
    path: '/api/resources',
    tag: 'resources',
    noun: 'resource',
    key: { field: 'id', params: idParam },
    view: resource,
    render: (saved) => saved,
    list: {
      summary: 'Resources with a status (those not listed are unreviewed)',
      description: 'The resources',
      access: 'read',
      items: () => store.listResources(),
    },
    update: {
      method: 'put',
      summary: "Set a resource's status (sanctioned, unsanctioned, unreviewed)",
      body: statusInput,
      description: 'Set',
      errors: [400],
      access: 'write',
      run: async (caller, id, input) => {
        const issues = resourceIssues(id, catalog());
        if (issues.length > 0) {
          throw new ApiError(
            400,
            'invalid_request',
            `Invalid resource: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
            issues,
          );
        }
        const existing = await store.getResource(id);
        return existing === null
          ? store.createResource(caller.actor, { id, status: input.status, note: input.note ?? null })
          : store.updateResource(caller.actor, id, { status: input.status, ...(input.note === undefined ? {} : { note: input.note }) });
      },
    },
    remove: {
      summary: "Forget a resource's status (it becomes unreviewed)",
      errors: [404],
      access: 'write',
      run: (caller, id) => store.deleteResource(caller.actor, id),
    },
  });
}
