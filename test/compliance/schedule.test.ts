// The schedule: a director with no assessment yet assesses soon after it starts, and seals the chains every
// sealIntervalSeconds, writing each anchor to its log; a reload that shortens either interval applies to the sealing and
// the assessment already waiting, counted from the last.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import OpenAI from 'openai';
import { validateConfig } from '../../src/config/load.js';
import { capturedLogger, KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';

const TOKEN = 'sa-bootstrap-compliance-schedule-01';

/** Polls until `found` returns something (each look is a real read, not a timing assertion), or fails after `seconds`. */
async function eventually<T>(what: string, found: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  for (let i = 0; i < seconds * 10; i++) {
    const value = await found();
    if (value !== undefined) return value;
    await delay(100);
  }
  throw new Error(`${what} never happened`);
}

describe('the compliance schedule', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  const { logger, lines } = capturedLogger();

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice(
      {
        admin: { host: '127.0.0.1', port: 0, token: TOKEN },
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
        compliance: { intervalMinutes: 60, sealIntervalSeconds: 1 },
      },
      { logger },
    );
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('assesses soon after start without being asked', async () => {
    const history = await eventually('a scheduled assessment', async () => {
      const response = await fetch(`${sluice.adminURL}/api/compliance/assessments`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await response.json()) as { items: Array<{ origin: string; actor: string }> };
      return body.items.length > 0 ? body.items : undefined;
    });
    assert.deepEqual([history[0]!.origin, history[0]!.actor], ['schedule', 'scheduler']);
    assert.ok(lines().some((line) => line.includes('"msg":"compliance assessed"')));
  });

  test('seals new ledger rows in the background and logs the anchor', async () => {
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await sluice.sluice.settled();
    const anchor = await eventually('an anchor of the ledger', async () =>
      lines()
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((line) => line.msg === 'compliance chain anchored' && line.chain === 'transactions'),
    );
    assert.equal(typeof anchor.headHash, 'string');
    assert.match(anchor.headHash as string, /^[0-9a-f]{64}$/);
  });
});

describe('a reload that shortens the intervals', () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  async function get(path: string): Promise<any> {
    const response = await fetch(`${sluice.adminURL}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(response.status, 200);
    return response.json();
  }

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      // Weekly assessments, hourly sealing: after the first assessment, nothing is due for an hour.
      compliance: { intervalMinutes: 7 * 24 * 60, sealIntervalSeconds: 3600 },
    });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('applies to the sealing and the assessment already waiting, not only to the ones after them', async () => {
    const first = await eventually('the first scheduled assessment', async () => {
      const { items } = (await get('/api/compliance/assessments')) as { items: Array<{ uuid: string; endedAt: string }> };
      return items[0];
    });
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await sluice.sluice.settled();
    const written = ((await get('/api/compliance/chains')) as { items: Array<{ chain: string; unsealedRows: number }> }).items.find(
      (chain) => chain.chain === 'transactions',
    );
    assert.ok(written!.unsealedRows > 0, 'the call is not sealed yet');
    await sluice.sluice.reload(
      validateConfig(
        { ...sluice.config, compliance: { ...sluice.config.compliance, intervalMinutes: 1, sealIntervalSeconds: 1 } },
        'reloaded',
      ),
    );
    // Sealed within a few seconds, not an hour after the last sealing.
    await eventually(
      'the call sealed',
      async () => {
        const { items } = (await get('/api/compliance/chains')) as { items: Array<{ chain: string; unsealedRows: number }> };
        return items.find((chain) => chain.chain === 'transactions')!.unsealedRows === 0 ? true : undefined;
      },
      15,
    );
    // The next assessment a minute after the first, not a week.
    const next = await eventually(
      'a scheduled assessment a minute after the first',
      async () => {
        const { items } = (await get('/api/compliance/assessments')) as { items: Array<{ uuid: string; origin: string; endedAt: string }> };
        return items[0]!.uuid === first.uuid ? undefined : items[0];
      },
      90,
    );
    assert.equal(next.origin, 'schedule');
    const gap = Date.parse(next.endedAt) - Date.parse(first.endedAt);
    assert.ok(gap >= 60_000 && gap < 85_000, `one minute after the first (${gap} ms)`);
  });
});
