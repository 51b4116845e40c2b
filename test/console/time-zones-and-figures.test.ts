// The console read from a browser outside UTC and on figures at the edge of their format: the spend chart's days, which
// its axis names as UTC days, and this month against last when the two nearly match. One Sluice (SQLite in a temp
// folder, its ledger seeded through the store's own insert) and one Chromium for the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { withStoreOf } from '../support/director-stores.js';
import { ledgerRow } from '../support/ledger.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, launch, loaded, missingBrowser, screenshot, signIn } from './browser.js';

const BOOTSTRAP = 'sa-bootstrap-console-time-zones-token';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const skip = missingBrowser();

describe('the console outside UTC and at the edge of its figures', { skip: skip ?? false }, () => {
  let sluice: TestSluice;
  let browser: Browser;
  let consoleURL: string;

  /** A signed-in page in a browser whose clock reads the given time zone. */
  const session = async (timezoneId: string) => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, timezoneId });
    context.setDefaultTimeout(30_000);
    const page = await context.newPage();
    const errors = consoleErrors(page);
    await signIn(page, consoleURL, BOOTSTRAP);
    await loaded(page);
    return { page, errors, close: () => context.close() };
  };
  const chart = (page: Page) => page.getByRole('img', { name: /^Spend per day by team/ });

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      // Never called: the calls are written straight into the ledger.
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    consoleURL = `${sluice.adminURL}/console/`;
    const now = Date.now();
    const thisMonth = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
    const lastMonth = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() - 1, 1);
    // Where the overview's "last month by this day" ends: as far into last month as this month has run, to the hour.
    const sameDayLastMonth = Math.min(
      thisMonth,
      Math.floor((lastMonth + (Math.floor(now / HOUR) * HOUR + HOUR - thisMonth)) / HOUR) * HOUR,
    );
    // Bars on several days of the last 30, of other sizes and two teams, for the chart to have an axis worth reading.
    const bars = [3, 7, 12, 20].map((daysAgo, index) =>
      ledgerRow(10 + index, {
        startedAt: now - daysAgo * DAY,
        costMicroUsd: 50_000 * (index + 1),
        team: index % 2 === 0 ? 'payments' : 'search',
      }),
    );
    const spent = (from: number, to: number) =>
      bars.filter((row) => row.startedAt >= from && row.startedAt < to).reduce((sum, row) => sum + row.costMicroUsd!, 0);
    const thisMonthSpend = 10_000_000 + spent(thisMonth, now + HOUR);
    // Last month by this day spent 0.2% more than this month: a change that rounds to none.
    const lastMonthSpend = Math.round(thisMonthSpend * 1.002);
    await withStoreOf(sluice, async (store) => {
      await store.insertTransactions([
        ...bars,
        ledgerRow(1, { startedAt: Math.max(thisMonth, now - 60_000), costMicroUsd: 10_000_000 }),
        ledgerRow(2, { startedAt: lastMonth + 60_000, costMicroUsd: lastMonthSpend - spent(lastMonth, sameDayLastMonth) }),
      ]);
    });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
  });

  test('the spend chart draws the same UTC days, bars and labels, in Honolulu and Tokyo as in UTC', async () => {
    const drawn: Record<string, Buffer> = {};
    for (const zone of ['UTC', 'Pacific/Honolulu', 'Asia/Tokyo']) {
      const { page, errors, close } = await session(zone);
      await chart(page).locator('canvas').waitFor();
      drawn[zone] = await chart(page).screenshot();
      await screenshot(page, `console-overview-${zone.replace('/', '-')}`);
      assert.deepEqual(errors, []);
      await close();
    }
    // The axis says "Day (UTC)": its ticks and their dates must fall where they do in UTC, whatever the reader's zone.
    assert.ok(drawn.UTC!.equals(drawn['Pacific/Honolulu']!), 'the chart read in Honolulu differs from the chart in UTC');
    assert.ok(drawn.UTC!.equals(drawn['Asia/Tokyo']!), 'the chart read in Tokyo differs from the chart in UTC');
  });

  test('a month spending within half a percent of last month by this day reads 0%, not -0%', async () => {
    const { page, errors, close } = await session('UTC');
    const spend = page.locator('.stat').filter({ has: page.getByTestId('overview-spend') });
    const detail = await spend.locator('.stat-detail').innerText();
    assert.match(detail, /^0% against last month by this day \(\$10\.\d\d\)$/);
    assert.deepEqual(errors, []);
    await close();
  });
});
