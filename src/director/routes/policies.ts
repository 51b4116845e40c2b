// /api/budgets, /api/budget-templates, /api/rate-limits: the same five routes over each, bodies validated with the
// very schemas sluice.yaml is validated with, and the names they refer to checked against what exists.
import { createRoute, z } from '@hono/zod-openapi';
import type { z as zod } from 'zod';
import { budgetSchema, budgetTemplateSchema, rateLimitSchema } from '../../config/governance-schema.js';
import type { DirectorStore, StoredDefinition } from '../../store/director-store.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { policyIssues } from '../references.js';
import { body, errors, iso, json, nameParam } from './schemas.js';

interface Definition {
  name: string;
  consumers?: unknown;
  resources?: unknown;
  onExhausted?: unknown;
}

interface Kind<T extends Definition> {
  path: string;
  tag: string;
  noun: string;
  schema: zod.ZodType<T>;
  list(store: DirectorStore): Promise<StoredDefinition<T>[]>;
  get(store: DirectorStore, name: string): Promise<StoredDefinition<T> | null>;
  create(store: DirectorStore, actor: string, value: T): Promise<StoredDefinition<T>>;
  update(store: DirectorStore, actor: string, name: string, value: T): Promise<StoredDefinition<T>>;
  remove(store: DirectorStore, actor: string, name: string): Promise<void>;
}

const KINDS = [
  {
    path: '/api/budgets', tag: 'budgets', noun: 'budget', schema: budgetSchema,
    list: (s) => s.listBudgets(), get: (s, n) => s.getBudget(n), create: (s, a, v) => s.createBudget(a, v),
    update: (s, a, n, v) => s.updateBudget(a, n, v), remove: (s, a, n) => s.deleteBudget(a, n),
  } satisfies Kind<zod.infer<typeof budgetSchema>>,
  {
    path: '/api/budget-templates', tag: 'budget templates', noun: 'budget template', schema: budgetTemplateSchema,
    list: (s) => s.listBudgetTemplates(), get: (s, n) => s.getBudgetTemplate(n), create: (s, a, v) => s.createBudgetTemplate(a, v),
    update: (s, a, n, v) => s.updateBudgetTemplate(a, n, v), remove: (s, a, n) => s.deleteBudgetTemplate(a, n),
  } satisfies Kind<zod.infer<typeof budgetTemplateSchema>>,
  {
    path: '/api/rate-limits', tag: 'rate limits', noun: 'rate limit', schema: rateLimitSchema,
    list: (s) => s.listRateLimits(), get: (s, n) => s.getRateLimit(n), create: (s, a, v) => s.createRateLimit(a, v),
    update: (s, a, n, v) => s.updateRateLimit(a, n, v), remove: (s, a, n) => s.deleteRateLimit(a, n),
  } satisfies Kind<zod.infer<typeof rateLimitSchema>>,
] as const;

function render<T>(stored: StoredDefinition<T>) {
  return { ...stored.definition, createdAt: iso(stored.createdAt)!, updatedAt: iso(stored.updatedAt)! };
}

export function registerPolicyRoutes(app: DirectorApi, deps: RouteDeps): void {
  for (const kind of KINDS) register(app, deps, kind as unknown as Kind<Definition>);
}

function register<T extends Definition>(app: DirectorApi, { store, catalog }: RouteDeps, kind: Kind<T>): void {
  const item = z.object({ name: z.string(), createdAt: z.string(), updatedAt: z.string() }).passthrough();
  const missing = (name: string) => new ApiError(404, 'not_found', `${kind.noun} "${name}" does not exist`);

  /** The consumer, model, provider and downgrade model a definition names must exist. */
  const checkReferences = async (value: T) => {
    const issues = await policyIssues(value, { ...catalog(), consumer: async (name) => (await store.getConsumer(name)) !== null });
    if (issues.length > 0) throw new ApiError(400, 'invalid_request', `Invalid ${kind.noun}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  };

  app.openapi(createRoute({
    method: 'get', path: kind.path, tags: [kind.tag], summary: `List ${kind.noun}s`,
    responses: { 200: json(z.object({ items: z.array(item) }), `The ${kind.noun}s`), ...errors() },
  }), async (c) => {
    authorize(c, 'read');
    return c.json({ items: (await kind.list(store)).map(render) }, 200);
  });

  app.openapi(createRoute({
    method: 'post', path: kind.path, tags: [kind.tag], summary: `Create a ${kind.noun}`,
    request: body(kind.schema), responses: { 201: json(item, 'Created'), ...errors(400, 409) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    const value = c.req.valid('json') as T;
    await checkReferences(value);
    return c.json(render(await kind.create(store, caller.actor, value)), 201);
  });

  app.openapi(createRoute({
    method: 'get', path: `${kind.path}/{name}`, tags: [kind.tag], summary: `One ${kind.noun}`,
    request: { params: nameParam }, responses: { 200: json(item, `The ${kind.noun}`), ...errors(404) },
  }), async (c) => {
    authorize(c, 'read');
    const { name } = c.req.valid('param');
    const found = await kind.get(store, name);
    if (found === null) throw missing(name);
    return c.json(render(found), 200);
  });

  app.openapi(createRoute({
    method: 'put', path: `${kind.path}/{name}`, tags: [kind.tag], summary: `Replace a ${kind.noun} (its usage so far still counts)`,
    request: { params: nameParam, ...body(kind.schema) }, responses: { 200: json(item, 'Replaced'), ...errors(400, 404) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    const { name } = c.req.valid('param');
    const value = c.req.valid('json') as T;
    if (value.name !== name) throw new ApiError(400, 'invalid_request', `The body's name "${value.name}" is not the path's "${name}"; renaming is a delete and a create.`, [{ path: 'name', message: 'must match the path' }]);
    await checkReferences(value);
    return c.json(render(await kind.update(store, caller.actor, name, value)), 200);
  });

  app.openapi(createRoute({
    method: 'delete', path: `${kind.path}/{name}`, tags: [kind.tag], summary: `Delete a ${kind.noun}`,
    request: { params: nameParam }, responses: { 204: { description: 'Deleted' }, ...errors(404) },
  }), async (c) => {
    const caller = authorize(c, 'write');
    await kind.remove(store, caller.actor, c.req.valid('param').name);
    return c.body(null, 204);
  });
}
