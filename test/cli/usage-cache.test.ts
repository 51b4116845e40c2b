// `sluice usage` and `sluice report chargeback` run as a user runs them (the real CLI in a child process against a real
// Sluice): the prompt-cache writes and the response cache's savings that /api/usage and /api/reports/chargeback answer,
// on a ledger seeded through the store's own insert.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { withStoreOf } from '../support/director-stores.js';
import { cliFor, row } from '../support/cli.js';
import { ledgerRow } from '../support/ledger.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-cli-usage-cache';

describe('sluice usage and report chargeback show cache writes and savings', () => {
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;
  const period = new Date().toISOString().slice(0, 7);

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      // Never called: the calls are written straight into the ledger.
      providers: { anthropic: { type: 'anthropic', baseUrl: 'http://127.0.0.1:9', apiKey: 'sk-ant-not-real' } },
      models: [{ name: 'claude-sonnet', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] }],
      consumers: [],
    });
    cli = cliFor(sluice.adminURL, BOOTSTRAP);
    const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
    const at = Math.max(monthStart, Date.now() - 60_000);
    await withStoreOf(sluice, async (store) => {
      await store.insertTransactions([
        ledgerRow(1, { startedAt: at, inputTokens: 3_000, cacheWriteTokens: 2_500, cacheWrite1hTokens: 1_000, costMicroUsd: 12_375 }),
        ledgerRow(2, { startedAt: at + 1, team: 'discovery', consumer: 'search', costMicroUsd: 0, savedMicroUsd: 1_250_000 }),
        // Observed traffic no one has reconciled: no consumer, no team.
        ledgerRow(3, { startedAt: at + 2, team: null, consumer: null }),
      ]);
    });
  });

  after(async () => {
    await sluice?.stop();
  });

  test('sluice usage has CACHE WRITE, 1H and SAVED USD columns', async () => {
    const usage = await cli(['usage', '--bucket', 'month', '--group-by', 'team']);
    assert.equal(usage.code, 0, usage.stderr);
    const header = usage.stdout.split('\n')[0]!.split(/ {2,}/);
    assert.deepEqual(header.slice(-3), ['CACHE WRITE', 'CACHE WRITE 1H', 'SAVED USD']);
    const payments = usage.stdout.split('\n').find((line) => line.includes('team=payments'))!;
    assert.deepEqual(payments.split(/ {2,}/).slice(-3), ['2500', '1000', '0.000000']);
    const discovery = usage.stdout.split('\n').find((line) => line.includes('team=discovery'))!;
    assert.deepEqual(discovery.split(/ {2,}/).slice(-3), ['0', '0', '1.250000']);
  });

  test('sluice report chargeback has them per team and in the total', async () => {
    const report = await cli(['report', 'chargeback', '--period', period]);
    assert.equal(report.code, 0, report.stderr);
    const header = report.stdout.split('\n')[0]!.split(/ {2,}/);
    assert.deepEqual(header.slice(-3), ['CACHE WRITE', 'CACHE WRITE 1H', 'SAVED USD']);
    assert.deepEqual(row(report.stdout, 'payments')?.slice(-3), ['2500', '1000', '0.000000']);
    assert.deepEqual(row(report.stdout, 'discovery')?.slice(-3), ['0', '0', '1.250000']);
    assert.deepEqual(row(report.stdout, 'TOTAL')?.slice(-3), ['2500', '1000', '1.250000']);
  });

  test('a call of no team or consumer is named as the chargeback and the console name it, never "-"', async () => {
    const usage = await cli(['usage', '--bucket', 'month', '--group-by', 'team,consumer']);
    assert.equal(usage.code, 0, usage.stderr);
    assert.ok(
      usage.stdout.split('\n').some((line) => line.split(/ {2,}/)[1] === 'consumer=(unattributed) team=(no team)'),
      usage.stdout,
    );
    const drivers = await cli(['usage', 'drivers', '--group-by', 'team']);
    assert.equal(drivers.code, 0, drivers.stderr);
    assert.ok(row(drivers.stdout, 'team=(no team)') !== undefined, drivers.stdout);
    assert.ok(row((await cli(['report', 'chargeback'])).stdout, '(no team)') !== undefined);
  });
});
