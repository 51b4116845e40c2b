// The director's REST API on the admin port (/api/...): validated input, role checks, audited changes through the
// store, and its OpenAPI 3.1 description at /api/openapi.json. Hono runs it: frameworks are for the admin side only.
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { Compliance } from '../compliance/compliance.js';
import { describeIssue } from '../config/issue-messages.js';
import type { AdminOidcConfig } from '../config/identity-schema.js';
import type { DirectorStore } from '../store/director-store.js';
import type { ProviderTargets } from '../config/provider-targets.js';
import type { MasterKey } from '../store/master-key.js';
import type { KeysConfig } from '../config/keys-schema.js';
import { keyExpiryPolicy, type KeyExpiryPolicy } from '../policy/key-expiry.js';
import { AdminAuthenticator, type ApiEnv } from './access.js';
import { registerApiDocs } from './api-docs.js';
import { ApiError, toApiError } from './errors.js';
import { refuseNulCharacters } from './nul-characters.js';
import { RouteRoles, tableMismatches } from './route-roles.js';
import { registerAdminTokenRoutes } from './routes/admin-tokens.js';
import { registerApplyRoutes } from './routes/apply.js';
import { registerAuditRoutes } from './routes/audit.js';
import { COMPLIANCE_ASSESS_PATH, registerComplianceRoutes } from './routes/compliance.js';
import { registerConsumerRoutes } from './routes/consumers.js';
import { registerExpiringKeyRoutes } from './routes/expiring-keys.js';
import { KEY_USE_PATH, registerGatewayRoutes } from './routes/gateway.js';
import { registerModelRoutes } from './routes/models.js';
import { registerPolicyRoutes } from './routes/policies.js';
import { registerProviderRoutes } from './routes/providers.js';
import { OBSERVATIONS_PATH, registerReconciliationRoutes } from './routes/reconciliation.js';
import { registerReportRoutes } from './routes/reports.js';
import { registerResourceRoutes } from './routes/resources.js';
import { registerIdentityRuleRoutes } from './routes/identity-rules.js';
import { registerSessionRoutes } from './routes/session.js';
import { registerTeamRoutes } from './routes/teams.js';
import { registerTemplateInstanceRoutes } from './routes/template-instances.js';
import { registerTransactionRoutes } from './routes/transactions.js';
import { registerUsageRoutes } from './routes/usage.js';
import { registerWebhookRoutes } from './routes/webhooks.js';

export interface DirectorApiOptions {
  store: DirectorStore;
  /** An admin credential from the environment (SLUICE_ADMIN_TOKEN), for making the first admin tokens. */
  bootstrapToken: string | null;
  logger: Logger;
  /** What budgets may name: the configured models and providers. */
  catalog: () => { models: ReadonlySet<string>; providers: ReadonlySet<string> };
  /** Seals provider credentials given to the API. */
  masterKey: MasterKey;
  /** Called after every successful change; the answer waits for it, so this process's gateway serves the change at once. */
  onChange: () => Promise<void>;
  /** Larger request bodies are refused with 413 before they are read whole (admin.maxBodyBytes). */
  maxBodyBytes: number;
  /** Where provider base URLs may point. */
  providerTargets: ProviderTargets;
  /** Assessments and the OSCAL documents (/api/compliance). */
  compliance: Compliance;
  /** An OIDC issuer whose tokens are taken in place of admin tokens (identity.adminOidc); null for admin tokens only. */
  adminOidc?: AdminOidcConfig | null;
  /** The JWT issuers the gateway takes consumers' tokens from (identity.jwtIssuers): what identity rules may name. */
  jwtIssuers?: readonly string[];
  /** The default and latest end of keys made through the API (sluice.yaml `keys`), read at each key made; none without it. */
  keyExpiry?: () => KeysConfig;
}

/** What every route module is handed. */
export interface RouteDeps {
  store: DirectorStore;
  catalog: DirectorApiOptions['catalog'];
  masterKey: MasterKey;
  providerTargets: ProviderTargets;
  compliance: Compliance;
  jwtIssuers: readonly string[];
  keyExpiry: () => KeyExpiryPolicy;
}

export type DirectorApi = OpenAPIHono<ApiEnv>;

const NO_KEY_EXPIRY = keyExpiryPolicy({});

/** Successful POSTs that record what happened rather than change what the director serves. */
const NOT_CHANGES = new Set([KEY_USE_PATH, OBSERVATIONS_PATH, COMPLIANCE_ASSESS_PATH]);

export function createDirectorApi(options: DirectorApiOptions): DirectorApi {
  // Bodies are validated by hono's zod validator, which takes no per-parse error map: zod's process-wide one is set
  // instead, so a 400 says what is allowed (an enum's values, a union's shapes, the keys an object takes).
  z.config({ customError: describeIssue });
  const app = new OpenAPIHono<ApiEnv>({
    // Validation failures name every field in error, by its path in the request.
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message }));
        throw new ApiError(400, 'invalid_request', `Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
      }
      return undefined;
    },
  });
  const authenticator = new AdminAuthenticator(options.store, options.bootstrapToken, options.adminOidc ?? null);
  app.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'An admin token (sa-sluice-...)',
  });

  // Before the token check: the docs page and its assets are public; the calls it makes need a token (api-docs.ts).
  registerApiDocs(app);
  const routeRoles = new RouteRoles();
  const limitBody = bodyLimit({
    maxSize: options.maxBodyBytes,
    onError: () => {
      throw new ApiError(413, 'body_too_large', `The request body is larger than ${options.maxBodyBytes} bytes (admin.maxBodyBytes).`);
    },
  });
  // Authenticate, then authorize by role and route, then limit the body: no validator or look-up runs before that.
  app.use('/api/*', async (c, next) => {
    if (c.req.path === '/api/openapi.json') return next();
    const caller = await authenticator.authenticate(c.req.header('authorization'));
    c.set('caller', caller);
    const route = routeRoles.lookup(c.req.method, c.req.path);
    if (route.kind === 'other-methods') {
      throw new ApiError(
        405,
        'method_not_allowed',
        `${c.req.method} is not allowed on ${c.req.path}; allowed: ${route.allow.join(', ')}.`,
        undefined,
        { allow: route.allow.join(', ') },
      );
    }
    if (route.kind === 'route' && !route.roles.includes(caller.role)) {
      throw new ApiError(
        403,
        'forbidden',
        `Role ${caller.role} may not ${c.req.method} ${c.req.path}: it is for ${route.roles.join(', ')}.`,
      );
    }
    await limitBody(c, async () => {
      await refuseNulCharacters(c);
      await next();
    });
    // Reports of use are not changes to what gateways serve: no snapshot rebuild for them.
    if (c.req.method !== 'GET' && c.res.status < 400 && !NOT_CHANGES.has(c.req.path)) await options.onChange();
  });

  const deps: RouteDeps = {
    store: options.store,
    catalog: options.catalog,
    masterKey: options.masterKey,
    providerTargets: options.providerTargets,
    compliance: options.compliance,
    jwtIssuers: options.jwtIssuers ?? [],
    keyExpiry: options.keyExpiry === undefined ? () => NO_KEY_EXPIRY : () => keyExpiryPolicy(options.keyExpiry!()),
  };
  registerTeamRoutes(app, deps);
  registerConsumerRoutes(app, deps);
  registerExpiringKeyRoutes(app, deps);
  registerAdminTokenRoutes(app, deps);
  registerPolicyRoutes(app, deps);
  registerProviderRoutes(app, deps);
  registerModelRoutes(app, deps);
  registerResourceRoutes(app, deps);
  registerWebhookRoutes(app, deps);
  registerAuditRoutes(app, deps);
  registerGatewayRoutes(app, deps);
  registerUsageRoutes(app, deps);
  registerReportRoutes(app, deps);
  registerReconciliationRoutes(app, deps);
  registerApplyRoutes(app, deps);
  registerComplianceRoutes(app, deps);
  registerIdentityRuleRoutes(app, deps);
  registerTransactionRoutes(app, deps);
  registerTemplateInstanceRoutes(app, deps);
  registerSessionRoutes(app);

  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Sluice director API',
      version: '1',
      description:
        'Consumers, keys, teams, providers, models, budgets, templates, rate limits, resources, webhooks, usage and the audit log.',
    },
    security: [{ adminToken: [] }],
  });

  const undocumented = tableMismatches(
    app.openAPIRegistry.definitions.flatMap((definition) => (definition.type === 'route' ? [definition.route] : [])),
  );
  if (undocumented.length > 0) throw new Error(`director API: ${undocumented.join('; ')}`);

  app.notFound((c) => {
    const failure = new ApiError(404, 'route_not_found', `No endpoint ${c.req.method} ${c.req.path}; see /api/openapi.json.`);
    return c.body(failure.body(), 404, { 'content-type': 'application/json' });
  });
  app.onError((error, c) => {
    const failure = toApiError(error);
    if (failure.status === 500) options.logger.error({ err: (error as Error).message, path: c.req.path }, 'director API failure');
    return c.body(failure.body(), failure.status, { 'content-type': 'application/json', ...failure.headers });
  });
  return app;
}
