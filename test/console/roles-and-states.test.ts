// The console where the happy path ends: a team-owner's overview and reports, a refused call's and a tiny call's cost,
// a token revoked while signed in, a phone-sized screen, and the director gone. One Sluice (mock provider on loopback,
// SQLite in a temp folder) and one Chromium for the file; the last test stops Sluice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, goTo, launch, loaded, missingBrowser, openContext, PAGE_TITLES, screenshot, signIn } from './browser.js';
import { until } from '../support/until.js';

const BOOTSTRAP = 'sa-bootstrap-console-states-token';
const usdText = (microUsd: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(microUsd / 1e6);
/** Under a cent the console shows two significant digits of the exact nano-USD (docs/console.md). */
const smallUsdText = (nanoUsd: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumSignificantDigits: 2 }).format(nanoUsd / 1e9);

const skip = missingBrowser();

describe('the console beyond the happy path', { skip: skip ?? false }, () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let stopped = false;
  let browser: Browser;
  let consoleURL: string;

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${BOOTSTRAP}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, body: (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : null };
  };
  const chat = async (key: string, model: string, content = 'hello') =>
    fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
    });
  const token = async (name: string, role: string, team?: string) =>
    (await admin('POST', '/api/admin-tokens', { name, role, team })).body as { token: { id: string }; plaintext: string };
  const session = async (plaintext: string, width = 1366) => {
    const context = await openContext(browser);
    const page = await context.newPage();
    await page.setViewportSize({ width, height: 900 });
    const errors = consoleErrors(page);
    await signIn(page, consoleURL, plaintext);
    return { page, errors, close: () => context.close() };
  };

  before(async () => {
    // A "big" question is answered with 120,000 input and 20,000 output tokens (3 cents of gpt-4o-mini); any other with
    // 12 and 5, which cost a few micro-USD.
    mock = await MockProvider.start((request, res) =>
      json(
        res,
        200,
        request.rawBody.includes('big')
          ? openaiCompletion('hi', { prompt_tokens: 120_000, completion_tokens: 20_000 })
          : openaiCompletion('hi'),
      ),
    );
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
      ],
    });
    consoleURL = `${sluice.adminURL}/console/`;
    for (const team of ['payments', 'discovery'])
      assert.ok([201, 409].includes((await admin('POST', '/api/teams', { name: team, owner: 'owner@example.com' })).status));
    const budget = await admin('POST', '/api/budgets', {
      name: 'payments-quiet',
      consumers: { team: 'payments' },
      measure: 'cost_usd',
      limit: 100,
      window: 'month',
      alerts: [],
    });
    assert.equal(budget.status, 201, budget.text);
    for (const content of ['big', 'big', 'hello']) assert.equal((await chat(KEYS.checkout, 'gpt-4o-mini', content)).status, 200);
    // search-service may use gpt-4o-mini only: its gpt-4o call is refused before any provider is called.
    const refused = await chat(KEYS.search, 'gpt-4o');
    assert.ok(refused.status >= 400 && refused.status < 500, String(refused.status));
    await until(
      'the four calls are in the ledger',
      async () => (await admin('GET', '/api/transactions?limit=10')).body.items.length >= 4,
      30_000,
      50,
    );
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    if (!stopped) await sluice?.stop();
    await mock?.close();
  });

  test("a team-owner's overview shows its team's forecast and no budgets its token may not read", async () => {
    const owner = await token('payments-owner', 'team-owner', 'payments');
    const { page, errors, close } = await session(owner.plaintext);
    await page.getByTestId('overview-forecast').waitFor();
    const forecast = await fetch(`${sluice.adminURL}/api/forecast?month=${new Date().toISOString().slice(0, 7)}`, {
      headers: { authorization: `Bearer ${owner.plaintext}` },
    }).then((response) => response.json() as Promise<{ teams: Array<{ team: string; forecast: { microUsd: number } }> }>);
    const payments = forecast.teams.find((line) => line.team === 'payments');
    assert.ok(payments !== undefined && payments.forecast.microUsd > 0, JSON.stringify(forecast));
    assert.equal(await page.getByTestId('overview-forecast').innerText(), usdText(payments.forecast.microUsd));
    // The team has a budget this token may not read: no card offers it (nor a link to a page it cannot see).
    await page.getByRole('heading', { name: 'Unsanctioned traffic, last 24 hours' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Budgets nearest exhaustion' }).count(), 0);
    // The card left stands apart from the cards above it, as every card does.
    const cardOf = (name: string) => page.locator('section.card').filter({ has: page.getByRole('heading', { name }) });
    const above = (await cardOf('Top consumers this month').boundingBox())!;
    const below = (await cardOf('Unsanctioned traffic, last 24 hours').boundingBox())!;
    assert.ok(below.y - (above.y + above.height) >= 15, `${below.y - (above.y + above.height)} pixels between the cards`);
    await goTo(page, 'Reports');
    const by = page.getByLabel('By');
    assert.equal(await by.inputValue(), 'consumer');
    const drivers = page.locator('section.card').filter({ has: page.getByRole('heading', { name: /^Top cost drivers/ }) });
    await drivers.getByRole('row').filter({ hasText: 'checkout-service' }).waitFor();
    assert.equal((await drivers.locator('thead th').first().innerText()).toLowerCase(), 'consumer');
    assert.deepEqual(errors, []);
    await close();
  });

  test('a team-owner is offered only what its role may read, and its console sends no request the API refuses', async () => {
    const owner = await token('payments-owner-walk', 'team-owner', 'payments');
    const { page, errors, close } = await session(owner.plaintext);
    const refused: string[] = [];
    page.on('response', (response) => {
      if (response.status() >= 400) refused.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    });
    const nav = page.getByRole('navigation', { name: 'Pages' });
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['Overview', 'Inventory', 'Transactions', 'Reports']);
    for (const title of ['Overview', 'Inventory', 'Transactions', 'Reports']) await goTo(page, title);
    await goTo(page, 'Inventory');
    assert.deepEqual(await page.getByRole('tab').allInnerTexts(), ['Consumers', 'Teams']);
    await page.getByRole('tab', { name: 'Teams' }).click();
    await loaded(page);
    // A page it may not read, reached by its address (a bookmark, a link from a colleague): said so, nothing asked for.
    const said: string[] = [];
    for (const [path, title] of [
      ['budgets', 'Budgets & templates'],
      ['reconciliation', 'Reconciliation'],
      ['audit', 'Audit log'],
    ]) {
      await page.goto(`${consoleURL}#/${path}`);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      await loaded(page);
      said.push(await page.locator('main').innerText());
    }
    assert.deepEqual(refused, []);
    for (const text of said) assert.match(text, /not available to a team owner/i);
    assert.deepEqual(errors, []);
    await close();
  });

  test("a refused call's cost is a dash, not 'unpriced'; a call under a hundredth of a cent is not $0.0000", async () => {
    const { page, errors, close } = await session(BOOTSTRAP);
    await goTo(page, 'Transactions');
    const rows = page.getByTestId('transactions').locator('tbody tr');
    await until('the four calls are listed', async () => (await rows.count()) === 4, 30_000, 50);
    const ledger = (await admin('GET', '/api/transactions?limit=10')).body.items as Array<{
      outcome: string;
      cost: { microUsd: number; nanoUsd: number } | null;
    }>;
    const costCell = (index: number) => rows.nth(index).getByRole('cell').nth(5).innerText();
    for (const [index, row] of ledger.entries()) {
      if (row.outcome === 'refused') {
        assert.equal(row.cost, null);
        assert.equal(await costCell(index), '—');
      } else {
        assert.ok(row.cost !== null && row.cost.microUsd > 0, JSON.stringify(row.cost));
        assert.equal(await costCell(index), row.cost.microUsd < 10_000 ? smallUsdText(row.cost.nanoUsd) : usdText(row.cost.microUsd));
      }
    }
    assert.equal(ledger.filter((row) => row.outcome === 'refused').length, 1);
    assert.equal(ledger.filter((row) => row.cost !== null && row.cost.microUsd < 50).length, 1, 'one call under $0.00005');
    await rows.filter({ hasText: 'refused' }).getByRole('link').click();
    await page.getByRole('heading', { name: /^Transaction \d+/ }).waitFor();
    assert.match(await page.locator('dl.facts').innerText(), /Cost\s+—/);
    // The budget without alerts says so in words.
    await goTo(page, 'Budgets & templates');
    assert.match(await page.getByTestId('budgets').getByRole('row').filter({ hasText: 'payments-quiet' }).innerText(), /no alerts/);
    assert.deepEqual(errors, []);
    await close();
  });

  test('a token revoked while signed in leads back to sign-in, saying why', async () => {
    const operator = await token('soon-revoked', 'operator');
    const { page, close } = await session(operator.plaintext);
    await page.getByTestId('overview-spend').waitFor();
    assert.equal((await admin('POST', `/api/admin-tokens/${operator.token.id}/revoke`)).status, 200);
    // The next page's requests are refused, and so may be one the overview still had in flight at the revocation, which
    // brings the sign-in back before the click lands (the link is then gone): either way the sign-in must come.
    void page
      .getByRole('navigation', { name: 'Pages' })
      .getByRole('link', { name: 'Inventory', exact: true })
      .click({ timeout: 10_000 })
      .catch(() => undefined);
    await page.getByLabel('Admin token').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /token was refused \(revoked or expired\): sign in again/);
    // Signing in again with a good token clears it.
    await page.getByLabel('Admin token').fill(BOOTSTRAP);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    await close();
  });

  test("at a phone's width no page is wider than the screen", async () => {
    const { page, errors, close } = await session(BOOTSTRAP, 390);
    for (const title of PAGE_TITLES) {
      await goTo(page, title);
      await loaded(page);
      const width = await page.locator('html').evaluate((html) => (html as unknown as { scrollWidth: number }).scrollWidth);
      assert.ok(width <= 390, `${title} is ${width} pixels wide on a 390-pixel screen`);
      await screenshot(page, `console-narrow-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`);
    }
    assert.deepEqual(errors, []);
    await close();
  });

  // Traffic of no consumer is "unattributed" on every page that names a consumer, as the CLI (`(unattributed)`) and
  // docs/reconciliation.md name it.
  test("an undeclared caller's traffic is 'unattributed' on every page, and a resource it alone used is not used by 'nobody'", async () => {
    const intake = await admin('POST', '/api/reconciliation/observations', {
      observations: [
        {
          observer: 'proxy-1',
          at: Date.now() - 60_000,
          source: { ip: '10.9.8.7', userAgent: 'shadow-script/0.1' },
          provider: 'openai',
          model: 'gpt-4o',
          calls: 3,
          inputTokens: 3_000,
          outputTokens: 300,
          costMicroUsd: 1_500_000,
        },
      ],
    });
    assert.equal(intake.status, 200, intake.text);
    const { page, errors, close } = await session(BOOTSTRAP);
    const firstCell = (row: ReturnType<typeof page.locator>) => row.getByRole('cell').first().innerText();
    const card = (heading: string | RegExp) => page.locator('section.card').filter({ has: page.getByRole('heading', { name: heading }) });
    const overviewRow = card('Top consumers this month').getByRole('row').filter({ hasText: '$1.50' });
    await overviewRow.waitFor();
    assert.equal(await firstCell(overviewRow), 'unattributed');
    await goTo(page, 'Transactions');
    const ledgerRow = page.getByTestId('transactions').getByRole('row').filter({ hasText: 'observed' });
    assert.match(await ledgerRow.getByRole('cell').nth(1).innerText(), /^unattributed\b/);
    await ledgerRow.getByRole('link').first().click();
    await page.getByRole('heading', { name: /^Transaction \d+/ }).waitFor();
    assert.match(await page.locator('dl.facts').innerText(), /Consumer\s+unattributed\b/);
    await goTo(page, 'Reports');
    await page.getByLabel('By').selectOption('consumer');
    const driverRow = card(/^Top cost drivers/)
      .getByRole('row')
      .filter({ hasText: '$1.50' });
    await driverRow.waitFor();
    assert.equal(await firstCell(driverRow), 'unattributed');
    await goTo(page, 'Inventory');
    await page.getByRole('tab', { name: 'Resources' }).click();
    const row = page.getByRole('row').filter({ hasText: 'openai/gpt-4o' }).filter({ hasNotText: 'gpt-4o-mini' });
    await row.waitFor();
    assert.match(await row.innerText(), /\b3\s+\$1\.50\s+unattributed$/);
    await row.getByRole('link', { name: 'unattributed' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reconciliation' }).waitFor();
    assert.deepEqual(errors, []);
    await close();
  });

  test('with Sluice stopped, a page says it did not answer', async () => {
    const { page, close } = await session(BOOTSTRAP);
    await page.getByTestId('overview-spend').waitFor();
    await sluice.stop();
    stopped = true;
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Reports', exact: true }).click();
    await until('the chargeback reports its failure', async () => (await page.getByRole('alert').count()) > 0, 30_000, 50);
    assert.match(await page.getByRole('alert').first().innerText(), /Sluice did not answer: is it running/);
    await close();
  });
});
