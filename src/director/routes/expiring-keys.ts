// /api/keys/expiring: every consumer's keys that stop working within a time (a security team's "what expires this
// week"), soonest first; never their secrets. A team-owner sees its own team's.
import { createRoute, z } from '@hono/zod-openapi';
import { durationMs } from '../../config/governance-schema.js';
import { authorizeTeam } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { key, renderKey } from './consumers.js';
import { errors, expiringWithin, json, pageQuery } from './schemas.js';

const query = z.object({
  within: expiringWithin.openapi({ param: { name: 'within', in: 'query', description: 'a duration such as 7d' } }),
  team: z
    .string()
    .optional()
    .openapi({ param: { name: 'team', in: 'query' } }),
  limit: pageQuery.limit,
});

export function registerExpiringKeyRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/keys/expiring',
      tags: ['keys'],
      summary:
        'Unrevoked keys of every consumer (or one team) that end within a time, soonest first; expired ones are not listed. `truncated`: more than `limit` do',
      request: { query },
      responses: { 200: json(z.object({ items: z.array(key), truncated: z.boolean() }), 'The keys'), ...errors(400) },
    }),
    async (c) => {
      const { within, team: asked, limit } = c.req.valid('query');
      const caller = c.get('caller');
      // A team-owner lists its own team whatever it asks for; asking for another team is refused.
      const team = caller.role === 'team-owner' ? (asked ?? caller.team ?? null) : (asked ?? null);
      authorizeTeam(c, 'read', caller.role === 'team-owner' ? team : null);
      const now = Date.now();
      const found = await store.expiringKeys({ from: now, until: now + durationMs(within), team, limit: limit + 1 });
      return c.json({ items: found.slice(0, limit).map(renderKey), truncated: found.length > limit }, 200);
    },
  );
}
