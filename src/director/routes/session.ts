// /api/session: who the presented admin token is (role, team) and what its role may call (the route x role table's
// rows for it), so a client such as the console offers and requests only that. The API enforces the roles itself
// whatever a client shows.
import { createRoute, z } from '@hono/zod-openapi';
import { ADMIN_ROLES } from '../../store/director-store.js';
import type { DirectorApi } from '../api.js';
import { operationsOf } from '../route-roles.js';
import { errors, json } from './schemas.js';

const session = z
  .object({
    actor: z.string().openapi({ description: 'As the audit log records this token' }),
    role: z.enum(ADMIN_ROLES),
    team: z.string().nullable().openapi({ description: "A team-owner token's team" }),
    operations: z.array(z.string()).openapi({
      description: 'The operations its role may call, as `METHOD /path/{param}` of this document (a team-owner only for its own team)',
      example: ['GET /api/consumers', 'GET /api/usage'],
    }),
  })
  .openapi('Session');

export function registerSessionRoutes(app: DirectorApi): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/session',
      tags: ['admin-tokens'],
      summary: 'The calling token: its role and team',
      responses: { 200: json(session, 'The caller'), ...errors() },
    }),
    (c) => {
      const caller = c.get('caller');
      return c.json({ actor: caller.actor, role: caller.role, team: caller.team, operations: operationsOf(caller.role) }, 200);
    },
  );
}
