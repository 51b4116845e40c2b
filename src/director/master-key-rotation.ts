// A master key rotation: processes get the new key as SLUICE_MASTER_KEY and the one it replaces in
// SLUICE_MASTER_KEY_PREVIOUS, and a director starting so seals again under the new key every provider credential and
// webhook secret a replaced key sealed. Once every director has started with the new key, nothing in the store needs the
// old one (the providers API shows the key each provider's credentials are sealed with) and it can be dropped.
import type { AdminStore } from '../store/admin-store.js';
import { MasterKey } from '../store/master-key.js';
import { openCredentials, sealCredentials } from './provider-credentials.js';
import { openWebhookSecret, sealWebhookSecret } from './webhook-secrets.js';

/** Who the audit log names for the sealing again. */
const RESEALING_ACTOR = 'sluice:reseal-master-key';

export interface Resealed {
  providers: number;
  webhooks: number;
}

/**
 * Seals again under `masterKey` what one of the keys it replaces sealed, in one transaction; resolves to how many of
 * each it sealed. A value sealed under a key this process does not hold throws (MasterKeyError) and nothing changes.
 */
export async function resealUnderCurrentKey(store: AdminStore, masterKey: MasterKey): Promise<Resealed> {
  // Without replaced keys every value is under the current key already, or opens with none this process holds.
  if (masterKey.replaces.length === 0) return { providers: 0, webhooks: 0 };
  const stale = (sealed: string) => {
    const id = MasterKey.sealedWith(sealed);
    return id !== null && id !== masterKey.id;
  };
  return store.allOrNothing(async () => {
    const resealed: Resealed = { providers: 0, webhooks: 0 };
    for (const provider of await store.listProviders()) {
      if (provider.credentials === null || !stale(provider.credentials.sealed)) continue;
      const credentials = openCredentials(masterKey, provider.name, provider.credentials);
      await store.updateProvider(RESEALING_ACTOR, provider.name, { credentials: sealCredentials(masterKey, provider.name, credentials) });
      resealed.providers++;
    }
    for (const webhook of await store.listWebhooks()) {
      if (!stale(webhook.secret)) continue;
      await store.updateWebhook(RESEALING_ACTOR, webhook.id, {
        secret: sealWebhookSecret(masterKey, openWebhookSecret(masterKey, webhook.secret)),
      });
      resealed.webhooks++;
    }
    return resealed;
  });
}
