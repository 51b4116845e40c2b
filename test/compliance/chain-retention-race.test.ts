// Two directors on one PostgreSQL pruning the ledger at once: their deleting is serialized, one chunk at a time, so they
// never delete the same rows together. Two DELETEs over the same rows lock them in their plans' orders, which need not
// agree (a cached generic plan beside a fresh one): each holding a row the other waits for is a deadlock, an error in
// the log and a run's work lost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pino } from 'pino';
import { ChainKeeper, localChainWork } from '../../src/compliance/chain/keeper.js';
import { ChainPruner, PRUNE_ROWS_PER_DELETE } from '../../src/compliance/chain/pruner.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { ledgerRow } from '../support/ledger.js';
import { describeOnStore } from '../support/director-stores.js';
import { until } from '../support/until.js';

const OLD = 1_800_100_000_000;
const ROWS = 3 * PRUNE_ROWS_PER_DELETE;

describeOnStore('postgres', 'ledger retention: two directors on one PostgreSQL', (db) => {
  let first: DirectorStore;
  let second: DirectorStore;
  let client: pg.Client;

  before(async () => {
    first = await db.open({ discovery: DISCOVERY_POLICY });
    second = await db.open({ discovery: DISCOVERY_POLICY });
    client = new pg.Client({ connectionString: db.storage });
    await client.connect();
    await first.insertTransactions(Array.from({ length: ROWS }, (_, i) => ledgerRow(i, { startedAt: OLD - 60_000 + i })));
    const keeper = new ChainKeeper({ work: localChainWork(first.compliance), clock: () => OLD, logger: pino({ level: 'silent' }) });
    await keeper.seal();
    await first.insertTransactions([ledgerRow(90_000, { startedAt: OLD + 1 })]);
    // The first row's delete takes three seconds: the first director's first chunk holds its rows meanwhile.
    await client.query(`CREATE FUNCTION slow_first_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF OLD.id = 1 THEN PERFORM pg_sleep(3); END IF; RETURN OLD; END $$;
      CREATE TRIGGER slow_first_delete BEFORE DELETE ON transactions FOR EACH ROW EXECUTE FUNCTION slow_first_delete()`);
  });

  after(async () => {
    await client.end();
  });

  test('the second waits for the first chunk to end before deleting, and between them every row goes', async () => {
    const running = new ChainPruner(first.compliance).prune(OLD + 1, OLD + 2);
    // The first director is inside its first chunk's DELETE (the slow row).
    await until(
      "the first director's DELETE runs",
      async () =>
        (
          await client.query(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'DELETE FROM transactions%' AND state = 'active'",
          )
        ).rowCount === 1,
    );
    const racing = new ChainPruner(second.compliance).prune(OLD + 1, OLD + 2);
    // What the second director's connection waits on while the first's chunk runs.
    let waiting: { query: string; wait_event: string } | undefined;
    await until('the second director waits on a lock', async () => {
      const { rows } = await client.query<{ query: string; wait_event: string }>(
        `SELECT query, wait_event FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      waiting = rows[0];
      return waiting !== undefined;
    });
    assert.doesNotMatch(
      waiting!.query,
      /^DELETE/,
      `the second director's DELETE runs beside the first's, waiting on ${waiting!.wait_event}`,
    );
    const outcomes = await Promise.all([running, racing]);
    assert.equal(
      outcomes.reduce((sum, outcome) => sum + outcome.deletedRows, 0),
      ROWS,
    );
    const { rows } = await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM transactions');
    assert.equal(Number(rows[0]!.n), 1, "the ledger's newest row stays");
  });
});
