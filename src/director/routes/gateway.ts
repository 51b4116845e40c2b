// GET /api/gateway/snapshot: the versioned document lone gateways (`sluice gateway --director URL`) poll with ETags.
// It carries key hashes, so only the admin and operator roles (a gateway's token) may read it.
import { createRoute, z } from '@hono/zod-openapi';
import { readParts } from '../sync.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { errors } from './schemas.js';

export function registerGatewayRoutes(app: DirectorApi, { store }: RouteDeps): void {
  app.openapi(createRoute({
    method: 'get', path: '/api/gateway/snapshot', tags: ['gateways'],
    summary: 'Consumers with key hashes, budgets, templates, rate limits and resource statuses, as one versioned document',
    description: 'Send If-None-Match with the last ETag: 304 until something changes.',
    responses: {
      200: { description: 'The snapshot; ETag is its config version', content: { 'application/json': { schema: z.object({ version: z.number() }).passthrough() } } },
      304: { description: 'Unchanged since the ETag sent' },
      ...errors(),
    },
  }), async (c) => {
    authorize(c, 'write');
    const version = await store.configVersion();
    const etag = `"v${version}"`;
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, { etag });
    const parts = await readParts(store);
    return c.body(JSON.stringify(parts), 200, { etag: `"v${parts.version}"`, 'content-type': 'application/json', 'cache-control': 'no-store' });
  });
}
