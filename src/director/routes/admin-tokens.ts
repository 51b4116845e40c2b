// /api/admin-tokens: who may use this API, with which role. Admin role only; a token's plaintext is shown once.
import { createRoute, z } from '@hono/zod-openapi';
import { ADMIN_ROLES, type AdminToken } from '../../store/director-store.js';
import { nameText } from '../../config/limits.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { refuseIssues, teamIssues } from '../references.js';
import { body, errors, idParam, iso, json } from './schemas.js';

const token = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ADMIN_ROLES),
    team: z.string().nullable(),
    prefix: z.string(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('AdminToken');
const tokenInput = z
  .object({ name: nameText(), role: z.enum(ADMIN_ROLES), team: nameText().nullable().optional() })
  .strict()
  .refine((input) => (input.role === 'team-owner') === (input.team !== undefined && input.team !== null), {
    message: 'a team-owner token names its team; other roles name none',
    path: ['team'],
  });

function render(value: AdminToken) {
  return { ...value, createdAt: iso(value.createdAt)!, revokedAt: iso(value.revokedAt) };
}

export function registerAdminTokenRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/admin-tokens',
      tags: ['admin tokens'],
      summary: 'List admin tokens (never their secrets)',
      responses: { 200: json(z.object({ items: z.array(token) }), 'The tokens'), ...errors() },
    }),
    async (c) => {
      authorize(c, 'admin');
      return c.json({ items: (await store.listAdminTokens()).map(render) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/admin-tokens',
      tags: ['admin tokens'],
      summary: 'Create an admin token; its plaintext is in this answer only',
      request: body(tokenInput),
      responses: { 201: json(z.object({ token, plaintext: z.string() }), 'Created'), ...errors(400, 409) },
    }),
    async (c) => {
      const caller = authorize(c, 'admin');
      const input = c.req.valid('json');
      refuseIssues('admin token', await teamIssues(input.team, { team: async (name) => (await store.getTeam(name)) !== null }));
      const created = await store.createAdminToken(caller.actor, input);
      return c.json({ token: render(created.token), plaintext: created.plaintext }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/admin-tokens/{id}/revoke',
      tags: ['admin tokens'],
      summary: 'Revoke an admin token',
      request: { params: idParam },
      responses: { 200: json(token, 'Revoked'), ...errors(404, 409) },
    }),
    async (c) => {
      const caller = authorize(c, 'admin');
      return c.json(render(await store.revokeAdminToken(caller.actor, c.req.valid('param').id)), 200);
    },
  );
}
