// Providers (settings in clear, credentials only as the sealed value the caller hands in) and models with their routes.
// The references between them and to them are checked here, inside the change's transaction, so no committed state
// has a model routing to a missing provider, or a consumer, budget, template or rate limit naming a missing model.
import type { ModelConfig } from '../../config/schema.js';
import type { BudgetConfig, BudgetTemplateConfig, RateLimitConfig } from '../../config/governance-schema.js';
import type { ProviderInput, ProviderPatch, StoredDefinition, StoredProvider } from '../admin-store.js';
import { StoreConflict, StoreNotFound } from '../errors.js';
import { unchanged, type Change, type Reader } from './change.js';
import { createDocument, deleteDocument, getDocument, listDocuments, updateDocument } from './governance.js';
import type { ConsumerRow, ProviderRow } from './rows.js';

/** A provider as the audit log records it: its settings, which credential fields are set and the key that sealed them. */
function audited(provider: StoredProvider): object {
  const { credentials, ...rest } = provider;
  return {
    ...rest,
    credentials: credentials === null ? null : { fields: credentials.fields, sealedWith: credentials.sealed.split('.')[1] ?? null },
  };
}

export async function getProvider(read: Reader, name: string): Promise<StoredProvider | null> {
  const [row] = await read.session.all<ProviderRow>('providerGet', [name]);
  return row === undefined ? null : read.json.provider(row);
}

export async function listProviders(read: Reader): Promise<StoredProvider[]> {
  return (await read.session.all<ProviderRow>('providerList', [])).map((row) => read.json.provider(row));
}

export async function createProvider(change: Change, input: ProviderInput): Promise<StoredProvider> {
  const created: StoredProvider = {
    name: input.name,
    settings: input.settings,
    credentials: input.credentials,
    createdAt: change.now,
    updatedAt: change.now,
  };
  await change.session.run('providerInsert', [
    created.name,
    change.json.encode(created.settings),
    change.json.encode(created.credentials?.fields ?? null),
    created.credentials?.sealed ?? null,
    created.createdAt,
    created.updatedAt,
  ]);
  await change.audit('create', 'provider', created.name, null, audited(created));
  return created;
}

export async function updateProvider(change: Change, name: string, patch: ProviderPatch): Promise<StoredProvider> {
  const before = await getProvider(change, name);
  if (before === null) throw new StoreNotFound('provider', name);
  const after: StoredProvider = {
    ...before,
    settings: patch.settings ?? before.settings,
    credentials: patch.credentials !== undefined ? patch.credentials : before.credentials,
    updatedAt: change.now,
  };
  // Credentials given are sealed anew each time, so a patch that sets them is always a change (a rotation).
  if (unchanged(before, after)) return change.leftAsItWas(before);
  await change.session.run('providerUpdate', [
    change.json.encode(after.settings),
    change.json.encode(after.credentials?.fields ?? null),
    after.credentials?.sealed ?? null,
    after.updatedAt,
    name,
  ]);
  await change.audit('update', 'provider', name, audited(before), audited(after));
  return after;
}

export async function deleteProvider(change: Change, name: string): Promise<void> {
  const before = await getProvider(change, name);
  if (before === null) throw new StoreNotFound('provider', name);
  const routing = (await listDocuments<ModelConfig>(change, 'model'))
    .filter((model) => model.definition.targets.some((target) => target.provider === name))
    .map((model) => model.name);
  if (routing.length > 0) throw new StoreConflict('reference', `provider "${name}": models route to it (${routing.join(', ')})`);
  await change.session.run('providerDelete', [name]);
  await change.audit('delete', 'provider', name, audited(before), null);
}

export function getModel(read: Reader, name: string): Promise<StoredDefinition<ModelConfig> | null> {
  return getDocument<ModelConfig>(read, 'model', name);
}

export function listModels(read: Reader): Promise<StoredDefinition<ModelConfig>[]> {
  return listDocuments<ModelConfig>(read, 'model');
}

export async function createModel(change: Change, model: ModelConfig): Promise<StoredDefinition<ModelConfig>> {
  await checkTargets(change, model);
  return createDocument(change, 'model', model);
}

export async function updateModel(change: Change, name: string, model: ModelConfig): Promise<StoredDefinition<ModelConfig>> {
  await checkTargets(change, model);
  return updateDocument(change, 'model', name, model);
}

export async function deleteModel(change: Change, name: string): Promise<void> {
  if ((await getModel(change, name)) === null) throw new StoreNotFound('model', name);
  const users = await modelUsers(change, name);
  if (users.length > 0) throw new StoreConflict('reference', `model "${name}": still named by ${users.join(', ')}`);
  await deleteDocument(change, 'model', name);
}

async function checkTargets(read: Reader, model: ModelConfig): Promise<void> {
  for (const target of model.targets) {
    if ((await getProvider(read, target.provider)) === null) {
      throw new StoreConflict('reference', `model "${model.name}": provider "${target.provider}" does not exist`);
    }
  }
}

/** What names the model: consumers limited to it, budgets, templates and rate limits scoped to it or downgrading to it. */
async function modelUsers(read: Reader, name: string): Promise<string[]> {
  const users: string[] = [];
  const names = (scope: { resources?: unknown; onExhausted?: unknown }) => {
    const resources = scope.resources as { model?: string } | undefined;
    const action = scope.onExhausted as { downgrade?: string } | undefined;
    return resources?.model === name || action?.downgrade === name;
  };
  for (const budget of await listDocuments<BudgetConfig>(read, 'budget'))
    if (names(budget.definition)) users.push(`budget "${budget.name}"`);
  for (const template of await listDocuments<BudgetTemplateConfig>(read, 'budgetTemplate'))
    if (names(template.definition)) users.push(`budget template "${template.name}"`);
  for (const limit of await listDocuments<RateLimitConfig>(read, 'rateLimit'))
    if (names(limit.definition)) users.push(`rate limit "${limit.name}"`);
  for (const row of await read.session.all<ConsumerRow>('consumerModelUsers', [])) {
    const models = read.json.decode(row.models) as string[] | null;
    if (models?.includes(name) === true) users.push(`consumer "${row.name}"`);
  }
  return users;
}
