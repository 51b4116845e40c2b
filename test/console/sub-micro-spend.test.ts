// The console's other cost figures on a call under a micro-USD: a consumer's 14 days' spend in the inventory and a cost
// template's instances on the budgets page (the API giving their exact nano-USD). One consumer made a single 3-token
// embedding on text-embedding-3-small ($0.02 per 1M tokens: 60 nano-USD), which whole micro-USD round to 0; the page
// shows what it cost, $0.00000006. One Sluice (a loopback mock provider, SQLite in a temp folder), the call made through
// the openai SDK, one Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import type { TestSluice } from '../support/sluice.js';
import { columnTexts, goTo, launch, missingBrowser, screenshot, signedInPage } from './browser.js';
import { startEmbeddingSluice, type EmbeddingSluice } from './embedding-sluice.js';

const BOOTSTRAP = 'sa-bootstrap-console-sub-micro-spend';

const skip = missingBrowser();

describe('the console on a consumer whose only call cost 60 nano-USD', { skip: skip ?? false }, () => {
  let running: EmbeddingSluice;
  let sluice: TestSluice;
  let browser: Browser;
  let consoleURL: string;

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${BOOTSTRAP}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  before(async () => {
    running = await startEmbeddingSluice(BOOTSTRAP, () => 3);
    sluice = running.sluice;
    consoleURL = running.consoleURL;
    await running.embed('tiny');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await running?.stop();
  });

  test("the inventory shows the consumer's 14 days' spend as $0.00000006, not a thousand times it", async () => {
    const { page, errors, close } = await signedInPage(browser, consoleURL, BOOTSTRAP);
    await goTo(page, 'Inventory');
    const table = page.getByTestId('consumers');
    await table.waitFor();
    const names = await columnTexts(table, 0);
    const spends = await columnTexts(table, 4);
    assert.equal(spends[names.indexOf('checkout-service')], '$0.00000006');
    assert.equal(spends[names.indexOf('search-service')], '$0.00');
    assert.equal(
      await table.getByRole('img', { name: /^checkout-service: / }).getAttribute('aria-label'),
      'checkout-service: $0.00000006 in 14 days',
    );
    await screenshot(page, 'sub-micro-spend-inventory');
    assert.deepEqual(errors, []);
    await close();
  });

  test("a cost template's instance shows the consumer's use as $0.00000006 of its limit, not $0.00", async () => {
    const made = await admin('POST', '/api/budget-templates', {
      name: 'payments-cost',
      selector: { team: 'payments' },
      measure: 'cost_usd',
      limit: 1,
      window: 'month',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const { page, errors, close } = await signedInPage(browser, consoleURL, BOOTSTRAP);
    await goTo(page, 'Budgets & templates');
    const instance = page.getByTestId('instances-payments-cost').locator('li', { hasText: 'payments-cost/checkout-service' });
    await instance.waitFor();
    assert.equal(await instance.locator('.muted').innerText(), '$0.00000006 of $1.00');
    await screenshot(page, 'sub-micro-spend-template-instance');
    // The API gives the exact figures beside the whole micro-USD it has always given (0 here, kept for older readers).
    const { body } = await admin('GET', '/api/budget-templates/payments-cost/instances');
    const [item] = body.items as Array<Record<string, unknown>>;
    assert.equal(item!.unit, 'microUsd');
    assert.equal(item!.used, 0);
    assert.equal(item!.limit, 1_000_000);
    assert.deepEqual(item!.nanoUsd, { limit: 1_000_000_000, used: 60 });
    assert.deepEqual(errors, []);
    await close();
  });

  test("the chargeback CSV the console downloads holds the team's cost to the nano-USD, beside its six-decimal cost_usd", async () => {
    const { page, errors, close } = await signedInPage(browser, consoleURL, BOOTSTRAP);
    await goTo(page, 'Reports');
    await page.getByTestId('chargeback').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const [header, ...rows] = (await readFile((await download.path())!, 'utf8')).trimEnd().split('\r\n');
    const columns = header!.split(',');
    const payments = rows.map((row) => row.split(',')).find((cells) => cells[1] === 'payments')!;
    const cell = (column: string) => payments[columns.indexOf(column)];
    // cost_usd keeps its six decimals for the sheets that read it; cost_nano_usd says what the call cost.
    assert.deepEqual(
      [cell('cost_usd'), cell('cost_nano_usd'), cell('saved_usd'), cell('saved_nano_usd')],
      ['0.000000', '60', '0.000000', '0'],
    );
    assert.deepEqual(errors, []);
    await close();
  });
});
