// The overview as an operator reads it when not every call has a price: a team whose calls were all to a model without a
// price is named "unpriced" in the spend chart's legend, never "$0.00" (the chargeback's Unpriced column counts the same
// calls); a team whose calls were all refused cost nothing and is not in the legend; and the calls tile counts the
// refused and the failed calls; the top consumers and top models tables count a row's unpriced calls and name the
// spend of a row of unpriced calls only "unpriced", not "$0.00". One Sluice (mock provider on loopback, SQLite in a
// temp folder), one Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, goTo, launch, missingBrowser, openContext, screenshot, signIn } from './browser.js';

const BOOTSTRAP = 'sa-bootstrap-console-legend-token';
const RESEARCH_KEY = 'sk-sluice-test-research-bot-0004';

const skip = missingBrowser();

describe('the overview when some calls have no price', { skip: skip ?? false }, () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let browser: Browser;
  let consoleURL: string;

  const chat = (key: string, model: string, prompt = 'hello') =>
    fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }] }),
    });

  before(async () => {
    // The upstream fails a prompt of "fail"; it answers every other.
    mock = await MockProvider.start((request, res) => {
      if ((request.body.messages as Array<{ content: unknown }>)[0]!.content === 'fail')
        json(res, 500, { error: { message: 'upstream is down', type: 'server_error' } });
      else json(res, 200, openaiCompletion('hi', { prompt_tokens: 120_000, completion_tokens: 20_000 }));
    });
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        // No price is known for this one: served, but unpriced.
        { name: 'house-model', targets: [{ provider: 'openai', model: 'house-model-7b' }] },
      ],
      consumers: [
        { name: 'checkout-service', team: 'payments', owner: 'alice@example.com', keys: [KEYS.checkout] },
        { name: 'search-service', team: 'discovery', owner: 'bob@example.com', keys: [KEYS.search], models: ['gpt-4o-mini'] },
        { name: 'research-bot', team: 'research', owner: 'dana@example.com', keys: [RESEARCH_KEY] },
      ],
    });
    consoleURL = `${sluice.adminURL}/console/`;
    const statuses = [
      (await chat(KEYS.checkout, 'gpt-4o-mini')).status,
      (await chat(KEYS.checkout, 'gpt-4o-mini', 'fail')).status,
      (await chat(RESEARCH_KEY, 'house-model')).status,
      (await chat(RESEARCH_KEY, 'house-model')).status,
      // search-service may use gpt-4o-mini only: refused (as a model it does not have) before any provider is called.
      (await chat(KEYS.search, 'house-model')).status,
    ];
    assert.deepEqual(statuses, [200, 502, 200, 200, 404]);
    await sluice.sluice.settled();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
    await mock?.close();
  });

  test('the legend names a team of unpriced calls as unpriced and leaves out one that only had refusals', async () => {
    const context = await openContext(browser);
    const page = await context.newPage();
    const errors = consoleErrors(page);
    await signIn(page, consoleURL, BOOTSTRAP);
    const legend = page.locator('.legend li');
    await legend.first().waitFor();
    const entries = await legend.allInnerTexts();
    assert.ok(
      entries.some((text) => /^payments\s+\$\d/.test(text)),
      entries.join(' | '),
    );
    assert.ok(
      entries.some((text) => /^research\s+unpriced \(2 calls\)$/.test(text)),
      entries.join(' | '),
    );
    assert.ok(!entries.some((text) => text.includes('$0.00')), entries.join(' | '));
    assert.ok(!entries.some((text) => text.startsWith('discovery')), entries.join(' | '));
    const chart = await page.locator('figure.chart [role="img"]').getAttribute('aria-label');
    assert.match(chart ?? '', /research unpriced \(2 calls\)/);
    assert.doesNotMatch(chart ?? '', /discovery/);

    await screenshot(page, 'overview-unpriced-legend');

    // The chargeback counts the same unpriced calls in its Unpriced column.
    await goTo(page, 'Reports');
    const research = page
      .getByTestId('chargeback')
      .getByRole('row')
      .filter({ hasText: /^research/ });
    assert.equal(await research.getByRole('cell').nth(4).innerText(), '2');
    assert.deepEqual(errors, []);
    await context.close();
  });
  test('the top consumers and top models tables count unpriced calls and never show their spend as $0.00', async () => {
    const context = await openContext(browser);
    const page = await context.newPage();
    const errors = consoleErrors(page);
    await signIn(page, consoleURL, BOOTSTRAP);
    const row = (table: string, name: string) =>
      page
        .getByRole('region', { name: table })
        .getByRole('row')
        .filter({ has: page.getByRole('cell', { name, exact: true }) });
    const cells = async (table: string, name: string) =>
      (await row(table, name).getByRole('cell').allInnerTexts()).map((text) => text.trim());
    await row('Top consumers this month', 'research-bot').waitFor();
    const headers = await page.getByRole('region', { name: 'Top consumers this month' }).getByRole('columnheader').allTextContents();
    assert.deepEqual(
      headers.map((text) => text.trim()),
      ['consumer', 'Calls', 'Unpriced', 'Spend', 'Cache writes', 'Saved'],
    );
    // Two served calls to a model without a price: counted as the chargeback counts them, their spend not known.
    const research = await cells('Top consumers this month', 'research-bot');
    assert.deepEqual(research.slice(0, 4), ['research-bot', '2', '2', 'unpriced']);
    const houseModel = await cells('Top models this month', 'house-model');
    assert.deepEqual([houseModel[0], ...houseModel.slice(2, 4)], ['house-model', '2', 'unpriced']);
    // A priced consumer shows its spend and no unpriced calls.
    const checkout = await cells('Top consumers this month', 'checkout-service');
    assert.equal(checkout[2], '0');
    assert.match(checkout[3]!, /^\$\d/);
    assert.notEqual(checkout[3], '$0.00');
    await screenshot(page, 'overview-unpriced-top-tables');
    assert.deepEqual(errors, []);
    await context.close();
  });
  test('the calls tile counts the refused and the failed calls of the month', async () => {
    const context = await openContext(browser);
    const page = await context.newPage();
    const errors = consoleErrors(page);
    await signIn(page, consoleURL, BOOTSTRAP);
    const calls = page.locator('.stat').filter({ has: page.getByTestId('overview-calls') });
    await calls.waitFor();
    assert.equal(await page.getByTestId('overview-calls').innerText(), '5');
    assert.equal(await calls.locator('.stat-detail').innerText(), '1 refused, 1 failed');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
