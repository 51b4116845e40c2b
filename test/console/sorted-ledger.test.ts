// The console's Transactions and Audit tables sorted by the API from their column headers: the whole ledger's most
// expensive call first (not the first page's), "Show more" carrying on in that order, the filters kept and the order kept
// in the address; the audit log by who, what and when. One Sluice (SQLite in a temp folder, ledger rows written to its
// store) and one Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { openDirectorStore } from '../../src/store/open.js';
import { adminClient, clientWithRole, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { ledgerRow } from '../support/ledger.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { columnTexts, goTo, launch, loaded, missingBrowser, signedInPage } from './browser.js';

const BOOTSTRAP = 'sa-bootstrap-console-sorted-ledger';
const MINUTE = 60_000;

const skip = missingBrowser();

const dollars = (text: string) => Number(/\$([\d,.]+)/.exec(text)![1]!.replace(/,/g, ''));
const milliseconds = (text: string) => Number(text.replace(/[^\d]/g, ''));

/** Does what asks for a listing's page (a header, Apply, Show more) and waits until the page shows the API's answer. */
async function listed(page: Page, action: () => Promise<void>): Promise<void> {
  const answered = page.waitForResponse((response) => /\/api\/(transactions|audit)\?/.test(response.url()));
  await action();
  await answered;
  await loaded(page);
}

const click = (page: Page, name: string) => listed(page, () => page.getByRole('button', { name, exact: true }).click());

/** Clicks a column's header button and waits for the rows it asked for; answers the header's aria-sort. */
async function sortBy(page: Page, table: Locator, header: RegExp): Promise<string | null> {
  const cell = table.getByRole('columnheader', { name: header });
  assert.equal(await cell.getByRole('button').count(), 1, `the ${header} header is a button`);
  await listed(page, () => cell.getByRole('button').click());
  return cell.getAttribute('aria-sort');
}

describe('the console, the ledger and the audit log sorted by the API', { skip: skip ?? false }, () => {
  let sluice: TestSluice;
  let browser: Browser;
  let admin: AdminClient;
  const start = Date.UTC(2026, 10, 2, 8);

  before(async () => {
    sluice = await startTestSluice({ admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP }, ...OFFLINE_CATALOG });
    admin = adminClient(sluice, BOOTSTRAP);
    // 60 calls, more than the console's page of 50. The dearest and the slowest is the oldest: sorting the newest 50 alone
    // would never show it. Every seventh call is unpriced; refunds-service makes every third.
    const store = await openDirectorStore(`sqlite:${sluice.dbPath}`);
    const calls = Array.from({ length: 60 }, (_, index) =>
      ledgerRow(index, {
        startedAt: start + index * MINUTE,
        costMicroUsd: index === 0 ? 9_000_000 : index % 7 === 3 ? null : 10_000 * ((index * 37) % 50) + 10_000,
        latencyMs: index === 0 ? 60_000 : 100 + ((index * 53) % 40) * 25,
        consumer: index % 3 === 1 ? 'refunds-service' : 'checkout-service',
      }),
    );
    await store.insertTransactions(calls);
    await store.close();
    // Changes by two more actors than sluice.yaml: the bootstrap token makes teams, an admin token named zed changes them.
    const zed = await clientWithRole(sluice, admin, 'zed', 'admin');
    for (const team of ['alpha', 'bravo']) {
      assert.equal((await admin('POST', '/api/teams', { name: team, owner: 'ops@example.com' })).status, 201);
      assert.equal((await zed('PATCH', `/api/teams/${team}`, { owner: 'finops@example.com' })).status, 200);
    }
    assert.equal((await zed('DELETE', '/api/teams/bravo')).status, 204);
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
  });

  test("the ledger's most expensive, cheapest and slowest calls, across pages, with the filters kept", async () => {
    const { page, errors, close } = await signedInPage(browser, `${sluice.adminURL}/console/`, BOOTSTRAP);
    await goTo(page, 'Transactions');
    const table = page.getByTestId('transactions');
    const time = table.getByRole('columnheader', { name: /^Time/ });
    assert.equal(await time.getAttribute('aria-sort'), 'descending', 'newest first until a header is chosen');

    assert.equal(await sortBy(page, table, /^Cost/), 'descending');
    assert.equal(await time.getAttribute('aria-sort'), null);
    let costs = await columnTexts(table, 5);
    assert.equal(costs.length, 50);
    assert.equal(dollars(costs[0]!), 9, `the whole ledger's dearest call first, not the first page's: ${costs[0]}`);
    await click(page, 'Show more');
    costs = await columnTexts(table, 5);
    assert.equal(costs.length, 60);
    // Priced calls largest first, then the unpriced ones, each call once.
    const priced = costs.filter((text) => text.includes('$')).map(dollars);
    assert.deepEqual(
      priced,
      [...priced].sort((a, b) => b - a),
    );
    assert.deepEqual(costs.slice(priced.length), Array(60 - priced.length).fill('unpriced'));
    assert.match(await page.locator('.row-between').innerText(), /60 shown, most expensive first/);
    assert.match(page.url(), /sort=cost/);
    assert.equal(await page.getByTestId('whole-ledger-sort').count(), 1, 'a sort over the whole ledger says a period is quicker');

    assert.equal(await sortBy(page, table, /^Cost/), 'ascending');
    costs = await columnTexts(table, 5);
    assert.equal(dollars(costs[0]!), 0.01, `the cheapest first: ${costs[0]}`);

    // A filter applied, then an order chosen: both hold, in the address too.
    await page.getByLabel('Consumer').fill('refunds-service');
    await click(page, 'Apply');
    assert.equal(await table.getByRole('columnheader', { name: /^Cost/ }).getAttribute('aria-sort'), 'ascending', 'the order kept');
    assert.equal(await sortBy(page, table, /^Latency/), 'descending');
    const consumers = (await columnTexts(table, 1)).map((text) => text.split(/\s/)[0]);
    assert.equal(consumers.length, 20);
    assert.deepEqual(new Set(consumers), new Set(['refunds-service']));
    const latencies = (await columnTexts(table, 6)).map(milliseconds);
    assert.deepEqual(
      latencies,
      [...latencies].sort((a, b) => b - a),
    );
    assert.match(page.url(), /consumer=refunds-service/);
    assert.match(page.url(), /sort=latency/);
    // Clearing the filters keeps the order.
    await click(page, 'Clear');
    assert.equal(milliseconds((await columnTexts(table, 6))[0]!), 60_000, 'the slowest call of all first');
    assert.deepEqual(errors, []);
    await close();
  });

  test('the audit log by who, by what, and oldest first', async () => {
    const { page, errors, close } = await signedInPage(browser, `${sluice.adminURL}/console/`, BOOTSTRAP);
    await goTo(page, 'Audit log');
    const table = page.getByTestId('audit');
    const when = table.getByRole('columnheader', { name: /^When/ });
    assert.equal(await when.getAttribute('aria-sort'), 'descending');
    const whats = async () => (await columnTexts(table, 2)).map((text) => text.trim());
    const whos = async () => (await columnTexts(table, 1)).map((text) => text.split('#')[0]!);
    const entities = () => columnTexts(table, 3);
    // The teams' changes: sluice.yaml's two, then the bootstrap token made alpha and bravo, zed changed both and deleted bravo.
    await page.getByLabel('Entity').selectOption('team');
    await click(page, 'Apply');
    assert.deepEqual(await whats(), ['delete', 'update', 'create', 'update', 'create', 'create', 'create'], 'newest first');
    const zed = 'admin-token:zed';
    const bootstrap = 'bootstrap-token';
    const yaml = 'sluice.yaml';

    assert.equal(await sortBy(page, table, /^Who/), 'ascending');
    assert.deepEqual(await whos(), [zed, zed, zed, bootstrap, bootstrap, yaml, yaml]);
    assert.equal(await sortBy(page, table, /^Who/), 'descending');
    assert.deepEqual(await whos(), [yaml, yaml, bootstrap, bootstrap, zed, zed, zed]);

    assert.equal(await sortBy(page, table, /^What/), 'ascending');
    assert.deepEqual(await whats(), ['create', 'create', 'create', 'create', 'delete', 'update', 'update']);

    assert.equal(await sortBy(page, table, /^When/), 'descending');
    assert.equal(await sortBy(page, table, /^When/), 'ascending');
    assert.deepEqual(await whos(), [yaml, yaml, bootstrap, zed, bootstrap, zed, zed], 'oldest first');
    assert.deepEqual((await entities()).slice(2), ['team alpha', 'team alpha', 'team bravo', 'team bravo', 'team bravo']);
    assert.match(await page.locator('.row-between').innerText(), /Oldest first/);

    // Filtered by action, in the order chosen.
    await page.getByLabel('Action').selectOption('update');
    await click(page, 'Apply');
    assert.deepEqual(await whats(), ['update', 'update']);
    assert.deepEqual(await entities(), ['team alpha', 'team bravo']);
    assert.deepEqual(errors, []);
    await close();
  });
});
