// /api/transactions: the latest ledger rows, newest first, each with the identity its call was authenticated by (a key
// id, a SPIFFE id or certificate subject, a JWT's issuer and subject; never a secret). A team-owner sees its team's only.
import { createRoute, z } from '@hono/zod-openapi';
import type { LedgerEntry } from '../../store/director-store.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { errors, iso, json } from './schemas.js';
import { usageTeam } from './usage.js';

const query = (name: string) => ({ param: { name, in: 'query' as const } });

const listQuery = z.object({
  consumer: z.string().max(200).optional().openapi(query('consumer')),
  team: z.string().max(200).optional().openapi(query('team')),
  before: z.string().regex(/^\d{1,15}$/, 'a row id').optional().openapi({ ...query('before'), description: 'Rows older than this id (the last page\'s nextBefore)' }),
  limit: z.string().regex(/^\d{1,4}$/, 'a number').optional().openapi({ ...query('limit'), description: '1 to 1000, default 100' }),
});

const entry = z.object({
  id: z.number(), requestId: z.string(), startedAt: z.string(), operation: z.string(), api: z.string(),
  consumer: z.string().nullable(), team: z.string().nullable(), requestedModel: z.string().nullable(), provider: z.string().nullable(),
  providerModel: z.string().nullable(), status: z.number(), errorClass: z.string().nullable(), inputTokens: z.number(), outputTokens: z.number(),
  costMicroUsd: z.number().nullable(),
  identity: z.string().nullable().openapi({ description: 'key:<key id>, mtls:<SPIFFE id or subject>, xfcc:<...>, jwt:<issuer>#<sub>' }),
}).openapi('LedgerEntry');

function render(value: LedgerEntry) {
  return { ...value, startedAt: iso(value.startedAt)! };
}

export function registerTransactionRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(createRoute({
    method: 'get', path: '/api/transactions', tags: ['usage'], summary: 'Ledger rows, newest first, with the identity each call was authenticated by',
    request: { query: listQuery },
    responses: { 200: json(z.object({ items: z.array(entry), nextBefore: z.number().nullable() }), 'A page of ledger rows'), ...errors(400) },
  }), async (c) => {
    const input = c.req.valid('query');
    const { team } = usageTeam(c, input.team);
    const limit = Math.min(Math.max(Number(input.limit ?? 100), 1), 1000);
    const items = await store.listTransactions({
      limit, ...(input.consumer === undefined ? {} : { consumer: input.consumer }), ...(team === undefined ? {} : { team }),
      ...(input.before === undefined ? {} : { before: Number(input.before) }),
    });
    return c.json({ items: items.map(render), nextBefore: items.length === limit ? items.at(-1)!.id : null }, 200);
  });
}
