// Contract: teams and consumers, their audit records, references between them, filters and keyset pagination.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Consumer } from '../../../src/store/director-store.js';
import { StoreConflict, StoreInvalid, StoreNotFound } from '../../../src/store/errors.js';
import { allAudit, lastAudit, refusedWithoutTrace, rejectsWith, versionsMoved, type ContractContext } from './context.js';

export function directoryContract(context: ContractContext): void {
  describe('teams', () => {
    test('creates, reads, lists, updates and deletes a team, auditing each change with its before and after', async () => {
      const { store, clock } = context;
      const created = await store.createTeam('alice@example.com', { name: 'team-crud', owner: 'alice@example.com' });
      assert.deepEqual(created, { name: 'team-crud', owner: 'alice@example.com', createdAt: clock.now() });
      assert.deepEqual(await store.getTeam('team-crud'), created);
      assert.ok((await store.listTeams()).some((team) => team.name === 'team-crud'));
      const createdRecord = await lastAudit(store);
      assert.deepEqual(
        { ...createdRecord, id: 0 },
        {
          id: 0,
          at: clock.now(),
          actor: 'alice@example.com',
          action: 'create',
          entityType: 'team',
          entityId: 'team-crud',
          before: null,
          after: created,
        },
      );

      clock.advance(1_000);
      const updated = await store.updateTeam('bob@example.com', 'team-crud', { owner: 'bob@example.com' });
      assert.deepEqual(updated, { ...created, owner: 'bob@example.com' });
      assert.deepEqual(await store.getTeam('team-crud'), updated);
      const updateRecord = await lastAudit(store);
      assert.equal(updateRecord.action, 'update');
      assert.equal(updateRecord.actor, 'bob@example.com');
      assert.equal(updateRecord.at, clock.now());
      assert.deepEqual(updateRecord.before, created);
      assert.deepEqual(updateRecord.after, updated);

      await store.deleteTeam('carol@example.com', 'team-crud');
      assert.equal(await store.getTeam('team-crud'), null);
      const deleteRecord = await lastAudit(store);
      assert.deepEqual([deleteRecord.action, deleteRecord.before, deleteRecord.after], ['delete', updated, null]);
    });

    test('lists teams in byte order of their names', async () => {
      const { store } = context;
      for (const name of ['order-b', 'Order-C', 'order-a', 'order_a']) await store.createTeam('admin', { name, owner: 'o' });
      const names = (await store.listTeams()).map((team) => team.name).filter((name) => name.toLowerCase().startsWith('order'));
      assert.deepEqual(names, ['Order-C', 'order-a', 'order-b', 'order_a']);
    });

    test('refuses a second team of the same name with StoreConflict, leaving no trace', async () => {
      const { store } = context;
      await store.createTeam('admin', { name: 'team-dup', owner: 'first' });
      await refusedWithoutTrace(
        store,
        () => store.createTeam('admin', { name: 'team-dup', owner: 'second' }),
        (promise) => rejectsWith(promise, StoreConflict, 'duplicate'),
      );
      assert.equal((await store.getTeam('team-dup'))?.owner, 'first');
    });

    test('refuses deleting a team that still has consumers with StoreConflict; deletes it once they are gone', async () => {
      const { store } = context;
      await store.createTeam('admin', { name: 'team-busy', owner: 'o' });
      await store.createConsumer('admin', { name: 'busy-consumer', team: 'team-busy' });
      await refusedWithoutTrace(
        store,
        () => store.deleteTeam('admin', 'team-busy'),
        (promise) => rejectsWith(promise, StoreConflict, 'reference'),
      );
      assert.notEqual(await store.getTeam('team-busy'), null);
      await store.updateConsumer('admin', 'busy-consumer', { team: null });
      await store.deleteTeam('admin', 'team-busy');
      assert.equal(await store.getTeam('team-busy'), null);
    });

    test('reads of a missing team give null; changes to one give StoreNotFound', async () => {
      const { store } = context;
      assert.equal(await store.getTeam('no-such-team'), null);
      await rejectsWith(store.updateTeam('admin', 'no-such-team', { owner: 'x' }), StoreNotFound);
      await rejectsWith(store.deleteTeam('admin', 'no-such-team'), StoreNotFound);
    });
  });

  describe('consumers', () => {
    test('creates a consumer with defaults, and keeps labels and the models allow-list as given', async () => {
      const { store, clock } = context;
      const bare = await store.createConsumer('admin', { name: 'consumer-bare' });
      assert.deepEqual(bare, {
        name: 'consumer-bare',
        team: null,
        owner: null,
        labels: {},
        models: null,
        createdAt: clock.now(),
        updatedAt: clock.now(),
      });
      await store.createTeam('admin', { name: 'team-full', owner: 'o' });
      const input = {
        name: 'consumer-full',
        team: 'team-full',
        owner: 'dana@example.com',
        labels: { tier: 'critical', 'cost.center': '42 "x"' },
        models: ['gpt-4o-mini', 'claude-haiku'],
      };
      const full = await store.createConsumer('admin', input);
      assert.deepEqual(await store.getConsumer('consumer-full'), full);
      assert.deepEqual(full, { ...input, createdAt: clock.now(), updatedAt: clock.now() });
      assert.deepEqual((await lastAudit(store)).after, full);
      assert.equal(await store.getConsumer('no-such-consumer'), null);
    });

    test('updates only the fields a patch names; null clears team, owner and models', async () => {
      const { store, clock } = context;
      await store.createTeam('admin', { name: 'team-patch', owner: 'o' });
      const created = await store.createConsumer('admin', {
        name: 'consumer-patch',
        team: 'team-patch',
        owner: 'eve',
        labels: { a: '1' },
        models: ['m'],
      });
      clock.advance(5_000);
      const relabelled = await store.updateConsumer('frank', 'consumer-patch', { labels: { b: '2' } });
      assert.deepEqual(relabelled, { ...created, labels: { b: '2' }, updatedAt: clock.now() });
      const record = await lastAudit(store);
      assert.deepEqual([record.actor, record.action, record.before, record.after], ['frank', 'update', created, relabelled]);
      const cleared = await store.updateConsumer('frank', 'consumer-patch', { team: null, owner: null, models: null });
      assert.deepEqual(cleared, { ...relabelled, team: null, owner: null, models: null });
      assert.deepEqual(await store.getConsumer('consumer-patch'), cleared);
      await rejectsWith(store.updateConsumer('frank', 'no-such-consumer', { owner: 'x' }), StoreNotFound);
    });

    test('refuses a consumer in a team that does not exist (a foreign key) with StoreConflict, on create and update', async () => {
      const { store } = context;
      await refusedWithoutTrace(
        store,
        () => store.createConsumer('admin', { name: 'consumer-orphan', team: 'no-such-team' }),
        (promise) => rejectsWith(promise, StoreConflict, 'reference'),
      );
      assert.equal(await store.getConsumer('consumer-orphan'), null);
      await store.createConsumer('admin', { name: 'consumer-moving' });
      await refusedWithoutTrace(
        store,
        () => store.updateConsumer('admin', 'consumer-moving', { team: 'no-such-team' }),
        (promise) => rejectsWith(promise, StoreConflict, 'reference'),
      );
      assert.equal((await store.getConsumer('consumer-moving'))?.team, null);
    });

    test('refuses a second consumer of the same name with StoreConflict', async () => {
      const { store } = context;
      await store.createConsumer('admin', { name: 'consumer-dup', owner: 'first' });
      await refusedWithoutTrace(
        store,
        () => store.createConsumer('admin', { name: 'consumer-dup', owner: 'second' }),
        (promise) => rejectsWith(promise, StoreConflict, 'duplicate'),
      );
    });

    test('deleting a consumer deletes its keys with it, each deletion audited in the same change', async () => {
      const { store } = context;
      await store.createConsumer('admin', { name: 'consumer-doomed' });
      const first = await store.createKey('admin', 'consumer-doomed', { name: 'one' });
      const second = await store.createKey('admin', 'consumer-doomed', { name: 'two' });
      context.secrets.push(first.plaintext, second.plaintext);
      const moved = await versionsMoved(store, () => store.deleteConsumer('grace', 'consumer-doomed'));
      assert.equal(moved, 1, 'one change');
      assert.equal(await store.getConsumer('consumer-doomed'), null);
      assert.deepEqual(await store.listKeys('consumer-doomed'), []);
      for (const created of [first, second]) {
        const [record] = await allAudit(store, { entityType: 'consumer-key', entityId: created.key.id });
        assert.deepEqual([record?.action, record?.actor, record?.before, record?.after], ['delete', 'grace', created.key, null]);
      }
      await rejectsWith(store.deleteConsumer('admin', 'consumer-doomed'), StoreNotFound);
    });
  });

  describe('listing consumers', () => {
    /** Names whose byte order differs from a locale's: upper case first, punctuation where bytes put it. */
    const names = Array.from({ length: 23 }, (_, i) => `page-${['A', 'b', 'C', 'd', '_', '-', 'e'][i % 7]}${String(i).padStart(2, '0')}`);

    test('pages walk every consumer exactly once, in byte order of names, however the page size divides them', async () => {
      const { store } = context;
      await store.createTeam('admin', { name: 'team-pages', owner: 'o' });
      for (const [i, name] of names.entries()) {
        await store.createConsumer('admin', {
          name,
          team: 'team-pages',
          labels: { parity: i % 2 === 0 ? 'even' : 'odd', tier: i % 3 === 0 ? 'gold' : 'basic' },
        });
      }
      const expected = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const limit of [1, 5, 7, 23, 100]) {
        const seen: Consumer[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page: { items: Consumer[]; nextCursor: string | null } = await store.listConsumers({ team: 'team-pages', limit, cursor });
          assert.ok(page.items.length <= limit);
          seen.push(...page.items);
          cursor = page.nextCursor;
          pages++;
        } while (cursor !== null && pages < 100);
        assert.deepEqual(
          seen.map((consumer) => consumer.name),
          expected,
          `limit ${limit}`,
        );
        assert.equal(pages, Math.max(1, Math.ceil(names.length / limit)), `no empty last page at limit ${limit}`);
      }
    });

    test('filters by team and by labels, all of them matching, across pages', async () => {
      const { store } = context;
      const walk = async (filter: { team?: string; labels?: Record<string, string> }) => {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: { items: Consumer[]; nextCursor: string | null } = await store.listConsumers({ ...filter, limit: 4, cursor });
          seen.push(...page.items.map((consumer) => consumer.name));
          cursor = page.nextCursor;
        } while (cursor !== null);
        return seen.sort();
      };
      const labelled = (test: (i: number) => boolean) => names.filter((_, i) => test(i)).sort();
      assert.deepEqual(
        await walk({ team: 'team-pages', labels: { parity: 'even' } }),
        labelled((i) => i % 2 === 0),
      );
      assert.deepEqual(
        await walk({ labels: { parity: 'odd', tier: 'gold' } }),
        labelled((i) => i % 2 === 1 && i % 3 === 0),
      );
      assert.deepEqual(await walk({ labels: { parity: 'odd', tier: 'none' } }), []);
      assert.deepEqual(await walk({ labels: { 'cost.center': '42 "x"' } }), ['consumer-full']);
      assert.deepEqual(await walk({ team: 'no-such-team' }), []);
      assert.ok((await walk({})).length >= names.length, 'no filter lists everyone');
    });

    test('refuses a cursor it did not hand out, and a page size outside 1 to 1000, with StoreInvalid', async () => {
      const { store } = context;
      await rejectsWith(store.listConsumers({ cursor: 'not-a-cursor' }), StoreInvalid);
      await rejectsWith(store.listConsumers({ cursor: Buffer.from('[42]').toString('base64url') }), StoreInvalid);
      // A name no listing hands out: one with a NUL character, which PostgreSQL cannot even compare.
      await rejectsWith(store.listConsumers({ cursor: Buffer.from('["a\\u0000"]').toString('base64url') }), StoreInvalid);
      await rejectsWith(store.listConsumers({ limit: 0 }), StoreInvalid);
      await rejectsWith(store.listConsumers({ limit: 1001 }), StoreInvalid);
      const everyone = (await store.listConsumers({ limit: 1000 })).items.length;
      assert.equal((await store.listConsumers({})).items.length, Math.min(everyone, 100), 'the default page is 100');
    });
  });
}
