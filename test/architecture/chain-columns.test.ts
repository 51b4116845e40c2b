// The hash chains' contract with the schema: every column of a sealed table (the ledger, the audit log), as the
// migrations leave it, is hashed by the newest row layout or deliberately excluded, so a column added by a migration is
// never silently outside the chain; and the layouts already shipped never change, or the blocks sealed with them would
// stop verifying. Checked on SQLite: both databases take the same migrations.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CHAIN_NAMES, type ChainName } from '../../src/store/compliance-store.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { openDirectorStore } from '../../src/store/open.js';
import { CHAIN_COLUMNS, CHAIN_EXCLUDED_COLUMNS } from '../../src/store/sql/compliance-statements.js';
import { scratchDir } from '../support/scratch.js';

/** The ledger's first layout: schema version 12's columns. */
const LEDGER_LAYOUT_1 = [
  'id',
  'request_id',
  'started_at',
  'operation',
  'api',
  'consumer',
  'team',
  'requested_model',
  'provider',
  'provider_model',
  'stream',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'cache_write_tokens',
  'tokens_estimated',
  'cost_micro_usd',
  'latency_ms',
  'time_to_first_token_ms',
  'status',
  'error_class',
  'attempts',
  'served_model',
  'violations',
  'calls',
  'discovered_consumer',
];

/** The layouts shipped, as they were: a new layout is added at the end, and added here once it ships. */
const SHIPPED: Readonly<Record<ChainName, ReadonlyArray<readonly string[]>>> = {
  transactions: [
    LEDGER_LAYOUT_1,
    [...LEDGER_LAYOUT_1, 'identity', 'saved_micro_usd', 'cache_write_1h_tokens', 'web_searches', 'file_searches', 'service_tier'],
  ],
  audit_log: [['id', 'at', 'actor', 'action', 'entity_type', 'entity_id', 'before_json', 'after_json']],
};

/** A table's columns that the newest layout leaves out and nobody excluded. */
function unhashedColumns(
  tableColumns: readonly string[],
  layouts: ReadonlyArray<readonly string[]>,
  excluded: readonly string[],
): string[] {
  const hashed = new Set([...(layouts[layouts.length - 1] ?? []), ...excluded]);
  return tableColumns.filter((column) => !hashed.has(column));
}

let store: DirectorStore;
let path = '';

before(async () => {
  path = join(scratchDir('sluice-chain-columns-'), 'sluice.db');
  // Opening applies every migration.
  store = await openDirectorStore(`sqlite:${path}`);
});

after(async () => {
  await store.close();
});

function tableColumns(table: ChainName): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as Array<{ name: string }>).map((row) => row.name);
  } finally {
    db.close();
  }
}

for (const chain of CHAIN_NAMES) {
  test(`every column of ${chain} is in its newest row layout, or excluded on purpose`, () => {
    const columns = tableColumns(chain);
    assert.ok(columns.length > 0);
    assert.deepEqual(
      unhashedColumns(columns, CHAIN_COLUMNS[chain], CHAIN_EXCLUDED_COLUMNS[chain]),
      [],
      `add them as a new row layout in src/store/sql/compliance-statements.ts (or to CHAIN_EXCLUDED_COLUMNS, saying why)`,
    );
    // And nothing hashed or excluded that the table does not have.
    for (const column of [...CHAIN_COLUMNS[chain].at(-1)!, ...CHAIN_EXCLUDED_COLUMNS[chain]]) assert.ok(columns.includes(column), column);
  });

  test(`the row layouts of ${chain} already shipped are unchanged, and each holds the one before it`, () => {
    const layouts = CHAIN_COLUMNS[chain];
    for (const [index, shipped] of SHIPPED[chain].entries()) assert.deepEqual(layouts[index], shipped, `layout ${index + 1}`);
    for (let n = 1; n < layouts.length; n++) assert.deepEqual(layouts[n]!.slice(0, layouts[n - 1]!.length), layouts[n - 1]);
    for (const layout of layouts) assert.equal(new Set(layout).size, layout.length, 'no column twice');
  });
}

test('a column a migration adds in no layout is caught', () => {
  const layouts = CHAIN_COLUMNS.transactions;
  const columns = [...layouts.at(-1)!, 'carbon_grams'];
  assert.deepEqual(unhashedColumns(columns, layouts, []), ['carbon_grams']);
  assert.deepEqual(unhashedColumns(columns, layouts, ['carbon_grams']), []);
  assert.deepEqual(unhashedColumns(columns, [...layouts, [...layouts.at(-1)!, 'carbon_grams']], []), []);
});
