// /api/models: the model names clients ask for, each with its route (targets tried in order, or shared by weight),
// pricing and retry settings: the same definition as a model in sluice.yaml.
import { createRoute, z } from '@hono/zod-openapi';
import { modelSchema, type ModelConfig } from '../../config/schema.js';
import type { StoredDefinition } from '../../store/director-store.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { modelTargetIssues } from '../references.js';
import { body, errors, iso, json, nameParam } from './schemas.js';

const view = z.object({ name: z.string(), targets: z.array(z.object({ provider: z.string(), model: z.string() }).passthrough()), createdAt: z.string(), updatedAt: z.string() })
  .passthrough().openapi('Model');

function render(stored: StoredDefinition<ModelConfig>) {
  return { ...stored.definition, createdAt: iso(stored.createdAt)!, updatedAt: iso(stored.updatedAt)! };
}

export function registerModelRoutes(app: DirectorApi, { store }: RouteDeps): void {
  const missing = (name: string) => new ApiError(404, 'not_found', `model "${name}" does not exist`);
  /** Named providers must exist (the store checks again in its transaction, for a provider deleted meanwhile). */
  const checkTargets = async (model: ModelConfig) => {
    const providers = new Set((await store.listProviders()).map((provider) => provider.name));
    const issues = modelTargetIssues(model, { providers });
    if (issues.length > 0) throw new ApiError(400, 'invalid_request', `Invalid model: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  };

  app.openapi(createRoute({
    method: 'get', path: '/api/models', tags: ['models'], summary: 'List models and their routes',
    responses: { 200: json(z.object({ items: z.array(view) }), 'The models'), ...errors() },
  }), async (c) => {
    authorize(c, 'read');
    return c.json({ items: (await store.listModels()).map(render) }, 200);
  });

  app.openapi(createRoute({
    method: 'get', path: '/api/models/{name}', tags: ['models'], summary: 'One model and its route',
    request: { params: nameParam }, responses: { 200: json(view, 'The model'), ...errors(404) },
  }), async (c) => {
    authorize(c, 'read');
    const { name } = c.req.valid('param');
    const found = await store.getModel(name);
    if (found === null) throw missing(name);
    return c.json(render(found), 200);
  });

  app.openapi(createRoute({
    method: 'post', path: '/api/models', tags: ['models'], summary: 'Add a model with its route',
    request: body(modelSchema), responses: { 201: json(view, 'Created'), ...errors(400, 409) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    const model = c.req.valid('json');
    await checkTargets(model);
    return c.json(render(await store.createModel(caller.actor, model)), 201);
  });

  app.openapi(createRoute({
    method: 'put', path: '/api/models/{name}', tags: ['models'], summary: 'Replace a model\'s route, pricing or retries (calls in flight finish on the old one)',
    request: { params: nameParam, ...body(modelSchema) }, responses: { 200: json(view, 'Replaced'), ...errors(400, 404) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    const { name } = c.req.valid('param');
    const model = c.req.valid('json');
    if (model.name !== name) throw new ApiError(400, 'invalid_request', `The body's name "${model.name}" is not the path's "${name}"; renaming is a delete and a create.`, [{ path: 'name', message: 'must match the path' }]);
    await checkTargets(model);
    return c.json(render(await store.updateModel(caller.actor, name, model)), 200);
  });

  app.openapi(createRoute({
    method: 'delete', path: '/api/models/{name}', tags: ['models'], summary: 'Delete a model no consumer, budget, template or rate limit names',
    request: { params: nameParam }, responses: { 204: { description: 'Deleted' }, ...errors(404, 409) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    await store.deleteModel(caller.actor, c.req.valid('param').name);
    return c.body(null, 204);
  });
}
