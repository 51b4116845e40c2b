// /api/models: the model names clients ask for, each with its route (targets tried in order, or shared by weight),
// pricing and retry settings: the same definition as a model in sluice.yaml.
import { z } from '@hono/zod-openapi';
import { modelSchema, type ModelConfig } from '../../config/schema.js';
import type { StoredDefinition } from '../../store/director-store.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { modelTargetIssues } from '../references.js';
import { registerEntityRoutes } from './entity.js';
import { iso } from './schemas.js';

const view = z
  .object({
    name: z.string(),
    targets: z.array(z.object({ provider: z.string(), model: z.string() }).passthrough()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .passthrough()
  .openapi('Model');

function render(stored: StoredDefinition<ModelConfig>) {
  return { ...stored.definition, createdAt: iso(stored.createdAt)!, updatedAt: iso(stored.updatedAt)! };
}

export function registerModelRoutes(app: DirectorApi, { store }: RouteDeps): void {
  /** Named providers must exist (the store checks again in its transaction, for a provider deleted meanwhile). */
  const checkTargets = async (model: ModelConfig) => {
    const providers = new Set((await store.listProviders()).map((provider) => provider.name));
    const issues = modelTargetIssues(model, { providers });
    if (issues.length > 0)
      throw new ApiError(400, 'invalid_request', `Invalid model: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  };

  registerEntityRoutes<StoredDefinition<ModelConfig>, ModelConfig, ModelConfig>(app, {
    path: '/api/models',
    tag: 'models',
    noun: 'model',
    view,
    render,
    list: { summary: 'List models and their routes', description: 'The models', access: 'read', items: () => store.listModels() },
    create: {
      summary: 'Add a model with its route',
      body: modelSchema,
      errors: [400, 409],
      access: 'write',
      run: async (caller, model) => {
        await checkTargets(model);
        return store.createModel(caller.actor, model);
      },
    },
    get: { summary: 'One model and its route', description: 'The model', access: 'read', find: (name) => store.getModel(name) },
    update: {
      method: 'put',
      summary: "Replace a model's route, pricing or retries (calls in flight finish on the old one)",
      body: modelSchema,
      description: 'Replaced',
      errors: [400, 404],
      access: 'write',
      samePathName: true,
      run: async (caller, name, model) => {
        await checkTargets(model);
        return store.updateModel(caller.actor, name, model);
      },
    },
    remove: {
      summary: 'Delete a model no consumer, budget, template or rate limit names',
      errors: [404, 409],
      access: 'write',
      run: (caller, name) => store.deleteModel(caller.actor, name),
    },
  });
}
