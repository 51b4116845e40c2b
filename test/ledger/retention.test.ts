// ledger.retention as an operator meets it: `sluice check` refuses a retention shorter than the rows Sluice reads, and
// a director given one (here by a reload) deletes the ledger's old sealed rows in the background, while /api/usage still reports those
// periods from the rollups, /api/transactions lists what is kept, /api/compliance/chains verifies and names the pruned
// blocks, and /api/audit records the pruning.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { ChainKeeper } from '../../src/compliance/chain/keeper.js';
import { validateConfig } from '../../src/config/load.js';
import { BLOCK_ROWS } from '../../src/compliance/chain/sealer.js';
import { chainThread } from '../../src/compliance/chain/thread.js';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { openDirectorStore } from '../../src/store/open.js';
import { adminClient, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { emptyDir, runCli } from '../support/cli.js';
import { ledgerRow } from '../support/ledger.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';
import { scratchDir } from '../support/scratch.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const BOOTSTRAP = 'sa-bootstrap-retention-token-0001';

describe('ledger.retention in sluice check', () => {
  async function check(retention: string, extra = '') {
    const config = join(emptyDir(), 'sluice.yaml');
    writeFileSync(config, `ledger:\n  retention: { transactionsDays: ${retention} }\n${extra}`);
    return runCli(['check', '--config', config]);
  }

  test('refuses a retention shorter than a budget window reads, naming the budget and the shortest it takes', async () => {
    const refused = await check('20', 'budgets:\n  - { name: monthly-spend, measure: cost_usd, limit: 100, window: { rolling: 30d } }\n');
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /ledger\.retention\.transactionsDays: 20 days is shorter than the 60 days of raw ledger rows Sluice reads: budgets\[0\] \("monthly-spend", window \{ rolling: 30d \}.*set at least 60/,
    );
  });

  test("refuses one shorter than an assessment's period, and takes one long enough", async () => {
    const refused = await check('2', 'compliance: { periodHours: 72 }\n');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /shorter than the 3 days of raw ledger rows Sluice reads: compliance\.periodHours \(72/);
    const taken = await check('60', 'budgets:\n  - { name: monthly, measure: requests, limit: 100, window: month }\n');
    assert.equal(taken.code, 0, taken.stderr);
  });
});

describe('ledger.retention in a director', () => {
  const now = Date.now();
  /** Old calls: 100 days ago, sealed 99 days ago; recent ones: an hour ago, sealed by the director. */
  const oldHour = Math.floor((now - 100 * DAY) / HOUR) * HOUR;
  const OLD_ROWS = 2 * BLOCK_ROWS + 5;
  const RECENT_ROWS = 3;
  let sluice: TestSluice;
  let admin: AdminClient;

  before(async () => {
    const path = join(scratchDir('sluice-retention-'), 'sluice.db');
    const storage = `sqlite:${path}`;
    const store = await openDirectorStore(storage, { discovery: DISCOVERY_POLICY });
    const keeper = new ChainKeeper({ work: chainThread(storage), clock: () => now - 99 * DAY, logger: pino({ level: 'silent' }) });
    try {
      await store.insertTransactions(
        Array.from({ length: OLD_ROWS }, (_, i) => ledgerRow(i, { startedAt: oldHour + i, consumer: 'checkout-service' })),
      );
      await keeper.seal();
      await store.insertTransactions(
        Array.from({ length: RECENT_ROWS }, (_, i) => ledgerRow(OLD_ROWS + i, { startedAt: now - HOUR + i, consumer: 'checkout-service' })),
      );
    } finally {
      await keeper.close();
      await store.close();
    }
    sluice = await startTestSluice({
      ...OFFLINE_CATALOG,
      storage,
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      compliance: { sealIntervalSeconds: 1 },
    });
    admin = adminClient(sluice, BOOTSTRAP);
  });

  after(async () => {
    await sluice?.stop();
  });

  test('without a retention keeps every row; one set by a reload deletes the old sealed rows in the background', async () => {
    const ledgerChain = async () =>
      (await admin('GET', '/api/compliance/chains')).body.items.find((item: any) => item.chain === 'transactions');
    await until('the director sealed the recent rows', async () => (await ledgerChain()).unsealedRows === 0);
    await sluice.sluice.settled();
    assert.equal((await ledgerChain()).pruned, null, 'no retention: nothing pruned');
    const kept = await admin('GET', `/api/transactions?limit=10&to=${new Date(oldHour + HOUR).toISOString()}`);
    assert.equal(kept.body.items.length, 10, 'the old rows are all there');

    await sluice.sluice.reload(
      validateConfig({ ...sluice.config, ledger: { ...sluice.config.ledger, retention: { transactionsDays: 40 } } }, 'reloaded'),
    );
    let chains: any;
    await until('the retention pruned the old blocks', async () => {
      chains = (await admin('GET', '/api/compliance/chains')).body;
      return chains.items.find((item: any) => item.chain === 'transactions')?.pruned !== null;
    });
    const ledger = chains.items.find((item: any) => item.chain === 'transactions');
    assert.equal(ledger.broken, null);
    assert.deepEqual([ledger.pruned.throughBlock, ledger.pruned.prunedRows], [3, OLD_ROWS]);

    const from = new Date(oldHour).toISOString();
    const to = new Date(oldHour + HOUR).toISOString();
    const usage = await admin('GET', `/api/usage?from=${from}&to=${to}&bucket=hour`);
    assert.equal(usage.status, 200, JSON.stringify(usage.body));
    const [hour] = usage.body.items;
    assert.deepEqual([hour.calls, hour.inputTokens, hour.outputTokens], [OLD_ROWS, 10 * OLD_ROWS, 5 * OLD_ROWS]);

    const transactions = await admin('GET', '/api/transactions?limit=100');
    assert.equal(transactions.status, 200, JSON.stringify(transactions.body));
    assert.equal(transactions.body.items.length, RECENT_ROWS, 'only the rows kept are listed');

    const audit = await admin('GET', '/api/audit?entityType=ledger');
    assert.deepEqual(
      audit.body.items.map((record: any) => [record.actor, record.action, record.entityId]),
      [['retention', 'delete', 'transactions']],
    );
  });
});
