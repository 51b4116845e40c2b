// Webhook signing secrets are sealed with the master key before they reach the store, as provider credentials are, and
// opened only where deliveries are signed. Rows written before sealing hold plaintext: they are read as they are and
// sealed when the director starts.
import type { GovernanceStore } from '../store/admin-store.js';
import { MasterKey } from '../store/master-key.js';

/** Associated data of every sealed webhook secret: a sealed provider credential copied here does not open. */
const CONTEXT = 'webhook-secret';

/** Who the audit log names for the sealing of older rows. */
const SEALING_ACTOR = 'sluice:seal-webhook-secrets';

export function sealWebhookSecret(masterKey: MasterKey, secret: string): string {
  return masterKey.seal(secret, CONTEXT);
}

/** The secret deliveries are signed with, from its stored form (sealed, or plaintext in a row not yet sealed). */
export function openWebhookSecret(masterKey: MasterKey, stored: string): string {
  return MasterKey.isSealed(stored) ? masterKey.open(stored, CONTEXT) : stored;
}

/** Seals the secrets stored in plaintext; resolves to how many it sealed. Run once at the director's start. */
export async function sealStoredWebhookSecrets(store: GovernanceStore, masterKey: MasterKey): Promise<number> {
  const plaintext = (await store.listWebhooks()).filter((webhook) => !MasterKey.isSealed(webhook.secret));
  for (const webhook of plaintext)
    await store.updateWebhook(SEALING_ACTOR, webhook.id, { secret: sealWebhookSecret(masterKey, webhook.secret) });
  return plaintext.length;
}
