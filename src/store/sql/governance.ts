// Budgets, budget templates, rate limits (whole JSON definitions by name), resource statuses and webhooks.
import { randomUUID } from 'node:crypto';
import type { ResourceStatus } from '../../config/governance-schema.js';
import type { AuditEntityType, Resource, ResourcePatch, StoredDefinition, Webhook, WebhookInput } from '../admin-store.js';
import { StoreInvalid, StoreNotFound } from '../errors.js';
import { unchanged, type Change, type Reader } from './change.js';
import { resource, webhook, type DocumentRow, type ResourceRow, type WebhookRow } from './rows.js';
import type { DocumentKind } from './statements.js';

export const DOCUMENT_ENTITY: Record<DocumentKind, AuditEntityType> = {
  budget: 'budget',
  budgetTemplate: 'budget-template',
  rateLimit: 'rate-limit',
  model: 'model',
};

export async function getDocument<T>(read: Reader, kind: DocumentKind, name: string): Promise<StoredDefinition<T> | null> {
  const [row] = await read.session.all<DocumentRow>(`${kind}Get`, [name]);
  return row === undefined ? null : read.json.document<T>(row);
}

export async function listDocuments<T>(read: Reader, kind: DocumentKind): Promise<StoredDefinition<T>[]> {
  return (await read.session.all<DocumentRow>(`${kind}List`, [])).map((row) => read.json.document<T>(row));
}

export async function createDocument<T extends { name: string }>(
  change: Change,
  kind: DocumentKind,
  definition: T,
): Promise<StoredDefinition<T>> {
  const stored: StoredDefinition<T> = { name: definition.name, definition, createdAt: change.now, updatedAt: change.now };
  await change.session.run(`${kind}Insert`, [stored.name, change.json.encode(definition), stored.createdAt, stored.updatedAt]);
  await change.audit('create', DOCUMENT_ENTITY[kind], stored.name, null, stored);
  return stored;
}

export async function updateDocument<T extends { name: string }>(
  change: Change,
  kind: DocumentKind,
  name: string,
  definition: T,
): Promise<StoredDefinition<T>> {
  if (definition.name !== name) {
    throw new StoreInvalid(`${DOCUMENT_ENTITY[kind]} "${name}": the definition is named "${definition.name}"`, { field: 'name' });
  }
  const before = await getDocument<T>(change, kind, name);
  if (before === null) throw new StoreNotFound(DOCUMENT_ENTITY[kind], name);
  const after: StoredDefinition<T> = { ...before, definition, updatedAt: change.now };
  if (unchanged(before, after)) return change.leftAsItWas(before);
  await change.session.run(`${kind}Update`, [change.json.encode(definition), after.updatedAt, name]);
  await change.audit('update', DOCUMENT_ENTITY[kind], name, before, after);
  return after;
}

export async function deleteDocument(change: Change, kind: DocumentKind, name: string): Promise<void> {
  const before = await getDocument<unknown>(change, kind, name);
  if (before === null) throw new StoreNotFound(DOCUMENT_ENTITY[kind], name);
  await change.session.run(`${kind}Delete`, [name]);
  await change.audit('delete', DOCUMENT_ENTITY[kind], name, before, null);
}

export async function getResource(read: Reader, id: string): Promise<Resource | null> {
  const [row] = await read.session.all<ResourceRow>('resourceGet', [id]);
  return row === undefined ? null : resource(row);
}

export async function listResources(read: Reader): Promise<Resource[]> {
  return (await read.session.all<ResourceRow>('resourceList', [])).map(resource);
}

export async function createResource(
  change: Change,
  input: { id: string; status: ResourceStatus; note?: string | null },
): Promise<Resource> {
  const created: Resource = { id: input.id, status: input.status, note: input.note ?? null };
  await change.session.run('resourceInsert', [created.id, created.status, created.note]);
  await change.audit('create', 'resource', created.id, null, created);
  return created;
}

export async function updateResource(change: Change, id: string, patch: ResourcePatch): Promise<Resource> {
  const before = await getResource(change, id);
  if (before === null) throw new StoreNotFound('resource', id);
  const after: Resource = { ...before, status: patch.status ?? before.status, note: patch.note !== undefined ? patch.note : before.note };
  if (unchanged(before, after)) return change.leftAsItWas(before);
  await change.session.run('resourceUpdate', [after.status, after.note, id]);
  await change.audit('update', 'resource', id, before, after);
  return after;
}

export async function deleteResource(change: Change, id: string): Promise<void> {
  const before = await getResource(change, id);
  if (before === null) throw new StoreNotFound('resource', id);
  await change.session.run('resourceDelete', [id]);
  await change.audit('delete', 'resource', id, before, null);
}

/** A webhook as the audit log records it: that a secret is set, never the secret. */
function audited(hook: Webhook | null): object | null {
  return hook === null ? null : { ...hook, secret: '[redacted]' };
}

export async function getWebhook(read: Reader, id: string): Promise<Webhook | null> {
  const [row] = await read.session.all<WebhookRow>('webhookGet', [id]);
  return row === undefined ? null : webhook(row);
}

export async function listWebhooks(read: Reader): Promise<Webhook[]> {
  return (await read.session.all<WebhookRow>('webhookList', [])).map(webhook);
}

export async function createWebhook(change: Change, input: WebhookInput): Promise<Webhook> {
  const created: Webhook = { id: randomUUID(), url: input.url, secret: input.secret, createdAt: change.now };
  await change.session.run('webhookInsert', [created.id, created.url, created.secret, created.createdAt]);
  await change.audit('create', 'webhook', created.id, null, audited(created));
  return created;
}

export async function updateWebhook(change: Change, id: string, patch: Partial<WebhookInput>): Promise<Webhook> {
  const before = await getWebhook(change, id);
  if (before === null) throw new StoreNotFound('webhook', id);
  const after: Webhook = { ...before, url: patch.url ?? before.url, secret: patch.secret ?? before.secret };
  if (unchanged(before, after)) return change.leftAsItWas(before);
  await change.session.run('webhookUpdate', [after.url, after.secret, id]);
  await change.audit('update', 'webhook', id, audited(before), audited(after));
  return after;
}

export async function deleteWebhook(change: Change, id: string): Promise<void> {
  const before = await getWebhook(change, id);
  if (before === null) throw new StoreNotFound('webhook', id);
  await change.session.run('webhookDelete', [id]);
  await change.audit('delete', 'webhook', id, audited(before), null);
}
