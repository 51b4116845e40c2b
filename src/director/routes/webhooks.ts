// /api/webhooks: where budget alerts are POSTed. The signing secret is write-only: no answer ever carries it.
import { createRoute, z } from '@hono/zod-openapi';
import type { Webhook } from '../../store/director-store.js';
import { webhookSecret } from '../../config/governance-schema.js';
import { httpUrl } from '../../config/limits.js';
import { authorize } from '../access.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { sealWebhookSecret } from '../webhook-secrets.js';
import { body, errors, idParam, iso, json } from './schemas.js';

const webhook = z.object({ id: z.string(), url: z.string(), createdAt: z.string() }).openapi('Webhook');
const webhookInput = z.object({
  url: httpUrl(),
  secret: webhookSecret(),
}).strict();

function render(value: Webhook) {
  return { id: value.id, url: value.url, createdAt: iso(value.createdAt)! };
}

export function registerWebhookRoutes(app: DirectorApi, { store, masterKey }: RouteDeps): void {
  app.openapi(createRoute({
    method: 'get', path: '/api/webhooks', tags: ['webhooks'], summary: 'List webhooks (without their secrets)',
    responses: { 200: json(z.object({ items: z.array(webhook) }), 'The webhooks'), ...errors() },
  }), async (c) => {
    authorize(c, 'read');
    return c.json({ items: (await store.listWebhooks()).map(render) }, 200);
  });

  app.openapi(createRoute({
    method: 'post', path: '/api/webhooks', tags: ['webhooks'], summary: 'Add a webhook (admin role: it holds a secret)',
    request: body(webhookInput), responses: { 201: json(webhook, 'Created'), ...errors(400) },
  }), async (c) => {
    const caller = authorize(c, 'admin');
    const input = c.req.valid('json');
    return c.json(render(await store.createWebhook(caller.actor, { url: input.url, secret: sealWebhookSecret(masterKey, input.secret) })), 201);
  });

  app.openapi(createRoute({
    method: 'patch', path: '/api/webhooks/{id}', tags: ['webhooks'], summary: 'Change a webhook\'s URL or secret',
    request: { params: idParam, ...body(webhookInput.partial()) }, responses: { 200: json(webhook, 'Updated'), ...errors(400, 404) },
  }), async (c) => {
    const caller = authorize(c, 'admin');
    const { url, secret } = c.req.valid('json');
    const patch = { ...(url === undefined ? {} : { url }), ...(secret === undefined ? {} : { secret: sealWebhookSecret(masterKey, secret) }) };
    return c.json(render(await store.updateWebhook(caller.actor, c.req.valid('param').id, patch)), 200);
  });

  app.openapi(createRoute({
    method: 'delete', path: '/api/webhooks/{id}', tags: ['webhooks'], summary: 'Remove a webhook',
    request: { params: idParam }, responses: { 204: { description: 'Deleted' }, ...errors(404) },
  }), async (c) => {
    const caller = authorize(c, 'admin');
    await store.deleteWebhook(caller.actor, c.req.valid('param').id);
    return c.body(null, 204);
  });
}
