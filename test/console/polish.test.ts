// The console's finish, as a reader sees it: a consumer of no team is called the same on every page, a chart's legend
// lists no "other" that cost nothing, and the Models heading stands apart from the providers above it. One Sluice
// (mock provider on loopback, SQLite in a temp folder) and one Chromium for the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, goTo, launch, loaded, missingBrowser, openContext, signIn } from './browser.js';
import { until } from '../support/until.js';

const BOOTSTRAP = 'sa-bootstrap-console-polish-token';
const LONE_KEY = 'sk-sluice-test-lone-script-0003';
// Six models with spend, and a seventh asked for only by a consumer not allowed it: refused, so it cost nothing.
const PAID_MODELS = ['gpt-4o-mini', 'alpha', 'beta', 'gamma', 'delta', 'epsilon'];
const FREE_MODEL = 'zeta';

const skip = missingBrowser();

describe('the console, polished', { skip: skip ?? false }, () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let browser: Browser;
  let consoleURL: string;

  const admin = async (path: string) => {
    const response = await fetch(`${sluice.adminURL}${path}`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } });
    return (await response.json()) as Record<string, unknown>;
  };
  const chat = (key: string, model: string) =>
    fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    });
  const session = async (width = 1366) => {
    const context = await openContext(browser);
    const page = await context.newPage();
    await page.setViewportSize({ width, height: 900 });
    const errors = consoleErrors(page);
    await signIn(page, consoleURL, BOOTSTRAP);
    return { page, errors, close: () => context.close() };
  };

  before(async () => {
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hi', { prompt_tokens: 120_000, completion_tokens: 20_000 })),
    );
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [...PAID_MODELS, FREE_MODEL].map((name) => ({ name, targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] })),
      consumers: [
        { name: 'checkout-service', team: 'payments', owner: 'alice@example.com', keys: [KEYS.checkout] },
        { name: 'search-service', team: 'discovery', owner: 'bob@example.com', keys: [KEYS.search], models: ['gpt-4o-mini'] },
        { name: 'lone-script', owner: 'carol@example.com', keys: [LONE_KEY] },
      ],
    });
    consoleURL = `${sluice.adminURL}/console/`;
    for (const model of PAID_MODELS) assert.equal((await chat(KEYS.checkout, model)).status, 200);
    assert.equal((await chat(LONE_KEY, 'gpt-4o-mini')).status, 200);
    const refused = await chat(KEYS.search, FREE_MODEL);
    assert.ok(refused.status >= 400 && refused.status < 500, String(refused.status));
    await until(
      'the eight calls are in the ledger',
      async () => ((await admin('/api/transactions?limit=20')).items as unknown[]).length >= 8,
      30_000,
      50,
    );
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
    await mock?.close();
  });

  test("a consumer of no team is 'no team' on every page that shows a team", async () => {
    const { page, errors, close } = await session();
    // The overview's spend per day, stacked by team: its legend.
    const legend = page.locator('.legend li');
    await legend.first().waitFor();
    assert.ok(
      (await legend.allInnerTexts()).some((text) => /^no team\s+\$/.test(text)),
      (await legend.allInnerTexts()).join(' | '),
    );
    // The inventory's consumers.
    await goTo(page, 'Inventory');
    const lone = page.getByRole('row').filter({ hasText: 'lone-script' });
    assert.equal(await lone.getByRole('cell').nth(1).innerText(), 'no team');
    // The ledger, and a transaction's detail.
    await goTo(page, 'Transactions');
    const row = page.getByTestId('transactions').getByRole('row').filter({ hasText: 'lone-script' });
    assert.match(await row.getByRole('cell').nth(1).innerText(), /^lone-script\s+no team$/);
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: /^Transaction \d+/ }).waitFor();
    assert.match(await page.locator('dl.facts').innerText(), /Team\s+no team\n/);
    // The chargeback and the cost drivers by team.
    await goTo(page, 'Reports');
    assert.match(
      await page
        .getByTestId('chargeback')
        .getByRole('row')
        .filter({ hasText: /^no team/ })
        .innerText(),
      /^no team\s+1\s/,
    );
    const drivers = page.locator('section.card').filter({ has: page.getByRole('heading', { name: /^Top cost drivers/ }) });
    await drivers.getByRole('row').filter({ hasText: 'payments' }).waitFor();
    assert.equal(
      await drivers
        .getByRole('row')
        .filter({ hasText: /^no team\$/ })
        .count(),
      1,
    );
    assert.deepEqual(errors, []);
    await close();
  });

  test('a chart legend lists no "other" that cost nothing, and the chart names none', async () => {
    // What the chart is drawn from: seven models asked for, the seventh without any cost.
    const hour = (ms: number) => `${new Date(Math.floor(ms / 3_600_000) * 3_600_000).toISOString().slice(0, 13)}:00:00Z`;
    const month = await admin(
      `/api/usage?from=${hour(Date.now() - 86_400_000)}&to=${hour(Date.now() + 3_600_000)}&bucket=month&groupBy=model`,
    );
    const costs = new Map(
      (month.items as Array<{ group: { model: string }; cost: { microUsd: number } }>).map((item) => [
        item.group.model,
        item.cost.microUsd,
      ]),
    );
    assert.equal(costs.size, 7, JSON.stringify([...costs]));
    assert.equal(costs.get(FREE_MODEL), 0);
    const { page, errors, close } = await session();
    await page.getByRole('button', { name: 'By model' }).click();
    await loaded(page);
    const legend = page.locator('.legend li');
    await until('the legend is by model', async () => (await legend.allInnerTexts()).some((text) => text.startsWith('alpha')), 30_000, 50);
    const labels = (await legend.allInnerTexts()).map((text) => text.replace(/\s+\$.*$/, ''));
    assert.deepEqual([...labels].sort(), [...PAID_MODELS].sort());
    const chart = await page.locator('figure.chart [role="img"]').getAttribute('aria-label');
    assert.doesNotMatch(chart ?? '', /\bother\b/);
    assert.deepEqual(errors, []);
    await close();
  });

  test("a consumer leads to its transactions, and a transaction back to its consumer's", async () => {
    const { page, errors, close } = await session();
    const ledgerRows = page.getByTestId('transactions').locator('tbody tr');
    const consumerCells = async () =>
      (
        await ledgerRows.evaluateAll((rows) =>
          rows.map((row) => (row as unknown as { cells: Array<{ innerText: string }> }).cells[1]!.innerText),
        )
      ).map((text) => text.split(/\s/)[0]);
    // From the overview's top consumers.
    const topConsumers = page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'Top consumers this month' }) });
    await topConsumers.getByRole('link', { name: 'lone-script' }).click();
    await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
    await loaded(page);
    assert.equal(await page.getByLabel('Consumer').inputValue(), 'lone-script');
    assert.deepEqual(await consumerCells(), ['lone-script']);
    // To the call's detail, and from there to all of its consumer's calls.
    await ledgerRows.first().getByRole('link').click();
    await page.getByRole('heading', { name: /^Transaction \d+/ }).waitFor();
    await page.locator('dl.facts').getByRole('link', { name: 'lone-script' }).click();
    await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
    await loaded(page);
    assert.deepEqual(await consumerCells(), ['lone-script']);
    // From the inventory's consumers, the same.
    await goTo(page, 'Inventory');
    await page.getByRole('link', { name: 'Transactions of checkout-service' }).click();
    await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
    await loaded(page);
    assert.deepEqual(
      await consumerCells(),
      Array.from({ length: PAID_MODELS.length }, () => 'checkout-service'),
    );
    // The detail's way back returns to the list as it was filtered.
    await ledgerRows.first().getByRole('link').click();
    await page.getByRole('link', { name: '← Transactions' }).click();
    await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
    await loaded(page);
    assert.equal(await page.getByLabel('Consumer').inputValue(), 'checkout-service');
    // A filter applied is in the address: Back returns to the list before it.
    await page.getByLabel('Consumer').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await until('every consumer is listed', async () => new Set(await consumerCells()).size === 3, 30_000, 50);
    await page.goBack();
    await until('back to checkout-service alone', async () => new Set(await consumerCells()).size === 1, 30_000, 50);
    assert.deepEqual(errors, []);
    await close();
  });

  test('while a page of the ledger loads, its table says so, and what it then shows is the answer', async () => {
    const { page, errors, close } = await session();
    // The ledger's answer held back: what the page shows meanwhile is not it (a CI run read an empty table as one).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/api\/transactions\?/, async (route) => {
      await held;
      await route.continue();
    });
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Transactions', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Transactions', exact: true }).waitFor();
    const table = page.getByTestId('transactions');
    assert.equal(await table.getAttribute('aria-busy'), 'true');
    release();
    await loaded(page);
    assert.equal(await table.getAttribute('aria-busy'), null);
    assert.equal(await table.locator('tbody tr').count(), 8);
    assert.deepEqual(errors, []);
    await close();
  });

  test('the chargeback sorts by any column from its header, by mouse or keyboard, the total staying last', async () => {
    const { page, errors, close } = await session();
    await goTo(page, 'Reports');
    const table = page.getByTestId('chargeback');
    const teams = async () =>
      await table
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((row) => (row as unknown as { cells: Array<{ innerText: string }> }).cells[0]!.innerText));
    const report = (await admin(`/api/reports/chargeback?period=${new Date().toISOString().slice(0, 7)}`)) as {
      items: Array<{ team: string; cost: { microUsd: number }; refusedCalls: number }>;
    };
    const byCost = [...report.items].sort((a, b) => b.cost.microUsd - a.cost.microUsd).map((line) => line.team || 'no team');
    assert.ok(byCost.length >= 3 && byCost.join() !== [...byCost].sort().join(), byCost.join());
    const cost = table.getByRole('columnheader', { name: /^Cost/ });
    await cost.getByRole('button').click();
    assert.equal(await cost.getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await teams(), byCost);
    // Again, from the keyboard: the other way.
    await cost.getByRole('button').focus();
    await page.keyboard.press('Enter');
    assert.equal(await cost.getAttribute('aria-sort'), 'ascending');
    assert.deepEqual(await teams(), [...byCost].reverse());
    assert.equal(await table.getByRole('columnheader', { name: /^Team/ }).getAttribute('aria-sort'), null);
    assert.match(await table.locator('tfoot tr').innerText(), /^Total/);
    assert.deepEqual(errors, []);
    await close();
  });

  for (const width of [1366, 390]) {
    test(`the Models heading stands apart from the providers above it, as headings do on other pages (${width} pixels wide)`, async () => {
      const { page, errors, close } = await session(width);
      await goTo(page, 'Inventory');
      await page.getByRole('tab', { name: 'Providers & models' }).click();
      const models = page.getByRole('heading', { level: 2, name: 'Models', exact: true });
      await models.waitFor();
      const providersTable = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Base URL' }) });
      const above = (await providersTable.boundingBox())!;
      const heading = (await models.boundingBox())!;
      // On the Reports or Budgets page a card's heading is a card's padding, border and margin below what precedes it.
      assert.ok(
        heading.y - (above.y + above.height) >= 15,
        `the Models heading is ${heading.y - (above.y + above.height)} pixels below the table`,
      );
      // Each in a card of its own, like every other page's second-level headings.
      for (const name of ['Providers', 'Models'])
        assert.equal(
          await page
            .locator('section.card')
            .filter({ has: page.getByRole('heading', { level: 2, name, exact: true }) })
            .count(),
          1,
          name,
        );
      assert.deepEqual(errors, []);
      await close();
    });
  }
});
