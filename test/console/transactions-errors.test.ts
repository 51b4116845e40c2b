// The Transactions page when the API refuses a filter: the refusal is shown, and the rows of the filters before it are
// not left under it, where they read as the answer to the refused ones. One Sluice (SQLite in a temp folder), its
// ledger seeded through the store's own insert, and one Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { withStoreOf } from '../support/director-stores.js';
import { ledgerRow } from '../support/ledger.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, goTo, launch, loaded, missingBrowser, openContext, screenshot, signIn } from './browser.js';
import { until } from '../support/until.js';

const BOOTSTRAP = 'sa-bootstrap-console-transactions-errors';

const skip = missingBrowser();

describe('the Transactions page when a filter is refused', { skip: skip ?? false }, () => {
  let sluice: TestSluice;
  let browser: Browser;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      // Never called: the calls are written straight into the ledger.
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    await withStoreOf(sluice, async (store) => {
      const at = Date.now() - 60_000;
      await store.insertTransactions([0, 1, 2].map((i) => ledgerRow(i, { startedAt: at + i, consumer: 'checkout-service' })));
    });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
  });

  test('shows the refusal alone, not the previous filters’ rows beneath it; a valid filter lists again', async () => {
    const context = await openContext(browser);
    const page = await context.newPage();
    const errors = consoleErrors(page);
    await signIn(page, `${sluice.adminURL}/console/`, BOOTSTRAP);
    await goTo(page, 'Transactions');
    const rows = page.getByTestId('transactions').locator('tbody tr');
    await until('the three calls are listed', async () => (await rows.count()) === 3, 30_000, 50);
    // A period that ends before it starts: the API refuses it.
    await page.getByLabel('From (UTC)').fill('2030-01-01T00:00');
    await page.getByLabel('To (UTC)').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Apply' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    await loaded(page);
    assert.equal(await alert.innerText(), 'Could not load transactions: Invalid request: from: must be before to');
    assert.equal(await rows.count(), 0, 'no row of the earlier filters under the refusal');
    assert.equal(await page.getByText(/shown, newest first/).count(), 0, 'no count of rows that are not an answer');
    await screenshot(page, 'console-transactions-refused-filter-light');
    await page.getByRole('button', { name: 'Clear' }).click();
    await until('the calls are listed again', async () => (await rows.count()) === 3, 30_000, 50);
    assert.equal(await alert.count(), 0);
    assert.deepEqual(
      errors.filter((error) => !error.includes('400')),
      [],
    );
    await context.close();
  });
});
