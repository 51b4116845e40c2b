// Every column of a ledger row is under the hash chain, the ones added after the chains first shipped (schema version 12)
// included, on both stores: a director's verification, as an auditor calls it, names a row whose searches, saving,
// service tier, 1-hour cache writes or identity were changed in the database. Blocks sealed before that, over version
// 12's columns, still verify, in a chain that goes on with blocks over every column.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { pino } from 'pino';
import { ChainKeeper } from '../../src/compliance/chain/keeper.js';
import { chainThread } from '../../src/compliance/chain/thread.js';
import { verifyChain } from '../../src/compliance/chain/verify.js';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { SQLITE } from '../../src/store/dialect.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from '../../src/store/migrations/index.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { openDirectorStore } from '../../src/store/open.js';
import { ledgerRow } from '../support/ledger.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { storeSql } from '../support/store-sql.js';
import { KEYS, type TestSluice } from '../support/sluice.js';
import { scratchDir } from '../support/scratch.js';

/**
 * The block a director of version 18 sealed over the three rows the tests below write first: its head hash and row
 * digests as that version's sealer computed them, taken from a run of it over those rows.
 */
const PINNED_HEAD = '0e923c8d81eeb9a5e14c39ac00e1e3b17434615f0e849f3dd1bf1c0adc1fa59d';
const PINNED_DIGESTS = '1:509f2af53bef0983 2:3e6e82dc4276ed7e 3:159e5a34de18203e';

const BOOTSTRAP = 'sa-bootstrap-chain-columns-test-0123456789';

/** The ledger's columns added since the chains shipped, each with a value someone might write into a sealed row. */
const LATER_COLUMNS: ReadonlyArray<readonly [column: string, forged: string | number]> = [
  ['web_searches', 3],
  ['saved_micro_usd', 999_999],
  ['file_searches', 2],
  ['service_tier', 'flex'],
  ['cache_write_1h_tokens', 700],
  ['identity', 'key:forged'],
  ['cost_nano_usd', 123_456],
  ['saved_nano_usd', 654_321],
  ['reasoning_tokens', 4_321],
];

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `every ledger column under the chain, on ${storeKind}`, (db) => {
    let mock: MockProvider;
    let sluice: TestSluice;
    let auditor = '';

    async function api(method: string, path: string, token: string): Promise<{ status: number; body: any; text: string }> {
      const response = await fetch(`${sluice.adminURL}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : JSON.parse(text), text };
    }

    async function ledgerChain(): Promise<any> {
      const answer = await api('GET', '/api/compliance/chains', auditor);
      assert.equal(answer.status, 200, answer.text);
      return answer.body.items.find((chain: any) => chain.chain === 'transactions');
    }

    before(async () => {
      mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
      sluice = await db.startSluice(
        BOOTSTRAP,
        {
          providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
          models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], pricing: { input: 0.15, output: 0.6 } }],
          compliance: { intervalMinutes: 7 * 24 * 60, sealIntervalSeconds: 3600 },
        },
        { complianceSchedule: false },
      );
    });

    after(async () => {
      await sluice.stop();
      await mock.close();
    });

    test('a sealed row whose searches, saving, tier, 1-hour cache writes or identity were changed is named', async () => {
      const made = await fetch(`${sluice.adminURL}/api/admin-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'auditor', role: 'viewer' }),
      });
      assert.equal(made.status, 201);
      auditor = ((await made.json()) as { plaintext: string }).plaintext;
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      for (let i = 0; i < 3; i++)
        await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      await sluice.sluice.settled();
      // An assessment seals what was written up to its start.
      assert.equal((await api('POST', '/api/compliance/assessments', BOOTSTRAP)).status, 201);
      const sealed = await ledgerChain();
      assert.equal(sealed.broken, null);
      assert.ok(sealed.sealedRows >= 3);
      const target = sealed.lastSealedRowId;
      // SQL straight to the database, as someone with access to it but not to Sluice would run it.
      const storage = db.besides(sluice);
      for (const [column, forged] of LATER_COLUMNS) {
        const [row] = await storeSql(storage, `SELECT ${column} AS value FROM transactions WHERE id = $1`, [target]);
        await storeSql(storage, `UPDATE transactions SET ${column} = $1 WHERE id = $2`, [forged, target]);
        const broken = (await ledgerChain()).broken;
        assert.deepEqual([broken?.kind, broken?.rowId], ['row-modified', target], `${column} changed in a sealed row`);
        assert.equal(broken.detail, `transactions row ${target} was changed after it was sealed in block ${broken.block}`);
        await storeSql(storage, `UPDATE transactions SET ${column} = $1 WHERE id = $2`, [row!.value, target]);
        assert.equal((await ledgerChain()).broken, null, `${column} set back verifies again`);
      }
    });
  });

  describeOnStore(storeKind, `a chain sealed before every column was hashed, going on after, on ${storeKind}`, (db) => {
    let store: DirectorStore;
    let keeper: ChainKeeper;
    const sql = (text: string) => storeSql(db.storage, text);

    before(async () => {
      store = await db.open({ discovery: DISCOVERY_POLICY });
      keeper = new ChainKeeper({ work: chainThread(db.storage), clock: Date.now, logger: pino({ level: 'silent' }) });
    });

    after(async () => {
      await keeper.close();
    });

    test('old blocks verify over their columns, new ones over every column, and a change in either is named', async () => {
      await store.insertTransactions([
        ledgerRow(1),
        ledgerRow(2, { consumer: 'search', costMicroUsd: null, latencyMs: 0.1 + 0.2 }),
        ledgerRow(3, { status: 429, errorClass: 'rate_limited' }),
      ]);
      // The block and anchor a director of the previous version sealed over these rows (its chain_blocks had no layout
      // column), as it wrote them: its hashes, computed by that version, taken as they were.
      const head = PINNED_HEAD;
      await sql(`INSERT INTO chain_blocks (chain, block, after_row_id, last_row_id, row_count, row_digests, previous_hash, hash, sealed_at)
        VALUES ('transactions', 1, 0, 3, 3, '${PINNED_DIGESTS}', '${'0'.repeat(64)}',
        '${head}', 1800000100000)`);
      await sql(`INSERT INTO chain_anchors (chain, block, head_hash, sealed_rows, last_row_id, anchored_at)
        VALUES ('transactions', 1, '${head}', 3, 3, 1800000100000)`);
      assert.equal((await keeper.verify('transactions')).broken, null);

      await store.insertTransactions([ledgerRow(4), ledgerRow(5, { webSearches: 1, serviceTier: 'priority' })]);
      const [ledger] = await keeper.seal();
      assert.deepEqual([ledger!.blocks, ledger!.rows], [1, 2]);
      const blocks = await store.compliance.chainBlocks('transactions', 0, 10);
      assert.deepEqual(
        blocks.map((block) => [block.block, block.rowLayout]),
        [
          [1, 1],
          [2, 5],
        ],
        'the old block keeps its layout; the new one has the current',
      );
      const clean = await keeper.verify('transactions', [{ block: 1, headHash: head }]);
      assert.deepEqual([clean.broken, clean.blocks, clean.sealedRows, clean.rowsRehashed], [null, 2, 5, 5]);

      const broken = async (scope: { rotationFromBlock: number } | null = null) =>
        (
          await keeper.verify(
            'transactions',
            [],
            scope === null ? null : { newAfterBlock: 2, rotationFromBlock: scope.rotationFromBlock, rotationRows: 1 },
          )
        ).broken;
      // A column of version 12, changed in the old block and in the new: named, by the full verification and by an
      // assessment's rotation through that block.
      for (const [id, block] of [
        [2, 1],
        [5, 2],
      ] as const) {
        await sql(`UPDATE transactions SET cost_micro_usd = 1 WHERE id = ${id}`);
        for (const found of [await broken(), await broken({ rotationFromBlock: block })])
          assert.deepEqual([found?.kind, found?.rowId, found?.block], ['row-modified', id, block]);
        await sql(`UPDATE transactions SET cost_micro_usd = ${id === 2 ? 'NULL' : '42'} WHERE id = ${id}`);
        assert.equal(await broken(), null);
      }
      // A column added later: the new block covers it; the old block was sealed without it, and still verifies.
      await sql('UPDATE transactions SET web_searches = 9, saved_micro_usd = 5 WHERE id = 5');
      for (const found of [await broken(), await broken({ rotationFromBlock: 2 })])
        assert.deepEqual([found?.kind, found?.rowId, found?.block], ['row-modified', 5, 2]);
      await sql('UPDATE transactions SET web_searches = 1, saved_micro_usd = 0 WHERE id = 5');
      await sql('UPDATE transactions SET web_searches = 9 WHERE id = 2');
      assert.equal(await broken(), null, 'version 12 columns only, in blocks sealed over them');
      await sql('UPDATE transactions SET web_searches = 0 WHERE id = 2');

      // A block's layout is part of its hash: set back to the old one, the block no longer matches.
      await dropAppendOnly();
      await sql(`UPDATE chain_blocks SET row_layout = 1 WHERE chain = 'transactions' AND block = 2`);
      assert.equal((await broken())?.block, 2);
      await sql(`UPDATE chain_blocks SET row_layout = 99 WHERE chain = 'transactions' AND block = 2`);
      const unknown = await broken();
      assert.deepEqual([unknown?.kind, unknown?.block], ['block-altered', 2]);
      assert.match(unknown!.detail, /row layout 99/);
      await sql(`UPDATE chain_blocks SET row_layout = 5 WHERE chain = 'transactions' AND block = 2`);
      assert.equal((await verifyChain(store.compliance, 'transactions')).broken, null);
    });

    async function dropAppendOnly(): Promise<void> {
      await sql(
        db.postgres === null
          ? 'DROP TRIGGER IF EXISTS chain_blocks_no_update'
          : 'DROP TRIGGER IF EXISTS chain_blocks_no_change ON chain_blocks',
      );
    }
  });
}

test('a SQLite file sealed by version 18, append-only triggers in place, upgrades and its chain goes on verifying', async () => {
  const path = join(scratchDir('sluice-chain-upgrade-'), 'sluice.db');
  const old = new Database(path);
  old.exec(SCHEMA_MIGRATIONS_TABLE);
  for (const migration of MIGRATIONS.filter((m) => m.version <= 18)) {
    old.exec(migration.sql(SQLITE));
    old
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(migration.version, migration.name, 'then');
  }
  // ledgerRow(1), ledgerRow(2, ...) and ledgerRow(3, ...) of the test above, as version 18 wrote them.
  const insert = old.prepare(`INSERT INTO transactions (request_id, started_at, operation, api, consumer, team, requested_model, provider,
    provider_model, stream, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, tokens_estimated, cost_micro_usd,
    latency_ms, status, error_class, attempts) VALUES (?, ?, 'chat', 'openai', ?, 'payments', 'gpt-4o-mini', 'openai',
    'gpt-4o-mini-2024-07-18', 0, 10, 5, 0, 0, 0, ?, ?, ?, ?, 1)`);
  insert.run('req-1', 1_800_000_000_001, 'checkout', 42, 12.5, 200, null);
  insert.run('req-2', 1_800_000_000_002, 'search', null, 0.1 + 0.2, 200, null);
  insert.run('req-3', 1_800_000_000_003, 'checkout', 42, 12.5, 429, 'rate_limited');
  old.exec(`INSERT INTO chain_blocks (chain, block, after_row_id, last_row_id, row_count, row_digests, previous_hash, hash, sealed_at)
    VALUES ('transactions', 1, 0, 3, 3, '${PINNED_DIGESTS}', '${'0'.repeat(64)}', '${PINNED_HEAD}', 1800000100000)`);
  old.exec(`INSERT INTO chain_anchors (chain, block, head_hash, sealed_rows, last_row_id, anchored_at)
    VALUES ('transactions', 1, '${PINNED_HEAD}', 3, 3, 1800000100000)`);
  old.close();

  const store = await openDirectorStore(`sqlite:${path}`, { discovery: DISCOVERY_POLICY });
  try {
    const [block] = await store.compliance.chainBlocks('transactions', 0, 1);
    assert.equal(block!.rowLayout, 1);
    assert.equal((await verifyChain(store.compliance, 'transactions', [{ block: 1, headHash: PINNED_HEAD }])).broken, null);
    await store.insertTransactions([ledgerRow(4, { webSearches: 2 })]);
    const keeper = new ChainKeeper({ work: chainThread(`sqlite:${path}`), clock: Date.now, logger: pino({ level: 'silent' }) });
    try {
      await keeper.seal();
      const verified = await keeper.verify('transactions', [{ block: 1, headHash: PINNED_HEAD }]);
      assert.deepEqual([verified.broken, verified.blocks, verified.sealedRows], [null, 2, 4]);
    } finally {
      await keeper.close();
    }
    // The append-only rule still holds on the blocks after the new column.
    const db = new Database(path);
    try {
      assert.throws(() => db.exec("UPDATE chain_blocks SET row_layout = 1 WHERE chain = 'transactions' AND block = 2"), /append-only/);
    } finally {
      db.close();
    }
  } finally {
    await store.close();
  }
});
