// The console on calls that cost less than a micro-USD: a 3-token embedding on text-embedding-3-small ($0.02 per 1M
// tokens) costs 60 nano-USD, which whole micro-USD round to $0.00. The console reads the API's exact nano-USD and shows
// such a call, and sums of them, as what they cost; where it rounds, the exact figure is in the tooltip. One Sluice (a
// loopback mock provider, SQLite in a temp folder), calls made through the openai SDK, one Chromium for the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { goTo, launch, missingBrowser, screenshot, signedInPage } from './browser.js';
import { startEmbeddingSluice, type EmbeddingSluice } from './embedding-sluice.js';
import { until } from '../support/until.js';

const BOOTSTRAP = 'sa-bootstrap-console-sub-micro-token';
/** Prompt tokens the mock states per input: 'tiny' 3 (60 nano-USD), 'longer' 1,234 (24,680 nano-USD). */
const TOKENS: Record<string, number> = { tiny: 3, longer: 1234 };

const skip = missingBrowser();

describe('the console on calls under a micro-USD', { skip: skip ?? false }, () => {
  let running: EmbeddingSluice;
  let browser: Browser;
  let consoleURL: string;

  before(async () => {
    running = await startEmbeddingSluice(BOOTSTRAP, (input) => TOKENS[input] ?? 1);
    consoleURL = running.consoleURL;
    await running.embed('longer', 'tiny');
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await running?.stop();
  });

  test('a 60 nano-USD call reads $0.00000006, not $0.00; a figure rounded for the page has its exact value in the tooltip', async () => {
    const { page, errors, close } = await signedInPage(browser, consoleURL, BOOTSTRAP);
    await goTo(page, 'Transactions');
    const rows = page.getByTestId('transactions').locator('tbody tr');
    await until('both calls are listed', async () => (await rows.count()) === 2, 30_000, 50);
    const cost = (index: number) => rows.nth(index).getByRole('cell').nth(5);
    // Newest first: the 3-token call, shown exactly; then the 1,234-token one, rounded, with its exact cost on hover.
    assert.equal(await cost(0).innerText(), '$0.00000006');
    assert.equal(await cost(1).innerText(), '$0.000025');
    assert.equal(await cost(1).locator('[title]').getAttribute('title'), '$0.00002468');

    await goTo(page, 'Overview');
    // Two calls, 24,740 nano-USD: two significant digits on the page, every digit in the tooltip.
    assert.equal(await page.getByTestId('overview-spend').innerText(), '$0.000025');

    await goTo(page, 'Reports');
    const total = page.getByTestId('chargeback').locator('tfoot tr').getByRole('cell').nth(8);
    assert.equal(await total.innerText(), '$0.000025');
    assert.equal(await total.locator('[title]').getAttribute('title'), '$0.00002474');
    await screenshot(page, 'sub-micro-costs');
    assert.deepEqual(errors, []);
    await close();
  });
});
