// /api/audit: the append-only record of every change (who, what, before, after, when), newest first or in the order asked
// for (by time, actor or action).
import { createRoute, z } from '@hono/zod-openapi';
import { AUDIT_ACTIONS } from '../../schemas/audit.js';
import { AUDIT_SORTS } from '../../schemas/listing-order.js';
import { AUDIT_ENTITY_TYPES } from '../../store/director-store.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { errors, iso, isoTime, json, orderQuery, pageQuery } from './schemas.js';

const ENTITY_TYPES = AUDIT_ENTITY_TYPES;

const record = z
  .object({
    id: z.number(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    entityType: z.enum(ENTITY_TYPES),
    entityId: z.string(),
    before: z.unknown(),
    after: z.unknown(),
  })
  .openapi('AuditRecord');

export function registerAuditRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit',
      tags: ['audit'],
      summary: 'The audit log, newest first or in the order asked for',
      request: {
        query: z.object({
          entityType: z
            .enum(ENTITY_TYPES)
            .optional()
            .openapi({ param: { name: 'entityType', in: 'query' } }),
          entityId: z
            .string()
            .optional()
            .openapi({ param: { name: 'entityId', in: 'query' } }),
          actor: z
            .string()
            .optional()
            .openapi({ param: { name: 'actor', in: 'query' } }),
          action: z
            .enum(AUDIT_ACTIONS)
            .optional()
            .openapi({ param: { name: 'action', in: 'query' } }),
          since: isoTime.optional().openapi({ param: { name: 'since', in: 'query' } }),
          sort: z
            .enum(AUDIT_SORTS)
            .optional()
            .openapi({
              param: { name: 'sort', in: 'query' },
              description: 'What the records are ordered by: `time` (the default), `actor` or `action`; then by id',
            }),
          ...orderQuery,
          ...pageQuery,
        }),
      },
      responses: { 200: json(z.object({ items: z.array(record), nextCursor: z.string().nullable() }), 'A page'), ...errors(400) },
    }),
    async (c) => {
      authorize(c, 'read');
      const query = c.req.valid('query');
      const page = await store.listAudit({
        entityType: query.entityType,
        entityId: query.entityId,
        actor: query.actor,
        action: query.action,
        since: query.since === undefined ? undefined : Date.parse(query.since),
        sort: query.sort,
        order: query.order,
        limit: query.limit,
        cursor: query.cursor ?? null,
      });
      return c.json({ items: page.items.map((item) => ({ ...item, at: iso(item.at)! })), nextCursor: page.nextCursor }, 200);
    },
  );
}
