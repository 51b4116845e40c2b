// A forecast from a single day of history has nothing to measure its spread by: one day says what a day cost, not how
// much days vary. The admin API, `sluice report forecast` and the OpenAPI document say the high end is unknown (null)
// rather than answer a range of zero width, as if the month's end were certain.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../src/ledger/transaction.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { openDirectorStore } from '../../src/store/open.js';
import { adminClient, type AdminClient } from '../support/admin-client.js';
import { cliFor, row } from '../support/cli.js';
import { ledgerRow } from '../support/ledger.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-forecast-short-history-01';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const USD = 1_000_000;

function call(startedAt: number, costMicroUsd: number): Transaction {
  return ledgerRow(0, { requestId: `short-history-${startedAt}`, startedAt, consumer: 'checkout-service', costMicroUsd });
}

describe('a forecast from one day of history', () => {
  let sluice: TestSluice;
  let ledger: DirectorStore;
  let admin: AdminClient;
  // The ledger began at midnight yesterday: one full day of history, its calls of 1 to 3 USD.
  const today = Math.floor(Date.now() / DAY) * DAY;
  const yesterday = today - DAY;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    admin = adminClient(sluice, TOKEN);
    ledger = await openDirectorStore(`sqlite:${sluice.dbPath}`);
    const calls: Transaction[] = [];
    for (let hour = 0; hour < 24; hour += 1) calls.push(call(yesterday + hour * HOUR, ((hour % 3) + 1) * USD));
    await ledger.insertTransactions(calls);
  });

  after(async () => {
    await ledger?.close();
    await sluice?.stop();
  });

  test("the API: a projection at the one day's rate, the spend so far as the low end, and no high end (null), not low == high", async () => {
    const answer = await admin('GET', '/api/forecast');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    for (const line of [answer.body.overall, answer.body.teams.find((t: { team: string }) => t.team === 'payments')]) {
      assert.deepEqual([line.method, line.historyDays], ['flat-mean', 1], JSON.stringify(line));
      assert.ok(line.forecast.microUsd > line.actualToDate.microUsd, JSON.stringify(line));
      assert.equal(line.low.microUsd, line.actualToDate.microUsd, 'spend already made is the only certain bound');
      assert.equal(line.high, null, `one day gives no spread to bound the month by: ${JSON.stringify(line)}`);
    }
    const doc = (await (await fetch(`${sluice.adminURL}/api/openapi.json`)).json()) as any;
    const high = doc.components.schemas.MonthForecast.properties.high;
    assert.deepEqual(
      high,
      { anyOf: [{ $ref: '#/components/schemas/Money' }, { type: 'null' }] },
      'the OpenAPI document says high may be null',
    );
  });

  test('the CLI: `sluice report forecast` shows the high end as unknown', async () => {
    const shown = await cliFor(sluice.adminURL, TOKEN)(['report', 'forecast']);
    assert.equal(shown.code, 0, shown.stderr);
    const payments = row(shown.stdout, 'payments');
    assert.ok(payments !== undefined, shown.stdout);
    assert.equal(payments[4], 'unknown', shown.stdout);
    assert.equal(row(shown.stdout, 'OVERALL')?.[4], 'unknown', shown.stdout);
  });
});
