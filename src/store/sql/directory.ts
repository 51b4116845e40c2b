// Teams and consumers: who calls through Sluice and who answers for them.
import type { Consumer, ConsumerFilter, ConsumerInput, ConsumerPatch, Team } from '../admin-store.js';
import type { Page } from '../records.js';
import type { BudgetConfig, BudgetTemplateConfig, RateLimitConfig } from '../../config/governance-schema.js';
import { StoreConflict, StoreNotFound } from '../errors.js';
import { unchanged, type Change, type Reader } from './change.js';
import { decodeCursor, pageLimit, toPage } from './cursor.js';
import { listDocuments } from './governance.js';
import { adminToken, consumerKey, type ConsumerRow, type CountRow, type KeyRow, type TeamRow, type TokenRow } from './rows.js';

export async function getTeam(read: Reader, name: string): Promise<Team | null> {
  const [row] = await read.session.all<TeamRow>('teamGet', [name]);
  return row === undefined ? null : read.json.team(row);
}

export async function listTeams(read: Reader): Promise<Team[]> {
  return (await read.session.all<TeamRow>('teamList', [])).map((row) => read.json.team(row));
}

export async function createTeam(change: Change, input: { name: string; owner: string }): Promise<Team> {
  const team: Team = { name: input.name, owner: input.owner, createdAt: change.now };
  await change.session.run('teamInsert', [team.name, team.owner, team.createdAt]);
  await change.audit('create', 'team', team.name, null, team);
  return team;
}

export async function updateTeam(change: Change, name: string, patch: { owner?: string }): Promise<Team> {
  const before = await existingTeam(change, name);
  const after: Team = { ...before, owner: patch.owner ?? before.owner };
  if (unchanged(before, after)) return change.leftAsItWas(before);
  await change.session.run('teamUpdate', [after.owner, name]);
  await change.audit('update', 'team', name, before, after);
  return after;
}

/** Checked here for a message that says why; the foreign keys still refuse what a concurrent change might slip in. */
export async function deleteTeam(change: Change, name: string): Promise<void> {
  const before = await existingTeam(change, name);
  const [consumers] = await change.session.all<CountRow>('teamConsumerCount', [name]);
  if ((consumers?.count ?? 0) > 0) throw new StoreConflict('reference', `team "${name}" still has ${consumers?.count} consumers`);
  const users = await teamUsers(change, name);
  if (users.length > 0) throw new StoreConflict('reference', `team "${name}": still named by ${users.join(', ')}`);
  const tokens = (await change.session.all<TokenRow>('tokensOfTeam', [name])).map(adminToken);
  const active = tokens.filter((token) => token.revokedAt === null);
  if (active.length > 0) throw new StoreConflict('reference', `team "${name}" still has ${active.length} unrevoked team-owner tokens`);
  for (const token of tokens) {
    await change.session.run('tokenDelete', [token.id]);
    await change.audit('delete', 'admin-token', token.id, token, null);
  }
  await change.session.run('teamDelete', [name]);
  await change.audit('delete', 'team', name, before, null);
}

/**
 * The budgets, templates and rate limits scoped to the team: deleting it under them would leave them binding no one, and
 * a team made later under the same name would take them on unasked (a model they name is kept the same way).
 */
async function teamUsers(read: Reader, name: string): Promise<string[]> {
  const users: string[] = [];
  const names = (scope: unknown) => typeof scope === 'object' && scope !== null && 'team' in scope && scope.team === name;
  for (const budget of await listDocuments<BudgetConfig>(read, 'budget'))
    if (names(budget.definition.consumers)) users.push(`budget "${budget.name}"`);
  for (const template of await listDocuments<BudgetTemplateConfig>(read, 'budgetTemplate'))
    if (names(template.definition.selector)) users.push(`budget template "${template.name}"`);
  for (const limit of await listDocuments<RateLimitConfig>(read, 'rateLimit'))
    if (names(limit.definition.consumers)) users.push(`rate limit "${limit.name}"`);
  return users;
}

async function existingTeam(change: Change, name: string): Promise<Team> {
  const team = await getTeam(change, name);
  if (team === null) throw new StoreNotFound('team', name);
  return team;
}

export async function getConsumer(read: Reader, name: string): Promise<Consumer | null> {
  const [row] = await read.session.all<ConsumerRow>('consumerGet', [name]);
  return row === undefined ? null : read.json.consumer(row);
}

export async function listConsumers(read: Reader, filter: ConsumerFilter): Promise<Page<Consumer>> {
  const limit = pageLimit(filter.limit);
  const team = filter.team ?? null;
  const labels = filter.labels === undefined || Object.keys(filter.labels).length === 0 ? null : read.json.encode(filter.labels);
  const listing = { name: 'consumers', filters: [team, Object.entries(filter.labels ?? {}).sort()] };
  const after = decodeCursor(filter.cursor, listing, 'string');
  const rows = await read.session.all<ConsumerRow>('consumerList', [team, team, labels, labels, after, after, limit + 1]);
  return toPage(
    rows,
    limit,
    listing,
    (row) => read.json.consumer(row),
    (consumer) => consumer.name,
  );
}

export async function createConsumer(change: Change, input: ConsumerInput): Promise<Consumer> {
  const consumer: Consumer = {
    name: input.name,
    team: input.team ?? null,
    owner: input.owner ?? null,
    labels: input.labels ?? {},
    models: input.models ?? null,
    createdAt: change.now,
    updatedAt: change.now,
  };
  await change.session.run('consumerInsert', [
    consumer.name,
    consumer.team,
    consumer.owner,
    change.json.encode(consumer.labels),
    change.json.encode(consumer.models),
    consumer.createdAt,
    consumer.updatedAt,
  ]);
  await change.audit('create', 'consumer', consumer.name, null, consumer);
  return consumer;
}

export async function updateConsumer(change: Change, name: string, patch: ConsumerPatch): Promise<Consumer> {
  const before = await existingConsumer(change, name);
  // Absent (or undefined) fields keep their value; null clears team, owner and models.
  const after: Consumer = {
    ...before,
    team: patch.team !== undefined ? patch.team : before.team,
    owner: patch.owner !== undefined ? patch.owner : before.owner,
    labels: patch.labels ?? before.labels,
    models: patch.models !== undefined ? patch.models : before.models,
    updatedAt: change.now,
  };
  if (unchanged(before, after)) return change.leftAsItWas(before);
  await change.session.run('consumerUpdate', [
    after.team,
    after.owner,
    change.json.encode(after.labels),
    change.json.encode(after.models),
    after.updatedAt,
    name,
  ]);
  await change.audit('update', 'consumer', name, before, after);
  return after;
}

export async function deleteConsumer(change: Change, name: string): Promise<void> {
  const before = await existingConsumer(change, name);
  const users = await consumerUsers(change, name);
  if (users.length > 0) throw new StoreConflict('reference', `consumer "${name}": still named by ${users.join(', ')}`);
  for (const key of (await change.session.all<KeyRow>('keyList', [name])).map(consumerKey)) {
    await change.session.run('keyDelete', [key.id]);
    await change.audit('delete', 'consumer-key', key.id, key, null);
  }
  await change.session.run('consumerDelete', [name]);
  await change.audit('delete', 'consumer', name, before, null);
}

/**
 * The budgets and rate limits scoped to the consumer (a template selects by team or labels, never by name): deleting it
 * under them would leave them counting for no one, and a consumer made later under the same name would take them on
 * unasked, as with a team.
 */
export async function consumerUsers(read: Reader, name: string): Promise<string[]> {
  const names = (scope: unknown) => typeof scope === 'object' && scope !== null && 'consumer' in scope && scope.consumer === name;
  const users: string[] = [];
  for (const budget of await listDocuments<BudgetConfig>(read, 'budget'))
    if (names(budget.definition.consumers)) users.push(`budget "${budget.name}"`);
  for (const limit of await listDocuments<RateLimitConfig>(read, 'rateLimit'))
    if (names(limit.definition.consumers)) users.push(`rate limit "${limit.name}"`);
  return users;
}

export async function existingConsumer(read: Reader, name: string): Promise<Consumer> {
  const consumer = await getConsumer(read, name);
  if (consumer === null) throw new StoreNotFound('consumer', name);
  return consumer;
}
