// The console's tables a FinOps or security reader orders to find what matters, each sorted from its column headers as
// the chargeback is: the inventory's consumers, teams, providers, models and resources, the reports' cost drivers, the
// budgets, and the reconciliation queue's discoveries and resources. A header is a button (mouse and keyboard), its
// order announced with aria-sort; a figure's first click puts the largest first; a row with nothing to order by (an
// unpriced model, a budget whose window is too short to track) stays last. One Sluice (mock provider on loopback,
// SQLite in a temp folder) and one Chromium; pages checked at a laptop's and a phone's width.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { adminClient, observation, observe, untilLedgerHolds, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { columnTexts, goTo, launch, loaded, missingBrowser, screenshot, signedInPage } from './browser.js';
import { until } from '../support/until.js';

const BOOTSTRAP = 'sa-bootstrap-console-sortable-tables';
const KEY = { checkout: 'sk-sluice-test-sort-checkout-01', search: 'sk-sluice-test-sort-search-02', lone: 'sk-sluice-test-sort-lone-03' };

const skip = missingBrowser();

/** The texts of a column of a table's body rows (a consumer's keys or a discovery's resolve panel left out). */
const column = (table: Locator, index: number) => columnTexts(table, index, 'tbody tr:not(.panel-row)');

/** Clicks a column's header button (asserting there is one) and answers the header's aria-sort. */
async function sortBy(table: Locator, header: RegExp): Promise<string | null> {
  const cell = table.getByRole('columnheader', { name: header });
  assert.equal(await cell.getByRole('button').count(), 1, `the ${header} header is a button`);
  await cell.getByRole('button').click();
  return cell.getAttribute('aria-sort');
}

const firstWord = (text: string) => text.split(/\s/)[0]!;
const dollars = (text: string) => Number(/\$([\d,.]+)/.exec(text)![1]!.replace(/,/g, ''));

describe('the console, its tables sorted from their headers', { skip: skip ?? false }, () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let browser: Browser;
  let consoleURL: string;

  let admin: AdminClient;
  const chat = async (key: string, model: string) => {
    const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(response.status, 200, await response.text());
  };
  const session = (width = 1366) => signedInPage(browser, consoleURL, BOOTSTRAP, width);
  const inventoryTab = async (page: Page, tab: string) => {
    await goTo(page, 'Inventory');
    await page.getByRole('tab', { name: tab }).click();
    await loaded(page);
  };

  before(async () => {
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hi', { prompt_tokens: 100_000, completion_tokens: 10_000 })),
    );
    const target = (model: string) => [{ provider: 'openai', model }];
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: {
        openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' },
        anthropic: { type: 'anthropic', baseUrl: `${mock.url}`, apiKey: 'sk-upstream-not-real-either' },
      },
      // Prices per 1M tokens whose order is not the names': bravo dearest, charlie cheapest, delta unpriced.
      models: [
        { name: 'alpha', targets: target('m-alpha'), pricing: { input: 1, output: 2 } },
        { name: 'bravo', targets: target('m-bravo'), pricing: { input: 10, output: 30 } },
        { name: 'charlie', targets: target('m-charlie'), pricing: { input: 0.1, output: 0.2 } },
        { name: 'delta', targets: target('m-delta') },
      ],
      consumers: [
        { name: 'checkout-service', team: 'payments', owner: 'alice@example.com', keys: [KEY.checkout] },
        { name: 'search-service', team: 'discovery', owner: 'bob@example.com', keys: [KEY.search] },
        { name: 'lone-script', keys: [KEY.lone] },
        { name: 'refunds-service', team: 'payments', owner: 'dan@example.com', keys: ['sk-sluice-test-sort-refunds-04'] },
      ],
      // Used this window: a-lone 1%, b-checkout 50%, c-search 30%; d-burst's 30 minutes are too short to track.
      budgets: [
        { name: 'a-lone', consumers: { consumer: 'lone-script' }, measure: 'requests', limit: 100, window: 'day' },
        { name: 'b-checkout', consumers: { consumer: 'checkout-service' }, measure: 'requests', limit: 4, window: 'day' },
        { name: 'c-search', consumers: { consumer: 'search-service' }, measure: 'requests', limit: 10, window: 'day' },
        { name: 'd-burst', consumers: 'everyone', measure: 'requests', limit: 1000, window: { rolling: '30m' } },
      ],
    });
    consoleURL = `${sluice.adminURL}/console/`;
    admin = adminClient(sluice, BOOTSTRAP);
    for (const [team, owner] of [
      ['payments', 'pat@example.com'],
      ['discovery', 'dee@example.com'],
      ['research', 'zed@example.com'],
    ])
      assert.ok([201, 409].includes((await admin('POST', '/api/teams', { name: team, owner })).status));
    // Spend: lone-script the most (bravo), then checkout-service (alpha), then search-service (charlie).
    await chat(KEY.lone, 'bravo');
    for (let call = 0; call < 2; call++) await chat(KEY.checkout, 'alpha');
    for (let call = 0; call < 3; call++) await chat(KEY.search, 'charlie');
    // Three undeclared callers, discovered in this order, with calls in another (and spend below lone-script's).
    await observe(admin, [
      observation('10.3.0.1', 'm-x', 5, Date.now() - 180_000, 100_000),
      observation('10.3.0.2', 'm-y', 40, Date.now() - 60_000, 200_000),
      observation('10.3.0.3', 'm-z', 12, Date.now() - 120_000, 300_000),
    ]);
    await untilLedgerHolds(admin, 9);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
    await mock?.close();
  });

  test("the inventory's consumers by name, team, owner and 14 days' spend; from the keyboard too", async () => {
    const { page, errors, close } = await session();
    await inventoryTab(page, 'Consumers');
    const table = page.getByTestId('consumers');
    const names = () => column(table, 0);
    assert.equal(await sortBy(table, /^Spend, 14 days/), 'descending');
    assert.deepEqual(await names(), ['lone-script', 'checkout-service', 'search-service', 'refunds-service']);
    const spends = (await column(table, 4)).map(dollars);
    assert.deepEqual(
      spends,
      [...spends].sort((a, b) => b - a),
    );
    assert.equal(await sortBy(table, /^Consumer/), 'ascending');
    assert.deepEqual(await names(), ['checkout-service', 'lone-script', 'refunds-service', 'search-service']);
    // The other way, from the keyboard: Space on the focused header.
    await table
      .getByRole('columnheader', { name: /^Consumer/ })
      .getByRole('button')
      .focus();
    await page.keyboard.press('Space');
    assert.equal(await table.getByRole('columnheader', { name: /^Consumer/ }).getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await names(), ['search-service', 'refunds-service', 'lone-script', 'checkout-service']);
    assert.equal(await table.getByRole('columnheader', { name: /^Spend/ }).getAttribute('aria-sort'), null);
    // By team as shown: "no team" among the names.
    assert.equal(await sortBy(table, /^Team/), 'ascending');
    assert.deepEqual((await column(table, 1)).map(firstWord), ['discovery', 'no', 'payments', 'payments']);
    // By owner: lone-script has none, and stays last either way.
    assert.equal(await sortBy(table, /^Owner/), 'ascending');
    assert.deepEqual(await names(), ['checkout-service', 'search-service', 'refunds-service', 'lone-script']);
    assert.equal(await sortBy(table, /^Owner/), 'descending');
    assert.deepEqual(await names(), ['refunds-service', 'search-service', 'checkout-service', 'lone-script']);
    // A consumer's keys open under its own row, wherever the sort put it.
    await table.getByRole('row').filter({ hasText: 'search-service' }).getByRole('button', { name: 'Keys' }).click();
    assert.equal(await table.locator('tbody tr.panel-row').count(), 1);
    const rows = await table
      .locator('tbody tr')
      .evaluateAll((all) =>
        all.map(
          (row) =>
            (row as unknown as { className: string; innerText: string }).className ||
            (row as unknown as { innerText: string }).innerText.split(/\s/)[0]!,
        ),
      );
    assert.equal(rows[rows.indexOf('search-service') + 1], 'panel-row', rows.join());
    await screenshot(page, 'console-inventory-consumers-sorted-1366');
    assert.deepEqual(errors, []);
    await close();
  });

  test("the inventory's teams, providers, models and resources", async () => {
    const { page, errors, close } = await session();
    await inventoryTab(page, 'Teams');
    const teams = page.getByTestId('teams');
    assert.equal(await sortBy(teams, /^Consumers/), 'descending');
    assert.deepEqual(await column(teams, 0), ['payments', 'discovery', 'research']);
    assert.equal(await sortBy(teams, /^Owner/), 'ascending');
    const owners = await column(teams, 1);
    assert.deepEqual(
      owners,
      [...owners].sort((a, b) => a.localeCompare(b)),
    );

    await page.getByRole('tab', { name: 'Providers & models' }).click();
    await loaded(page);
    const providers = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Base URL' }) });
    assert.equal(await sortBy(providers, /^Type/), 'ascending');
    assert.deepEqual(await column(providers, 1), ['anthropic', 'openai']);
    assert.equal(await sortBy(providers, /^Provider/), 'ascending');
    assert.equal(await sortBy(providers, /^Provider/), 'descending');
    assert.deepEqual(await column(providers, 0), ['openai', 'anthropic']);
    const models = page.getByTestId('models');
    // By price, the dearest first; the unpriced model has none and is last either way.
    assert.equal(await sortBy(models, /^Price/), 'descending');
    assert.deepEqual(await column(models, 0), ['bravo', 'alpha', 'charlie', 'delta']);
    assert.equal(await sortBy(models, /^Price/), 'ascending');
    assert.deepEqual(await column(models, 0), ['charlie', 'alpha', 'bravo', 'delta']);
    assert.equal(await sortBy(models, /^Model/), 'ascending');
    assert.deepEqual(await column(models, 0), ['alpha', 'bravo', 'charlie', 'delta']);

    await page.getByRole('tab', { name: 'Resources' }).click();
    await loaded(page);
    const resources = page.getByTestId('resources');
    assert.equal(await sortBy(resources, /^Calls, 30 days/), 'descending');
    const calls = (await column(resources, 2)).map((text) => Number(text.replace(/,/g, '')));
    assert.deepEqual(calls.slice(0, 3), [40, 12, 5]);
    assert.deepEqual(
      calls,
      [...calls].sort((a, b) => b - a),
    );
    assert.equal(await sortBy(resources, /^Spend/), 'descending');
    assert.equal(firstWord((await column(resources, 0))[0]!), 'openai/m-bravo');
    const spend = (await column(resources, 3)).map(dollars);
    assert.deepEqual(
      spend,
      [...spend].sort((a, b) => b - a),
    );
    assert.deepEqual(errors, []);
    await close();
  });

  test("the reports' cost drivers by group and by each period's cost", async () => {
    const { page, errors, close } = await session();
    await goTo(page, 'Reports');
    const drivers = page.getByTestId('drivers');
    assert.equal(await sortBy(drivers, /^team/), 'ascending');
    assert.deepEqual((await column(drivers, 0)).map(firstWord), ['discovery', 'no', 'payments']);
    assert.equal(await sortBy(drivers, /^Current/), 'descending');
    const current = (await column(drivers, 2)).map(dollars);
    assert.deepEqual(
      current,
      [...current].sort((a, b) => b - a),
    );
    assert.equal(await sortBy(drivers, /^Current/), 'ascending');
    assert.deepEqual((await column(drivers, 2)).map(dollars), [...current].reverse());
    // By consumer: the unattributed traffic named as everywhere, among the names.
    await page.getByLabel('By').selectOption('consumer');
    await loaded(page);
    await until('the drivers are by consumer', async () => (await column(drivers, 0)).includes('lone-script'), 30_000, 50);
    assert.equal(await drivers.getByRole('columnheader', { name: /^consumer/ }).getAttribute('aria-sort'), null);
    assert.equal(await sortBy(drivers, /^consumer/), 'ascending');
    assert.deepEqual(await column(drivers, 0), ['checkout-service', 'lone-script', 'search-service', 'unattributed']);
    assert.deepEqual(errors, []);
    await close();
  });

  for (const width of [1366, 390]) {
    test(`the budgets by use this window, an untracked one last either way (${width} pixels wide)`, async () => {
      const { page, errors, close } = await session(width);
      await goTo(page, 'Budgets & templates');
      const budgets = page.getByTestId('budgets');
      const names = async () => (await column(budgets, 0)).map(firstWord);
      assert.equal(await sortBy(budgets, /^Used this window/), 'descending');
      assert.deepEqual(await names(), ['b-checkout', 'c-search', 'a-lone', 'd-burst']);
      assert.equal(await sortBy(budgets, /^Used this window/), 'ascending');
      assert.deepEqual(await names(), ['a-lone', 'c-search', 'b-checkout', 'd-burst']);
      assert.equal(await sortBy(budgets, /^Budget/), 'ascending');
      assert.equal(await sortBy(budgets, /^Budget/), 'descending');
      assert.deepEqual(await names(), ['d-burst', 'c-search', 'b-checkout', 'a-lone']);
      // The soonest to run out first; the untracked one has no projection and stays last.
      assert.equal(await sortBy(budgets, /^Projection/), 'ascending');
      assert.equal((await names()).at(-1), 'd-burst');
      // A header's button reads as the header it is, in the header's place: not wider than the page.
      const overflow = await page.locator('html').evaluate((html) => (html as unknown as { scrollWidth: number }).scrollWidth);
      assert.ok(overflow <= width, `the page is ${overflow} pixels wide`);
      await screenshot(page, `console-budgets-sorted-${width}`);
      assert.deepEqual(errors, []);
      await close();
    });

    test(`the reconciliation queue's discoveries by calls and when seen, its resources by calls (${width} pixels wide)`, async () => {
      const { page, errors, close } = await session(width);
      await goTo(page, 'Reconciliation');
      const discoveries = page.getByTestId('discoveries');
      const identities = async () => (await column(discoveries, 1)).map((text) => text.split(/\s/).at(-1));
      assert.deepEqual(await identities(), ['10.3.0.1', '10.3.0.2', '10.3.0.3'], 'in the order discovered');
      assert.equal(await sortBy(discoveries, /^Calls/), 'descending');
      assert.deepEqual(await identities(), ['10.3.0.2', '10.3.0.3', '10.3.0.1']);
      assert.equal(await sortBy(discoveries, /^Seen/), 'descending');
      assert.deepEqual(await identities(), ['10.3.0.2', '10.3.0.3', '10.3.0.1'], 'the latest seen first');
      assert.equal(await sortBy(discoveries, /^Seen/), 'ascending');
      assert.deepEqual(await identities(), ['10.3.0.1', '10.3.0.3', '10.3.0.2']);
      // A discovery's resolve panel opens under its own row, wherever the sort put it.
      await discoveries.getByRole('row').filter({ hasText: '10.3.0.3' }).getByRole('button', { name: 'Resolve' }).click();
      const order = await discoveries
        .locator('tbody tr')
        .evaluateAll((all) =>
          all.map(
            (row) =>
              (row as unknown as { className: string; innerText: string }).className || (row as unknown as { innerText: string }).innerText,
          ),
        );
      const at = order.findIndex((text) => text.includes('10.3.0.3'));
      assert.equal(order[at + 1], 'panel-row', order.join(' | '));
      const resources = page.getByTestId('discovered-resources');
      assert.equal(await sortBy(resources, /^Calls/), 'descending');
      const calls = (await column(resources, 3)).map((text) => Number(text.replace(/,/g, '')));
      assert.deepEqual(calls.slice(0, 3), [40, 12, 5]);
      assert.deepEqual(
        calls,
        [...calls].sort((a, b) => b - a),
      );
      const overflow = await page.locator('html').evaluate((html) => (html as unknown as { scrollWidth: number }).scrollWidth);
      assert.ok(overflow <= width, `the page is ${overflow} pixels wide`);
      await screenshot(page, `console-reconciliation-sorted-${width}`);
      assert.deepEqual(errors, []);
      await close();
    });
  }
});
