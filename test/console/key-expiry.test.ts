// A key made with the console's create-key form gets the end the director's key expiry policy decides (sluice.yaml
// `keys.defaultExpiry`), and the consumer's key list shows each key's end: a date, `never`, and an ended key as expired.
// One Sluice (SQLite in a temp folder) and one Chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { adminClient, OFFLINE_CATALOG } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { goTo, launch, missingBrowser, signedInPage } from './browser.js';

const BOOTSTRAP = 'sa-bootstrap-console-key-expiry';
const DAY = 86_400_000;

const skip = missingBrowser();

describe("the console's keys under a key expiry policy", { skip: skip ?? false }, () => {
  let sluice: TestSluice;
  let browser: Browser;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      ...OFFLINE_CATALOG,
      consumers: [],
      keys: { defaultExpiry: '30d' },
    });
    const admin = adminClient(sluice, BOOTSTRAP);
    assert.equal((await admin('POST', '/api/consumers', { name: 'billing' })).status, 201);
    assert.equal((await admin('POST', '/api/consumers/billing/keys', { name: 'forever', expiresAt: null })).status, 201);
    const lapsing = await admin('POST', '/api/consumers/billing/keys', {
      name: 'lapsing',
      expiresAt: new Date(Date.now() + 1_000).toISOString(),
    });
    assert.equal(lapsing.status, 201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
  });

  test("a key made in the form ends after keys.defaultExpiry, and the list shows every key's end and state", async () => {
    const { page, errors, close } = await signedInPage(browser, `${sluice.adminURL}/console/`, BOOTSTRAP);
    await goTo(page, 'Inventory');
    await page.getByRole('button', { name: 'Keys' }).first().click();
    await page.getByRole('heading', { name: 'Keys of billing' }).waitFor();
    const before = Date.now();
    await page.getByLabel('New key name').fill('made-here');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByTestId('new-key').waitFor();
    const panel = page.locator('.subpanel').filter({ has: page.getByRole('heading', { name: 'Keys of billing' }) });
    const row = (name: string) => panel.getByRole('row').filter({ has: page.getByRole('cell', { name, exact: true }) });
    await row('made-here').waitFor();
    const cells = async (name: string) => (await row(name).getByRole('cell').allInnerTexts()).map((text) => text.trim());
    const made = await cells('made-here');
    const dates = [before, Date.now()].map((at) => `${new Date(at + 30 * DAY).toISOString().slice(0, 10)}`);
    assert.ok(
      dates.some((date) => made[3]!.startsWith(date)),
      `expires 30 days from now, got ${made[3]}`,
    );
    assert.equal(made[5], 'active');
    assert.deepEqual([(await cells('forever'))[3], (await cells('forever'))[5]], ['never', 'active']);
    assert.equal((await cells('lapsing'))[5], 'expired');
    assert.deepEqual(errors, []);
    await close();
  });
});
