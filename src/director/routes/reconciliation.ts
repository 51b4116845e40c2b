// /api/reconciliation: traffic from callers or to resources Sluice does not know yet. Any observer of traffic reports what
// it saw (observations, recorded as usage); admins resolve each discovered consumer (assign, create, ignore) or write rules
// that resolve matching discoveries by their hints; past usage follows every resolution. Discovered resources are the
// provider/models the ledger has seen without a status.
import { createRoute, z } from '@hono/zod-openapi';
import { resourceStatusSchema } from '../../config/governance-schema.js';
import { matchProblems, sourceProblems } from '../../policy/discovery.js';
import type { DiscoveredConsumer, DiscoveredResource, Observation, ReconciliationRule } from '../../store/director-store.js';
import { DISCOVERY_STATUSES } from '../../store/director-store.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { labelsRecord, nameText, noteText, ownerText } from '../../config/limits.js';
import { ApiError } from '../errors.js';
import { consumerIssues, refuseIssues, teamIssues } from '../references.js';
import { NUMERIC_ID, registerEntityRoutes } from './entity.js';
import { body, errors, iso, isoTime, json, pageQuery } from './schemas.js';

/** Intake records usage, it changes nothing gateways serve: api.ts rebuilds no snapshot after it. */
export const OBSERVATIONS_PATH = '/api/reconciliation/observations';
export const MAX_OBSERVATIONS = 1000;
/** Observers' clocks may run a little ahead; an hour more is a mistake, and would skew forecasts. */
const FUTURE_SLACK_MS = 3_600_000;

const count = (max: number) => z.number().int().min(0).max(max);

const source = z
  .object({
    ip: z.string().max(64).optional().openapi({ example: '10.1.4.20' }),
    keyFingerprint: z.string().max(64).optional().openapi({
      description: '<algorithm>:<8 to 24 hex digits> of the provider key seen, e.g. sha256:9f86d081884c7d65; never a key',
      example: 'sha256:9f86d081884c7d65',
    }),
    userAgent: z.string().max(512).optional(),
    host: z.string().max(255).optional().openapi({ example: 'api.openai.com' }),
    user: z.string().max(200).optional().openapi({ description: 'the user an observer authenticated, e.g. a proxy user' }),
    organization: z.string().max(200).optional().openapi({ description: 'the provider organization the call named (OpenAI-Organization)' }),
    project: z.string().max(200).optional().openapi({ description: 'the provider project the call named (OpenAI-Project)' }),
    service: z.string().max(200).optional().openapi({ description: "the calling service's name (OpenTelemetry service.name)" }),
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const problem of sourceProblems(value))
      ctx.addIssue({ code: 'custom', path: problem.field === '(source)' ? [] : [problem.field], message: problem.message });
  })
  .openapi('ObservationSource');

const observation = z
  .object({
    observer: z.string().min(1).max(200).openapi({ example: 'discovery-proxy-1' }),
    at: z
      .union([z.number().int().min(0), isoTime], { error: 'epoch milliseconds, or an ISO 8601 time such as 2026-12-01T09:30:00Z' })
      .openapi({ description: 'epoch milliseconds, or an ISO 8601 time' }),
    source,
    provider: z
      .string()
      .regex(/^[^/\s]{1,200}$/, 'a provider name, without "/"')
      .openapi({ example: 'openai' }),
    model: z.string().min(1).max(500).openapi({ example: 'gpt-4o' }),
    calls: z.number().int().min(1).max(1_000_000).optional(),
    inputTokens: count(1_000_000_000).optional(),
    outputTokens: count(1_000_000_000).optional(),
    costMicroUsd: count(1_000_000_000_000_000)
      .nullable()
      .optional()
      .openapi({ description: 'whole micro-USD; ignored when costNanoUsd is given' }),
    costNanoUsd: count(Number.MAX_SAFE_INTEGER).nullable().optional().openapi({
      description: 'the exact cost in integer nano-USD (1e-9 USD), so calls under half a micro-USD count; wins over costMicroUsd',
    }),
  })
  .strict()
  .superRefine((value, ctx) => {
    const at = typeof value.at === 'number' ? value.at : Date.parse(value.at);
    if (at > Date.now() + FUTURE_SLACK_MS) ctx.addIssue({ code: 'custom', path: ['at'], message: 'more than an hour in the future' });
  })
  .openapi('Observation');

const intake = z.object({ observations: z.array(observation).min(1).max(MAX_OBSERVATIONS) }).strict();

const hints = z.object({
  ips: z.array(z.string()),
  keyFingerprints: z.array(z.string()),
  userAgents: z.array(z.string()),
  hosts: z.array(z.string()),
  observers: z.array(z.string()),
  users: z.array(z.string()),
  organizations: z.array(z.string()),
  projects: z.array(z.string()),
  services: z.array(z.string()),
});
const discovered = z
  .object({
    id: z.number(),
    identity: z.object({ kind: z.enum(['keyFingerprint', 'ip', 'userAgent']), value: z.string(), host: z.string().nullable() }),
    hints,
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
    calls: z.number(),
    status: z.enum(DISCOVERY_STATUSES),
    consumer: z.string().nullable(),
    resolvedBy: z.string().nullable(),
    resolvedAt: z.string().nullable(),
  })
  .openapi('DiscoveredConsumer');

const consumerName = nameText().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-"');
const resolution = z
  .object({
    consumer: nameText().optional().openapi({ description: 'an existing consumer' }),
    create: z
      .object({
        name: consumerName,
        team: nameText()
          .nullable()
          .optional()
          .openapi({ description: 'must exist (400 naming create.team otherwise, as for POST /api/consumers): create the team first' }),
        owner: ownerText().nullable().optional(),
        labels: labelsRecord().optional(),
      })
      .strict()
      .optional(),
    ignore: z.literal(true).optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    const given = ['consumer', 'create', 'ignore'].filter((key) => value[key as keyof typeof value] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `give exactly one of consumer, create, ignore (got ${given.length === 0 ? 'none' : given.join(', ')})`,
      });
  })
  .openapi('DiscoveryResolution');

const match = z
  .object({
    cidr: z.string().max(64).optional().openapi({ example: '10.1.0.0/16' }),
    keyFingerprint: z.string().max(64).optional(),
    userAgent: z.string().max(512).optional().openapi({ description: 'a prefix of the user agent', example: 'python-requests/' }),
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const problem of matchProblems(value))
      ctx.addIssue({ code: 'custom', path: problem.field === '(match)' ? [] : [problem.field], message: problem.message });
  });
const ruleInput = z.object({ match, consumer: nameText(), note: noteText().nullable().optional() }).strict();
const rule = z
  .object({
    id: z.number(),
    match: z.object({ cidr: z.string().optional(), keyFingerprint: z.string().optional(), userAgent: z.string().optional() }),
    consumer: z.string(),
    note: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('ReconciliationRule');

const resource = z
  .object({
    id: z.string(),
    provider: z.string(),
    model: z.string(),
    status: z.literal('unreviewed'),
    firstSeenAt: z.string(),
    lastSeenAt: z.string(),
    calls: z.number(),
  })
  .openapi('DiscoveredResource');
const resourceResolution = z
  .object({
    status: resourceStatusSchema.refine((status) => status !== 'unreviewed', 'sanctioned or unsanctioned'),
    note: noteText().nullable().optional(),
  })
  .strict();

const numericId = NUMERIC_ID.params;
const resourceId = z.object({
  id: z
    .string()
    .regex(/^[^/]+\/.+$/, 'provider/model')
    .openapi({ param: { name: 'id', in: 'path', description: 'provider/model, URL-encoded' } }),
});
const listQuery = z.object({
  status: z
    .enum(DISCOVERY_STATUSES)
    .optional()
    .openapi({ param: { name: 'status', in: 'query' } }),
  ...pageQuery,
});

export function renderDiscovered(value: DiscoveredConsumer) {
  return { ...value, firstSeenAt: iso(value.firstSeenAt)!, lastSeenAt: iso(value.lastSeenAt)!, resolvedAt: iso(value.resolvedAt) };
}

function renderRule(value: ReconciliationRule) {
  return { ...value, createdAt: iso(value.createdAt)! };
}

function renderResource(value: DiscoveredResource) {
  return { ...value, status: 'unreviewed' as const, firstSeenAt: iso(value.firstSeenAt)!, lastSeenAt: iso(value.lastSeenAt)! };
}

/**
 * The Idempotency-Key header, if sent: an observer's key for one batch, so that a batch sent again (its answer lost to a
 * timeout, or replayed from the spool after a restart) is not recorded twice. The draft standard makes it a structured
 * field string ("..."); a bare token is taken as well, as most APIs take it.
 */
function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = /^"(.*)"$/.exec(header)?.[1] ?? header;
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    const message = '1 to 255 visible ASCII characters, one key per batch (a UUID does)';
    throw new ApiError(400, 'invalid_request', `Invalid request: idempotency-key: ${message}`, [{ path: 'idempotency-key', message }]);
  }
  return key;
}

export function registerReconciliationRoutes(app: DirectorApi, { store, catalog }: RouteDeps): void {
  const consumerExists = async (name: string) => (await store.getConsumer(name)) !== null;
  app.openapi(
    createRoute({
      method: 'post',
      path: OBSERVATIONS_PATH,
      tags: ['reconciliation'],
      summary: `Report observed traffic (1 to ${MAX_OBSERVATIONS} observations), recorded as usage all or nothing`,
      request: {
        ...body(intake),
        headers: z.object({
          'idempotency-key': z.string().optional().openapi({
            description:
              "The batch's own key (draft-ietf-httpapi-idempotency-key-header): sent again with it, the batch is not recorded twice",
            example: '"7f3c2a9e-5b1d-4c8e-9f0a-2d6b8e1c4a77"',
          }),
        }),
      },
      responses: {
        200: json(
          z.object({
            recorded: z.number(),
            replayed: z
              .boolean()
              .optional()
              .openapi({ description: 'true: a batch with this Idempotency-Key was recorded before; nothing was' }),
            consumers: z.array(discovered),
          }),
          'Recorded; the discovered consumers it touched',
        ),
        ...errors(400),
      },
    }),
    async (c) => {
      authorize(c, 'write');
      const batchKey = idempotencyKey(c.req.header('idempotency-key'));
      const observations: Observation[] = c.req.valid('json').observations.map((item) => ({
        ...item,
        at: typeof item.at === 'number' ? item.at : Date.parse(item.at),
      }));
      const result = await store.recordObservations(observations, batchKey);
      if (result.replayed) return c.json({ recorded: 0, replayed: true, consumers: [] }, 200);
      return c.json({ recorded: result.recorded, consumers: result.consumers.map(renderDiscovered) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/reconciliation/consumers',
      tags: ['reconciliation'],
      summary: 'Discovered consumers in the order discovered, a page at a time',
      request: { query: listQuery },
      responses: { 200: json(z.object({ items: z.array(discovered), nextCursor: z.string().nullable() }), 'A page'), ...errors(400) },
    }),
    async (c) => {
      authorize(c, 'read');
      const query = c.req.valid('query');
      const page = await store.listDiscoveredConsumers({ status: query.status, limit: query.limit, cursor: query.cursor ?? null });
      return c.json({ items: page.items.map(renderDiscovered), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/reconciliation/consumers/{id}',
      tags: ['reconciliation'],
      summary: 'One discovered consumer',
      request: { params: numericId },
      responses: { 200: json(discovered, 'The discovered consumer'), ...errors(404) },
    }),
    async (c) => {
      authorize(c, 'read');
      const { id } = c.req.valid('param');
      const found = await store.getDiscoveredConsumer(Number(id));
      if (found === null) throw new ApiError(404, 'not_found', `discovered consumer ${id} does not exist`);
      return c.json(renderDiscovered(found), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/reconciliation/consumers/{id}/resolve',
      tags: ['reconciliation'],
      summary:
        'Resolve a discovered consumer: { consumer } an existing one, { create } a new one, or { ignore: true }; its past usage follows',
      request: { params: numericId, ...body(resolution) },
      responses: { 200: json(discovered, 'Resolved'), ...errors(400, 404, 409) },
    }),
    async (c) => {
      const caller = authorize(c, 'write');
      const { id } = c.req.valid('param');
      const input = c.req.valid('json');
      // The consumer it names, or the team of the one it makes, must exist: 400 naming the field, as POST /api/consumers
      // and budgets answer (the store would say 409).
      refuseIssues('resolution', [
        ...(await consumerIssues(input.consumer, { consumer: consumerExists })),
        ...(await teamIssues(input.create?.team, { team: async (name) => (await store.getTeam(name)) !== null }, 'create.team')),
      ]);
      const how =
        input.consumer !== undefined
          ? { consumer: input.consumer }
          : input.create !== undefined
            ? { create: input.create }
            : { ignore: true as const };
      return c.json(renderDiscovered(await store.resolveDiscoveredConsumer(caller.actor, Number(id), how)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/reconciliation/resources',
      tags: ['reconciliation'],
      summary: 'Discovered resources: provider/models the ledger has seen (gateway calls and observations) that nobody has reviewed',
      responses: { 200: json(z.object({ items: z.array(resource) }), 'The discovered resources'), ...errors() },
    }),
    async (c) => {
      authorize(c, 'read');
      return c.json({ items: (await store.listDiscoveredResources()).map(renderResource) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/reconciliation/resources/{id}/resolve',
      tags: ['reconciliation'],
      summary:
        'Mark a discovered resource sanctioned or unsanctioned (as PUT /api/resources/{id}, for providers seen but not configured too)',
      request: { params: resourceId, ...body(resourceResolution) },
      responses: {
        200: json(z.object({ id: z.string(), status: resourceStatusSchema, note: z.string().nullable() }), 'Set'),
        ...errors(400, 404),
      },
    }),
    async (c) => {
      const caller = authorize(c, 'write');
      const { id } = c.req.valid('param');
      const input = c.req.valid('json');
      const existing = await store.getResource(id);
      if (
        existing === null &&
        !catalog().providers.has(id.slice(0, id.indexOf('/'))) &&
        !(await store.listDiscoveredResources()).some((r) => r.id === id)
      ) {
        throw new ApiError(404, 'not_found', `resource "${id}" has not been seen in the ledger and its provider is not configured`);
      }
      const saved =
        existing === null
          ? await store.createResource(caller.actor, { id, status: input.status, note: input.note ?? null })
          : await store.updateResource(caller.actor, id, {
              status: input.status,
              ...(input.note === undefined ? {} : { note: input.note }),
            });
      return c.json(saved, 200);
    },
  );

  registerEntityRoutes<ReconciliationRule, z.infer<typeof ruleInput>, never>(app, {
    path: '/api/reconciliation/rules',
    tag: 'reconciliation',
    noun: 'reconciliation rule',
    key: NUMERIC_ID,
    view: rule,
    render: renderRule,
    list: {
      summary: 'Reconciliation rules, oldest first (the order intake tries them in)',
      description: 'The rules',
      access: 'read',
      items: () => store.listReconciliationRules(),
    },
    create: {
      summary:
        'Create a rule (source CIDR, key fingerprint, user-agent prefix -> consumer); it resolves the pending discoveries it matches',
      body: ruleInput,
      answer: { view: z.object({ rule, resolved: z.array(discovered) }), description: 'Created, with what it resolved' },
      errors: [400, 409],
      access: 'write',
      run: async (caller, input) => {
        refuseIssues('reconciliation rule', await consumerIssues(input.consumer, { consumer: consumerExists }));
        const created = await store.createReconciliationRule(caller.actor, input);
        return { rule: renderRule(created.rule), resolved: created.resolved.map(renderDiscovered) };
      },
    },
    get: { summary: 'One rule', description: 'The rule', access: 'read', find: (id) => store.getReconciliationRule(Number(id)) },
    remove: {
      summary: 'Delete a rule (what it resolved stays resolved)',
      errors: [404],
      access: 'write',
      run: (caller, id) => store.deleteReconciliationRule(caller.actor, Number(id)),
    },
  });
}
