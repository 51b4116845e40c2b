// Rows put back inside a range ledger.retention pruned (a restore, an insert naming old ids): verification names them
// (row-in-pruned-range), where it checks a pruned block by its links alone. Rows retention itself leaves there (a pending
// discovered consumer's observations, rows a pruning has yet to delete) are rows sealed there, unchanged: not named.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ChainKeeper, localChainWork } from '../../src/compliance/chain/keeper.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { ledgerRow } from '../support/ledger.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { storeSql } from '../support/store-sql.js';

const OLD = 1_800_100_000_000;
const ROWS = 30;
/** Deleted before the sealing: an id block 1's range holds but it did not seal. */
const NEVER_SEALED = 5;

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `ledger retention on ${storeKind}: rows put back in a pruned range`, (db) => {
    let store: DirectorStore;
    let keeper: ChainKeeper;

    const query = async (sql: string): Promise<void> => void (await storeSql(db.storage, sql));

    /** Restores `ids` from the copy taken before the pruning, as a restore of a backup would. */
    const restore = (ids: number[]) =>
      query(
        `INSERT INTO transactions ${db.postgres === null ? '' : 'OVERRIDING SYSTEM VALUE'} SELECT * FROM backup WHERE id IN (${ids.join(', ')})`,
      );

    const verify = async () => {
      const full = await keeper.verify('transactions');
      const scoped = await keeper.verify('transactions', [], { newAfterBlock: 2, rotationFromBlock: 1, rotationRows: 1 });
      assert.deepEqual(scoped.broken, full.broken, 'an assessment finds it too');
      return full;
    };

    before(async () => {
      store = await db.open({ discovery: DISCOVERY_POLICY });
      keeper = new ChainKeeper({ work: localChainWork(store.compliance), clock: () => OLD, logger: pino({ level: 'silent' }) });
      await store.insertTransactions(Array.from({ length: ROWS }, (_, i) => ledgerRow(i, { startedAt: OLD - 60_000 + i })));
      await query(`CREATE TABLE backup AS SELECT * FROM transactions; DELETE FROM transactions WHERE id = ${NEVER_SEALED}`);
      await keeper.seal();
      await store.insertTransactions([ledgerRow(90_000, { startedAt: OLD + 1 })]);
      const outcome = await keeper.prune(OLD + 1);
      assert.deepEqual([outcome.pruning?.throughBlock, outcome.deletedRows], [1, ROWS - 1]);
    });

    after(async () => {
      await keeper.close();
    });

    test('a row restored as it was sealed is not named (the next pruning deletes it again)', async () => {
      await restore([3]);
      const verification = await verify();
      assert.deepEqual([verification.broken, verification.pruned?.throughBlock], [null, 1]);
      await query('DELETE FROM transactions WHERE id = 3');
    });

    test('a row put in at an id the pruned block did not seal is named', async () => {
      await restore([NEVER_SEALED]);
      const broken = (await verify()).broken;
      assert.deepEqual([broken?.kind, broken?.block, broken?.rowId], ['row-in-pruned-range', 1, NEVER_SEALED]);
      assert.match(broken!.detail, /inside pruned block 1/);
      await query(`DELETE FROM transactions WHERE id = ${NEVER_SEALED}`);
    });

    test('a row put back changed is named', async () => {
      await restore([7]);
      await query('UPDATE transactions SET cost_micro_usd = 1 WHERE id = 7');
      const broken = (await verify()).broken;
      assert.deepEqual([broken?.kind, broken?.block, broken?.rowId], ['row-in-pruned-range', 1, 7]);
      await query('DELETE FROM transactions WHERE id = 7');
      assert.equal((await verify()).broken, null);
    });
  });
}
