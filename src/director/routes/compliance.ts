// /api/compliance: the OSCAL documents (component definition, assessment results, POA&M) as JSON or YAML, the history
// of assessments, an assessment on demand, and the hash chains' anchors and verification. Reading needs a read role;
// running an assessment, the admin or operator role.
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { stringify } from 'yaml';
import { CHAIN_NAMES, type ChainName } from '../../store/compliance-store.js';
import type { ApiEnv } from '../access.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { errors, iso, json, pageQuery } from './schemas.js';

export const COMPLIANCE_ASSESS_PATH = '/api/compliance/assessments';

const ANCHORS =
  /^((transactions|audit_log):[1-9][0-9]{0,15}:[0-9a-fA-F]{64})(,(transactions|audit_log):[1-9][0-9]{0,15}:[0-9a-fA-F]{64})*$/;

const query = (name: string) => ({ param: { name, in: 'query' as const } });
const format = z
  .enum(['json', 'yaml'])
  .default('json')
  .openapi({ ...query('format'), description: 'json (default) or yaml' });
const oscal = (description: string) => ({
  description,
  content: {
    'application/json': { schema: z.record(z.string(), z.unknown()).openapi({ description: 'An OSCAL 1.2.1 document' }) },
    'application/yaml': { schema: z.string() },
  },
});

const summary = z
  .object({
    uuid: z.string(),
    startedAt: z.string(),
    endedAt: z.string(),
    origin: z.enum(['schedule', 'on-demand']),
    actor: z.string(),
    satisfied: z.number(),
    notSatisfied: z.number(),
  })
  .openapi('AssessmentSummary');
const assessed = summary
  .extend({
    findings: z.array(
      z.object({ objectiveId: z.string(), controlId: z.string(), title: z.string(), satisfied: z.boolean(), description: z.string() }),
    ),
    poamItems: z.array(z.object({ uuid: z.string(), objectiveId: z.string(), status: z.enum(['open', 'closed']), firstSeen: z.string() })),
  })
  .openapi('Assessment');
const anchor = z
  .object({
    chain: z.enum(CHAIN_NAMES),
    block: z.number(),
    headHash: z.string(),
    sealedRows: z.number(),
    lastRowId: z.number(),
    anchoredAt: z.string(),
  })
  .openapi('ChainAnchor');
const verification = z
  .object({
    chain: z.enum(CHAIN_NAMES),
    blocks: z.number(),
    sealedRows: z.number(),
    lastSealedRowId: z.number(),
    headHash: z.string().nullable(),
    unsealedRows: z.number(),
    anchorsChecked: z.number(),
    rowsRehashed: z.number().openapi({ description: 'Rows whose hashes were recomputed: every sealed row here' }),
    nextRotationBlock: z.number().openapi({ description: "Where an assessment's rotation through older blocks would start next" }),
    broken: z.object({ kind: z.string(), block: z.number(), rowId: z.number().nullable(), detail: z.string() }).nullable(),
    pruned: z
      .object({
        throughBlock: z.number(),
        throughRowId: z.number(),
        prunedRows: z.number(),
        sealedBefore: z.string(),
        prunedAt: z.string(),
      })
      .nullable()
      .openapi({
        description:
          'Blocks 1 to throughBlock had their rows deleted by ledger.retention: checked by their stored links and anchors, not rehashed',
      }),
  })
  .openapi('ChainVerification');

/** The document as JSON, or as YAML when asked. */
function document(c: Context<ApiEnv>, body: object, wanted: 'json' | 'yaml', name: string) {
  if (wanted === 'json') return c.json(body, 200);
  return c.body(stringify(body), 200, {
    'content-type': 'application/yaml; charset=utf-8',
    'content-disposition': `inline; filename="${name}.yaml"`,
  });
}

export function registerComplianceRoutes(app: DirectorApi, { compliance }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/compliance/component-definition',
      tags: ['compliance'],
      summary: 'OSCAL component definition: the SP 800-53 controls this deployment implements as configured',
      request: { query: z.object({ format }) },
      responses: { 200: oscal('The component definition'), ...errors(400) },
    }),
    async (c) => {
      authorize(c, 'read');
      return document(c, await compliance.componentDefinition(), c.req.valid('query').format, 'sluice-component-definition');
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/compliance/assessment-results',
      tags: ['compliance'],
      summary: 'OSCAL assessment results: the latest assessment, or the latest `limit` as as many results',
      request: { query: z.object({ format, limit: z.coerce.number().int().min(1).max(100).default(1).openapi(query('limit')) }) },
      responses: { 200: oscal('The assessment results'), ...errors(400, 404) },
    }),
    async (c) => {
      authorize(c, 'read');
      const { format: wanted, limit } = c.req.valid('query');
      const results = await compliance.assessmentResults(limit);
      if (results === null) throw new ApiError(404, 'not_found', 'No assessment has run yet: POST /api/compliance/assessments runs one.');
      return document(c, results, wanted, 'sluice-assessment-results');
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/compliance/assessment-results/{uuid}',
      tags: ['compliance'],
      summary: 'OSCAL assessment results of one assessment',
      request: {
        params: z.object({
          uuid: z
            .string()
            .min(1)
            .max(100)
            .openapi({ param: { name: 'uuid', in: 'path' } }),
        }),
        query: z.object({ format }),
      },
      responses: { 200: oscal('The assessment results'), ...errors(400, 404) },
    }),
    async (c) => {
      authorize(c, 'read');
      const { uuid } = c.req.valid('param');
      const results = await compliance.assessmentResultsOf(uuid);
      if (results === null) throw new ApiError(404, 'not_found', `assessment "${uuid}" does not exist`);
      return document(c, results, c.req.valid('query').format, `sluice-assessment-results-${uuid}`);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: COMPLIANCE_ASSESS_PATH,
      tags: ['compliance'],
      summary: 'The history of assessments, newest first',
      request: { query: z.object(pageQuery) },
      responses: { 200: json(z.object({ items: z.array(summary), nextCursor: z.string().nullable() }), 'A page'), ...errors(400) },
    }),
    async (c) => {
      authorize(c, 'read');
      const { limit, cursor } = c.req.valid('query');
      const page = await compliance.history(limit, cursor ?? null);
      return c.json(
        {
          items: page.items.map((item) => ({ ...item, startedAt: iso(item.startedAt)!, endedAt: iso(item.endedAt)! })),
          nextCursor: page.nextCursor,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: COMPLIANCE_ASSESS_PATH,
      tags: ['compliance'],
      summary: 'Assess now: seal the chains, run every check, keep the result and update the POA&M',
      responses: { 201: json(assessed, 'The assessment'), ...errors() },
    }),
    async (c) => {
      const caller = authorize(c, 'write');
      const { record, items } = await compliance.assess(caller.actor);
      const notSatisfied = record.findings.filter((finding) => !finding.satisfied).length;
      return c.json(
        {
          uuid: record.uuid,
          startedAt: iso(record.startedAt)!,
          endedAt: iso(record.endedAt)!,
          origin: record.origin,
          actor: record.actor,
          satisfied: record.findings.length - notSatisfied,
          notSatisfied,
          findings: record.findings.map((f) => ({
            objectiveId: f.objectiveId,
            controlId: f.controlId,
            title: f.title,
            satisfied: f.satisfied,
            description: f.description,
          })),
          poamItems: items.map((item) => ({
            uuid: item.uuid,
            objectiveId: item.objectiveId,
            status: item.closedAt === null ? ('open' as const) : ('closed' as const),
            firstSeen: iso(item.firstSeenAt)!,
          })),
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/compliance/poam',
      tags: ['compliance'],
      summary: 'OSCAL plan of action and milestones: each not-satisfied objective, open until an assessment satisfies it',
      request: { query: z.object({ format }) },
      responses: { 200: oscal('The POA&M'), ...errors(400, 404) },
    }),
    async (c) => {
      authorize(c, 'read');
      const poam = await compliance.poam();
      if (poam === null) throw new ApiError(404, 'not_found', 'No objective has been found not satisfied yet: the POA&M has no item.');
      return document(c, poam, c.req.valid('query').format, 'sluice-poam');
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/compliance/anchors',
      tags: ['compliance'],
      summary: "The hash chains' anchors, newest first: copy them somewhere the database's writers cannot reach",
      request: {
        query: z.object({
          chain: z.enum(CHAIN_NAMES).optional().openapi(query('chain')),
          limit: z.coerce.number().int().min(1).max(1000).default(100).openapi(query('limit')),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(anchor) }), 'The anchors'), ...errors(400) },
    }),
    async (c) => {
      authorize(c, 'read');
      const { chain, limit } = c.req.valid('query');
      const anchors = await compliance.anchors(chain ?? null, limit);
      return c.json({ items: anchors.map(({ id: _id, ...rest }) => ({ ...rest, anchoredAt: iso(rest.anchoredAt)! })) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/compliance/chains',
      tags: ['compliance'],
      summary: 'Verify both hash chains from their first block, against their stored anchors and any given, naming the first broken link',
      request: {
        query: z.object({
          anchor: z
            .string()
            .max(10_000)
            .regex(ANCHORS, 'chain:block:headHash, comma-separated (e.g. transactions:12:9f2c...)')
            .optional()
            .openapi({
              ...query('anchor'),
              description:
                'Anchors kept outside the database, as the log or /api/compliance/anchors gave them: chain:block:headHash, comma-separated',
            }),
        }),
      },
      responses: { 200: json(z.object({ items: z.array(verification) }), 'The verification'), ...errors(400) },
    }),
    async (c) => {
      authorize(c, 'read');
      const given = (c.req.valid('query').anchor ?? '')
        .split(',')
        .filter((text) => text !== '')
        .map((text) => {
          const [chain, block, headHash] = text.split(':') as [ChainName, string, string];
          return { chain, block: Number(block), headHash: headHash.toLowerCase() };
        });
      const chains = await compliance.verifyChains(given);
      return c.json(
        {
          items: chains.map(({ broken, pruned, ...rest }) => ({
            ...rest,
            broken: broken === null ? null : { kind: broken.kind, block: broken.block, rowId: broken.rowId, detail: broken.detail },
            pruned:
              pruned === null
                ? null
                : {
                    throughBlock: pruned.throughBlock,
                    throughRowId: pruned.throughRowId,
                    prunedRows: pruned.prunedRows,
                    sealedBefore: new Date(pruned.sealedBefore).toISOString(),
                    prunedAt: new Date(pruned.prunedAt).toISOString(),
                  },
          })),
        },
        200,
      );
    },
  );
}
