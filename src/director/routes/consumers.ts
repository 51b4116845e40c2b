// /api/consumers and their keys: applications with owners, and the Sluice keys they call the gateway with.
// A key's plaintext is in the answer to its creation (or rotation) and nowhere else, ever.
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Consumer, ConsumerKey, DirectorStore } from '../../store/director-store.js';
import { authorize, authorizeTeam, type ApiEnv, type Caller } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { nameText } from '../../config/limits.js';
import { consumerInput } from '../../schemas/directory.js';
import { declaredKeyOrigin } from '../declared.js';
import { ApiError } from '../errors.js';
import { consumerModelIssues, refuseIssues, teamIssues } from '../references.js';
import { registerEntityRoutes } from './entity.js';
import { body, errors, expiringWithin, iso, isoTime, json, nameParam, pageQuery } from './schemas.js';
import { durationMs } from '../../config/governance-schema.js';
import { newKeyExpiry, rotatedKeyExpiry, type ExpiryDecision } from '../../policy/key-expiry.js';

const labels = z.record(z.string(), z.string());
const consumer = z
  .object({
    name: z.string(),
    team: z.string().nullable(),
    owner: z.string().nullable(),
    labels,
    models: z.array(z.string()).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Consumer');
const consumerPatch = consumerInput.omit({ name: true });
export const key = z
  .object({
    id: z.string(),
    consumer: z.string(),
    prefix: z.string(),
    name: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
  })
  .openapi('ConsumerKey');
const createdKey = z
  .object({ key, plaintext: z.string().openapi({ description: 'Shown this once; Sluice keeps only its hash.' }) })
  .openapi('CreatedKey');
const keyInput = z
  .object({
    name: nameText(),
    expiresAt: isoTime.nullable().optional().openapi({
      description:
        "the key's end, in the future and within keys.maxExpiry; null for none (only without keys.maxExpiry); absent: keys.defaultExpiry",
    }),
  })
  .strict();
const rotation = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(86_400),
    expiresAt: isoTime.nullable().optional().openapi({
      description: "the new key's end, in the future; null for none; absent: the rotated key's (rotation renews the secret, not the grant)",
    }),
  })
  .strict();
const keyParams = z.object({
  name: z
    .string()
    .min(1)
    .openapi({ param: { name: 'name', in: 'path' } }),
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const listQuery = z.object({
  team: z
    .string()
    .optional()
    .openapi({ param: { name: 'team', in: 'query' } }),
  label: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .openapi({ param: { name: 'label', in: 'query', description: 'key=value; repeat for several' } }),
  ...pageQuery,
});

function render(value: Consumer) {
  return { ...value, createdAt: iso(value.createdAt)!, updatedAt: iso(value.updatedAt)! };
}

export function renderKey(value: ConsumerKey) {
  return {
    ...value,
    createdAt: iso(value.createdAt)!,
    expiresAt: iso(value.expiresAt),
    revokedAt: iso(value.revokedAt),
    lastUsedAt: iso(value.lastUsedAt),
  };
}

/** Whether a key is unrevoked, not yet expired, and ends within `withinMs` of `now`. */
export function endsWithin(value: ConsumerKey, now: number, withinMs: number): boolean {
  return value.revokedAt === null && value.expiresAt !== null && value.expiresAt > now && value.expiresAt <= now + withinMs;
}

/**
 * The consumer a caller may act on with `need`. Other roles are authorized before the look-up; a team-owner gets the same
 * 403 for a name that does not exist as for another team's, so it cannot learn which names exist.
 */
async function consumerFor(
  store: DirectorStore,
  c: Context<ApiEnv>,
  name: string,
  need: 'read' | 'write',
): Promise<{ caller: Caller; found: Consumer }> {
  if (c.get('caller').role !== 'team-owner') authorize(c, need);
  const found = await store.getConsumer(name);
  const caller = authorizeTeam(c, need, found?.team);
  if (found === null) throw new ApiError(404, 'not_found', `consumer "${name}" does not exist`);
  return { caller, found };
}

/** The key, if it is this consumer's: a team-owner must not reach another team's key by its id. */
async function keyOf(
  store: DirectorStore,
  c: Context<ApiEnv>,
  consumerName: string,
  id: string,
  need: 'read' | 'write',
): Promise<{ caller: Caller; found: ConsumerKey }> {
  const { caller } = await consumerFor(store, c, consumerName, need);
  const found = (await store.listKeys(consumerName)).find((k) => k.id === id);
  if (found === undefined) throw new ApiError(404, 'not_found', `consumer "${consumerName}" has no key "${id}"`);
  return { caller, found };
}

/**
 * The model allow-list, the labels budget templates select on, and the team (whose budgets apply) decide governance:
 * they are the admin's and operator's to set. A team-owner may create a consumer without them and manage its owner and
 * keys, but setting any of them, even to its current value, is refused.
 */
function refuseGovernanceFields(
  caller: Caller,
  input: { team?: unknown; labels?: Record<string, string>; models?: unknown },
  creating: boolean,
): void {
  if (caller.role !== 'team-owner') return;
  const set = [
    ...(!creating && input.team !== undefined ? ['team'] : []),
    ...(input.labels !== undefined && (!creating || Object.keys(input.labels).length > 0) ? ['labels'] : []),
    ...(input.models !== undefined && (!creating || input.models !== null) ? ['models'] : []),
  ];
  if (set.length > 0) {
    throw new ApiError(
      403,
      'forbidden',
      `A team-owner may not set ${set.join(', ')}: the model allow-list, labels and team decide which models and budgets apply; ask an admin or operator.`,
    );
  }
}

/**
 * A key the config declares is the config's: the file still lists the old key, so the next reload would revoke the new one (a
 * rotation the operator thought done, undone). Refused whole, nothing changed, saying where to rotate it instead.
 */
function refuseDeclaredRotation(keyName: string, id: string): void {
  const origin = declaredKeyOrigin(keyName);
  if (origin === null) return;
  const where =
    origin === 'sluice.yaml'
      ? "sluice.yaml owns it: replace the key in its consumer's keys there and reload"
      : 'the embedded defaults own it: declare the consumer and its keys in a sluice.yaml';
  throw new ApiError(
    409,
    'conflict',
    `consumer-key "${id}" is declared by ${origin}, not made through the API; ${where}. A rotation here would be undone by the next reload.`,
  );
}

/** A key's `expiresAt` as given (absent stays absent, null is no end), refused with 400 naming it unless in the future. */
function futureExpiry(given: string | null | undefined): number | null | undefined {
  if (given === undefined || given === null) return given;
  const expiresAt = Date.parse(given);
  if (expiresAt <= Date.now()) {
    throw new ApiError(400, 'invalid_request', `Invalid request: expiresAt: ${given} is not in the future`, [
      { path: 'expiresAt', message: 'not in the future' },
    ]);
  }
  return expiresAt;
}

/** The end the key expiry policy decided, or its refusal as a 400 naming `expiresAt`. */
function decided(decision: ExpiryDecision): number | null {
  if ('expiresAt' in decision) return decision.expiresAt;
  throw new ApiError(400, 'invalid_request', `Invalid request: expiresAt: ${decision.refused}`, [
    { path: 'expiresAt', message: decision.refused },
  ]);
}

export function registerConsumerRoutes(app: DirectorApi, { store, catalog, keyExpiry }: RouteDeps): void {
  const teamExists = async (name: string) => (await store.getTeam(name)) !== null;
  /** The models and team a consumer names must exist (400 naming the field); the store would only say 409. */
  const checkReferences = async (input: { models?: string[] | null; team?: string | null }) =>
    refuseIssues('consumer', [...consumerModelIssues(input.models, catalog()), ...(await teamIssues(input.team, { team: teamExists }))]);

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/consumers',
      tags: ['consumers'],
      summary: 'List consumers, filtered by team or labels, a page at a time',
      request: { query: listQuery },
      responses: { 200: json(z.object({ items: z.array(consumer), nextCursor: z.string().nullable() }), 'A page'), ...errors(400) },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const caller = c.get('caller');
      // A team-owner lists its own team whatever it asks for; asking for another team is refused.
      const team = caller.role === 'team-owner' ? (query.team ?? caller.team ?? undefined) : query.team;
      authorizeTeam(c, 'read', caller.role === 'team-owner' ? team : null);
      const labelFilter: Record<string, string> = {};
      for (const pair of query.label === undefined ? [] : [query.label].flat()) {
        const at = pair.indexOf('=');
        if (at < 1)
          throw new ApiError(400, 'invalid_request', `label filter "${pair}" is not key=value`, [{ path: 'label', message: 'key=value' }]);
        labelFilter[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const page = await store.listConsumers({ team, labels: labelFilter, limit: query.limit, cursor: query.cursor ?? null });
      return c.json({ items: page.items.map(render), nextCursor: page.nextCursor }, 200);
    },
  );

  registerEntityRoutes<Consumer, z.infer<typeof consumerInput>, z.infer<typeof consumerPatch>>(app, {
    path: '/api/consumers',
    tag: 'consumers',
    noun: 'consumer',
    view: consumer,
    render,
    create: {
      summary: 'Create a consumer',
      body: consumerInput,
      errors: [400, 409],
      access: (c, input) => authorizeTeam(c, 'write', input.team),
      run: async (caller, input) => {
        refuseGovernanceFields(caller, input, true);
        await checkReferences(input);
        return store.createConsumer(caller.actor, input);
      },
    },
    get: {
      summary: 'One consumer',
      description: 'The consumer',
      access: async (c, name) => (await consumerFor(store, c, name, 'read')).caller,
      find: (name) => store.getConsumer(name),
    },
    update: {
      method: 'patch',
      summary: 'Change a consumer (absent fields stay; null clears)',
      body: consumerPatch,
      description: 'Updated',
      errors: [400, 404, 409],
      access: async (c, name) => (await consumerFor(store, c, name, 'write')).caller,
      run: async (caller, name, patch) => {
        refuseGovernanceFields(caller, patch, false);
        await checkReferences(patch);
        return store.updateConsumer(caller.actor, name, patch);
      },
    },
    remove: {
      summary:
        'Delete a consumer, its keys, identity rules and reconciliation rules; one a budget or rate limit names cannot be (409, naming them)',
      errors: [404, 409],
      access: async (c, name) => (await consumerFor(store, c, name, 'write')).caller,
      run: (caller, name) => store.deleteConsumer(caller.actor, name),
    },
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/consumers/{name}/keys',
      tags: ['keys'],
      summary: "A consumer's keys (never their secrets); with expiringWithin, only its unrevoked keys ending within that time",
      request: { params: nameParam, query: z.object({ expiringWithin: expiringWithin.optional() }) },
      responses: { 200: json(z.object({ items: z.array(key) }), 'The keys'), ...errors(400, 404) },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const { expiringWithin: within } = c.req.valid('query');
      await consumerFor(store, c, name, 'read');
      const keys = await store.listKeys(name);
      const now = Date.now();
      const shown = within === undefined ? keys : keys.filter((k) => endsWithin(k, now, durationMs(within)));
      return c.json({ items: shown.map(renderKey) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/consumers/{name}/keys',
      tags: ['keys'],
      summary: 'Create a key; its plaintext is in this answer only',
      request: { params: nameParam, ...body(keyInput) },
      responses: { 201: json(createdKey, 'Created'), ...errors(400, 404) },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const input = c.req.valid('json');
      const { caller } = await consumerFor(store, c, name, 'write');
      const expiresAt = decided(newKeyExpiry(keyExpiry(), futureExpiry(input.expiresAt), Date.now()));
      const created = await store.createKey(caller.actor, name, { name: input.name, expiresAt });
      return c.json({ key: renderKey(created.key), plaintext: created.plaintext }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/consumers/{name}/keys/{id}/revoke',
      tags: ['keys'],
      summary: 'Revoke a key at once',
      request: { params: keyParams },
      responses: { 200: json(key, 'Revoked'), ...errors(404, 409) },
    }),
    async (c) => {
      const { name, id } = c.req.valid('param');
      const { caller } = await keyOf(store, c, name, id, 'write');
      return c.json(renderKey(await store.revokeKey(caller.actor, id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/consumers/{name}/keys/{id}/rotate',
      tags: ['keys'],
      summary:
        'A new key for the consumer, ending when the old one was to end (within keys.maxExpiry; keys.defaultExpiry for one without an end) unless expiresAt is given; the old one keeps working for graceSeconds (default a day)',
      request: { params: keyParams, ...body(rotation) },
      responses: { 201: json(createdKey, 'The new key'), ...errors(400, 404, 409) },
    }),
    async (c) => {
      const { name, id } = c.req.valid('param');
      const input = c.req.valid('json');
      const { caller, found } = await keyOf(store, c, name, id, 'write');
      refuseDeclaredRotation(found.name, id);
      const requested = futureExpiry(input.expiresAt);
      const now = Date.now();
      // An expired key inherits nothing: the store refuses to renew it unasked (409), whatever the policy.
      const lapsed = requested === undefined && found.expiresAt !== null && found.expiresAt <= now;
      const expiresAt = lapsed ? undefined : decided(rotatedKeyExpiry(keyExpiry(), requested, found.expiresAt, now));
      const created = await store.rotateKey(caller.actor, id, input.graceSeconds, expiresAt);
      return c.json({ key: renderKey(created.key), plaintext: created.plaintext }, 201);
    },
  );
}
