// Which roles may call each operation of the admin API: one table, checked right after authentication and before the
// body is read, validated or anything is looked up, so a role that may not call a route learns nothing from it (not
// whether its body is valid, nor whether the name in its path exists). Handlers narrow further (a team-owner acts on
// its own team only); they never widen. Every operation in the OpenAPI document must have a row (checked at start).
import type { AdminRole } from '../store/director-store.js';

const READ: readonly AdminRole[] = ['admin', 'operator', 'viewer'];
const WRITE: readonly AdminRole[] = ['admin', 'operator'];
/** Admin tokens, provider credentials and webhook secrets. */
const ADMIN: readonly AdminRole[] = ['admin'];
/** Read roles, and a team-owner for its own team (the handler keeps it there). */
const TEAM_READ: readonly AdminRole[] = [...READ, 'team-owner'];
/** Write roles, and a team-owner for its own team's consumers and keys. */
const TEAM_WRITE: readonly AdminRole[] = [...WRITE, 'team-owner'];

/** `METHOD /path/{param}` as in the OpenAPI document -> the roles that may call it. */
export const ROUTE_ROLES: Readonly<Record<string, readonly AdminRole[]>> = {
  'GET /api/teams': TEAM_READ,
  'POST /api/teams': WRITE,
  'GET /api/teams/{name}': TEAM_READ,
  'PATCH /api/teams/{name}': WRITE,
  'DELETE /api/teams/{name}': WRITE,

  'GET /api/consumers': TEAM_READ,
  'POST /api/consumers': TEAM_WRITE,
  'GET /api/consumers/{name}': TEAM_READ,
  'PATCH /api/consumers/{name}': TEAM_WRITE,
  'DELETE /api/consumers/{name}': TEAM_WRITE,
  'GET /api/consumers/{name}/keys': TEAM_READ,
  'POST /api/consumers/{name}/keys': TEAM_WRITE,
  'POST /api/consumers/{name}/keys/{id}/revoke': TEAM_WRITE,
  'POST /api/consumers/{name}/keys/{id}/rotate': TEAM_WRITE,
  'GET /api/keys/expiring': TEAM_READ,

  'GET /api/admin-tokens': ADMIN,
  'POST /api/admin-tokens': ADMIN,
  'POST /api/admin-tokens/{id}/revoke': ADMIN,

  ...definitionRoutes('/api/budgets'),
  ...definitionRoutes('/api/budget-templates'),
  ...definitionRoutes('/api/rate-limits'),
  'GET /api/budgets/{name}/burn-down': READ,
  'GET /api/budget-templates/{name}/instances': READ,

  'GET /api/providers': READ,
  'POST /api/providers': ADMIN,
  'GET /api/providers/{name}': READ,
  'PATCH /api/providers/{name}': ADMIN,
  'DELETE /api/providers/{name}': ADMIN,

  'GET /api/models': READ,
  'POST /api/models': WRITE,
  'GET /api/models/{name}': READ,
  'PUT /api/models/{name}': WRITE,
  'DELETE /api/models/{name}': WRITE,

  'GET /api/resources': READ,
  'PUT /api/resources/{id}': WRITE,
  'DELETE /api/resources/{id}': WRITE,

  'GET /api/webhooks': READ,
  'POST /api/webhooks': ADMIN,
  'PATCH /api/webhooks/{id}': ADMIN,
  'DELETE /api/webhooks/{id}': ADMIN,

  'GET /api/audit': READ,

  'GET /api/compliance/component-definition': READ,
  'GET /api/compliance/assessment-results': READ,
  'GET /api/compliance/assessment-results/{uuid}': READ,
  'GET /api/compliance/assessments': READ,
  'POST /api/compliance/assessments': WRITE,
  'GET /api/compliance/poam': READ,
  'GET /api/compliance/anchors': READ,
  'GET /api/compliance/chains': READ,

  // A whole declared document (sluice apply): teams, models, consumers, policies, resources, all or nothing.
  'POST /api/apply': WRITE,

  // Gateways read key hashes and report key use: the operator role is a gateway's.
  'GET /api/gateway/snapshot': WRITE,
  'POST /api/gateway/key-use': WRITE,

  'GET /api/usage': TEAM_READ,
  'GET /api/usage/top-drivers': TEAM_READ,
  'GET /api/forecast': TEAM_READ,
  'GET /api/reports/chargeback': TEAM_READ,
  // The ledger's rows: a team-owner sees its own team's (the handler forces its team filter).
  'GET /api/transactions': TEAM_READ,
  'GET /api/transactions/{id}': TEAM_READ,
  // Who the token is: every role may ask.
  'GET /api/session': [...TEAM_READ],

  'POST /api/reconciliation/observations': WRITE,
  'GET /api/reconciliation/consumers': READ,
  'GET /api/reconciliation/consumers/{id}': READ,
  'POST /api/reconciliation/consumers/{id}/resolve': WRITE,
  'GET /api/reconciliation/resources': READ,
  'POST /api/reconciliation/resources/{id}/resolve': WRITE,
  'GET /api/reconciliation/rules': READ,
  'POST /api/reconciliation/rules': WRITE,
  'GET /api/reconciliation/rules/{id}': READ,
  'DELETE /api/reconciliation/rules/{id}': WRITE,

  'GET /api/identity-rules': READ,
  'POST /api/identity-rules': WRITE,
  'GET /api/identity-rules/{id}': READ,
  'DELETE /api/identity-rules/{id}': WRITE,
};

/**
 * The operations (`METHOD /path/{param}`) a role may call, as `GET /api/session` answers them: a client such as the
 * console offers and requests only these. Handlers may narrow one further (a team-owner's own team); none is missing.
 */
export function operationsOf(role: AdminRole, table: Readonly<Record<string, readonly AdminRole[]>> = ROUTE_ROLES): string[] {
  return Object.entries(table)
    .filter(([, roles]) => roles.includes(role))
    .map(([operation]) => operation)
    .sort();
}

/** Budgets, budget templates and rate limits share one set of routes. */
function definitionRoutes(path: string): Record<string, readonly AdminRole[]> {
  return {
    [`GET ${path}`]: READ,
    [`POST ${path}`]: WRITE,
    [`GET ${path}/{name}`]: READ,
    [`PUT ${path}/{name}`]: WRITE,
    [`DELETE ${path}/{name}`]: WRITE,
  };
}

/** What a request's method and path find in the table. */
export type RouteLookup = { kind: 'route'; roles: readonly AdminRole[] } | { kind: 'other-methods'; allow: string[] } | { kind: 'unknown' };

interface PathPattern {
  pattern: RegExp;
  methods: Map<string, readonly AdminRole[]>;
}

/** The table compiled once: one pattern per path, a path parameter matching one segment. */
export class RouteRoles {
  private readonly paths: PathPattern[] = [];

  constructor(table: Readonly<Record<string, readonly AdminRole[]>> = ROUTE_ROLES) {
    const byPath = new Map<string, PathPattern>();
    for (const [operation, roles] of Object.entries(table)) {
      const [method, path] = operation.split(' ') as [string, string];
      let entry = byPath.get(path);
      if (entry === undefined) {
        const source = path
          .split('/')
          .map((part) => (/^\{.+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
          .join('/');
        entry = { pattern: new RegExp(`^${source}$`), methods: new Map() };
        byPath.set(path, entry);
        this.paths.push(entry);
      }
      entry.methods.set(method, roles);
    }
  }

  lookup(method: string, path: string): RouteLookup {
    const allow = new Set<string>();
    // HEAD is answered by GET's route.
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const entry of this.paths) {
      if (!entry.pattern.test(path)) continue;
      const roles = entry.methods.get(wanted);
      if (roles !== undefined) return { kind: 'route', roles };
      for (const known of entry.methods.keys()) allow.add(known);
    }
    return allow.size === 0 ? { kind: 'unknown' } : { kind: 'other-methods', allow: [...allow].sort() };
  }
}

/** Operations of the OpenAPI document the table has no row for, and rows with no operation: both must be empty. */
export function tableMismatches(operations: ReadonlyArray<{ method: string; path: string }>, table = ROUTE_ROLES): string[] {
  const documented = new Set(operations.map((operation) => `${operation.method.toUpperCase()} ${operation.path}`));
  return [
    ...[...documented].filter((operation) => !(operation in table)).map((operation) => `${operation}: no row in the route x role table`),
    ...Object.keys(table)
      .filter((operation) => !documented.has(operation))
      .map((operation) => `${operation}: in the route x role table but not an operation`),
  ];
}
