// The console's prompt-cache writes and response-cache savings, as /api/usage and /api/reports/chargeback answer them:
// the overview's month figures and top tables, and the chargeback table with its total. The ledger is seeded through
// the store's own insert (the rollups follow in the same transaction) with calls that wrote to Anthropic's 5-minute and
// 1-hour caches and calls answered from the response cache. One Sluice (SQLite in a temp folder) and one Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { PriceCatalog } from '../../src/metering/price-catalog.js';
import { withStoreOf } from '../support/director-stores.js';
import { ledgerRow } from '../support/ledger.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, goTo, launch, missingBrowser, openContext, screenshot, signIn } from './browser.js';

const BOOTSTRAP = 'sa-bootstrap-console-cache-token';
const usdText = (microUsd: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(microUsd / 1e6);
const countText = (value: number) => value.toLocaleString('en-US');

const skip = missingBrowser();

interface Figures {
  calls: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  saved: { microUsd: number; usd: string };
  cost: { microUsd: number };
}

describe("the console's cache writes and savings", { skip: skip ?? false }, () => {
  let sluice: TestSluice;
  let browser: Browser;
  let consoleURL: string;

  const admin = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${sluice.adminURL}${path}`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } });
    assert.equal(response.status, 200, path);
    return (await response.json()) as T;
  };
  const session = async (colorScheme: 'light' | 'dark' = 'light', width = 1366) => {
    const context = await openContext(browser, colorScheme);
    const page = await context.newPage();
    await page.setViewportSize({ width, height: 900 });
    const errors = consoleErrors(page);
    await signIn(page, consoleURL, BOOTSTRAP);
    return { page, errors, close: () => context.close() };
  };
  const cells = async (page: Page, table: string, name: string) =>
    page.getByRole('region', { name: table }).getByRole('row').filter({ hasText: name }).getByRole('cell').allInnerTexts();

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      // Never called: the calls are written straight into the ledger.
      providers: { anthropic: { type: 'anthropic', baseUrl: 'http://127.0.0.1:9', apiKey: 'sk-ant-not-real' } },
      models: [
        { name: 'claude-sonnet', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
      ],
    });
    consoleURL = `${sluice.adminURL}/console/`;
    // A minute ago is this month unless the month began in the last minute; then the first minute of it.
    const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
    const at = Math.max(monthStart, Date.now() - 60_000);
    const claude = { requestedModel: 'claude-sonnet', provider: 'anthropic', providerModel: 'claude-sonnet-4-5', api: 'anthropic' };
    await withStoreOf(sluice, async (store) => {
      await store.insertTransactions([
        // checkout-service (payments) wrote 2,500 tokens to the 5-minute cache and 1,500 to the 1-hour one.
        ledgerRow(1, {
          ...claude,
          startedAt: at,
          consumer: 'checkout-service',
          inputTokens: 3_000,
          outputTokens: 200,
          cacheWriteTokens: 2_500,
          costMicroUsd: 12_375,
        }),
        ledgerRow(2, {
          ...claude,
          startedAt: at + 1,
          consumer: 'checkout-service',
          inputTokens: 2_000,
          outputTokens: 100,
          cacheWriteTokens: 1_500,
          cacheWrite1hTokens: 1_500,
          costMicroUsd: 10_500,
        }),
        // search-service (discovery): one call priced, then two answered from the response cache, which cost nothing.
        ledgerRow(3, { ...claude, startedAt: at + 2, consumer: 'search-service', team: 'discovery', costMicroUsd: 1_250_000 }),
        // research-bot (research): a served call of a model without a price, whose cost is in no figure.
        ledgerRow(6, {
          startedAt: at + 6,
          consumer: 'research-bot',
          team: 'research',
          requestedModel: 'house-model',
          providerModel: 'house-model',
          costMicroUsd: null,
        }),
        ...[4, 5].map((i) =>
          ledgerRow(i, {
            ...claude,
            startedAt: at + i,
            consumer: 'search-service',
            team: 'discovery',
            costMicroUsd: 0,
            savedMicroUsd: 1_250_000,
          }),
        ),
      ]);
    });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
  });

  test("the overview shows this month's cache writes and savings, in total and per consumer and model", async () => {
    const { page, errors, close } = await session();
    await page.getByTestId('overview-saved').waitFor();
    // The page's figures are the API's for the month, and the API's are the seeded calls'.
    const now = new Date();
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString();
    const usage = await admin<{ items: Figures[] }>(`/api/usage?from=${from}&bucket=month`);
    const writes = usage.items.reduce((total, item) => total + item.cacheWriteTokens, 0);
    const saved = usage.items.reduce((total, item) => total + item.saved.microUsd, 0);
    assert.deepEqual([writes, saved], [4_000, 2_500_000]);
    assert.equal(await page.getByTestId('overview-saved').innerText(), usdText(saved));
    assert.equal(await page.getByTestId('overview-cache-writes').innerText(), countText(writes));
    assert.match(await page.getByTestId('overview-cache-writes').locator('..').innerText(), /\(1,500 for 1 hour\)/);
    // Consumer, calls, unpriced calls, spend, cache writes, saved.
    assert.deepEqual(await cells(page, 'Top consumers this month', 'checkout-service'), [
      'checkout-service',
      '2',
      '0',
      '$0.02',
      '4,000',
      '$0.00',
    ]);
    assert.deepEqual(await cells(page, 'Top consumers this month', 'search-service'), ['search-service', '3', '0', '$1.25', '0', '$2.50']);
    assert.deepEqual(await cells(page, 'Top models this month', 'claude-sonnet'), ['claude-sonnet', '5', '0', '$1.27', '4,000', '$2.50']);
    await screenshot(page, 'console-cache-overview-light');
    assert.deepEqual(errors, []);
    await close();
  });

  test('the chargeback table shows each team’s unpriced calls, cache writes, 1-hour writes and savings, and their total', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const { page, errors, close } = await session(scheme);
      await goTo(page, 'Reports');
      const table = page.getByTestId('chargeback');
      await table.waitFor();
      const period = new Date().toISOString().slice(0, 7);
      const report = await admin<{ items: Array<Figures & { team: string }>; total: Figures }>(`/api/reports/chargeback?period=${period}`);
      const discovery = report.items.find((line) => line.team === 'discovery')!;
      assert.equal(discovery.saved.usd, '2.500000');
      // As written, not as CSS shows them (in capitals).
      const headers = (await table.getByRole('columnheader').allTextContents()).map((text) => text.trim());
      const row = async (name: string) => {
        const texts = await table.getByRole('row').filter({ hasText: name }).locator('th, td').allInnerTexts();
        return Object.fromEntries(headers.map((header, i) => [header, texts[i]]));
      };
      assert.deepEqual(await row('payments'), {
        Team: 'payments',
        Calls: '2',
        'Input tokens': '5,000',
        'Output tokens': '300',
        Unpriced: '0',
        Refused: '0',
        Failed: '0',
        'Cache writes': '4,000',
        '1-hour writes': '1,500',
        Cost: usdText(22_875),
        Saved: '$0.00',
      });
      assert.deepEqual(await row('discovery'), {
        Team: 'discovery',
        Calls: '3',
        'Input tokens': '30',
        'Output tokens': '15',
        Unpriced: '0',
        Refused: '0',
        Failed: '0',
        'Cache writes': '0',
        '1-hour writes': '0',
        Cost: '$1.25',
        Saved: usdText(discovery.saved.microUsd),
      });
      // A served call without a price: counted, its cost in no figure, and the table says so.
      assert.equal((await row('research')).Unpriced, '1');
      assert.equal((await row('research')).Cost, '$0.00');
      assert.deepEqual(await row('Total'), {
        Team: 'Total',
        Calls: '6',
        'Input tokens': '5,040',
        'Output tokens': '320',
        Unpriced: '1',
        Refused: '0',
        Failed: '0',
        'Cache writes': countText(report.total.cacheWriteTokens),
        '1-hour writes': countText(report.total.cacheWrite1hTokens),
        Cost: usdText(report.total.cost.microUsd),
        Saved: usdText(report.total.saved.microUsd),
      });
      // A team whose cost did not move is no decrease: its change is in the text's own color, not a fall's green.
      const drivers = page.locator('section').filter({ has: page.getByRole('heading', { name: /^Top cost drivers/ }) });
      const unchanged = drivers.getByRole('row').filter({ hasText: 'research' }).getByRole('cell');
      assert.equal(await unchanged.last().innerText(), '$0.00');
      // In the page, where the DOM's getComputedStyle is (this file is compiled without the DOM's types).
      type Styles = { getComputedStyle(element: unknown): { color: string } };
      const color = (cell: ReturnType<typeof unchanged.last>) =>
        cell.evaluate((element) => (globalThis as unknown as Styles).getComputedStyle(element).color);
      assert.equal(await color(unchanged.last()), await color(unchanged.first()));
      await screenshot(page, `console-cache-reports-${scheme}`);
      assert.deepEqual(errors, []);
      await close();
    }
  });

  test('a call answered from the response cache says so in its detail, with what it saved', async () => {
    const { page, errors, close } = await session();
    const listed = await admin<{ items: Array<{ id: string; requestId: string; saved: { microUsd: number } }> }>(
      '/api/transactions?consumer=search-service',
    );
    const hit = listed.items.find((item) => item.requestId === 'req-4')!;
    assert.equal(hit.saved.microUsd, 1_250_000);
    await page.goto(`${consoleURL}#/transactions/${encodeURIComponent(hit.id)}`);
    await page.getByRole('heading', { level: 1, name: `Transaction ${hit.id}` }).waitFor();
    const facts = page.locator('dl.facts');
    const fact = async (label: string) => facts.locator('dt', { hasText: label }).locator('xpath=following-sibling::dd[1]').innerText();
    assert.equal(await fact('Cost'), '$0.00');
    assert.equal(await fact('Saved'), '$1.25 (answered from the response cache)');
    // A call the provider answered saved nothing, and says nothing about it.
    const priced = listed.items.find((item) => item.requestId === 'req-3')!;
    await page.goto(`${consoleURL}#/transactions/${encodeURIComponent(priced.id)}`);
    await page.getByRole('heading', { level: 1, name: `Transaction ${priced.id}` }).waitFor();
    assert.equal(await fact('Cost'), '$1.25');
    assert.equal(await facts.locator('dt', { hasText: 'Saved' }).count(), 0);
    assert.deepEqual(errors, []);
    await close();
  });

  test("the Providers & models tab shows each model's prices, per token and per use", async () => {
    const { page, errors, close } = await session();
    await goTo(page, 'Inventory');
    await page.getByRole('tab', { name: 'Providers & models' }).click();
    const models = page.getByRole('region', { name: 'Models' });
    await models.getByRole('table').waitFor();
    const sonnet = new PriceCatalog().lookup('anthropic', 'claude-sonnet-4-5')!;
    const listed = (value: number) =>
      new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 }).format(
        value,
      );
    assert.deepEqual(await models.getByRole('row').filter({ hasText: 'claude-sonnet' }).getByRole('cell').allInnerTexts(), [
      'claude-sonnet',
      'anthropic/claude-sonnet-4-5',
      // Every token of a prompt past 200,000 is billed at the long-context prices: shown beside the standard ones.
      `${listed(sonnet.input)} in, ${listed(sonnet.output)} out per 1M tokens; prompts over 200,000 tokens: ` +
        `${listed(sonnet.longContext!.input)} in, ${listed(sonnet.longContext!.output)} out (catalog)`,
      `${listed(sonnet.webSearch!)} per 1K web searches`,
    ]);
    await screenshot(page, 'console-cache-models-light');
    assert.deepEqual(errors, []);
    await close();
  });

  test('at a phone’s width the top tables keep each name on one line, scrolling sideways in their box', async () => {
    const { page, errors, close } = await session('light', 390);
    await page.getByTestId('overview-saved').waitFor();
    // The lines a cell's text is laid out on, counted in the page (this file is compiled without the DOM's types).
    // A name that is a link (to its transactions) is measured inside the link: the link's own box is one more rect.
    type Dom = { document: { createRange(): { selectNodeContents(node: unknown): void; getClientRects(): { length: number } } } };
    const lines = (cell: ReturnType<Page['locator']>) =>
      cell.evaluate((element) => {
        const range = (globalThis as unknown as Dom).document.createRange();
        const text = (element as unknown as { querySelector(selector: string): unknown }).querySelector('a') ?? element;
        range.selectNodeContents(text);
        return range.getClientRects().length;
      });
    for (const [table, name] of [
      ['Top consumers this month', 'checkout-service'],
      ['Top models this month', 'claude-sonnet'],
    ] as const) {
      const cell = page.getByRole('region', { name: table }).getByRole('cell', { name, exact: true });
      assert.equal(await lines(cell), 1, `${name} on one line`);
    }
    await screenshot(page, 'console-cache-overview-phone');
    assert.deepEqual(errors, []);
    await close();
  });

  test('at a phone’s width the wider chargeback table scrolls in its own box, not the page', async () => {
    const { page, errors, close } = await session('light', 390);
    await goTo(page, 'Reports');
    await page.getByTestId('chargeback').waitFor();
    const scroll = page.locator('.table-scroll').filter({ has: page.getByTestId('chargeback') });
    const [box, table] = await Promise.all([scroll.boundingBox(), page.getByTestId('chargeback').boundingBox()]);
    assert.ok(box !== null && table !== null);
    assert.ok(table.width > box.width, `the table (${table.width}px) is wider than its box (${box.width}px)`);
    assert.ok(box.x + box.width <= 390, 'the box stays within the screen');
    await screenshot(page, 'console-cache-reports-phone');
    assert.deepEqual(errors, []);
    await close();
  });
});
