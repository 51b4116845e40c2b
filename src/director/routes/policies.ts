// /api/budgets, /api/budget-templates, /api/rate-limits: the same five routes over each (the store's one path per kind),
// bodies validated with the very schemas sluice.yaml is validated with, and the names they refer to checked against what exists.
import { z } from '@hono/zod-openapi';
import type { z as zod } from 'zod';
import { budgetSchema, budgetTemplateSchema, rateLimitSchema } from '../../config/governance-schema.js';
import type { DefinitionKind, DefinitionKinds, StoredDefinition } from '../../store/director-store.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { policyIssues } from '../references.js';
import { registerEntityRoutes } from './entity.js';
import { iso } from './schemas.js';

interface Kind<K extends DefinitionKind> {
  kind: K;
  path: string;
  tag: string;
  noun: string;
  schema: zod.ZodType<DefinitionKinds[K]>;
}

const KINDS = [
  { kind: 'budget', path: '/api/budgets', tag: 'budgets', noun: 'budget', schema: budgetSchema } satisfies Kind<'budget'>,
  {
    kind: 'budgetTemplate',
    path: '/api/budget-templates',
    tag: 'budget templates',
    noun: 'budget template',
    schema: budgetTemplateSchema,
  } satisfies Kind<'budgetTemplate'>,
  {
    kind: 'rateLimit',
    path: '/api/rate-limits',
    tag: 'rate limits',
    noun: 'rate limit',
    schema: rateLimitSchema,
  } satisfies Kind<'rateLimit'>,
] as const;

function render<T>(stored: StoredDefinition<T>) {
  return { ...stored.definition, createdAt: iso(stored.createdAt)!, updatedAt: iso(stored.updatedAt)! };
}

export function registerPolicyRoutes(app: DirectorApi, deps: RouteDeps): void {
  for (const kind of KINDS) register(app, deps, kind as Kind<DefinitionKind>);
}

function register<K extends DefinitionKind>(
  app: DirectorApi,
  { store, catalog }: RouteDeps,
  { kind, path, tag, noun, schema }: Kind<K>,
): void {
  type Definition = DefinitionKinds[K];
  const item = z.object({ name: z.string(), createdAt: z.string(), updatedAt: z.string() }).passthrough();

  /** The consumer, team, model, provider and downgrade model a definition names must exist. */
  const checkReferences = async (value: Definition) => {
    const issues = await policyIssues(value, {
      ...catalog(),
      consumer: async (name) => (await store.getConsumer(name)) !== null,
      team: async (name) => (await store.getTeam(name)) !== null,
    });
    if (issues.length === 0) return;
    throw new ApiError(400, 'invalid_request', `Invalid ${noun}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  };

  registerEntityRoutes<StoredDefinition<Definition>, Definition, Definition>(app, {
    path,
    tag,
    noun,
    view: item,
    render,
    list: { summary: `List ${noun}s`, description: `The ${noun}s`, access: 'read', items: () => store.listDefinitions(kind) },
    create: {
      summary: `Create a ${noun}`,
      body: schema,
      errors: [400, 409],
      access: 'write',
      run: async (caller, value) => {
        await checkReferences(value);
        return store.createDefinition(caller.actor, kind, value);
      },
    },
    get: { summary: `One ${noun}`, description: `The ${noun}`, access: 'read', find: (name) => store.getDefinition(kind, name) },
    update: {
      method: 'put',
      summary: `Replace a ${noun} (its usage so far still counts)`,
      body: schema,
      description: 'Replaced',
      errors: [400, 404],
      access: 'write',
      samePathName: true,
      run: async (caller, name, value) => {
        await checkReferences(value);
        return store.updateDefinition(caller.actor, kind, name, value);
      },
    },
    remove: {
      summary: `Delete a ${noun}`,
      errors: [404],
      access: 'write',
      run: (caller, name) => store.deleteDefinition(caller.actor, kind, name),
    },
  });
}
