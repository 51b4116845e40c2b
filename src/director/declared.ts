// What sluice.yaml declares goes into the director store, on start and on every reload: consumers (with their teams
// and keys, by hash), budgets, budget templates, rate limits and resource statuses are created or updated to match the
// file, audited as actor "sluice.yaml". The file owns what it wrote last: an entity it no longer declares is deleted
// (a key revoked) unless an admin changed it through the API since. What the API created is left alone.
import type { SluiceConfig } from '../config/schema.js';
import { hashKey } from '../policy/consumers.js';
import type { AuditEntityType, DirectorStore, StoredDefinition } from '../store/director-store.js';

export const DECLARED_BY = 'sluice.yaml';
/** The name declared keys are stored under, which is how a later reload knows them from keys made through the API. */
const DECLARED_KEY = 'declared in sluice.yaml';
const DISPLAY_PREFIX = 12;

export async function applyDeclared(store: DirectorStore, config: SluiceConfig): Promise<void> {
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
    else if (JSON.stringify({ team: existing.team, owner: existing.owner, labels: existing.labels, models: existing.models }) !== JSON.stringify(wanted)) {
      await store.updateConsumer(DECLARED_BY, consumer.name, wanted);
    }
    const hashes = new Set(consumer.keys.map(hashKey));
    const held = active.filter((key) => key.consumer === consumer.name);
    for (const key of consumer.keys) {
      const hash = hashKey(key);
      if (!held.some((k) => k.hash === hash)) await store.importKey(DECLARED_BY, consumer.name, { name: DECLARED_KEY, hash, prefix: key.slice(0, DISPLAY_PREFIX) });
    }
    for (const key of held) if (key.name === DECLARED_KEY && !hashes.has(key.hash)) await store.revokeKey(DECLARED_BY, key.id);
  }
  const declaredConsumers = new Set(config.consumers.map((consumer) => consumer.name));
  for (const { name } of await allConsumers(store)) {
    if (!declaredConsumers.has(name) && (await ownedByFile(store, 'consumer', name))) await store.deleteConsumer(DECLARED_BY, name);
  }
  await upsertAll(store, 'budget', config.budgets, await store.listBudgets(),
    (b) => store.createBudget(DECLARED_BY, b), (b) => store.updateBudget(DECLARED_BY, b.name, b), (n) => store.deleteBudget(DECLARED_BY, n));
  await upsertAll(store, 'budget-template', config.budgetTemplates, await store.listBudgetTemplates(),
    (t) => store.createBudgetTemplate(DECLARED_BY, t), (t) => store.updateBudgetTemplate(DECLARED_BY, t.name, t), (n) => store.deleteBudgetTemplate(DECLARED_BY, n));
  await upsertAll(store, 'rate-limit', config.rateLimits, await store.listRateLimits(),
    (r) => store.createRateLimit(DECLARED_BY, r), (r) => store.updateRateLimit(DECLARED_BY, r.name, r), (n) => store.deleteRateLimit(DECLARED_BY, n));
  const resources = new Map((await store.listResources()).map((resource) => [resource.id, resource]));
  for (const [id, status] of Object.entries(config.resources)) {
    const existing = resources.get(id);
    if (existing === undefined) await store.createResource(DECLARED_BY, { id, status });
    else if (existing.status !== status) await store.updateResource(DECLARED_BY, id, { status });
  }
  for (const id of resources.keys()) {
    if (!(id in config.resources) && (await ownedByFile(store, 'resource', id))) await store.deleteResource(DECLARED_BY, id);
  }
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
  store: DirectorStore, entityType: AuditEntityType, declared: readonly T[], stored: readonly StoredDefinition<T>[],
  create: (value: T) => Promise<unknown>, update: (value: T) => Promise<unknown>, remove: (name: string) => Promise<unknown>,
): Promise<void> {
  const byName = new Map(stored.map((item) => [item.name, item.definition]));
  for (const value of declared) {
    const existing = byName.get(value.name);
    if (existing === undefined) await create(value);
    else if (JSON.stringify(existing) !== JSON.stringify(value)) await update(value);
  }
  const names = new Set(declared.map((value) => value.name));
  for (const name of byName.keys()) if (!names.has(name) && (await ownedByFile(store, entityType, name))) await remove(name);
}
