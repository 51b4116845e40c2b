// GET /api/transactions and /api/audit in their default order (newest first) page by keyset from the cursor: a page deep
// in a large table seeks the time index from where the page before ended, never walking every newer row again, on
// SQLite (EXPLAIN QUERY PLAN, with the range its bound parameters give) and PostgreSQL (EXPLAIN ANALYZE of the statement
// with the very parameters the store binds).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DirectorStore } from '../../src/store/director-store.js';
import { POSTGRES } from '../../src/store/dialect.js';
import { openDirectorStore } from '../../src/store/open.js';
import type { Reader } from '../../src/store/sql/change.js';
import { listAudit } from '../../src/store/sql/audit.js';
import { statementCatalogue } from '../../src/store/sql/statements.js';
import { listTransactions } from '../../src/store/sql/transactions.js';
import { SQLITE } from '../../src/store/dialect.js';
import { ledgerRow } from '../support/ledger.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';

const ROWS = 20_000;
const PAGE = 100;
/** Where the cursor is: this many rows from the newest, deep in the table. */
const DEEP = 15_000;
const START = 1_800_000_000_000;

/** The statement and parameters a listing sends for a page, read through a session that answers nothing. */
async function boundFor(list: (read: Reader) => Promise<unknown>): Promise<{ name: string; params: unknown[] }> {
  let bound: { name: string; params: unknown[] } | undefined;
  const read = {
    session: {
      all: (name: string, params: unknown[]) => {
        bound = { name, params };
        return Promise.resolve([]);
      },
    },
    json: {},
  } as unknown as Reader;
  await list(read);
  return bound!;
}

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe(`time-order paging from a deep cursor on ${storeKind}`, () => {
    let database: TestDatabase | null = null;
    let dir = '';
    let storage = '';
    let store: DirectorStore;
    let cursor: string;
    let auditCursor: string;

    before(async () => {
      if (storeKind === 'postgres') database = await freshDatabase();
      else dir = mkdtempSync(join(tmpdir(), 'sluice-paging-plan-'));
      storage = database?.url ?? `sqlite:${join(dir, 'sluice.db')}`;
      store = await openDirectorStore(storage);
      // Three calls a millisecond, so the page boundary falls among rows of one start.
      for (let i = 0; i < ROWS; i += 5000)
        await store.insertTransactions(
          Array.from({ length: 5000 }, (_, j) => ledgerRow(i + j, { startedAt: START + Math.floor((i + j) / 3) })),
        );
      // The cursor after the DEEP newest rows: the last of a page of DEEP rows (1,000 at most a page).
      let page = await store.listTransactions({ limit: 1000 });
      for (let read = 1000; read < DEEP; read += 1000) page = await store.listTransactions({ limit: 1000, cursor: page.nextCursor });
      cursor = page.nextCursor!;
      assert.ok(cursor !== null);
      for (const name of ['one', 'two']) await store.createTeam('test', { name, owner: `${name}@example.com` });
      auditCursor = (await store.listAudit({ limit: 1 })).nextCursor!;
      assert.ok(auditCursor !== null);
      if (storeKind === 'postgres') {
        const client = new pg.Client({ connectionString: database!.url });
        await client.connect();
        await client.query('ANALYZE transactions');
        await client.end();
      }
    });

    after(async () => {
      await store.close();
      await database?.drop();
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    test('the page after the cursor is the next rows in order', async () => {
      const deep = await store.listTransactions({ limit: PAGE, cursor });
      const expected = Array.from({ length: PAGE }, (_, i) => ROWS - DEEP - 1 - i);
      assert.deepEqual(
        deep.items.map((item) => item.requestId),
        expected.map((i) => `req-${i}`),
      );
    });

    if (storeKind === 'sqlite') {
      test("SQLite seeks the start's index from the cursor: its range holds the page, not every newer row", async () => {
        const { name, params } = await boundFor((read) => listTransactions(read, { limit: PAGE, cursor }));
        const sql = statementCatalogue(SQLITE).get(name as never)!;
        const db = new Database(storage.slice('sqlite:'.length), { readonly: true });
        try {
          const plan = db
            .prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .all(...params)
            .map((row) => String((row as { detail: string }).detail));
          assert.deepEqual(
            plan,
            ['SEARCH transactions USING INDEX transactions_started_at (started_at>? AND started_at<?)'],
            plan.join('\n'),
          );
          // The index range is the plain bounds on the start, [from, to): the rows it holds are the rows the search walks.
          const bounds = sql.match(/started_at >= \? AND started_at < \?/);
          assert.ok(bounds !== null, sql);
          const at = sql.slice(0, bounds.index).split('?').length - 1;
          const [from, to] = [params[at], params[at + 1]];
          const { walked } = db
            .prepare('SELECT count(*) AS walked FROM transactions WHERE started_at >= ? AND started_at < ?')
            .get(from, to) as {
            walked: number;
          };
          assert.ok(
            walked <= ROWS - DEEP + 2,
            `the range [${String(from)}, ${String(to)}) walks ${walked} rows, not the ${ROWS - DEEP} from the cursor`,
          );
          assert.ok(walked >= ROWS - DEEP, `the range [${String(from)}, ${String(to)}) holds only ${walked} rows`);
          // The audit log's newest-first page has no upper bound but the cursor's: its range starts there.
          const audit = await boundFor((read) => listAudit(read, { limit: PAGE, cursor: auditCursor }));
          const auditPlan = db
            .prepare(`EXPLAIN QUERY PLAN ${statementCatalogue(SQLITE).get(audit.name as never)!}`)
            .all(...audit.params)
            .map((row) => String((row as { detail: string }).detail));
          assert.deepEqual(auditPlan, ['SEARCH audit_log USING INDEX audit_log_at (at>? AND at<?)'], auditPlan.join('\n'));
        } finally {
          db.close();
        }
      });
    }

    if (storeKind === 'postgres') {
      test('PostgreSQL scans the start index backward from the cursor, reading about one page of it', async () => {
        const client = new pg.Client({ connectionString: database!.url });
        await client.connect();
        try {
          {
            const { name, params } = await boundFor((read) => listTransactions(read, { limit: PAGE, cursor }));
            const sql = POSTGRES.bind(statementCatalogue(POSTGRES).get(name as never)!);
            for (const mode of ['force_custom_plan', 'force_generic_plan']) {
              await client.query(`SET plan_cache_mode = ${mode}`);
              const { rows } = await client.query<{ 'QUERY PLAN': string }>({
                name: `${name}:${mode}`,
                text: `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${sql}`,
                values: params,
              });
              const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
              assert.doesNotMatch(plan, /Seq Scan/, `${name} ${mode}:\n${plan}`);
              assert.match(plan, /Index Scan Backward using transactions_started_at/, `${name} ${mode}:\n${plan}`);
              {
                const scanned = /Index Scan Backward using transactions_started_at[^\n]*\n?[^\n]*?\(actual rows=(\d+)/.exec(plan);
                assert.ok(scanned !== null, plan);
                assert.ok(
                  Number(scanned[1]) <= PAGE + 3,
                  `${mode}: the index scan read ${scanned[1]} rows for a page of ${PAGE}:\n${plan}`,
                );
              }
            }
          }
        } finally {
          await client.end();
        }
      });
    }
  });
}
