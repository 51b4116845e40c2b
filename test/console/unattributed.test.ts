// Traffic of no consumer (an undeclared caller's calls, reported by an observer) is "unattributed" on every page that
// names a consumer: the overview's top consumers, the ledger and a transaction's detail, the cost drivers by consumer and
// the resources it reached; the term the CLI (`(unattributed)`) and docs/reconciliation.md use. One Sluice (mock
// provider on loopback, SQLite in a temp folder) and one Chromium for the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, goTo, launch, missingBrowser, openContext, signIn } from './browser.js';
import { until } from '../support/until.js';

const BOOTSTRAP = 'sa-bootstrap-console-unattributed-token';

const skip = missingBrowser();

describe('traffic of no consumer, named alike on every page', { skip: skip ?? false }, () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let browser: Browser;

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${BOOTSTRAP}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
      ],
    });
    const call = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(call.status, 200);
    // An undeclared caller, as a discovery proxy reports it: its calls belong to no consumer.
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
    assert.equal(intake.status, 200, await intake.text());
    await until(
      'both rows are in the ledger',
      async () => ((await (await admin('GET', '/api/transactions?limit=10')).json()) as { items: unknown[] }).items.length >= 2,
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

  test('the overview, the ledger, a transaction, the cost drivers and the resources all say "unattributed"', async () => {
    const context = await openContext(browser);
    const page = await context.newPage();
    const errors = consoleErrors(page);
    await signIn(page, `${sluice.adminURL}/console/`, BOOTSTRAP);
    const firstCell = (row: ReturnType<typeof page.locator>) => row.getByRole('cell').first().innerText();

    const topConsumers = page.locator('section.card').filter({ has: page.getByRole('heading', { name: 'Top consumers this month' }) });
    const overviewRow = topConsumers.getByRole('row').filter({ hasText: '$1.50' });
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
    const drivers = page.locator('section.card').filter({ has: page.getByRole('heading', { name: /^Top cost drivers/ }) });
    const driverRow = drivers.getByRole('row').filter({ hasText: '$1.50' });
    await driverRow.waitFor();
    assert.equal(await firstCell(driverRow), 'unattributed');

    await goTo(page, 'Inventory');
    await page.getByRole('tab', { name: 'Resources' }).click();
    const resourceRow = page.getByRole('row').filter({ hasText: 'openai/gpt-4o' }).filter({ hasNotText: 'gpt-4o-mini' });
    await resourceRow.waitFor();
    assert.equal(await resourceRow.getByRole('cell').last().innerText(), 'unattributed');
    // It leads to where such callers are reconciled.
    await resourceRow.getByRole('link', { name: 'unattributed' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reconciliation' }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});
