// The console on a fresh install, before any call: the overview says there is no spend to project rather than
// forecasting $0.00 with a range of $0.00 to $0.00. One Sluice (SQLite in a temp folder) and one Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, launch, loaded, missingBrowser, openContext, screenshot, signIn } from './browser.js';

const BOOTSTRAP = 'sa-bootstrap-console-fresh-token';

const skip = missingBrowser();

describe('the console on a fresh install', { skip: skip ?? false }, () => {
  let sluice: TestSluice;
  let browser: Browser;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      // Never called: no traffic at all.
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
  });

  test('the month-end forecast says there is no spend to project, not $0.00 between $0.00 and $0.00', async () => {
    const context = await openContext(browser);
    const page = await context.newPage();
    const errors = consoleErrors(page);
    await signIn(page, `${sluice.adminURL}/console/`, BOOTSTRAP);
    await loaded(page);
    await screenshot(page, 'console-overview-fresh');
    const forecast = page.locator('.stat').filter({ has: page.getByTestId('overview-forecast') });
    assert.equal(await page.getByTestId('overview-forecast').innerText(), '—');
    assert.equal(await forecast.locator('.stat-detail').innerText(), 'no spend to project yet');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
