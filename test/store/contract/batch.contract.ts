// Contract: a batch of admin changes is one transaction: all of it commits with one config version bump and an audit
// record per entity, or none of it does; a batch that writes nothing, and a dry run, leave the store as it was.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreConflict } from '../../../src/store/errors.js';
import { allAudit, rejectsWith, type ContractContext } from './context.js';

export function batchContract(context: ContractContext): void {
  describe('batches', () => {
    const snapshot = async () => ({
      version: await context.store.configVersion(),
      audit: (await allAudit(context.store, {})).length,
      team: await context.store.getTeam('batch-team'),
      consumer: await context.store.getConsumer('batch-consumer'),
    });

    test('a batch that fails part-way leaves nothing of what it did, not even its version bump', async () => {
      const before = await snapshot();
      await rejectsWith(
        context.store.batch('gitops', async (batch) => {
          await batch.createTeam({ name: 'batch-team', owner: 'o@example.com' });
          await batch.createConsumer({ name: 'batch-consumer', team: 'batch-team' });
          // A reference the store refuses: the whole batch goes.
          await batch.createConsumer({ name: 'batch-orphan', team: 'no-such-team' });
        }),
        StoreConflict,
        'reference',
      );
      assert.deepEqual(await snapshot(), before);
      await assert.rejects(
        context.store.batch('gitops', async (batch) => {
          await batch.createTeam({ name: 'batch-team', owner: 'o@example.com' });
          throw new Error('the caller found a problem');
        }),
        /the caller found a problem/,
      );
      assert.deepEqual(await snapshot(), before);
    });

    test('a dry run does and reads back everything, then rolls it back and answers what work returned', async () => {
      const before = await snapshot();
      const seen = await context.store.batch(
        'gitops',
        async (batch) => {
          await batch.createTeam({ name: 'batch-team', owner: 'o@example.com' });
          await batch.createConsumer({ name: 'batch-consumer', team: 'batch-team' });
          return (await batch.getConsumer('batch-consumer'))?.team;
        },
        { commit: false },
      );
      assert.equal(seen, 'batch-team', 'the batch reads its own writes');
      assert.deepEqual(await snapshot(), before);
    });

    test("a batch that succeeds commits every change, audited one by one as the batch's actor, with one version bump", async () => {
      const before = await snapshot();
      await context.store.batch('gitops', async (batch) => {
        await batch.createTeam({ name: 'batch-team', owner: 'o@example.com' });
        await batch.createConsumer({ name: 'batch-consumer', team: 'batch-team', models: null });
        await batch.updateTeam('batch-team', { owner: 'p@example.com' });
        await batch.createResource({ id: 'batch-provider/model', status: 'sanctioned' });
      });
      const after = await snapshot();
      assert.equal(after.version, before.version + 1);
      assert.equal(after.team?.owner, 'p@example.com');
      assert.equal(after.consumer?.team, 'batch-team');
      const records = (await allAudit(context.store, { actor: 'gitops' })).slice(0, 4).reverse();
      assert.deepEqual(
        records.map((record) => [record.action, record.entityType, record.entityId]),
        [
          ['create', 'team', 'batch-team'],
          ['create', 'consumer', 'batch-consumer'],
          ['update', 'team', 'batch-team'],
          ['create', 'resource', 'batch-provider/model'],
        ],
      );
    });

    test('a batch that writes nothing commits nothing: no version bump', async () => {
      await context.store.batch('gitops', async (batch) => {
        if ((await batch.getTeam('batch-idle-team')) === null) await batch.createTeam({ name: 'batch-idle-team', owner: 'o@example.com' });
      });
      const before = await snapshot();
      const seen = await context.store.batch('gitops', async (batch) => {
        const team = await batch.getTeam('batch-idle-team');
        if (team === null) await batch.createTeam({ name: 'batch-idle-team', owner: 'o@example.com' });
        return team?.owner;
      });
      assert.equal(seen, 'o@example.com', "work's result is answered all the same");
      assert.deepEqual(await snapshot(), before);
    });
  });
}
