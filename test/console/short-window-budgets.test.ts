// A budget whose window is under an hour (`minute`, rolling 30m) has no burn-down: the API refuses it with a 400, as
// usage is rolled up by the hour. The Overview and the Budgets page do not ask for one, so the browser's log shows no
// refusal, and the Budgets page says such a budget is not tracked while one of an hour or more shows its use. One
// Sluice (SQLite in a temp folder) and one Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { OFFLINE_CATALOG } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, goTo, launch, loaded, missingBrowser, openContext, signIn } from './browser.js';

const BOOTSTRAP = 'sa-bootstrap-console-short-window-budgets';

const skip = missingBrowser();

describe('budgets of windows under an hour in the console', { skip: skip ?? false }, () => {
  let sluice: TestSluice;
  let browser: Browser;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      ...OFFLINE_CATALOG,
      budgets: [
        { name: 'per-minute', consumers: 'everyone', measure: 'requests', limit: 60, window: 'minute' },
        { name: 'burst', consumers: 'everyone', measure: 'requests', limit: 500, window: { rolling: '30m' } },
        { name: 'daily', consumers: 'everyone', measure: 'requests', limit: 1000, window: 'day' },
        { name: 'two-hours', consumers: 'everyone', measure: 'requests', limit: 1000, window: { rolling: '2h' } },
      ],
    });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
  });

  test('are not asked for a burn-down the API refuses, and read as not tracked', async () => {
    // The API's answer, which the console must not provoke.
    const refused = await fetch(`${sluice.adminURL}/api/budgets/burst/burn-down`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } });
    assert.equal(refused.status, 400);
    const context = await openContext(browser);
    const page = await context.newPage();
    const errors = consoleErrors(page);
    const asked: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/burn-down')) asked.push(decodeURIComponent(new URL(request.url()).pathname));
    });
    // Signed in on the Overview: its budgets card asks for burn-downs.
    await signIn(page, `${sluice.adminURL}/console/`, BOOTSTRAP);
    await loaded(page);
    await goTo(page, 'Budgets & templates');
    const row = (name: string) => page.getByTestId('budgets').getByRole('row').filter({ hasText: name });
    for (const name of ['per-minute', 'burst']) assert.match(await row(name).innerText(), /not tracked \(window under an hour\)/);
    for (const name of ['daily', 'two-hours']) assert.match(await row(name).innerText(), /0 requests · 0%/);
    assert.deepEqual([...new Set(asked)].sort(), ['/api/budgets/daily/burn-down', '/api/budgets/two-hours/burn-down']);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
