// ledger.retention on both stores: the ledger's rows of whole blocks sealed before the cut are deleted (never a row not
// yet sealed), the pruning is recorded and audited, the rollups stay, and the chain still verifies, trusting the pruned
// blocks' stored links, while a row deleted from a block that was not pruned is still named.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ChainKeeper } from '../../src/compliance/chain/keeper.js';
import { BLOCK_ROWS } from '../../src/compliance/chain/sealer.js';
import { chainThread } from '../../src/compliance/chain/thread.js';
import { verifyChain } from '../../src/compliance/chain/verify.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { ledgerRow } from '../support/ledger.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { storeSql } from '../support/store-sql.js';

/** The first rows' blocks are sealed at OLD, the later ones at RECENT; the retention's cut falls between. */
const OLD = 1_800_100_000_000;
const RECENT = OLD + 100 * 86_400_000;
const CUT = OLD + 50 * 86_400_000;
const OLD_ROWS = 2 * BLOCK_ROWS + 100;
const RECENT_ROWS = 50;
const UNSEALED_ROWS = 7;

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `ledger retention on ${storeKind}`, (db) => {
    let store: DirectorStore;
    let now = OLD;
    /** As a director does it: on the chains' thread, with its own connection. */
    let keeper: ChainKeeper;

    const query = (sql: string) => storeSql(db.storage, sql);

    const rowCount = async () => Number((await query('SELECT COUNT(*) AS n FROM transactions'))[0]!.n);
    const rollupCalls = async () => Number((await query('SELECT SUM(calls) AS n FROM usage_hourly'))[0]!.n);

    before(async () => {
      store = await db.open({ discovery: DISCOVERY_POLICY });
      keeper = new ChainKeeper({ work: chainThread(db.storage), clock: () => now, logger: pino({ level: 'silent' }) });
      await store.insertTransactions(Array.from({ length: OLD_ROWS }, (_, i) => ledgerRow(i)));
      now = OLD;
      await keeper.seal();
      await store.insertTransactions(
        Array.from({ length: RECENT_ROWS }, (_, i) => ledgerRow(OLD_ROWS + i, { startedAt: RECENT - 1000 + i })),
      );
      now = RECENT;
      await keeper.seal();
      await store.insertTransactions(
        Array.from({ length: UNSEALED_ROWS }, (_, i) => ledgerRow(90_000 + i, { startedAt: RECENT - 500 + i })),
      );
    });

    after(async () => {
      await keeper.close();
    });

    test('deletes the rows of the whole blocks sealed before the cut, records and audits it, and keeps the rollups', async () => {
      const callsBefore = await rollupCalls();
      const outcome = await keeper.prune(CUT);
      assert.deepEqual(
        [outcome.blocks, outcome.deletedRows, outcome.pruning?.throughBlock, outcome.pruning?.prunedRows],
        [3, OLD_ROWS, 3, OLD_ROWS],
      );
      assert.equal(await rowCount(), RECENT_ROWS + UNSEALED_ROWS);
      assert.equal(await rollupCalls(), callsBefore, 'the rollups keep every call');
      const [audited] = (await store.listAudit({ entityType: 'ledger', limit: 10 })).items;
      assert.deepEqual(
        [audited?.actor, audited?.action, audited?.entityId, (audited?.before as { throughBlock?: number } | null)?.throughBlock],
        ['retention', 'delete', 'transactions', 3],
      );
      // Nothing more is old enough: nothing recorded, nothing deleted.
      const again = await keeper.prune(CUT);
      assert.deepEqual([again.blocks, again.deletedRows, again.pruning?.throughBlock], [0, 0, 3]);
    });

    test('the chain verifies after pruning: the pruned blocks by their links, the others rehashed', async () => {
      const full = await keeper.verify('transactions');
      assert.equal(full.broken, null);
      assert.deepEqual(
        [full.blocks, full.sealedRows, full.rowsRehashed, full.unsealedRows, full.pruned?.throughBlock, full.pruned?.prunedRows],
        [4, OLD_ROWS + RECENT_ROWS, RECENT_ROWS, UNSEALED_ROWS, 3, OLD_ROWS],
      );
      assert.ok(full.anchorsChecked >= 2, 'the anchors of the pruned blocks are checked against their stored hashes');
      // An assessment's scoped verification: its rotation passes over the pruned blocks.
      const scoped = await keeper.verify('transactions', [], { newAfterBlock: 4, rotationFromBlock: 1, rotationRows: 1 });
      assert.deepEqual([scoped.broken, scoped.rowsRehashed], [null, RECENT_ROWS]);
      // The audit log holds the pruning's record, not sealed yet.
      const auditLog = await keeper.verify('audit_log');
      assert.deepEqual([auditLog.broken, auditLog.unsealedRows, auditLog.pruned], [null, 1, null]);
    });

    test("the last pruned block's hash rewritten is named, though its rows are gone", async () => {
      const [pruning] = await query("SELECT through_hash FROM chain_prunings WHERE chain = 'transactions'");
      const given = [{ block: 3, headHash: 'e'.repeat(64) }];
      const verification = await keeper.verify('transactions', given);
      assert.deepEqual([verification.broken?.kind, verification.broken?.block], ['anchor-mismatch', 3]);
      assert.equal((await keeper.verify('transactions', [{ block: 3, headHash: String(pruning!.through_hash) }])).broken, null);
    });

    test('never deletes a row not yet sealed, and the blocks sealed after a pruning link to the pruned ones', async () => {
      const outcome = await keeper.prune(RECENT + 1);
      assert.deepEqual([outcome.blocks, outcome.deletedRows, outcome.pruning?.throughBlock], [1, RECENT_ROWS, 4]);
      assert.equal(await rowCount(), UNSEALED_ROWS, 'the rows written since the last sealing stay');
      now = RECENT + 2;
      await keeper.seal();
      const verification = await keeper.verify('transactions');
      assert.deepEqual(
        [verification.broken, verification.blocks, verification.rowsRehashed, verification.unsealedRows],
        [null, 5, UNSEALED_ROWS, 0],
      );
      // The audit log, the prunings' records included, seals and verifies.
      assert.deepEqual((await keeper.verify('audit_log')).broken, null);
    });

    test('two directors pruning at once: one records the blocks, both delete, and the chain verifies', async () => {
      await store.insertTransactions(
        Array.from({ length: BLOCK_ROWS + 10 }, (_, i) => ledgerRow(100_000 + i, { startedAt: RECENT - 10_000 + i })),
      );
      now = RECENT + 3;
      await keeper.seal();
      const second = new ChainKeeper({ work: chainThread(db.storage), clock: () => now, logger: pino({ level: 'silent' }) });
      try {
        const outcomes = await Promise.all([keeper.prune(RECENT + 4), second.prune(RECENT + 4)]);
        // Blocks 5 (the 7 rows) and 6; block 7 holds the ledger's newest row, which is kept (pruner.ts says why).
        assert.equal(
          outcomes.reduce((sum, o) => sum + o.deletedRows, 0),
          UNSEALED_ROWS + BLOCK_ROWS,
        );
        assert.ok(outcomes.every((o) => o.pruning?.throughBlock === 6));
      } finally {
        await second.close();
      }
      assert.equal(await rowCount(), 10);
      assert.equal((await keeper.verify('transactions')).broken, null);
    });

    test("keeps the ledger's newest block, so that SQLite never hands out a pruned row's id again", async () => {
      const outcome = await keeper.prune(RECENT + 4);
      assert.deepEqual([outcome.blocks, outcome.deletedRows], [0, 0]);
      const [highest] = await query('SELECT MAX(id) AS id FROM transactions');
      await store.insertTransactions([ledgerRow(150_000, { startedAt: RECENT - 30_000 })]);
      const [next] = await query('SELECT MAX(id) AS id FROM transactions');
      assert.equal(Number(next!.id), Number(highest!.id) + 1);
    });

    test("keeps a pending discovered consumer's observations until it is resolved, and its usage then moves", async () => {
      await store.createTeam('admin', { name: 'payments', owner: 'alice@example.com' });
      await store.createConsumer('admin', { name: 'checkout', team: 'payments', owner: 'alice@example.com', labels: {} });
      const intake = await store.recordObservations([
        {
          observer: 'proxy-a',
          at: RECENT - 40_000,
          source: { ip: '10.70.0.1' },
          provider: 'openai',
          model: 'gpt-4o',
          calls: 3,
          costMicroUsd: 900,
        },
      ]);
      await store.insertTransactions(Array.from({ length: 5 }, (_, i) => ledgerRow(300_000 + i, { startedAt: RECENT - 41_000 + i })));
      now = RECENT + 6;
      await keeper.seal();
      // A newer row, so that the block just sealed is not the ledger's newest.
      await store.insertTransactions([ledgerRow(300_100, { startedAt: RECENT + 50_000 })]);
      const observed = async () =>
        Number((await query('SELECT COUNT(*) AS n FROM transactions WHERE discovered_consumer IS NOT NULL'))[0]!.n);
      const first = await keeper.prune(RECENT + 7);
      assert.ok(first.blocks > 0);
      assert.equal(await observed(), 1, 'the pending observation is kept');
      assert.equal((await keeper.verify('transactions')).broken, null);
      await store.resolveDiscoveredConsumer('admin', intake.consumers[0]!.id, { consumer: 'checkout' });
      const attributed = await query(
        "SELECT SUM(calls) AS n FROM usage_hourly WHERE consumer = 'checkout' AND provider = 'openai' AND provider_model = 'gpt-4o'",
      );
      assert.equal(Number(attributed[0]!.n), 3, 'its usage moved to the consumer in the rollups');
      const second = await keeper.prune(RECENT + 7);
      assert.deepEqual([second.blocks, second.deletedRows, await observed()], [0, 1, 0]);
      assert.equal((await keeper.verify('transactions')).broken, null);
    });

    test('a row deleted from a block that retention did not prune is still row-deleted', async () => {
      await store.insertTransactions(Array.from({ length: 20 }, (_, i) => ledgerRow(200_000 + i, { startedAt: RECENT + 20_000 + i })));
      now = RECENT + 8;
      await keeper.seal();
      const head = (await store.compliance.chainHead('transactions'))!;
      const id = head.lastRowId - 1;
      await query(`DELETE FROM transactions WHERE id = ${id}`);
      const broken = (await keeper.verify('transactions')).broken;
      assert.deepEqual([broken?.kind, broken?.rowId, broken?.block], ['row-deleted', id, head.block]);
      // Verified on this thread too (what /api/compliance/chains runs on a store without a thread of its own).
      assert.equal((await verifyChain(store.compliance, 'transactions')).broken?.kind, 'row-deleted');
    });

    // Last: chain_prunings is append-only, so the forged records stay.
    test('a pruning record that does not match the blocks it names is block-altered, not trusted', async () => {
      const head = (await store.compliance.chainHead('transactions'))!;
      const [sealed] = await query("SELECT SUM(row_count) AS n FROM chain_blocks WHERE chain = 'transactions'");
      const sealedRows = Number(sealed!.n);
      const forge = (through: { block: number; rowId: number; hash: string; rows: number }) =>
        query(`INSERT INTO chain_prunings (chain, through_block, through_row_id, through_hash, pruned_rows, sealed_before, pruned_at)
          VALUES ('transactions', ${through.block}, ${through.rowId}, '${through.hash}', ${through.rows}, ${CUT}, ${RECENT})`);
      // The newest block, its hash right, but a row range and a row count it does not have.
      await forge({ block: head.block, rowId: head.lastRowId - 5, hash: head.hash, rows: sealedRows - 5 });
      const range = (await keeper.verify('transactions')).broken;
      assert.deepEqual([range?.kind, range?.block], ['block-altered', head.block]);
      // Past the chain's end: every block would be trusted by its stored links, no hash compared.
      await forge({ block: head.block + 1_000, rowId: head.lastRowId + 1_000, hash: '0'.repeat(64), rows: sealedRows + 1 });
      const beyond = (await keeper.verify('transactions')).broken;
      assert.deepEqual([beyond?.kind, beyond?.block], ['block-altered', head.block + 1_000]);
      // Nor does the pruner delete by such a record: every row up to its made-up last row would go, unsealed ones too.
      const rowsBefore = await rowCount();
      await assert.rejects(keeper.prune(CUT), /does not match the chain's block/);
      assert.equal(await rowCount(), rowsBefore);
    });
  });
}

// A block's sealed_at is the sealing director's clock; its rows' started_at the gateways'. A director whose clock was
// behind when it sealed (or behind the gateways') stamps blocks older than their rows: the cut must hold for the rows too.
for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `ledger retention on ${storeKind}: a clock behind its rows', a run stopped halfway`, (db) => {
    let store: DirectorStore;
    let keeper: ChainKeeper;
    let now = OLD;

    before(async () => {
      store = await db.open({ discovery: DISCOVERY_POLICY });
      keeper = new ChainKeeper({ work: chainThread(db.storage), clock: () => now, logger: pino({ level: 'silent' }) });
    });

    after(async () => {
      await keeper.close();
    });

    test('keeps a block whose rows started after the cut, though its sealed_at is before it', async () => {
      // Calls of RECENT, sealed by a director whose clock said OLD.
      await store.insertTransactions(Array.from({ length: 10 }, (_, i) => ledgerRow(i, { startedAt: RECENT + i })));
      now = OLD;
      await keeper.seal();
      await store.insertTransactions([ledgerRow(10, { startedAt: RECENT + 100 })]);
      now = RECENT + 1_000;
      await keeper.seal();
      await store.insertTransactions([ledgerRow(11, { startedAt: RECENT + 2_000 })]);
      const outcome = await keeper.prune(CUT);
      assert.deepEqual([outcome.blocks, outcome.deletedRows, outcome.heldBy], [0, 0, { block: 1, newestStart: RECENT + 9 }]);
      assert.equal((await store.listTransactions({ limit: 100 })).items.length, 12);
    });

    test('a director stopped halfway through deleting (the pruning recorded, rows partly gone): no tampering named, the next run finishes', async () => {
      await store.insertTransactions(Array.from({ length: 30 }, (_, i) => ledgerRow(500 + i, { startedAt: OLD - 10_000 + i })));
      now = OLD;
      await keeper.seal();
      await store.insertTransactions([ledgerRow(600, { startedAt: OLD + 1 })]);
      const block = (await store.compliance.chainHead('transactions'))!;
      const links = await store.compliance.chainLinks('transactions', 0, 100);
      const sealedRows = links.reduce((sum, link) => sum + link.rowCount, 0);
      // What the pruner writes before it deletes anything, then the first rows of its deleting.
      await store.compliance.recordPruning(
        {
          chain: 'transactions',
          throughBlock: block.block,
          throughRowId: block.lastRowId,
          throughHash: block.hash,
          prunedRows: sealedRows,
          sealedBefore: CUT,
          prunedAt: RECENT,
        },
        'retention',
      );
      await store.compliance.deletePrunedRows(0, block.lastRowId, 12);
      for (const scope of [null, { newAfterBlock: 0, rotationFromBlock: 1, rotationRows: 1 }]) {
        const verification = await keeper.verify('transactions', [], scope);
        assert.deepEqual([verification.broken, verification.pruned?.throughBlock], [null, block.block]);
      }
      const outcome = await keeper.prune(CUT);
      assert.deepEqual([outcome.blocks, outcome.deletedRows], [0, sealedRows - 12]);
      assert.equal((await keeper.verify('transactions')).broken, null);
    });
  });
}
