// /api/session: who the presented admin token is (role, team), so a client such as the console can show only what the
// role may do. The API enforces the roles itself whatever a client shows.
import { createRoute, z } from '@hono/zod-openapi';
import { ADMIN_ROLES } from '../../store/director-store.js';
import type { DirectorApi } from '../api.js';
import { errors, json } from './schemas.js';

const session = z
  .object({
    actor: z.string().openapi({ description: 'As the audit log records this token' }),
    role: z.enum(ADMIN_ROLES),
    team: z.string().nullable().openapi({ description: "A team-owner token's team" }),
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
      return c.json({ actor: caller.actor, role: caller.role, team: caller.team }, 200);
    },
  );
}
