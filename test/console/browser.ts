// Debian's Chromium driven by playwright-core for the console's end-to-end tests: found with `which chromium`, never
// downloaded. Screenshots go to test-output/screenshots/ (git ignores it), one per page and color scheme.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { until } from '../support/until.js';

export const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));

/** The Chromium on PATH, or null; CI installs it (`apt-get install -y chromium`). */
export function chromiumPath(): string | null {
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Why the browser tests cannot run here, or null. In CI a missing Chromium is a failure, not a skip. */
export function missingBrowser(): string | null {
  if (chromiumPath() !== null) return null;
  if (process.env.CI !== undefined) throw new Error('chromium is not on PATH: install it with "apt-get install -y chromium"');
  return 'chromium is not on PATH (apt-get install -y chromium)';
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath()!,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A laptop-sized window in the given color scheme, with downloads allowed. */
export async function openContext(browser: Browser, colorScheme: 'light' | 'dark' = 'light'): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme, acceptDownloads: true });
  context.setDefaultTimeout(30_000);
  return context;
}

export async function signIn(page: Page, consoleURL: string, token: string): Promise<void> {
  await page.goto(consoleURL);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
}

/** A page of its own context, signed in, at `width` pixels wide, with the errors it logs (consoleErrors) and its close. */
export async function signedInPage(
  browser: Browser,
  consoleURL: string,
  token: string,
  width = 1366,
): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await openContext(browser);
  const page = await context.newPage();
  await page.setViewportSize({ width, height: 900 });
  const errors = consoleErrors(page);
  await signIn(page, consoleURL, token);
  return { page, errors, close: () => context.close() };
}

/** The texts of a table's column, one per body row (`rows` selects them; the default, every body row). */
export async function columnTexts(table: Locator, index: number, rows = 'tbody tr'): Promise<string[]> {
  return table
    .locator(rows)
    .evaluateAll(
      (all, at) => all.map((row) => (row as unknown as { cells: Array<{ innerText: string }> }).cells[at]!.innerText.trim()),
      index,
    );
}

export async function goTo(page: Page, title: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: title, exact: true }).click();
  // The page's own heading (each is titled as its link): any h1 is also the page left behind, which a locator of the
  // next step could then resolve to (a CI run filled "Model" in the overview's "Top models" card, not the filter).
  await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor();
  await loaded(page);
}

/**
 * Until every "Loading ..." placeholder is gone: the page shows its data (or its error). Polled through locators, as
 * the console's Content-Security-Policy refuses the eval a string waitForFunction would need.
 */
export async function loaded(page: Page): Promise<void> {
  await until('nothing on the page is loading', async () => (await page.locator('[aria-busy="true"]').count()) === 0, 30_000, 50);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

export const PAGE_TITLES = [
  'Overview',
  'Inventory',
  'Reconciliation',
  'Budgets & templates',
  'Transactions',
  'Reports',
  'Audit log',
] as const;

/** Collects what the page logs as errors, CSP violations included, for a test to assert there are none. */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}
