// /api/models: the model names clients ask for, each with its route (targets tried in order, or shared by weight),
// pricing and retry settings: the same definition as a model in sluice.yaml; and, read-only, the prices each target's
// calls are charged at, so a reader sees a catalog-priced model's prices (per token and per use) without the catalog.
import { z } from '@hono/zod-openapi';
import { modelSchema, type ModelConfig, type Pricing } from '../../config/schema.js';
import { PriceCatalog } from '../../metering/price-catalog.js';
import type { StoredDefinition } from '../../store/director-store.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { modelTargetIssues } from '../references.js';
import { registerEntityRoutes } from './entity.js';
import { iso } from './schemas.js';

const targetPrice = z
  .object({
    provider: z.string(),
    model: z.string(),
    source: z.enum(['pricing', 'catalog']).nullable().openapi({
      description: "Where the price comes from: the model's own pricing, the price catalog, or null for none (calls unpriced)",
    }),
    pricing: z.object({}).passthrough().nullable().openapi({
      description:
        "USD per 1M tokens (input, output, cachedInput, cacheWrite, cacheWrite1h), per 1M characters (inputCharacters), per 1,000 uses (webSearch, fileSearch, groundedPrompt, request), the priority and flex tiers, and the fastMode multiple; as a model's pricing",
    }),
  })
  .openapi('TargetPrice');

const view = z
  .object({
    name: z.string(),
    targets: z.array(z.object({ provider: z.string(), model: z.string() }).passthrough()),
    prices: z.array(targetPrice).openapi({
      description: "Read-only: what each target's calls are priced at, in the targets' order (not part of a model's definition)",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .passthrough()
  .openapi('Model');

/** The catalog the gateway prices calls with: the same shipped list prices. */
const catalog = new PriceCatalog();

type PricedModel = StoredDefinition<ModelConfig> & { prices: Array<z.infer<typeof targetPrice>> };

/** Each target's price as the gateway resolves it: the model's pricing, else the catalog's for the provider's type. */
async function priced(store: RouteDeps['store'], models: StoredDefinition<ModelConfig>[]): Promise<PricedModel[]> {
  const types = new Map((await store.listProviders()).map((provider) => [provider.name, provider.settings.type]));
  return models.map((stored) => {
    const own: Pricing | undefined = stored.definition.pricing;
    const prices = stored.definition.targets.map((target) => {
      const type = types.get(target.provider);
      const listed = own === undefined && type !== undefined ? catalog.lookup(type, target.baseModel ?? target.model) : undefined;
      const pricing = own ?? listed ?? null;
      return {
        provider: target.provider,
        model: target.model,
        source: own !== undefined ? 'pricing' : listed !== undefined ? 'catalog' : null,
        pricing,
      } as const;
    });
    return { ...stored, prices };
  });
}

function render(stored: PricedModel) {
  return { ...stored.definition, prices: stored.prices, createdAt: iso(stored.createdAt)!, updatedAt: iso(stored.updatedAt)! };
}

export function registerModelRoutes(app: DirectorApi, { store }: RouteDeps): void {
  /** Named providers must exist (the store checks again in its transaction, for a provider deleted meanwhile). */
  const checkTargets = async (model: ModelConfig) => {
    const providers = new Set((await store.listProviders()).map((provider) => provider.name));
    const issues = modelTargetIssues(model, { providers });
    if (issues.length > 0)
      throw new ApiError(400, 'invalid_request', `Invalid model: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  };

  const one = async (stored: StoredDefinition<ModelConfig>) => (await priced(store, [stored]))[0]!;
  registerEntityRoutes<PricedModel, ModelConfig, ModelConfig>(app, {
    path: '/api/models',
    tag: 'models',
    noun: 'model',
    view,
    render,
    list: {
      summary: 'List models and their routes',
      description: 'The models',
      access: 'read',
      items: async () => priced(store, await store.listModels()),
    },
    create: {
      summary: 'Add a model with its route',
      body: modelSchema,
      errors: [400, 409],
      access: 'write',
      run: async (caller, model) => {
        await checkTargets(model);
        return one(await store.createModel(caller.actor, model));
      },
    },
    get: {
      summary: 'One model and its route',
      description: 'The model',
      access: 'read',
      find: async (name) => {
        const found = await store.getModel(name);
        return found === null ? null : one(found);
      },
    },
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
        return one(await store.updateModel(caller.actor, name, model));
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
