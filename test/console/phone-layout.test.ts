// The console on a phone-sized screen, where a card's content must stay in its card and a wide table scroll within its
// box: a budget template's card, and a discovery's hints (an IP, a user agent), each read on one line, not one
// character per line. One Sluice (SQLite in a temp folder) and one Chromium for the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { consoleErrors, goTo, launch, missingBrowser, openContext, screenshot, signIn } from './browser.js';

const BOOTSTRAP = 'sa-bootstrap-console-phone-token';
const PHONE = 390;

const skip = missingBrowser();

// The few DOM shapes the checks below read in the page (the tests are compiled without the DOM's types).
interface Box {
  right: number;
  width: number;
}
interface Node {
  tagName: string;
  className: string;
  parentElement: Node | null;
  ownerDocument: { createRange(): { selectNodeContents(node: Node): void; getClientRects(): ArrayLike<{ top: number }> } };
  closest(selector: string): Node | null;
  contains(other: Node): boolean;
  querySelectorAll(selector: string): ArrayLike<Node>;
  getBoundingClientRect(): Box;
}

/** What, in a card, reaches past the card's right edge; a wide table's scrolling box holds its table, so not in one. */
async function outsideTheirCard(page: Page): Promise<string[]> {
  return page.locator('main').evaluate((main) => {
    const found: string[] = [];
    for (const card of Array.from((main as unknown as Node).querySelectorAll('.card'))) {
      const edge = card.getBoundingClientRect().right;
      for (const element of Array.from(card.querySelectorAll('*'))) {
        const scroller = element.parentElement?.closest('.table-scroll');
        if (scroller !== null && scroller !== undefined && card.contains(scroller)) continue;
        const box = element.getBoundingClientRect();
        if (box.width > 0 && box.right > edge + 0.5)
          found.push(
            `${element.tagName.toLowerCase()}.${element.className} ends at ${Math.round(box.right)}, its card at ${Math.round(edge)}`,
          );
      }
    }
    return found;
  });
}

/** How many lines an element's text is laid out on. */
async function lines(page: Page, selector: string, text: string): Promise<number> {
  return page
    .locator(selector, { hasText: text })
    .first()
    .evaluate((element) => {
      const range = (element as unknown as Node).ownerDocument.createRange();
      range.selectNodeContents(element as unknown as Node);
      // A box per line of each piece (the element's text, a span in it): lines are the distinct tops.
      return new Set(Array.from(range.getClientRects()).map((rect) => Math.round(rect.top))).size;
    });
}

describe("the console at a phone's width", { skip: skip ?? false }, () => {
  let sluice: TestSluice;
  let browser: Browser;
  let consoleURL: string;

  const admin = async (method: string, path: string, body: unknown) => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.text()}`);
  };
  const session = async () => {
    const context = await openContext(browser);
    const page = await context.newPage();
    await page.setViewportSize({ width: PHONE, height: 900 });
    const errors = consoleErrors(page);
    await signIn(page, consoleURL, BOOTSTRAP);
    return { page, errors, close: () => context.close() };
  };

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      // Never called: nothing here goes through the gateway.
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    consoleURL = `${sluice.adminURL}/console/`;
    await admin('POST', '/api/budget-templates', {
      name: 'batch-daily',
      selector: { labels: { tier: 'batch' } },
      measure: 'total_tokens',
      limit: 2_000_000,
      window: 'day',
    });
    await admin('POST', '/api/reconciliation/observations', {
      observations: [
        {
          observer: 'egress-proxy',
          at: Date.now() - 60_000,
          source: { ip: '10.20.9.3', userAgent: 'langchain-js/0.3.19' },
          provider: 'openai',
          model: 'gpt-4o-mini',
          calls: 3,
          inputTokens: 3_000,
          outputTokens: 300,
          costMicroUsd: 1_000,
        },
      ],
    });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
  });

  test("a budget template's card stays inside the Templates card", async () => {
    const { page, errors, close } = await session();
    await goTo(page, 'Budgets & templates');
    await page.getByRole('heading', { name: /^batch-daily/ }).waitFor();
    await screenshot(page, 'console-budgets-phone');
    assert.deepEqual(await outsideTheirCard(page), []);
    assert.deepEqual(errors, []);
    await close();
  });

  test("a discovery's hints read on one line each, the table scrolling sideways instead", async () => {
    const { page, errors, close } = await session();
    await goTo(page, 'Reconciliation');
    await screenshot(page, 'console-reconciliation-phone');
    // Each value beside its label ("IP 10.20.9.3") on one line, not a column of its characters.
    for (const value of ['10.20.9.3', 'langchain-js/0.3.19', 'egress-proxy'])
      assert.equal(await lines(page, 'dl.hints dd', value), 1, `the hint "${value}" is broken over several lines`);
    assert.deepEqual(await outsideTheirCard(page), []);
    assert.deepEqual(errors, []);
    await close();
  });
});
