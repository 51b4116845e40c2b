// /api/transactions: the ledger's rows, newest first or by cost, latency or tokens, with keyset paging, and one
// transaction's detail (tokens, cost, latency, time to first token, attempts, violations, the identity the call was
// authenticated by, never a secret). Read roles see every row; a team-owner its own team's only. `unattributed` lists the
// calls of no consumer (or of one).
import { createRoute, z } from '@hono/zod-openapi';
import type { LedgerEntry } from '../../store/director-store.js';
import { money } from '../analytics/money.js';
import { nanoCostOf, nanoSavedOf } from '../../ir/transaction.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { invalid, moneyBody, usageTeam } from './usage.js';
import { TRANSACTION_SORTS } from '../../schemas/listing-order.js';
import { errors, iso, isoTime, json, orderQuery, pageQuery } from './schemas.js';

const query = (name: string) => ({ param: { name, in: 'query' as const } });
const OUTCOMES = ['served', 'refused', 'failed'] as const;

const transaction = z
  .object({
    id: z.string().openapi({ description: 'The ledger row id' }),
    requestId: z.string(),
    startedAt: z.string(),
    operation: z.string().openapi({ description: '`chat`, `embeddings`, or `observed` (reported by an observer)' }),
    api: z.string(),
    consumer: z.string().nullable(),
    team: z.string().nullable(),
    requestedModel: z.string().nullable(),
    provider: z.string().nullable(),
    providerModel: z.string().nullable(),
    servedModel: z.string().nullable(),
    stream: z.boolean(),
    calls: z.number(),
    inputTokens: z.number(),
    outputTokens: z.number(),
    cachedInputTokens: z.number(),
    reasoningTokens: z.number().nullable().openapi({
      description:
        "Of outputTokens, those the model spent reasoning, where the provider states them apart (OpenAI's reasoning_tokens, Gemini's thoughtsTokenCount), priced as output within outputTokens; null where it states no split (Anthropic, Claude on Bedrock), and for calls recorded before this field",
    }),
    cacheWriteTokens: z.number().openapi({ description: 'Input tokens written to the prompt cache, both lifetimes' }),
    cacheWrite1hTokens: z.number().openapi({
      description:
        "Of cacheWriteTokens, those written to a 1-hour cache (Anthropic's ttl '1h', billed at 2x input; the rest are 5-minute writes at 1.25x); 0 when the provider stated no split, and for calls recorded before this field",
    }),
    webSearches: z.number().openapi({
      description: 'Web searches the provider ran and billed per search (their price is in `cost`); 0 for calls recorded before this field',
    }),
    fileSearches: z.number().openapi({
      description:
        "File searches (OpenAI's file_search tool calls) billed per call (their price is in `cost`); 0 for calls recorded before this field",
    }),
    serviceTier: z.enum(['priority', 'flex', 'fast']).nullable().openapi({
      description:
        "The tier priced apart that served the call (OpenAI's priority or flex, Anthropic's fast mode as fast, priced as such in `cost`); null for the standard tier",
    }),
    tokensEstimated: z.boolean(),
    cost: z.union([moneyBody, z.null()]).openapi({ description: 'Null when the model has no known price' }),
    saved: moneyBody.openapi({
      description: 'A call answered from the response cache: what the original call cost (its cost is 0); else 0',
    }),
    latencyMs: z.number(),
    timeToFirstTokenMs: z.number().nullable(),
    status: z.number(),
    errorClass: z.string().nullable(),
    outcome: z.enum(OUTCOMES),
    attempts: z.number().openapi({ description: 'Upstream attempts, retries and fallbacks included' }),
    violations: z.array(z.string()).openapi({ description: 'Policies broken in monitor mode: budget names, `resource:<provider/model>`' }),
    discoveredConsumer: z.number().nullable(),
    identity: z.string().nullable().openapi({
      description:
        'What the call was authenticated by: key:<key id>, mtls:<SPIFFE id or subject>, xfcc:<...>, jwt:<issuer>#<sub>; never a secret',
    }),
  })
  .openapi('Transaction');

function view(entry: LedgerEntry): z.infer<typeof transaction> {
  return {
    id: String(entry.id),
    requestId: entry.requestId,
    startedAt: iso(entry.startedAt)!,
    operation: entry.operation,
    api: entry.api,
    consumer: entry.consumer,
    team: entry.team,
    requestedModel: entry.requestedModel,
    provider: entry.provider,
    providerModel: entry.providerModel,
    servedModel: entry.servedModel,
    stream: entry.stream,
    calls: entry.calls,
    inputTokens: entry.inputTokens,
    outputTokens: entry.outputTokens,
    cachedInputTokens: entry.cachedInputTokens,
    reasoningTokens: entry.reasoningTokens,
    cacheWriteTokens: entry.cacheWriteTokens,
    cacheWrite1hTokens: entry.cacheWrite1hTokens,
    webSearches: entry.webSearches,
    serviceTier: entry.serviceTier,
    fileSearches: entry.fileSearches,
    tokensEstimated: entry.tokensEstimated,
    cost: entry.costMicroUsd === null ? null : money(nanoCostOf(entry)!),
    saved: money(nanoSavedOf(entry)),
    latencyMs: entry.latencyMs,
    timeToFirstTokenMs: entry.timeToFirstTokenMs,
    status: entry.status,
    errorClass: entry.errorClass,
    outcome: entry.outcome,
    attempts: entry.attempts,
    violations: entry.violations,
    discoveredConsumer: entry.discoveredConsumer,
    identity: entry.identity,
  };
}

export function registerTransactionRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/transactions',
      tags: ['transactions'],
      summary: 'Ledger rows, newest first or in the order asked for, keyset-paginated',
      request: {
        query: z.object({
          consumer: z.string().optional().openapi(query('consumer')),
          team: z.string().optional().openapi(query('team')),
          model: z
            .string()
            .optional()
            .openapi({ ...query('model'), description: 'The model asked for or the one that served' }),
          provider: z.string().optional().openapi(query('provider')),
          outcome: z.enum(OUTCOMES).optional().openapi(query('outcome')),
          unattributed: z
            .enum(['true', 'false'])
            .optional()
            .openapi({
              ...query('unattributed'),
              description:
                "`true`: only calls of no consumer (an undeclared caller's traffic, reported by an observer, until reconciliation attributes it to a consumer); `false`: only calls of a consumer. With `true`, naming a `consumer` is a 400",
            }),
          from: isoTime.optional().openapi(query('from')),
          to: isoTime.optional().openapi(query('to')),
          sort: z
            .enum(TRANSACTION_SORTS)
            .optional()
            .openapi({
              ...query('sort'),
              description:
                "What the rows are ordered by: `time` (the call's start, the default), `cost`, `latency`, `total_tokens` (input plus output); then by id. Calls with no cost (unpriced, refused, failed) or no latency (observed) come last in either order. Any order but `time` reads every row of the period (`from`, `to`) to find a page: docs/director-api.md#sorted-listings-the-ledger-and-the-audit-log says what that costs",
            }),
          ...orderQuery,
          ...pageQuery,
        }),
      },
      responses: { 200: json(z.object({ items: z.array(transaction), nextCursor: z.string().nullable() }), 'A page'), ...errors(400) },
    }),
    async (c) => {
      const request = c.req.valid('query');
      const { team } = usageTeam(c, request.team);
      const from = request.from === undefined ? undefined : Date.parse(request.from);
      const to = request.to === undefined ? undefined : Date.parse(request.to);
      // As /api/usage: a period that ends before it begins is a mistake in the query, not an empty page.
      if (from !== undefined && to !== undefined && from >= to) throw invalid('from', 'must be before to');
      // So is a consumer's calls that have none.
      if (request.unattributed === 'true' && request.consumer !== undefined)
        throw invalid('consumer', 'names a consumer: unattributed=true lists calls of none');
      const page = await store.listTransactions({
        consumer: request.consumer,
        team,
        model: request.model,
        provider: request.provider,
        outcome: request.outcome,
        unattributed: request.unattributed === undefined ? undefined : request.unattributed === 'true',
        from,
        to,
        sort: request.sort,
        order: request.order,
        limit: request.limit,
        cursor: request.cursor ?? null,
      });
      return c.json({ items: page.items.map(view), nextCursor: page.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/transactions/{id}',
      tags: ['transactions'],
      summary: 'One transaction',
      request: {
        params: z.object({
          id: z
            .string()
            .regex(/^[1-9][0-9]{0,15}$/, 'a ledger row id')
            .openapi({ param: { name: 'id', in: 'path' } }),
        }),
      },
      responses: { 200: json(transaction, 'The transaction'), ...errors(400, 404) },
    }),
    async (c) => {
      const { team, oneTeam } = usageTeam(c, undefined);
      const id = c.req.valid('param').id;
      const entry = await store.getTransaction(Number(id));
      // A team-owner gets the same 404 for another team's row as for none.
      if (entry === null || (oneTeam && entry.team !== team)) throw new ApiError(404, 'not_found', `No transaction ${id}.`);
      return c.json(view(entry), 200);
    },
  );
}
