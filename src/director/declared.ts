// What sluice.yaml (or, without one, the embedded defaults) declares goes into the director store, on start and on
// every reload: providers (credentials sealed with the master key), models with their routes, consumers (with their
// teams and keys, by hash), budgets, budget templates, rate limits and resource statuses are created or updated to
// match the file, audited as actor "sluice.yaml". The file owns what it wrote last: an entity it no longer declares is
// deleted (a key revoked) unless an admin changed it through the API since. What the API created is left alone.
import type { SluiceConfig } from '../config/schema.js';
import { hashKey } from '../policy/consumers.js';
import type { AuditEntityType, DirectorStore, SealedCredentials, StoredDefinition } from '../store/director-store.js';
import { StoreConflict } from '../store/errors.js';
import type { MasterKey } from '../store/master-key.js';
import { displayPrefix } from '../store/secrets.js';
import { openCredentials, sameJson, sealCredentials, splitProvider, type ProviderCredentials } from './provider-credentials.js';

export const DECLARED_BY = 'sluice.yaml';

/** What declared the config: a sluice.yaml, or the embedded defaults when there is none. */
export type DeclaredOrigin = 'sluice.yaml' | 'embedded defaults';

/**
 * The names declared keys are stored under, which say where a key comes from to whoever lists them, and are how a later
 * start or reload knows them from keys made through the API (only those may be revoked for no longer being declared).
 */
const DECLARED_KEY: Record<DeclaredOrigin, string> = {
  'sluice.yaml': 'declared in sluice.yaml',
  'embedded defaults': 'declared by the embedded defaults',
};
const DECLARED_KEY_NAMES: ReadonlySet<string> = new Set(Object.values(DECLARED_KEY));

/** What declared a key, by the name it is stored under; null for a key made through the API. */
export function declaredKeyOrigin(keyName: string): DeclaredOrigin | null {
  const found = Object.entries(DECLARED_KEY).find(([, name]) => name === keyName);
  return found === undefined ? null : (found[0] as DeclaredOrigin);
}

export async function applyDeclared(
  store: DirectorStore,
  config: SluiceConfig,
  masterKey: MasterKey,
  origin: DeclaredOrigin = 'sluice.yaml',
): Promise<void> {
  // Providers before models (targets name them), models before consumers and budgets (which name models); removals in
  // the opposite order, last. A consumer the file drops that a policy kept by the API still names is refused before
  // anything is written, so the reload is refused whole rather than half applied.
  const leavingConsumers = await consumersToDelete(store, config);
  const storedProviders = new Map((await store.listProviders()).map((provider) => [provider.name, provider]));
  for (const [name, declared] of Object.entries(config.providers)) {
    const { settings, credentials } = splitProvider(declared);
    const existing = storedProviders.get(name);
    if (existing === undefined) {
      await store.createProvider(DECLARED_BY, { name, settings, credentials: sealCredentials(masterKey, name, credentials) });
      continue;
    }
    const sameSettings = sameJson(existing.settings, settings);
    const sameCredentials = sameCredentialsAs(masterKey, name, existing.credentials, credentials);
    if (!sameSettings || !sameCredentials) {
      await store.updateProvider(DECLARED_BY, name, {
        settings,
        ...(sameCredentials ? {} : { credentials: sealCredentials(masterKey, name, credentials) }),
      });
    }
  }
  const storedModels = await store.listModels();
  for (const model of config.models) {
    const existing = storedModels.find((item) => item.name === model.name);
    if (existing === undefined) await store.createModel(DECLARED_BY, model);
    else if (!sameJson(existing.definition, model)) await store.updateModel(DECLARED_BY, model.name, model);
  }
  const teams = new Set((await store.listTeams()).map((team) => team.name));
  const active = await store.activeKeys();
  for (const consumer of config.consumers) {
    if (consumer.team !== undefined && !teams.has(consumer.team)) {
      await store.createTeam(DECLARED_BY, { name: consumer.team, owner: consumer.owner ?? '' });
      teams.add(consumer.team);
    }
    const wanted = { team: consumer.team ?? null, owner: consumer.owner ?? null, labels: consumer.labels, models: consumer.models ?? null };
    const existing = await store.getConsumer(consumer.name);
    if (existing === null) await store.createConsumer(DECLARED_BY, { name: consumer.name, ...wanted });
    else if (!sameJson({ team: existing.team, owner: existing.owner, labels: existing.labels, models: existing.models }, wanted)) {
      await store.updateConsumer(DECLARED_BY, consumer.name, wanted);
    }
    const hashes = new Set(consumer.keys.map(hashKey));
    const held = active.filter((key) => key.consumer === consumer.name);
    for (const key of consumer.keys) {
      const hash = hashKey(key);
      if (!held.some((k) => k.hash === hash))
        await store.importKey(DECLARED_BY, consumer.name, { name: DECLARED_KEY[origin], hash, prefix: displayPrefix(key) });
    }
    for (const key of held) if (DECLARED_KEY_NAMES.has(key.name) && !hashes.has(key.hash)) await store.revokeKey(DECLARED_BY, key.id);
  }
  await upsertAll(
    store,
    'budget',
    config.budgets,
    await store.listDefinitions('budget'),
    (b) => store.createDefinition(DECLARED_BY, 'budget', b),
    (b) => store.updateDefinition(DECLARED_BY, 'budget', b.name, b),
    (n) => store.deleteDefinition(DECLARED_BY, 'budget', n),
  );
  await upsertAll(
    store,
    'budget-template',
    config.budgetTemplates,
    await store.listDefinitions('budgetTemplate'),
    (t) => store.createDefinition(DECLARED_BY, 'budgetTemplate', t),
    (t) => store.updateDefinition(DECLARED_BY, 'budgetTemplate', t.name, t),
    (n) => store.deleteDefinition(DECLARED_BY, 'budgetTemplate', n),
  );
  await upsertAll(
    store,
    'rate-limit',
    config.rateLimits,
    await store.listDefinitions('rateLimit'),
    (r) => store.createDefinition(DECLARED_BY, 'rateLimit', r),
    (r) => store.updateDefinition(DECLARED_BY, 'rateLimit', r.name, r),
    (n) => store.deleteDefinition(DECLARED_BY, 'rateLimit', n),
  );
  // After the policies, so a file that drops a consumer together with its budgets and rate limits drops them all.
  for (const name of leavingConsumers) await store.deleteConsumer(DECLARED_BY, name);
  const resources = new Map((await store.listResources()).map((resource) => [resource.id, resource]));
  for (const [id, status] of Object.entries(config.resources)) {
    const existing = resources.get(id);
    if (existing === undefined) await store.createResource(DECLARED_BY, { id, status });
    else if (existing.status !== status) await store.updateResource(DECLARED_BY, id, { status });
  }
  for (const id of resources.keys()) {
    if (!(id in config.resources) && (await ownedByFile(store, 'resource', id))) await store.deleteResource(DECLARED_BY, id);
  }
  const declaredModels = new Set(config.models.map((model) => model.name));
  for (const { name } of storedModels) {
    if (!declaredModels.has(name) && (await ownedByFile(store, 'model', name))) await store.deleteModel(DECLARED_BY, name);
  }
  for (const name of storedProviders.keys()) {
    if (!(name in config.providers) && (await ownedByFile(store, 'provider', name))) await store.deleteProvider(DECLARED_BY, name);
  }
}

/** Whether the sealed credentials hold exactly these; ones this key cannot open count as different (they get sealed again). */
function sameCredentialsAs(
  masterKey: MasterKey,
  name: string,
  sealed: SealedCredentials | null,
  credentials: ProviderCredentials,
): boolean {
  try {
    return sameJson(openCredentials(masterKey, name, sealed), credentials);
  } catch {
    return false;
  }
}

/** The consumers the file wrote and no longer declares; throws if a budget or rate limit that stays names one. */
async function consumersToDelete(store: DirectorStore, config: SluiceConfig): Promise<string[]> {
  const declared = new Set(config.consumers.map((consumer) => consumer.name));
  const leaving: string[] = [];
  for (const { name } of await allConsumers(store)) {
    if (!declared.has(name) && (await ownedByFile(store, 'consumer', name))) leaving.push(name);
  }
  if (leaving.length === 0) return leaving;
  // A policy the file declares is rewritten to the file's (which names only the file's consumers); one the file wrote
  // and no longer declares goes with the consumer. Any other (made or changed through the API) stays.
  const policies = [
    { kind: 'budget' as const, noun: 'budget', entity: 'budget' as const, declared: config.budgets },
    { kind: 'rateLimit' as const, noun: 'rate limit', entity: 'rate-limit' as const, declared: config.rateLimits },
  ];
  const problems: string[] = [];
  for (const { kind, noun, entity, declared: declaredPolicies } of policies) {
    const kept = new Set(declaredPolicies.map((policy) => policy.name));
    for (const stored of await store.listDefinitions(kind)) {
      const scope = stored.definition.consumers;
      if (typeof scope !== 'object' || !('consumer' in scope) || !leaving.includes(scope.consumer)) continue;
      if (kept.has(stored.name) || (await ownedByFile(store, entity, stored.name))) continue;
      problems.push(`consumer "${scope.consumer}": still named by ${noun} "${stored.name}", which sluice.yaml does not declare`);
    }
  }
  if (problems.length > 0) {
    throw new StoreConflict(
      'reference',
      `sluice.yaml no longer declares a consumer that a budget or rate limit made through the API names; nothing was applied: ${problems.join('; ')}. Delete or change those first, or keep declaring the consumer.`,
    );
  }
  return leaving;
}

async function allConsumers(store: DirectorStore): Promise<Array<{ name: string }>> {
  const out: Array<{ name: string }> = [];
  let cursor: string | null = null;
  do {
    const page = await store.listConsumers({ limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

/** Whether the file made the entity's last change (so the file may take it away again). */
async function ownedByFile(store: DirectorStore, entityType: AuditEntityType, entityId: string): Promise<boolean> {
  const { items } = await store.listAudit({ entityType, entityId, limit: 1 });
  return items[0]?.actor === DECLARED_BY;
}

async function upsertAll<T extends { name: string }>(
  store: DirectorStore,
  entityType: AuditEntityType,
  declared: readonly T[],
  stored: readonly StoredDefinition<T>[],
  create: (value: T) => Promise<unknown>,
  update: (value: T) => Promise<unknown>,
  remove: (name: string) => Promise<unknown>,
): Promise<void> {
  const byName = new Map(stored.map((item) => [item.name, item.definition]));
  for (const value of declared) {
    const existing = byName.get(value.name);
    if (existing === undefined) await create(value);
    else if (!sameJson(existing, value)) await update(value);
  }
  const names = new Set(declared.map((value) => value.name));
  for (const name of byName.keys()) if (!names.has(name) && (await ownedByFile(store, entityType, name))) await remove(name);
}
