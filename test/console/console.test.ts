// The console in Debian's Chromium against a real Sluice (mock provider on loopback, SQLite in a temp folder): sign-in,
// the overview's figures against /api/usage, reconciling a discovery and its usage moving, a template materialized,
// an unsanctioned model shown as a violation, the chargeback CSV, and a viewer without edit controls. Screenshots of
// every page in light and dark go to test-output/screenshots/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, goTo, launch, loaded, missingBrowser, openContext, PAGE_TITLES, screenshot, signIn } from './browser.js';
import { until } from '../support/until.js';

const BOOTSTRAP = 'sa-bootstrap-console-test-token';
const HOUR = 3_600_000;
const usdText = (microUsd: number) => new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(microUsd / 1e6);
const countText = (value: number) => value.toLocaleString('en-US');

const skip = missingBrowser();

describe('the console', { skip: skip ?? false }, () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let browser: Browser;
  let consoleURL: string;

  const admin = async (method: string, path: string, body?: unknown, token = BOOTSTRAP) => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, body: (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : null };
  };
  const chat = async (model: string) => {
    const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(response.status, 200, await response.text());
  };
  const monthPeriod = () => {
    const now = new Date();
    const from = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const to = Math.floor(Date.now() / HOUR) * HOUR + HOUR;
    return `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
  };
  /** A fresh page, signed in, collecting the errors it logs. */
  const session = async (token = BOOTSTRAP, colorScheme: 'light' | 'dark' = 'light') => {
    const context = await openContext(browser, colorScheme);
    const page = await context.newPage();
    const errors = consoleErrors(page);
    await signIn(page, consoleURL, token);
    return { page, errors, close: () => context.close() };
  };
  const topConsumerCalls = async (page: Page, name: string) => {
    const row = page.getByRole('region', { name: 'Top consumers this month' }).getByRole('row').filter({ hasText: name });
    return (await row.count()) === 0 ? null : Number((await row.getByRole('cell').nth(1).innerText()).replace(/,/g, ''));
  };

  before(async () => {
    mock = await MockProvider.start((_request, res) =>
      json(res, 200, openaiCompletion('hi', { prompt_tokens: 120_000, completion_tokens: 20_000 })),
    );
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
      ],
      resources: { 'openai/gpt-4o': 'unsanctioned' },
      resourcePolicy: { unsanctioned: 'monitor', unreviewed: 'allow' },
    });
    consoleURL = `${sluice.adminURL}/console/`;
    for (const team of ['payments', 'discovery'])
      assert.ok([201, 409].includes((await admin('POST', '/api/teams', { name: team, owner: 'owner@example.com' })).status));
    for (let call = 0; call < 3; call++) await chat('gpt-4o-mini');
    await chat('gpt-4o');
    const intake = await admin('POST', '/api/reconciliation/observations', {
      observations: [
        {
          observer: 'proxy-1',
          at: Date.now() - 60_000,
          source: { ip: '10.9.8.7', userAgent: 'batch-runner/1.0' },
          provider: 'openai',
          model: 'gpt-4o-mini',
          calls: 7,
          inputTokens: 7_000,
          outputTokens: 700,
          costMicroUsd: 2_500_000,
        },
      ],
    });
    assert.equal(intake.status, 200, intake.text);
    // The gateway's calls reach the ledger in its next batch.
    while ((await admin('GET', '/api/transactions?limit=10')).body.items.length < 5)
      await new Promise((resolve) => setTimeout(resolve, 50));
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
    await mock?.close();
  });

  test('is served with a strict CSP; hashed assets cached for a year; / leads to it', async () => {
    const index = await fetch(consoleURL);
    assert.equal(index.status, 200);
    const csp = index.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${sluice.adminURL}${script}`);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await fetch(`${sluice.adminURL}/console/assets/missing.js`)).status, 404);
    const root = await fetch(`${sluice.adminURL}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/console/');
    assert.doesNotMatch(html, /<script>(?!<)/, 'no inline script');
  });

  test('a wrong token is refused; the right one signs in, kept out of the URL', async () => {
    const context = await openContext(browser);
    const page = await context.newPage();
    await page.goto(consoleURL);
    await page.getByLabel('Admin token').fill('sa-sluice-not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.getByRole('alert').innerText(), /refused/);
    assert.equal(await page.getByRole('navigation', { name: 'Pages' }).count(), 0);
    await page.getByLabel('Admin token').fill(BOOTSTRAP);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Pages' }).waitFor();
    assert.equal(await page.getByTestId('role').innerText(), 'Admin');
    assert.ok(!page.url().includes(BOOTSTRAP));
    await context.close();
  });

  test("the overview's spend, calls and tokens are /api/usage's for this month", async () => {
    const { page, errors, close } = await session();
    await page.getByTestId('overview-spend').waitFor();
    const usage = await admin('GET', `/api/usage?${monthPeriod()}&bucket=month`);
    const items = usage.body.items as Array<{ calls: number; inputTokens: number; outputTokens: number; cost: { microUsd: number } }>;
    const cost = items.reduce((sum, item) => sum + item.cost.microUsd, 0);
    const calls = items.reduce((sum, item) => sum + item.calls, 0);
    const tokens = items.reduce((sum, item) => sum + item.inputTokens + item.outputTokens, 0);
    assert.ok(calls >= 11, `4 gateway calls and 7 observed: ${calls}`);
    assert.equal(await page.getByTestId('overview-spend').innerText(), usdText(cost));
    assert.equal(await page.getByTestId('overview-calls').innerText(), countText(calls));
    assert.equal(await page.getByTestId('overview-tokens').innerText(), countText(tokens));
    assert.equal(await page.getByTestId('overview-pending').innerText(), '1');
    assert.deepEqual(errors, []);
    await close();
  });

  test('an unsanctioned model in monitor mode shows as a violation', async () => {
    const { page, close } = await session();
    await page.getByTestId('unsanctioned').getByText('openai/gpt-4o').waitFor();
    await goTo(page, 'Transactions');
    await page.getByLabel('Model').fill('gpt-4o');
    await page.getByRole('button', { name: 'Apply' }).click();
    const rows = page.getByTestId('transactions').locator('tbody tr');
    await until('one gpt-4o transaction is listed', async () => (await rows.count()) === 1, 30_000, 50);
    assert.match(await rows.first().innerText(), /gpt-4o\s+violation/);
    await rows.first().getByRole('link').click();
    const violations = page.getByTestId('violations');
    assert.match(await violations.innerText(), /unsanctioned model openai\/gpt-4o/);
    await close();
  });

  test('reconciling a discovered consumer moves its usage to the consumer', async () => {
    const { page, errors, close } = await session();
    await page.getByTestId('overview-spend').waitFor();
    assert.equal(await topConsumerCalls(page, 'unattributed'), 7);
    assert.equal(await topConsumerCalls(page, 'search-service'), null);
    await goTo(page, 'Reconciliation');
    const row = page.getByTestId('discoveries').getByRole('row').filter({ hasText: '10.9.8.7' });
    assert.match(await row.innerText(), /batch-runner\/1\.0/);
    await row.getByRole('button', { name: 'Resolve' }).click();
    // A rule from the discovery's hints previews what it would resolve before it is saved.
    await page.getByRole('button', { name: 'Rule from hints' }).click();
    await page.getByLabel('User agent prefix').fill('batch-runner/');
    assert.match(await page.getByTestId('rule-preview').innerText(), /would resolve 1 pending discovery: #1/);
    await page.getByLabel('User agent prefix').fill('nothing-like-it/');
    assert.match(await page.getByTestId('rule-preview').innerText(), /would resolve no pending discovery/);
    await page.getByRole('button', { name: 'Assign', exact: true }).first().click();
    await page.getByLabel('Consumer').selectOption('search-service');
    await page.getByRole('button', { name: 'Assign', exact: true }).last().click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Discovery 1 assigned to search-service; its past usage moved with it\.$/ })
      .waitFor();
    const api = await admin('GET', `/api/usage?${monthPeriod()}&bucket=month&groupBy=consumer&consumer=search-service`);
    assert.equal(api.body.items[0].calls, 7);
    await goTo(page, 'Overview');
    await page.getByTestId('overview-spend').waitFor();
    assert.equal(await topConsumerCalls(page, 'search-service'), 7);
    assert.equal(await topConsumerCalls(page, 'unattributed'), null);
    assert.deepEqual(errors, []);
    await close();
  });

  test('a template created in the console is materialized for the matching consumers', async () => {
    const { page, errors, close } = await session();
    await goTo(page, 'Budgets & templates');
    await page.getByRole('button', { name: 'New template' }).click();
    const form = page.getByRole('form', { name: 'New budget template' });
    await form.getByLabel('Template name').fill('payments-daily');
    await form.getByLabel('Applies to').selectOption('team');
    await form.getByLabel('Team', { exact: true }).selectOption('payments');
    assert.match(await page.getByTestId('template-preview').innerText(), /Would cover 1 consumer: checkout-service/);
    await form.getByLabel('Limit').fill('500000');
    await form.getByRole('button', { name: 'Create template' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Template payments-daily created for 1 consumer\.$/ })
      .waitFor();
    const instances = page.getByTestId('instances-payments-daily');
    await instances.waitFor();
    assert.match(await instances.innerText(), /payments-daily\/checkout-service/);
    const api = await admin('GET', '/api/budget-templates/payments-daily/instances');
    assert.deepEqual(
      api.body.items.map((item: { name: string }) => item.name),
      ['payments-daily/checkout-service'],
    );
    assert.match(await instances.innerText(), new RegExp(`${countText(api.body.items[0].used)} tokens of 500,000 tokens`));
    assert.deepEqual(errors, []);
    await close();
  });

  test('the chargeback CSV downloads with a row per team', async () => {
    const { page, close } = await session();
    await goTo(page, 'Reports');
    await page.getByTestId('chargeback').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const period = new Date().toISOString().slice(0, 7);
    assert.equal(download.suggestedFilename(), `sluice-chargeback-${period}.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    const [header, ...rows] = csv.trim().split(/\r?\n/);
    assert.equal(
      header,
      'period,team,calls,input_tokens,output_tokens,cached_input_tokens,total_tokens,cost_usd,unpriced_calls,refused_calls,failed_calls,cache_write_tokens,cache_write_1h_tokens,saved_usd,cost_nano_usd,saved_nano_usd',
    );
    const payments = rows.map((row) => row.split(',')).find((cells) => cells[1] === 'payments');
    assert.ok(payments !== undefined, csv);
    assert.equal(payments[0], period);
    assert.equal(payments[2], '4');
    const report = await admin('GET', `/api/reports/chargeback?period=${period}`);
    const line = report.body.items.find((item: { team: string }) => item.team === 'payments');
    assert.equal(payments[7], line.cost.usd);
    assert.equal(csv, (await admin('GET', `/api/reports/chargeback?period=${period}&format=csv`)).text);
    // The page shows the same figures.
    assert.match(
      await page.getByTestId('chargeback').getByRole('row').filter({ hasText: 'payments' }).innerText(),
      new RegExp(`payments\\s+4\\s`),
    );
    await close();
  });

  test('a viewer sees no edit control; a team-owner sees its own team', async () => {
    const viewer = await admin('POST', '/api/admin-tokens', { name: 'console-viewer', role: 'viewer' });
    const { page, errors, close } = await session(viewer.body.plaintext);
    assert.equal(await page.getByTestId('role').innerText(), 'Viewer');
    const editControls = async () =>
      (await page
        .getByRole('button', {
          name: /^(New consumer|New budget|New template|Create team|Edit|Resolve|Re-assign|Sanction|Unsanction|Create key|Revoke)$/,
        })
        .count()) + (await page.locator('select[aria-label^="Mode of"], select[aria-label^="Status of"]').count());
    for (const title of PAGE_TITLES) {
      await goTo(page, title);
      assert.equal(await editControls(), 0, `no edit control on ${title}`);
    }
    await goTo(page, 'Inventory');
    for (const tab of ['Teams', 'Resources']) {
      await page.getByRole('tab', { name: tab }).click();
      await loaded(page);
      assert.equal(await editControls(), 0, `no edit control on Inventory ${tab}`);
    }
    await page.getByRole('tab', { name: 'Consumers' }).click();
    await page.getByRole('button', { name: 'Keys' }).first().click();
    await page.getByRole('heading', { name: /^Keys of/ }).waitFor();
    assert.equal(await editControls(), 0, 'no key controls');
    await screenshot(page, 'console-inventory-viewer-light');
    assert.deepEqual(errors, []);
    await close();

    const owner = await admin('POST', '/api/admin-tokens', { name: 'payments-owner', role: 'team-owner', team: 'payments' });
    const ownerSession = await session(owner.body.plaintext);
    await goTo(ownerSession.page, 'Inventory');
    const consumers = ownerSession.page.locator('tbody tr strong');
    await consumers.first().waitFor();
    assert.deepEqual(await consumers.allInnerTexts(), ['checkout-service']);
    assert.equal(await ownerSession.page.getByRole('button', { name: 'Edit' }).count(), 1);
    assert.deepEqual(await ownerSession.page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allInnerTexts(), [
      'Overview',
      'Inventory',
      'Transactions',
      'Reports',
    ]);
    await screenshot(ownerSession.page, 'console-inventory-team-owner-light');
    await ownerSession.close();
  });

  test('a screenshot of every page in light and dark, with an audit entry opened as a diff', async () => {
    await admin('PATCH', '/api/consumers/checkout-service', { owner: 'carol@example.com', labels: { tier: 'online' } });
    for (const scheme of ['light', 'dark'] as const) {
      const { page, errors, close } = await session(BOOTSTRAP, scheme);
      for (const title of PAGE_TITLES) {
        await goTo(page, title);
        if (title === 'Audit log') {
          await page
            .getByTestId('audit')
            .getByRole('row')
            .filter({ hasText: 'consumer checkout-service' })
            .first()
            .getByRole('button', { name: 'Changes' })
            .click();
          const diff = page.locator('table.diff');
          assert.match(await diff.innerText(), /owner\s+alice@example\.com\s+carol@example\.com/);
          assert.doesNotMatch(await page.locator('main').innerText(), /[{]"/, 'no raw JSON on the page');
        }
        await screenshot(page, `console-${title.toLowerCase().replace(/[^a-z]+/g, '-')}-${scheme}`);
      }
      assert.deepEqual(errors, []);
      await close();
    }
  });
});
