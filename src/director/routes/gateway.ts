// GET /api/gateway/snapshot: the versioned document lone gateways (`sluice gateway --director URL`) poll with ETags.
// It carries key hashes, so only the admin and operator roles (a gateway's token) may read it. Lone gateways also report
// their keys' last use here, since they have no store of their own.
import { createRoute, z } from '@hono/zod-openapi';
import { readParts } from '../sync.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { body, errors } from './schemas.js';

/** What a lone gateway reports every few seconds: when each key it served was last used. */
const keyUse = z
  .object({
    keys: z.array(z.object({ id: z.string().min(1).max(200), lastUsedAt: z.number().int().nonnegative() }).strict()).max(10_000),
  })
  .strict();

export function registerGatewayRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/gateway/snapshot',
      tags: ['gateways'],
      summary: 'Consumers with key hashes, budgets, templates, rate limits and resource statuses, as one versioned document',
      description: 'Send If-None-Match with the last ETag: 304 until something changes.',
      responses: {
        200: {
          description: 'The snapshot; ETag is its config version',
          content: { 'application/json': { schema: z.object({ version: z.number() }).passthrough() } },
        },
        304: { description: 'Unchanged since the ETag sent' },
        ...errors(),
      },
    }),
    async (c) => {
      authorize(c, 'write');
      const version = await store.configVersion();
      const etag = `"v${version}"`;
      if (c.req.header('if-none-match') === etag) return c.body(null, 304, { etag });
      const parts = await readParts(store);
      return c.body(JSON.stringify(parts), 200, {
        etag: `"v${parts.version}"`,
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: KEY_USE_PATH,
      tags: ['gateways'],
      summary: 'Record when keys were last used (lone gateways report this; not an admin change: no audit, no new snapshot)',
      request: body(keyUse),
      responses: { 204: { description: 'Recorded (a later time already recorded is kept)' }, ...errors(400) },
    }),
    async (c) => {
      authorize(c, 'write');
      await store.touchKeys(new Map(c.req.valid('json').keys.map((key) => [key.id, key.lastUsedAt])));
      return c.body(null, 204);
    },
  );
}

export const KEY_USE_PATH = '/api/gateway/key-use';
