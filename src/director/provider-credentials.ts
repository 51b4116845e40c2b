// A provider's config split into what readers may see (settings) and what only a gateway opens (credentials, sealed with
// the master key), and put back together where the routing table is built.
import { CREDENTIAL_FIELDS, type CredentialField, type ProviderConfig } from '../config/schema.js';
import type { ProviderSettings, SealedCredentials, StoredProvider } from '../store/director-store.js';
import { MasterKeyError, type MasterKey } from '../store/master-key.js';

export type ProviderCredentials = Partial<Pick<ProviderConfig, CredentialField>>;

/** A provider as the snapshot carries it to gateways: credentials still sealed. */
export interface SnapshotProvider {
  settings: ProviderSettings;
  credentials: SealedCredentials | null;
}

export function splitProvider(config: ProviderConfig): { settings: ProviderSettings; credentials: ProviderCredentials } {
  const settings: Record<string, unknown> = {};
  const credentials: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(config)) {
    if (value === undefined) continue;
    if ((CREDENTIAL_FIELDS as readonly string[]).includes(field)) credentials[field] = value;
    else settings[field] = value;
  }
  return { settings: settings as ProviderSettings, credentials: credentials as ProviderCredentials };
}

/** Null when there is nothing to seal. */
export function sealCredentials(masterKey: MasterKey, provider: string, credentials: ProviderCredentials): SealedCredentials | null {
  const fields = CREDENTIAL_FIELDS.filter((field) => credentials[field] !== undefined);
  if (fields.length === 0) return null;
  const ordered = Object.fromEntries(fields.map((field) => [field, credentials[field]]));
  return { fields, sealed: masterKey.seal(JSON.stringify(ordered), provider) };
}

export function openCredentials(masterKey: MasterKey | null, provider: string, sealed: SealedCredentials | null): ProviderCredentials {
  if (sealed === null) return {};
  if (masterKey === null)
    throw new MasterKeyError(`provider "${provider}" has credentials sealed with the director's master key: set SLUICE_MASTER_KEY to it`);
  return JSON.parse(masterKey.open(sealed.sealed, provider)) as ProviderCredentials;
}

export function openProvider(masterKey: MasterKey | null, name: string, provider: SnapshotProvider | StoredProvider): ProviderConfig {
  return { ...provider.settings, ...openCredentials(masterKey, name, provider.credentials) } as ProviderConfig;
}

/** Equal as JSON values, whatever the order of object keys (PostgreSQL's JSONB keeps its own). */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
