// The hash chains over the ledger and the audit log, on both stores: sealing in blocks, verification from the first
// block, and each way a row or the chain itself can be tampered with, named by table and row; the attribution that
// reconciliation gives observed rows later does not break the chain.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { ChainKeeper } from '../../src/compliance/chain/keeper.js';
import { BLOCK_ROWS } from '../../src/compliance/chain/sealer.js';
import { CHAINS_NICE, chainThread } from '../../src/compliance/chain/thread.js';
import { hashPage, rowHash } from '../../src/compliance/chain/links.js';
import { verifyChain } from '../../src/compliance/chain/verify.js';
import type { DirectorStore, JsonValue } from '../../src/store/director-store.js';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { ledgerRow } from '../support/ledger.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { storeSql } from '../support/store-sql.js';

const call = ledgerRow;

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `hash chains on ${storeKind}`, (db) => {
    let store: DirectorStore;
    /** Sealing as a director does it: on the chains' thread, with its own connection to the database. */
    let sealer: ChainKeeper;
    const logged: Array<Record<string, unknown>> = [];

    /** SQL straight to the database, as someone with access to it but not to Sluice would run it. */
    async function tamper(sql: string): Promise<void> {
      await storeSql(db.storage, sql);
    }

    /** Drops a table's append-only triggers, as someone with the database's owner rights could. */
    async function dropAppendOnly(table: string): Promise<void> {
      if (db.postgres === null) {
        await tamper(`DROP TRIGGER IF EXISTS ${table}_no_update; DROP TRIGGER IF EXISTS ${table}_no_delete;`);
      } else {
        await tamper(`DROP TRIGGER IF EXISTS ${table}_no_change ON ${table}`);
      }
    }

    async function broken(chain: 'transactions' | 'audit_log') {
      return (await sealer.verify(chain)).broken;
    }

    before(async () => {
      store = await db.open({ discovery: DISCOVERY_POLICY });
      const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
      sealer = new ChainKeeper({ work: chainThread(db.storage), clock: Date.now, logger });
    });

    after(async () => {
      await sealer.close();
    });

    test('seals the ledger in blocks and the audit log, verifies both, and logs each anchor', async () => {
      await store.insertTransactions(Array.from({ length: BLOCK_ROWS + 10 }, (_, i) => call(i)));
      await store.createTeam('admin', { name: 'payments', owner: 'alice@example.com' });
      await store.createConsumer('admin', {
        name: 'checkout',
        team: 'payments',
        owner: 'alice@example.com',
        labels: { tier: 'critical', env: 'prod' },
      });
      const outcomes = await sealer.seal();
      const ledger = outcomes.find((o) => o.chain === 'transactions')!;
      assert.deepEqual([ledger.blocks, ledger.rows], [2, BLOCK_ROWS + 10]);
      const audit = outcomes.find((o) => o.chain === 'audit_log')!;
      assert.deepEqual([audit.blocks, audit.rows], [1, 2]);
      for (const chain of ['transactions', 'audit_log'] as const) {
        const verification = await verifyChain(store.compliance, chain);
        assert.equal(verification.broken, null);
        assert.equal(verification.unsealedRows, 0);
        assert.equal(verification.anchorsChecked, 1);
      }
      const anchorLine = logged.find((line) => line.msg === 'compliance chain anchored' && line.chain === 'transactions');
      assert.equal(anchorLine?.sealedRows, BLOCK_ROWS + 10);
      assert.equal(anchorLine?.headHash, (await store.compliance.listAnchors('transactions', 1))[0]!.headHash);
      // Nothing new: nothing sealed, no new anchor.
      assert.deepEqual(
        (await sealer.seal()).map((o) => o.rows),
        [0, 0],
      );
    });

    test('rows written after a sealing are counted as unsealed until the next', async () => {
      await store.insertTransactions([call(90_001), call(90_002)]);
      const before = await verifyChain(store.compliance, 'transactions');
      assert.deepEqual([before.broken, before.unsealedRows], [null, 2]);
      await sealer.seal();
      const sealed = await verifyChain(store.compliance, 'transactions');
      assert.deepEqual([sealed.broken, sealed.unsealedRows, sealed.anchorsChecked], [null, 0, 2]);
    });

    test('an observed row attributed later by reconciliation still verifies: the attribution is audited, not chained', async () => {
      const intake = await store.recordObservations([
        {
          observer: 'proxy-a',
          at: 1_800_000_500_000,
          source: { ip: '10.70.0.1' },
          provider: 'openai',
          model: 'gpt-4o',
          calls: 3,
          costMicroUsd: 900,
        },
      ]);
      await sealer.seal();
      await store.resolveDiscoveredConsumer('admin', intake.consumers[0]!.id, { consumer: 'checkout' });
      await sealer.seal();
      assert.equal(await broken('transactions'), null);
      assert.equal(await broken('audit_log'), null);
    });

    test('an anchor kept outside the database catches a chain cut short, which the stored anchors cannot', async () => {
      const [kept] = await store.compliance.listAnchors('transactions', 1);
      const given = [{ block: kept!.block, headHash: kept!.headHash }];
      assert.equal((await verifyChain(store.compliance, 'transactions', given)).broken, null);
      const wrong = (await verifyChain(store.compliance, 'transactions', [{ block: kept!.block, headHash: 'e'.repeat(64) }])).broken;
      assert.equal(wrong?.detail, `transactions: the anchor given for block ${kept!.block} does not match the chain`);
      // Someone able to drop the append-only rules removes the last block and its anchor: what is left verifies.
      await dropAppendOnly('chain_blocks');
      await dropAppendOnly('chain_anchors');
      await tamper(`DELETE FROM chain_anchors WHERE chain = 'transactions' AND block = ${kept!.block}`);
      await tamper(`DELETE FROM chain_blocks WHERE chain = 'transactions' AND block = ${kept!.block}`);
      const cut = await verifyChain(store.compliance, 'transactions');
      assert.equal(cut.broken, null);
      assert.ok(cut.unsealedRows > 0, 'its rows count as not sealed yet');
      const caught = (await verifyChain(store.compliance, 'transactions', given)).broken;
      assert.equal(caught?.kind, 'anchor-mismatch');
      assert.match(caught!.detail, /past the chain's end/);
      // Sealed again, the same rows make the same block.
      await sealer.seal();
      assert.equal((await verifyChain(store.compliance, 'transactions', given)).broken, null);
    });

    test("a stored anchor past the chain's end names the blocks removed behind it, until they are sealed again", async () => {
      const [kept] = await store.compliance.listAnchors('transactions', 1);
      // Someone able to drop the append-only rule removes the last block, but not its anchor.
      await dropAppendOnly('chain_blocks');
      await tamper(`DELETE FROM chain_blocks WHERE chain = 'transactions' AND block = ${kept!.block}`);
      const cut = (await verifyChain(store.compliance, 'transactions')).broken;
      assert.deepEqual([cut?.kind, cut?.block], ['anchor-mismatch', kept!.block]);
      assert.equal(
        cut?.detail,
        `transactions: the anchor taken at ${new Date(kept!.anchoredAt).toISOString()} for block ${kept!.block} is past the chain's end (block ${kept!.block - 1}): blocks were removed`,
      );
      // Sealed again, the same rows make the same block, which the anchor names.
      await sealer.seal();
      assert.equal((await verifyChain(store.compliance, 'transactions')).broken, null);
    });

    test('a scoped verification rehashes the new blocks and a rotation of older ones, and checks every link', async () => {
      const full = await verifyChain(store.compliance, 'transactions');
      assert.equal(full.rowsRehashed, full.sealedRows);
      const last = full.blocks;
      assert.ok(last >= 3, 'blocks to rotate through');
      const scoped = (rotationFromBlock: number, newAfterBlock = last) =>
        verifyChain(store.compliance, 'transactions', [], { newAfterBlock, rotationFromBlock, rotationRows: 1 });
      // Nothing new; a rotation of one block (the first always, whatever its rows) from block 1.
      const first = await scoped(1);
      assert.deepEqual(
        [first.broken, first.rowsRehashed, first.nextRotationBlock, first.blocks, first.sealedRows, first.headHash],
        [null, BLOCK_ROWS, 2, last, full.sealedRows, full.headHash],
      );
      await tamper('UPDATE transactions SET cost_micro_usd = 1 WHERE id = 17');
      // A rotation past block 1 does not see its changed row; the one through it does, and so does any block taken as new.
      const past = await scoped(2);
      assert.deepEqual([past.broken, past.rowsRehashed, past.nextRotationBlock], [null, 10, 3]);
      const through = await scoped(1);
      assert.deepEqual([through.broken?.kind, through.broken?.rowId, through.broken?.block], ['row-modified', 17, 1]);
      assert.deepEqual([(await scoped(last, 0)).broken?.rowId], [17]);
      await tamper('UPDATE transactions SET cost_micro_usd = 42 WHERE id = 17');
      // A rotation that reaches the blocks taken as new starts again from block 1 next time.
      assert.equal((await scoped(last, last - 1)).nextRotationBlock, 1);
      // Every block's stored link is checked whatever the scope: a block's previous hash rewritten.
      await dropAppendOnly('chain_blocks');
      await tamper(`UPDATE chain_blocks SET previous_hash = '${'d'.repeat(64)}' WHERE chain = 'transactions' AND block = 2`);
      const link = await scoped(last);
      assert.deepEqual([link.broken?.kind, link.broken?.block], ['block-altered', 2]);
      await tamper(
        `UPDATE chain_blocks SET previous_hash = (SELECT hash FROM chain_blocks WHERE chain = 'transactions' AND block = 1)
          WHERE chain = 'transactions' AND block = 2`,
      );
      assert.equal((await verifyChain(store.compliance, 'transactions')).broken, null);
    });

    test('a changed ledger row is named', async () => {
      await tamper('UPDATE transactions SET cost_micro_usd = 1 WHERE id = 17');
      const found = await broken('transactions');
      assert.deepEqual([found?.kind, found?.rowId, found?.block], ['row-modified', 17, 1]);
      assert.equal(found?.detail, 'transactions row 17 was changed after it was sealed in block 1');
      await tamper('UPDATE transactions SET cost_micro_usd = 42 WHERE id = 17');
      assert.equal(await broken('transactions'), null, 'the original value verifies again');
    });

    test('a removed ledger row is named, and a forged row put in its place', async () => {
      const removed = { id: (await store.compliance.chainRows('transactions', BLOCK_ROWS + 4, BLOCK_ROWS + 10, 1, 1)).ids[0]! };
      await tamper(`DELETE FROM transactions WHERE id = ${removed.id}`);
      assert.deepEqual(Object.values((({ kind, rowId }) => ({ kind, rowId }))((await broken('transactions'))!)), [
        'row-deleted',
        removed.id,
      ]);
      // Another row under the same id.
      await tamper(`INSERT INTO transactions (id, request_id, started_at, operation, api, stream, input_tokens, output_tokens,
        cached_input_tokens, cache_write_tokens, tokens_estimated, latency_ms, status, attempts)
        ${storeKind === 'postgres' ? 'OVERRIDING SYSTEM VALUE ' : ''}VALUES (${removed.id}, 'forged', 1800000000000, 'chat', 'openai', 0, 1, 1, 0, 0, 0, 1, 200, 1)`);
      const found = await broken('transactions');
      assert.deepEqual([found?.kind, found?.rowId], ['row-modified', removed.id]);
    });

    test('an audit record changed behind the append-only rule is named', async () => {
      // The audit log refuses updates; someone able to drop the rule first is still caught.
      await dropAppendOnly('audit_log');
      const first = { id: (await store.compliance.chainRows('audit_log', 0, 1_000, 1, 1)).ids[0]! };
      await tamper(`UPDATE audit_log SET actor = 'someone-else' WHERE id = ${first!.id}`);
      const found = await broken('audit_log');
      assert.deepEqual([found?.kind, found?.rowId], ['row-modified', first!.id]);
      assert.match(found!.detail, new RegExp(`^audit_log row ${first!.id} was changed`));
    });

    test('a rewritten block or anchor is named', async () => {
      await dropAppendOnly('chain_anchors');
      await tamper(`UPDATE chain_anchors SET head_hash = '${'f'.repeat(64)}' WHERE chain = 'audit_log'`);
      await tamper(`UPDATE audit_log SET actor = 'admin' WHERE actor = 'someone-else'`);
      const anchor = await broken('audit_log');
      assert.equal(anchor?.kind, 'anchor-mismatch');
      await dropAppendOnly('chain_blocks');
      await tamper(`UPDATE chain_blocks SET row_count = row_count + 1 WHERE chain = 'audit_log' AND block = 1`);
      const block = await broken('audit_log');
      assert.deepEqual([block?.kind, block?.block], ['block-altered', 1]);
    });

    test(
      "the chains' thread runs nicer than the threads that serve calls, while it works",
      // Lowered from 0: a suite run under nice would start the thread at its own value.
      { skip: process.platform !== 'linux' || getPriority() !== 0 ? 'needs Linux and a process at nice 0' : false },
      async () => {
        await store.insertTransactions([call(80_001)]);
        // The thread lives for a second after its last piece of work: read the process's threads while it is up.
        await sealer.seal();
        const during = threadNiceValues();
        assert.equal(during.get(process.pid), 0, 'the main thread keeps its priority');
        const lowered = [...during].filter(([, nice]) => nice === CHAINS_NICE);
        assert.equal(lowered.length, 1, `one thread at nice ${CHAINS_NICE}: ${JSON.stringify([...during])}`);
        assert.equal([...during].filter(([, nice]) => nice !== 0).length, 1, 'no other thread is lowered');
      },
    );

    test('on SQLite a row is hashed alike whether read as one JSON array or as raw values', { skip: storeKind !== 'sqlite' }, async () => {
      // Doubles that need all 17 digits, the smallest and largest, integers past 2^53, and text JSON must escape.
      const latencies = [0.1 + 0.2, 1 / 3, 5e-324, 1.7976931348623157e308, 123456.78901234567, -0.5, 2 ** 53 + 2, 1e21, 7];
      const texts = ['quote " backslash \\ newline \n tab \t', '\u0001\u001f\u007f é 🦊 \u2028 \u2029', '{"not":"json"}', ''];
      await store.insertTransactions(
        latencies.map((latencyMs, i) =>
          call(70_000 + i, {
            latencyMs,
            timeToFirstTokenMs: i % 2 === 0 ? null : latencyMs / 7,
            errorClass: texts[i % texts.length]!,
            consumer: texts[(i + 1) % texts.length]!,
            costMicroUsd: i === 0 ? Number.MAX_SAFE_INTEGER : i,
          }),
        ),
      );
      const horizon = await store.compliance.chainHorizon('transactions');
      const page = await store.compliance.chainRows(
        'transactions',
        horizon - latencies.length,
        horizon,
        100,
        store.compliance.chainRowLayout('transactions'),
      );
      assert.equal(page.ids.length, latencies.length);
      // The same columns read by better-sqlite3 as raw values, as sealing did before it read JSON.
      const sqlite = new Database(db.sqlitePath, { readonly: true });
      let raw: JsonValue[][];
      try {
        const select = page.columns.map((name) =>
          name === 'consumer' || name === 'team' ? `CASE WHEN discovered_consumer IS NULL THEN ${name} END` : name,
        );
        raw = sqlite
          .prepare(`SELECT ${select.join(', ')} FROM transactions WHERE id > ? ORDER BY id`)
          .raw(true)
          .all(horizon - latencies.length) as JsonValue[][];
      } finally {
        sqlite.close();
      }
      assert.deepEqual(page.rows, raw);
      assert.deepEqual(hashPage('transactions', page), hashPage('transactions', { ...page, rows: raw }));
      // And the audit log's JSON columns: parsed alike.
      await store.createTeam('admin', { name: 'odd \u0001 "team"', owner: 'x@example.com' });
      const auditHorizon = await store.compliance.chainHorizon('audit_log');
      const audit = await store.compliance.chainRows('audit_log', auditHorizon - 1, auditHorizon, 10, 1);
      assert.equal((audit.rows[0]![audit.columns.indexOf('after_json')] as { name: string }).name, 'odd \u0001 "team"');
    });
  });
}

// Chains sealed by earlier versions must still verify: a row's hash is pinned, whatever makes computing it faster.
test("a row's hash is what it always was (canonical JSON, sorted keys, nested values, escapes)", () => {
  const ledger = {
    id: 7,
    request_id: 'req-7',
    started_at: 1800000000007,
    consumer: 'checkout',
    team: null,
    cost_micro_usd: 42,
    latency_ms: 12.5,
    stream: 0,
    note: 'quote " backslash \\ newline \n tab \t é 🦊 \u2028',
    z: true,
    a: false,
  };
  const audit = {
    id: 3,
    actor: 'admin',
    before_json: null,
    after_json: {
      name: 'payments',
      labels: { tier: 'critical', env: 'prod' },
      list: [3, 'x', { b: 1, a: [null, true] }],
      empty: {},
      none: [],
    },
    at: 1,
  };
  const expected = {
    ledger: 'f828231a9b75b0856b312527fb5dd0901fafc77eb16bc59f9c6ccc5e79a9bb08',
    audit: 'ba2ae6d128e53c83a73728c6d14b54908531a1911ed253fb6ff52fb0d96ccf9b',
  };
  assert.equal(rowHash('transactions', ledger), expected.ledger);
  assert.equal(rowHash('audit_log', audit), expected.audit);
  // Hashed a page of rows read as arrays (one layout for the page's columns), as sealing and verification do, alike;
  // the columns in another order than the object's keys.
  const columns = ['z', ...Object.keys(ledger).filter((key) => key !== 'z')];
  const values = (row: Record<string, JsonValue>) => columns.map((column) => row[column]!);
  const rows = [ledger, { ...ledger, note: 'other' }, { ...ledger, team: 'x', stream: 1 }];
  const hashes = hashPage('transactions', { columns, ids: [7, 8, 9], rows: rows.map(values) });
  assert.deepEqual(
    hashes,
    rows.map((row) => rowHash('transactions', row)),
  );
  assert.equal(hashes[0], expected.ledger);
  assert.deepEqual(hashPage('transactions', { columns, ids: [7, 8, 9], rows: rows.map(values) }, 1, 3), hashes.slice(1));
});

/** Each thread of this process by its id, with its nice value (/proc/self/task/<tid>/stat, field 19). */
function threadNiceValues(): Map<number, number> {
  const values = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended while listed
    }
    // The command name, in parentheses, may hold spaces: the fields are counted from after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    values.set(Number(tid), Number(fields[16]));
  }
  return values;
}
