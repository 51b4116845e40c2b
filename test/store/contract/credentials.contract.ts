// Contract: consumer keys and admin tokens (shown once, stored as hashes), expiry, revocation, rotation, last use.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { StoreConflict, StoreInvalid, StoreNotFound } from '../../../src/store/errors.js';
import { allAudit, auditWritten, lastAudit, refusedWithoutTrace, rejectsWith, versionsMoved, type ContractContext } from './context.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function credentialsContract(context: ContractContext): void {
  describe('consumer keys', () => {
    test('a new key is returned in plaintext once; the database holds only its SHA-256 hash and a 12-character prefix', async () => {
      const { store, clock } = context;
      await store.createConsumer('admin', { name: 'keyed' });
      const created = await store.createKey('admin', 'keyed', { name: 'production' });
      context.secrets.push(created.plaintext);
      assert.match(created.plaintext, /^sk-sluice-[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      assert.deepEqual(created.key, {
        id: created.key.id,
        consumer: 'keyed',
        prefix: created.plaintext.slice(0, 12),
        name: 'production',
        createdAt: clock.now(),
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
      });
      const rows = await context.query('SELECT * FROM consumer_keys');
      const row = rows.find((candidate) => candidate.id === created.key.id);
      assert.equal(row?.hash, sha256(created.plaintext));
      assert.ok(!JSON.stringify(rows).includes(created.plaintext), 'no column holds the plaintext');
      const listed = await store.listKeys('keyed');
      assert.deepEqual(listed, [created.key]);
      assert.ok(
        !JSON.stringify(listed).includes(created.plaintext) && !JSON.stringify(listed).includes(sha256(created.plaintext)),
        'listings show neither plaintext nor hash',
      );
      const record = await lastAudit(store);
      assert.deepEqual(
        [record.action, record.entityType, record.entityId, record.after],
        ['create', 'consumer-key', created.key.id, created.key],
      );
    });

    test('finds the consumer of a valid key by its hash, and nothing for an unknown hash', async () => {
      const { store } = context;
      const created = await store.createKey('admin', 'keyed', { name: 'lookup' });
      context.secrets.push(created.plaintext);
      const match = await store.findConsumerByKeyHash(sha256(created.plaintext));
      assert.deepEqual(match, { keyId: created.key.id, consumer: await store.getConsumer('keyed') });
      assert.equal(await store.findConsumerByKeyHash(sha256('sk-sluice-not-a-key')), null);
      await rejectsWith(store.createKey('admin', 'no-such-consumer', { name: 'x' }), StoreNotFound);
    });

    test('an expired key is not found from its expiry on; `now` can be given', async () => {
      const { store, clock } = context;
      const created = await store.createKey('admin', 'keyed', { name: 'short-lived', expiresAt: clock.now() + 1_000 });
      context.secrets.push(created.plaintext);
      const hash = sha256(created.plaintext);
      assert.notEqual(await store.findConsumerByKeyHash(hash), null);
      assert.equal(await store.findConsumerByKeyHash(hash, clock.now() + 1_000), null, 'expired at its expiry');
      clock.advance(999);
      assert.notEqual(await store.findConsumerByKeyHash(hash), null);
      clock.advance(1);
      assert.equal(await store.findConsumerByKeyHash(hash), null);
    });

    test('a revoked key is not found; revoking again is a StoreConflict, revoking a missing key StoreNotFound', async () => {
      const { store, clock } = context;
      const created = await store.createKey('admin', 'keyed', { name: 'to-revoke' });
      context.secrets.push(created.plaintext);
      const revoked = await store.revokeKey('security@example.com', created.key.id);
      assert.deepEqual(revoked, { ...created.key, revokedAt: clock.now() });
      assert.equal(await store.findConsumerByKeyHash(sha256(created.plaintext)), null);
      const record = await lastAudit(store);
      assert.deepEqual(
        [record.action, record.actor, record.before, record.after],
        ['revoke', 'security@example.com', created.key, revoked],
      );
      await refusedWithoutTrace(
        store,
        () => store.revokeKey('admin', created.key.id),
        (promise) => rejectsWith(promise, StoreConflict, 'state'),
      );
      await rejectsWith(store.revokeKey('admin', 'no-such-key'), StoreNotFound);
    });

    test('rotation makes a new key at once and lets the old one work for the grace period only, in one change', async () => {
      const { store, clock } = context;
      const old = await store.createKey('admin', 'keyed', { name: 'rotating' });
      let rotated = old;
      const moved = await versionsMoved(store, async () => {
        rotated = await store.rotateKey('ops@example.com', old.key.id, 60);
      });
      context.secrets.push(old.plaintext, rotated.plaintext);
      assert.equal(moved, 1);
      assert.notEqual(rotated.plaintext, old.plaintext);
      assert.deepEqual([rotated.key.consumer, rotated.key.name, rotated.key.expiresAt], ['keyed', 'rotating', null]);
      const [rotation, creation] = (await store.listAudit({ limit: 2 })).items.reverse();
      assert.deepEqual(
        [rotation?.action, rotation?.entityId, rotation?.before, rotation?.after],
        ['rotate', old.key.id, old.key, { ...old.key, expiresAt: clock.now() + 60_000 }],
      );
      assert.deepEqual([creation?.action, creation?.entityId, creation?.after], ['create', rotated.key.id, rotated.key]);

      assert.equal((await store.findConsumerByKeyHash(sha256(old.plaintext)))?.keyId, old.key.id, 'the old key works during the grace');
      assert.equal((await store.findConsumerByKeyHash(sha256(rotated.plaintext)))?.keyId, rotated.key.id);
      clock.advance(60_000);
      assert.equal(await store.findConsumerByKeyHash(sha256(old.plaintext)), null, 'and not after it');
      assert.equal((await store.findConsumerByKeyHash(sha256(rotated.plaintext)))?.keyId, rotated.key.id);
    });

    test("rotation never lengthens an old key's life, refuses a revoked key, and refuses a negative grace", async () => {
      const { store, clock } = context;
      const soon = await store.createKey('admin', 'keyed', { name: 'soon', expiresAt: clock.now() + 10_000 });
      const next = await store.rotateKey('admin', soon.key.id, 3_600);
      context.secrets.push(soon.plaintext, next.plaintext);
      assert.equal((await store.listKeys('keyed')).find((key) => key.id === soon.key.id)?.expiresAt, clock.now() + 10_000);
      await store.revokeKey('admin', next.key.id);
      await rejectsWith(store.rotateKey('admin', next.key.id, 60), StoreConflict, 'state');
      await rejectsWith(store.rotateKey('admin', soon.key.id, -1), StoreInvalid);
      await rejectsWith(store.rotateKey('admin', 'no-such-key', 60), StoreNotFound);
    });

    test('touchKeys records last use in batches, never moving it back, with no audit record and no new config version', async () => {
      const { store, clock } = context;
      await store.createConsumer('admin', { name: 'busy' });
      const keys = [];
      for (let i = 0; i < 120; i++) keys.push(await store.createKey('admin', 'busy', { name: `k${i}` }));
      context.secrets.push(...keys.map((key) => key.plaintext));
      const at = clock.now() + 5_000;
      const lastUsed = new Map(keys.map((key, i) => [key.key.id, at + i]));
      lastUsed.set('no-such-key', at);
      let written = 0;
      const moved = await versionsMoved(store, async () => {
        written = await auditWritten(store, () => store.touchKeys(lastUsed));
      });
      assert.deepEqual([moved, written], [0, 0]);
      const listed = new Map((await store.listKeys('busy')).map((key) => [key.id, key.lastUsedAt]));
      for (const [i, key] of keys.entries()) assert.equal(listed.get(key.key.id), at + i);
      await store.touchKeys(
        new Map([
          [keys[0]!.key.id, at - 60_000],
          [keys[1]!.key.id, at + 60_000],
        ]),
      );
      const again = new Map((await store.listKeys('busy')).map((key) => [key.id, key.lastUsedAt]));
      assert.equal(again.get(keys[0]!.key.id), at, 'an older time is ignored');
      assert.equal(again.get(keys[1]!.key.id), at + 60_000);
      await store.touchKeys(new Map());
    });
  });

  describe('admin tokens', () => {
    test('a token is returned in plaintext once, listed without its hash, found by hash until revoked', async () => {
      const { store, clock } = context;
      const created = await store.createAdminToken('root', { name: 'ci', role: 'operator' });
      context.secrets.push(created.plaintext);
      assert.match(created.plaintext, /^sa-sluice-[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(created.token, {
        id: created.token.id,
        name: 'ci',
        role: 'operator',
        team: null,
        prefix: created.plaintext.slice(0, 12),
        createdAt: clock.now(),
        revokedAt: null,
      });
      const row = (await context.query('SELECT * FROM admin_tokens')).find((candidate) => candidate.id === created.token.id);
      assert.equal(row?.hash, sha256(created.plaintext));
      const listed = await store.listAdminTokens();
      assert.deepEqual(
        listed.find((token) => token.id === created.token.id),
        created.token,
      );
      assert.ok(!JSON.stringify(listed).includes(sha256(created.plaintext)));
      assert.deepEqual(await store.findAdminTokenByHash(sha256(created.plaintext)), created.token);
      assert.deepEqual((await lastAudit(store)).after, created.token);

      const revoked = await store.revokeAdminToken('root', created.token.id);
      assert.equal(revoked.revokedAt, clock.now());
      assert.equal(await store.findAdminTokenByHash(sha256(created.plaintext)), null);
      assert.deepEqual((await lastAudit(store)).before, created.token);
      await rejectsWith(store.revokeAdminToken('root', created.token.id), StoreConflict, 'state');
      await rejectsWith(store.revokeAdminToken('root', 'no-such-token'), StoreNotFound);
    });

    test('a team-owner token needs an existing team; other roles take none', async () => {
      const { store } = context;
      await rejectsWith(store.createAdminToken('root', { name: 'x', role: 'team-owner' }), StoreInvalid);
      await rejectsWith(store.createAdminToken('root', { name: 'x', role: 'viewer', team: 'team-full' }), StoreInvalid);
      await refusedWithoutTrace(
        store,
        () => store.createAdminToken('root', { name: 'x', role: 'team-owner', team: 'no-such-team' }),
        (promise) => rejectsWith(promise, StoreConflict, 'reference'),
      );
      for (const role of ['admin', 'viewer'] as const) {
        const created = await store.createAdminToken('root', { name: role, role });
        context.secrets.push(created.plaintext);
      }
    });

    test('a team with an unrevoked team-owner token cannot be deleted; once revoked, the token goes with the team', async () => {
      const { store } = context;
      await store.createTeam('root', { name: 'team-owned', owner: 'o' });
      const created = await store.createAdminToken('root', { name: 'owner', role: 'team-owner', team: 'team-owned' });
      context.secrets.push(created.plaintext);
      assert.equal(created.token.team, 'team-owned');
      await rejectsWith(store.deleteTeam('root', 'team-owned'), StoreConflict, 'reference');
      await store.revokeAdminToken('root', created.token.id);
      await store.deleteTeam('root', 'team-owned');
      assert.equal(
        (await store.listAdminTokens()).find((token) => token.id === created.token.id),
        undefined,
      );
      const [deletion] = await allAudit(store, { entityType: 'admin-token', entityId: created.token.id });
      assert.equal(deletion?.action, 'delete');
    });
  });
}
