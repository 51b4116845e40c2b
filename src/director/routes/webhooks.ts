// /api/webhooks: where budget alerts are POSTed. The signing secret is write-only: no answer ever carries it.
import { z } from '@hono/zod-openapi';
import type { Webhook } from '../../store/director-store.js';
import { webhookSecret } from '../../config/governance-schema.js';
import { httpUrl } from '../../config/limits.js';
import type { ProviderTargets } from '../../config/provider-targets.js';
import type { DirectorApi, RouteDeps } from '../api.js';
import { ApiError } from '../errors.js';
import { sealWebhookSecret } from '../webhook-secrets.js';
import { registerEntityRoutes } from './entity.js';
import { idParam, iso } from './schemas.js';

const webhook = z.object({ id: z.string(), url: z.string(), createdAt: z.string() }).openapi('Webhook');
const webhookInput = z
  .object({
    url: httpUrl(),
    secret: webhookSecret(),
  })
  .strict();

function render(value: Webhook) {
  return { id: value.id, url: value.url, createdAt: iso(value.createdAt)! };
}

/**
 * A webhook URL may not point where a provider's base URL may not (cloud metadata, Sluice's own parts): the director
 * would POST there. The same policy, and the same providerTargets.allow exceptions.
 */
function checkTarget(url: string, targets: ProviderTargets): void {
  const refusal = targets.baseUrlRefusal(url);
  if (refusal !== null) throw new ApiError(400, 'invalid_request', `Invalid webhook: url: ${refusal}`, [{ path: 'url', message: refusal }]);
}

export function registerWebhookRoutes(app: DirectorApi, { store, masterKey, providerTargets }: RouteDeps): void {
  const webhookPatch = webhookInput.partial();
  registerEntityRoutes<Webhook, z.infer<typeof webhookInput>, z.infer<typeof webhookPatch>>(app, {
    path: '/api/webhooks',
    tag: 'webhooks',
    noun: 'webhook',
    key: { field: 'id', params: idParam },
    view: webhook,
    render,
    list: {
      summary: 'List webhooks (without their secrets)',
      description: 'The webhooks',
      access: 'read',
      items: () => store.listWebhooks(),
    },
    create: {
      summary: 'Add a webhook (admin role: it holds a secret)',
      body: webhookInput,
      errors: [400],
      access: 'admin',
      run: (caller, input) => {
        checkTarget(input.url, providerTargets);
        return store.createWebhook(caller.actor, { url: input.url, secret: sealWebhookSecret(masterKey, input.secret) });
      },
    },
    update: {
      method: 'patch',
      summary: "Change a webhook's URL or secret",
      body: webhookPatch,
      description: 'Updated',
      errors: [400, 404],
      access: 'admin',
      run: (caller, id, { url, secret }) => {
        if (url !== undefined) checkTarget(url, providerTargets);
        const patch = {
          ...(url === undefined ? {} : { url }),
          ...(secret === undefined ? {} : { secret: sealWebhookSecret(masterKey, secret) }),
        };
        return store.updateWebhook(caller.actor, id, patch);
      },
    },
    remove: { summary: 'Remove a webhook', errors: [404], access: 'admin', run: (caller, id) => store.deleteWebhook(caller.actor, id) },
  });
}
