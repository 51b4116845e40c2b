// Consumer keys and admin tokens: created with their plaintext shown once, then known only by hash, revoked, rotated.
import { randomUUID } from 'node:crypto';
import {
  ADMIN_ROLES,
  type AdminToken,
  type AdminTokenInput,
  type ConsumerKey,
  type CreatedAdminToken,
  type CreatedKey,
  type KeyInput,
  type KeyMatch,
  type ActiveKey,
  type KeyImport,
  type ExpiringKeysQuery,
} from '../director-store.js';
import { StoreConflict, StoreInvalid, StoreNotFound } from '../errors.js';
import { generateAdminToken, generateConsumerKey } from '../secrets.js';
import type { Change, Reader } from './change.js';
import { existingConsumer } from './directory.js';
import { adminToken, consumerKey, type ActiveKeyRow, type KeyMatchRow, type KeyRow, type TokenRow } from './rows.js';
import { statementChunks } from './chunks.js';
import { ROWS_PER_STATEMENT, type SizedStatement } from './statements.js';
import type { SqlSession, SqlValue } from './session.js';

export async function createKey(change: Change, consumer: string, input: KeyInput): Promise<CreatedKey> {
  await existingConsumer(change, consumer);
  return insertKey(change, consumer, input.name, input.expiresAt ?? null);
}

/** A key whose plaintext Sluice never held (declared in sluice.yaml), known by its hash and display prefix. */
export async function importKey(change: Change, consumer: string, input: KeyImport): Promise<ConsumerKey> {
  await existingConsumer(change, consumer);
  const key: ConsumerKey = {
    id: randomUUID(),
    consumer,
    prefix: input.prefix,
    name: input.name,
    createdAt: change.now,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
  };
  await change.session.run('keyInsert', [key.id, consumer, input.hash, key.prefix, key.name, key.createdAt, null]);
  await change.audit('create', 'consumer-key', key.id, null, key);
  return key;
}

export async function activeKeys(read: Reader): Promise<ActiveKey[]> {
  return (await read.session.all<ActiveKeyRow>('keyActive', [])).map((row) => ({
    id: row.id,
    consumer: row.consumer,
    hash: row.hash,
    name: row.name,
    expiresAt: row.expires_at,
  }));
}

async function insertKey(change: Change, consumer: string, name: string, expiresAt: number | null): Promise<CreatedKey> {
  const secret = generateConsumerKey();
  const key: ConsumerKey = {
    id: randomUUID(),
    consumer,
    prefix: secret.prefix,
    name,
    createdAt: change.now,
    expiresAt,
    revokedAt: null,
    lastUsedAt: null,
  };
  await change.session.run('keyInsert', [key.id, consumer, secret.hash, key.prefix, key.name, key.createdAt, key.expiresAt]);
  await change.audit('create', 'consumer-key', key.id, null, key);
  return { key, plaintext: secret.plaintext };
}

export async function listKeys(read: Reader, consumer: string): Promise<ConsumerKey[]> {
  return (await read.session.all<KeyRow>('keyList', [consumer])).map(consumerKey);
}

export async function expiringKeys(read: Reader, query: ExpiringKeysQuery): Promise<ConsumerKey[]> {
  const params = [query.from, query.until, query.team, query.team, query.limit];
  return (await read.session.all<KeyRow>('keyExpiring', params)).map(consumerKey);
}

export async function revokeKey(change: Change, id: string): Promise<ConsumerKey> {
  const before = await liveKey(change, id);
  const after: ConsumerKey = { ...before, revokedAt: change.now };
  await change.session.run('keyRevoke', [change.now, id]);
  await change.audit('revoke', 'consumer-key', id, before, after);
  return after;
}

/**
 * Rotation replaces a key's secret, not its grant: the new key ends when the old one was to end unless `expiresAt` says
 * otherwise (null: never), and an expired key is renewed only by a rotation that gives the new key an end.
 */
export async function rotateKey(change: Change, id: string, graceSeconds: number, expiresAt?: number | null): Promise<CreatedKey> {
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0)
    throw new StoreInvalid(`graceSeconds must be zero or more, got ${graceSeconds}`, { field: 'graceSeconds' });
  if (expiresAt !== undefined && expiresAt !== null && expiresAt <= change.now) {
    throw new StoreInvalid(`expiresAt: ${new Date(expiresAt).toISOString()} is not in the future`, { field: 'expiresAt' });
  }
  const before = await liveKey(change, id);
  if (expiresAt === undefined && before.expiresAt !== null && before.expiresAt <= change.now) {
    throw new StoreConflict(
      'state',
      `consumer-key "${id}" expired at ${new Date(before.expiresAt).toISOString()}; rotating it makes a working key only with a new expiresAt (null for none)`,
    );
  }
  const graceEnds = change.now + Math.round(graceSeconds * 1000);
  // Rotation never lengthens the old key's life.
  const oldEnds = before.expiresAt !== null && before.expiresAt < graceEnds ? before.expiresAt : graceEnds;
  const after: ConsumerKey = { ...before, expiresAt: oldEnds };
  await change.session.run('keyExpire', [oldEnds, id]);
  await change.audit('rotate', 'consumer-key', id, before, after);
  return insertKey(change, before.consumer, before.name, expiresAt === undefined ? before.expiresAt : expiresAt);
}

async function liveKey(change: Change, id: string): Promise<ConsumerKey> {
  const [row] = await change.session.all<KeyRow>('keyGet', [id]);
  if (row === undefined) throw new StoreNotFound('consumer-key', id);
  if (row.revoked_at !== null) throw new StoreConflict('state', `consumer-key "${id}" is already revoked`);
  return consumerKey(row);
}

export async function findConsumerByKeyHash(read: Reader, hash: string, now: number): Promise<KeyMatch | null> {
  const [row] = await read.session.all<KeyMatchRow>('keyFind', [hash, now]);
  return row === undefined ? null : { keyId: row.key_id, consumer: read.json.consumer(row) };
}

/** One UPDATE per up to ROWS_PER_STATEMENT keys (in the sizes of statementChunks); a time older than the recorded one is ignored. */
export async function touchKeys(session: SqlSession, lastUsed: ReadonlyMap<string, number>): Promise<void> {
  const entries = [...lastUsed];
  for (const chunk of statementChunks(entries, ROWS_PER_STATEMENT)) {
    const params: SqlValue[] = chunk.flatMap(([id, usedAt]) => [id, usedAt]);
    await session.run(`keyTouch:${chunk.length}` satisfies SizedStatement, params);
  }
}

export async function createAdminToken(change: Change, input: AdminTokenInput): Promise<CreatedAdminToken> {
  if (!ADMIN_ROLES.includes(input.role))
    throw new StoreInvalid(`role must be one of ${ADMIN_ROLES.join(', ')}, got "${input.role}"`, { field: 'role' });
  const team = input.team ?? null;
  if (input.role === 'team-owner' && team === null) throw new StoreInvalid('a team-owner token needs a team', { field: 'team' });
  if (input.role !== 'team-owner' && team !== null)
    throw new StoreInvalid(`a ${input.role} token governs every team; it takes no team`, { field: 'team' });
  const secret = generateAdminToken();
  const token: AdminToken = {
    id: randomUUID(),
    name: input.name,
    role: input.role,
    team,
    prefix: secret.prefix,
    createdAt: change.now,
    revokedAt: null,
  };
  await change.session.run('tokenInsert', [token.id, token.name, token.role, token.team, secret.hash, token.prefix, token.createdAt]);
  await change.audit('create', 'admin-token', token.id, null, token);
  return { token, plaintext: secret.plaintext };
}

export async function listAdminTokens(read: Reader): Promise<AdminToken[]> {
  return (await read.session.all<TokenRow>('tokenList', [])).map(adminToken);
}

export async function revokeAdminToken(change: Change, id: string): Promise<AdminToken> {
  const [row] = await change.session.all<TokenRow>('tokenGet', [id]);
  if (row === undefined) throw new StoreNotFound('admin-token', id);
  if (row.revoked_at !== null) throw new StoreConflict('state', `admin-token "${id}" is already revoked`);
  const before = adminToken(row);
  const after: AdminToken = { ...before, revokedAt: change.now };
  await change.session.run('tokenRevoke', [change.now, id]);
  await change.audit('revoke', 'admin-token', id, before, after);
  return after;
}

export async function findAdminTokenByHash(read: Reader, hash: string): Promise<AdminToken | null> {
  const [row] = await read.session.all<TokenRow>('tokenFind', [hash]);
  return row === undefined ? null : adminToken(row);
}
