// /api/providers: upstreams with their settings and write-only credentials. Credentials are sealed with the master key
// before the store sees them and never come back out: readers see which credential fields are set, nothing more.
// Every write is for the admin role: whoever can point a provider's baseUrl elsewhere can send its key there.
import { z } from '@hono/zod-openapi';
import { providerProblems } from '../../config/load.js';
import { CREDENTIAL_FIELDS, providerName, providerSchema, type ProviderConfig } from '../../config/schema.js';
import { createProvider } from '../../providers/registry.js';
import type { StoredProvider } from '../../store/director-store.js';
import { MasterKey } from '../../store/master-key.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import type { ProviderTargets } from '../../config/provider-targets.js';
import { openCredentials, sealCredentials, splitProvider } from '../provider-credentials.js';
import { registerEntityRoutes } from './entity.js';
import { iso } from './schemas.js';

const view = z
  .object({
    name: z.string(),
    type: z.string(),
    credentials: z
      .array(z.enum(CREDENTIAL_FIELDS))
      .openapi({ description: 'The credential fields that are set (their values are never shown)' }),
    credentialsSealedWith: z.string().nullable().openapi({
      description:
        'The id of the master key the credentials are sealed with (null without credentials): after a rotation, none should name a replaced key',
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .passthrough()
  .openapi('Provider');

const providerInput = providerSchema.extend({ name: providerName }).strict();
/** Any field of sluice.yaml's provider but its type; null removes one (a credential included). Defaults apply only on create. */
const providerPatch = z
  .object(
    Object.fromEntries(
      Object.entries(providerSchema.shape)
        .filter(([field]) => field !== 'type')
        .map(([field, schema]) => [
          field,
          (schema instanceof z.ZodDefault ? (schema.unwrap() as z.ZodType) : (schema as z.ZodType)).nullable().optional(),
        ]),
    ),
  )
  .strict();

function render(provider: StoredProvider) {
  const { baseUrl } = provider.settings as { baseUrl?: unknown };
  return {
    name: provider.name,
    ...provider.settings,
    ...(typeof baseUrl === 'string' ? { baseUrl: withoutUserinfo(baseUrl) } : {}),
    credentials: provider.credentials?.fields ?? [],
    credentialsSealedWith: provider.credentials === null ? null : MasterKey.sealedWith(provider.credentials.sealed),
    createdAt: iso(provider.createdAt)!,
    updatedAt: iso(provider.updatedAt)!,
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
    throw new ApiError(
      400,
      'invalid_request',
      `Invalid provider: ${problems.map(([f, m]) => `${f}: ${m}`).join('; ')}`,
      problems.map(([path, message]) => ({ path, message })),
    );
  }
  try {
    createProvider(name, config);
  } catch (error) {
    const message = (error as Error).message;
    throw new ApiError(400, 'invalid_request', `Invalid provider: ${message}`, [{ path: '(body)', message }]);
  }
}

export function registerProviderRoutes(app: DirectorApi, { store, masterKey, providerTargets }: RouteDeps): void {
  const missing = (name: string) => new ApiError(404, 'not_found', `provider "${name}" does not exist`);

  registerEntityRoutes<StoredProvider, z.infer<typeof providerInput>, Record<string, unknown>>(app, {
    path: '/api/providers',
    tag: 'providers',
    noun: 'provider',
    view,
    render,
    list: {
      summary: 'List providers (settings, and which credentials are set)',
      description: 'The providers',
      access: 'read',
      items: () => store.listProviders(),
    },
    get: { summary: 'One provider', description: 'The provider', access: 'read', find: (name) => store.getProvider(name) },
    create: {
      summary: "Add a provider: the fields of sluice.yaml's providers, with a name (admin role; credentials are write-only)",
      body: providerInput,
      errors: [400, 409],
      access: 'admin',
      run: (caller, { name, ...config }) => {
        check(name, config, providerTargets);
        const { settings, credentials } = splitProvider(config);
        return store.createProvider(caller.actor, { name, settings, credentials: sealCredentials(masterKey, name, credentials) });
      },
    },
    update: {
      method: 'patch',
      summary: 'Change a provider: fields given replace theirs, null removes one; credentials not named stay as they are (admin role)',
      body: providerPatch,
      description: 'Updated',
      errors: [400, 404],
      access: 'admin',
      run: async (caller, name, patch) => {
        const existing = await store.getProvider(name);
        if (existing === null) throw missing(name);
        const touchesCredentials = CREDENTIAL_FIELDS.some((field) => field in patch);
        const current: Record<string, unknown> = {
          ...existing.settings,
          ...(touchesCredentials ? openCredentials(masterKey, name, existing.credentials) : {}),
        };
        for (const [field, value] of Object.entries(patch)) {
          if (value === null) delete current[field];
          else if (value !== undefined) current[field] = value;
        }
        const parsed = providerSchema.safeParse(current);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((issue) => ({
            path: issue.path.map(String).join('.') || '(body)',
            message: issue.message,
          }));
          throw new ApiError(
            400,
            'invalid_request',
            `Invalid provider: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
            issues,
          );
        }
        check(name, parsed.data, providerTargets);
        const { settings, credentials } = splitProvider(parsed.data);
        return store.updateProvider(caller.actor, name, {
          settings,
          ...(touchesCredentials ? { credentials: sealCredentials(masterKey, name, credentials) } : {}),
        });
      },
    },
    remove: {
      summary: 'Delete a provider no model routes to (admin role)',
      errors: [404, 409],
      access: 'admin',
      run: (caller, name) => store.deleteProvider(caller.actor, name),
    },
  });
}
