// The Transactions page's "Unattributed only": the ledger's calls of no consumer (an undeclared caller's traffic an
// observer reported, until reconciliation attributes it), asked of the API, kept in the address like every filter, and
// reached from the overview's "unattributed" consumer. One Sluice (mock provider on loopback, SQLite in a temp folder)
// and one Chromium; the page checked at a laptop's and a phone's width.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { adminClient, observation, observe, untilLedgerHolds, type AdminClient } from '../support/admin-client.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { columnTexts, launch, loaded, missingBrowser, screenshot, signedInPage } from './browser.js';
import { until } from '../support/until.js';

const BOOTSTRAP = 'sa-bootstrap-console-unattributed';

const skip = missingBrowser();

describe('the ledger of unattributed traffic', { skip: skip ?? false }, () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let browser: Browser;
  let consoleURL: string;

  let admin: AdminClient;
  const session = (width = 1366) => signedInPage(browser, consoleURL, BOOTSTRAP, width);
  /** The consumer column as shown: its first word, "unattributed" for a call of none. */
  const consumerCells = async (page: Page) => (await columnTexts(page.getByTestId('transactions'), 1)).map((text) => text.split(/\s/)[0]);
  const addressQuery = (page: Page) => new URLSearchParams(new URL(page.url()).hash.split('?')[1] ?? '');

  before(async () => {
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hi', { prompt_tokens: 1_000, completion_tokens: 100 })),
    );
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    consoleURL = `${sluice.adminURL}/console/`;
    admin = adminClient(sluice, BOOTSTRAP);
    for (const key of [KEYS.checkout, KEYS.checkout, KEYS.search]) {
      const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
      });
      assert.equal(response.status, 200, await response.text());
    }
    // Two undeclared callers an observer saw, with far more spend than the declared ones: the top "consumer".
    await observe(admin, [
      observation('10.9.0.1', 'gpt-4o', 4, Date.now() - 120_000, 9_000_000),
      observation('10.9.0.2', 'gpt-4o', 2, Date.now() - 60_000, 3_000_000),
    ]);
    await untilLedgerHolds(admin, 5);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
    await mock?.close();
  });

  test("the overview's unattributed consumer leads to the calls of no consumer, kept in the address", async () => {
    const { page, errors, close } = await session();
    const topConsumers = page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'Top consumers this month' }) });
    await topConsumers.getByRole('link', { name: 'unattributed' }).click();
    await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
    await loaded(page);
    const only = page.getByRole('checkbox', { name: 'Unattributed only' });
    assert.equal(await only.isChecked(), true);
    assert.equal(addressQuery(page).get('unattributed'), 'true');
    assert.deepEqual(await consumerCells(page), ['unattributed', 'unattributed']);
    assert.equal(await page.getByLabel('Consumer').isDisabled(), true, 'no consumer to name for calls of none');
    // A reload (or a bookmark) of the address shows the same.
    await page.reload();
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
    await loaded(page);
    assert.equal(await page.getByRole('checkbox', { name: 'Unattributed only' }).isChecked(), true);
    assert.deepEqual(await consumerCells(page), ['unattributed', 'unattributed']);
    // Unticked: every call; Back: the calls of no consumer again.
    await page.getByRole('checkbox', { name: 'Unattributed only' }).uncheck();
    await page.getByRole('button', { name: 'Apply' }).click();
    await until('every call is listed', async () => (await consumerCells(page)).length === 5, 30_000, 50);
    assert.equal(addressQuery(page).get('unattributed'), null);
    await page.goBack();
    await until('back to the unattributed calls', async () => (await consumerCells(page)).length === 2, 30_000, 50);
    assert.equal(await page.getByRole('checkbox', { name: 'Unattributed only' }).isChecked(), true);
    assert.deepEqual(errors, []);
    await close();
  });

  test('ticked with a consumer typed, the consumer is set aside; with the other filters, the API answers', async () => {
    const { page, errors, close } = await session();
    await page.goto(`${consoleURL}#/transactions?consumer=checkout-service`);
    await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
    await until(
      'the consumer alone is listed',
      async () => (await consumerCells(page)).join() === 'checkout-service,checkout-service',
      30_000,
      50,
    );
    await page.getByRole('checkbox', { name: 'Unattributed only' }).check();
    assert.equal(await page.getByLabel('Consumer').inputValue(), '');
    await page.getByLabel('Outcome').selectOption('served');
    await page.getByRole('button', { name: 'Apply' }).click();
    await until(
      'the calls of no consumer are listed',
      async () => (await consumerCells(page)).join() === 'unattributed,unattributed',
      30_000,
      50,
    );
    const query = addressQuery(page);
    assert.deepEqual(
      [...query.entries()],
      [
        ['outcome', 'served'],
        ['unattributed', 'true'],
      ],
    );
    assert.deepEqual(errors, []);
    await close();
  });

  for (const width of [1366, 390]) {
    test(`the filter fits the page at ${width} pixels wide`, async () => {
      const { page, errors, close } = await session(width);
      await page.goto(`${consoleURL}#/transactions?unattributed=true`);
      await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
      await loaded(page);
      const box = (await page.getByRole('checkbox', { name: 'Unattributed only' }).boundingBox())!;
      const label = (await page.locator('label', { hasText: 'Unattributed only' }).boundingBox())!;
      assert.ok(label.x >= 0 && label.x + label.width <= width, `the label spans ${label.x} to ${label.x + label.width}`);
      // The box on the label's line, not above or below its text.
      assert.ok(box.y >= label.y && box.y + box.height <= label.y + label.height, JSON.stringify({ box, label }));
      const overflow = await page.locator('html').evaluate((html) => (html as unknown as { scrollWidth: number }).scrollWidth);
      assert.ok(overflow <= width, `the page is ${overflow} pixels wide`);
      await screenshot(page, `console-transactions-unattributed-${width}`);
      assert.deepEqual(errors, []);
      await close();
    });
  }
});
