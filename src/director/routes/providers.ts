// /api/providers: upstreams with their settings and write-only credentials. Credentials are sealed with the master key
// before the store sees them and never come back out: readers see which credential fields are set, nothing more.
// Every write is for the admin role: whoever can point a provider's baseUrl elsewhere can send its key there.
import { createRoute, z } from '@hono/zod-openapi';
import { providerProblems } from '../../config/load.js';
import { CREDENTIAL_FIELDS, providerName, providerSchema, type ProviderConfig } from '../../config/schema.js';
import { createProvider } from '../../providers/registry.js';
import type { StoredProvider } from '../../store/director-store.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import type { ProviderTargets } from '../../policy/provider-targets.js';
import { openCredentials, sealCredentials, splitProvider } from '../provider-credentials.js';
import { body, errors, iso, json, nameParam } from './schemas.js';

const view = z.object({
  name: z.string(),
  type: z.string(),
  credentials: z.array(z.enum(CREDENTIAL_FIELDS)).openapi({ description: 'The credential fields that are set (their values are never shown)' }),
  createdAt: z.string(),
  updatedAt: z.string(),
}).passthrough().openapi('Provider');

const providerInput = providerSchema.extend({ name: providerName }).strict();
/** Any field of sluice.yaml's provider but its type; null removes one (a credential included). Defaults apply only on create. */
const providerPatch = z.object(Object.fromEntries(Object.entries(providerSchema.shape)
  .filter(([field]) => field !== 'type')
  .map(([field, schema]) => [field, (schema instanceof z.ZodDefault ? schema.unwrap() as z.ZodType : schema as z.ZodType).nullable().optional()]))).strict();

function render(provider: StoredProvider) {
  const { baseUrl } = provider.settings as { baseUrl?: unknown };
  return {
    name: provider.name, ...provider.settings, ...(typeof baseUrl === 'string' ? { baseUrl: withoutUserinfo(baseUrl) } : {}),
    credentials: provider.credentials?.fields ?? [], createdAt: iso(provider.createdAt)!, updatedAt: iso(provider.updatedAt)!,
  };
}

/**
 * A base URL stored before user:password@ was refused is shown with its userinfo masked: readers must not see it. (A
 * patch of such a provider is refused until its base URL is given without one.)
 */
function withoutUserinfo(baseUrl: string): string {
  return baseUrl.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

/**
 * The same checks sluice.yaml's providers get (the base URL's target among them), and the adapter must accept the config
 * (as the gateway will build it).
 */
function check(name: string, config: ProviderConfig, targets: ProviderTargets): void {
  const problems = providerProblems(config);
  const refusal = config.baseUrl === undefined ? null : targets.baseUrlRefusal(config.baseUrl);
  if (refusal !== null) problems.push(['baseUrl', refusal]);
  if (problems.length > 0) {
    throw new ApiError(400, 'invalid_request', `Invalid provider: ${problems.map(([f, m]) => `${f}: ${m}`).join('; ')}`, problems.map(([path, message]) => ({ path, message })));
  }
  try {
    createProvider(name, config);
  } catch (error) {
    throw new ApiError(400, 'invalid_request', `Invalid provider: ${(error as Error).message}`);
  }
}

export function registerProviderRoutes(app: DirectorApi, { store, masterKey, providerTargets }: RouteDeps): void {
  const missing = (name: string) => new ApiError(404, 'not_found', `provider "${name}" does not exist`);

  app.openapi(createRoute({
    method: 'get', path: '/api/providers', tags: ['providers'], summary: 'List providers (settings, and which credentials are set)',
    responses: { 200: json(z.object({ items: z.array(view) }), 'The providers'), ...errors() },
  }), async (c) => {
    authorize(c, 'read');
    return c.json({ items: (await store.listProviders()).map(render) }, 200);
  });

  app.openapi(createRoute({
    method: 'get', path: '/api/providers/{name}', tags: ['providers'], summary: 'One provider',
    request: { params: nameParam }, responses: { 200: json(view, 'The provider'), ...errors(404) },
  }), async (c) => {
    authorize(c, 'read');
    const { name } = c.req.valid('param');
    const found = await store.getProvider(name);
    if (found === null) throw missing(name);
    return c.json(render(found), 200);
  });

  app.openapi(createRoute({
    method: 'post', path: '/api/providers', tags: ['providers'],
    summary: 'Add a provider: the fields of sluice.yaml\'s providers, with a name (admin role; credentials are write-only)',
    request: body(providerInput), responses: { 201: json(view, 'Created'), ...errors(400, 409) },
  }), async (c) => {
    const caller = authorize(c, 'admin');
    const { name, ...config } = c.req.valid('json');
    check(name, config, providerTargets);
    const { settings, credentials } = splitProvider(config);
    const created = await store.createProvider(caller.actor, { name, settings, credentials: sealCredentials(masterKey, name, credentials) });
    return c.json(render(created), 201);
  });

  app.openapi(createRoute({
    method: 'patch', path: '/api/providers/{name}', tags: ['providers'],
    summary: 'Change a provider: fields given replace theirs, null removes one; credentials not named stay as they are (admin role)',
    request: { params: nameParam, ...body(providerPatch) }, responses: { 200: json(view, 'Updated'), ...errors(400, 404) },
  }), async (c) => {
    const caller = authorize(c, 'admin');
    const { name } = c.req.valid('param');
    const patch = c.req.valid('json') as Record<string, unknown>;
    const existing = await store.getProvider(name);
    if (existing === null) throw missing(name);
    const touchesCredentials = CREDENTIAL_FIELDS.some((field) => field in patch);
    const current: Record<string, unknown> = { ...existing.settings, ...(touchesCredentials ? openCredentials(masterKey, name, existing.credentials) : {}) };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete current[field];
      else if (value !== undefined) current[field] = value;
    }
    const parsed = providerSchema.safeParse(current);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message }));
      throw new ApiError(400, 'invalid_request', `Invalid provider: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
    }
    check(name, parsed.data, providerTargets);
    const { settings, credentials } = splitProvider(parsed.data);
    const updated = await store.updateProvider(caller.actor, name, {
      settings, ...(touchesCredentials ? { credentials: sealCredentials(masterKey, name, credentials) } : {}),
    });
    return c.json(render(updated), 200);
  });

  app.openapi(createRoute({
    method: 'delete', path: '/api/providers/{name}', tags: ['providers'], summary: 'Delete a provider no model routes to (admin role)',
    request: { params: nameParam }, responses: { 204: { description: 'Deleted' }, ...errors(404, 409) },
  }), async (c) => {
    const caller = authorize(c, 'admin');
    await store.deleteProvider(caller.actor, c.req.valid('param').name);
    return c.body(null, 204);
  });
}
