// ledger.retention's deleting, chunk by chunk: each chunk takes up where the one before stopped, so the pending
// discovered consumer's observations it keeps (at the lowest ids) are passed over once per run, not once per chunk: a
// pruning of N rows over P kept ones walks some N + P rows of the primary key, not N / 5,000 times P more.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import pg from 'pg';
import { pino } from 'pino';
import { ChainKeeper, localChainWork } from '../../src/compliance/chain/keeper.js';
import { ChainPruner, PRUNE_ROWS_PER_DELETE } from '../../src/compliance/chain/pruner.js';
import type { ComplianceStore } from '../../src/store/compliance-store.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { POSTGRES, SQLITE } from '../../src/store/dialect.js';
import { complianceStatements } from '../../src/store/sql/compliance-statements.js';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { ledgerRow } from '../support/ledger.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { storeSql } from '../support/store-sql.js';

const OLD = 1_800_100_000_000;
/** Observations of a pending discovered consumer, at the ledger's lowest ids: kept by every pruning. */
const KEPT = 2 * PRUNE_ROWS_PER_DELETE;
/** Rows the pruning deletes, after them: four chunks and a last one that finds nothing. */
const DELETED = 4 * PRUNE_ROWS_PER_DELETE;

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `ledger retention's chunks on ${storeKind}`, (db) => {
    let store: DirectorStore;

    const query = (sql: string) => storeSql(db.storage, sql);

    const ids = async (after: number, through: number) =>
      (await query(`SELECT id FROM transactions WHERE id > ${after} AND id <= ${through} ORDER BY id`)).map((row) => Number(row.id));

    before(async () => {
      store = await db.open({ discovery: DISCOVERY_POLICY });
      const intake = await store.recordObservations([
        {
          observer: 'proxy-a',
          at: OLD - 90_000,
          source: { ip: '10.70.0.9' },
          provider: 'openai',
          model: 'gpt-4o',
          calls: 1,
          costMicroUsd: 5,
        },
      ]);
      const pending = intake.consumers[0]!.id;
      // More of its observations, as rows the reconciliation reads: ledger rows naming the pending consumer.
      await store.insertTransactions(Array.from({ length: KEPT - 1 }, (_, i) => ledgerRow(i, { startedAt: OLD - 80_000 + i })));
      await query(`UPDATE transactions SET discovered_consumer = ${pending}`);
      await store.insertTransactions(Array.from({ length: DELETED }, (_, i) => ledgerRow(KEPT + i, { startedAt: OLD - 60_000 + i })));
      const keeper = new ChainKeeper({ work: localChainWork(store.compliance), clock: () => OLD, logger: pino({ level: 'silent' }) });
      await keeper.seal();
      // A newer row, so that the last block sealed is not the ledger's newest.
      await store.insertTransactions([ledgerRow(90_000, { startedAt: OLD + 1 })]);
    });

    after(async () => {});

    test('each chunk starts after the last row the one before deleted: the rows kept are passed over once', async () => {
      const compliance = store.compliance;
      const before = await ids(0, Number.MAX_SAFE_INTEGER);
      assert.equal(before.length, KEPT + DELETED + 1);
      // The primary key's range each chunk walks: from its lower bound (none: the first id) up to the last row it deleted,
      // or to its upper bound when it deleted nothing. Counted from the rows there before the chunk.
      let walked = 0;
      let chunks = 0;
      const counting = new Proxy(compliance, {
        get(target, name, receiver) {
          if (name !== 'deletePrunedRows') return Reflect.get(target, name, receiver) as unknown;
          return async (...args: number[]) => {
            const [lower, upper] = args.length === 3 ? [args[0]!, args[1]!] : [0, args[0]!];
            const present = await ids(lower, upper);
            const result = (await (target.deletePrunedRows as (...a: number[]) => Promise<unknown>)(...args)) as unknown;
            const left = new Set(await ids(lower, upper));
            const gone = present.filter((id) => !left.has(id));
            const reached = gone.length === 0 ? upper : gone[gone.length - 1]!;
            walked += present.filter((id) => id <= reached).length;
            chunks++;
            return result;
          };
        },
      }) as ComplianceStore;
      const outcome = await new ChainPruner(counting).prune(OLD + 1, OLD + 2);
      assert.equal(outcome.deletedRows, DELETED);
      assert.equal((await ids(0, Number.MAX_SAFE_INTEGER)).length, KEPT + 1, 'the observations and the newest row stay');
      assert.ok(chunks >= DELETED / PRUNE_ROWS_PER_DELETE);
      assert.ok(walked <= KEPT + DELETED, `the chunks walked ${walked} rows of the primary key for ${DELETED} deleted past ${KEPT} kept`);
    });

    if (storeKind === 'postgres') {
      test("PostgreSQL walks only the chunk's range of the primary key, never the whole ledger", async () => {
        await store.insertTransactions(Array.from({ length: DELETED }, (_, i) => ledgerRow(100_000 + i, { startedAt: OLD + 10 + i })));
        await query('ANALYZE transactions');
        const sql = POSTGRES.bind(complianceStatements(POSTGRES).chainPrunedRowsDelete);
        const params = sql.match(/\$\d+/g)!.length;
        // (after, through, limit), the lower bound given as often as the statement names it.
        const values = [...Array.from({ length: params - 2 }, () => 0), KEPT + DELETED, PRUNE_ROWS_PER_DELETE];
        const client = new pg.Client({ connectionString: db.postgres!.url });
        await client.connect();
        try {
          for (const mode of ['force_custom_plan', 'force_generic_plan']) {
            await client.query(`SET plan_cache_mode = ${mode}`);
            const { rows } = await client.query<{ 'QUERY PLAN': string }>({ name: mode, text: `EXPLAIN ${sql}`, values });
            const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
            assert.doesNotMatch(plan, /Seq Scan on transactions/, `${mode}:\n${plan}`);
          }
        } finally {
          await client.end();
        }
      });
    }

    if (storeKind === 'sqlite') {
      test("SQLite walks only the chunk's range of the primary key", () => {
        const sqlite = new Database(db.sqlitePath);
        try {
          const sql = complianceStatements(SQLITE).chainPrunedRowsDelete;
          const params = sql.split('?').length - 1;
          const plan = sqlite
            .prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .all(...Array.from({ length: params }, () => 1))
            .map((row) => String((row as { detail: string }).detail));
          assert.ok(
            plan.some((detail) => /SEARCH t USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/.test(detail)),
            plan.join('\n'),
          );
        } finally {
          sqlite.close();
        }
      });
    }
  });
}
