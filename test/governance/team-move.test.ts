// A consumer moved to another team mid-window, through the director: its usage so far stays with the team it was made
// in (as the ledger records it), its calls from then on count against its new team's budget, and nothing is lost or
// counted twice.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { startTestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-team-move';
const started: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const stop of started.reverse()) await stop();
});

test('a consumer moved between teams mid-window: old usage stays with the old team, new calls count for the new', async () => {
  const mock = await MockProvider.start((_request, res) =>
    json(res, 200, openaiCompletion('ok', { prompt_tokens: 5, completion_tokens: 5 })),
  );
  started.push(() => mock.close());
  const sluice = await startTestSluice({
    admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
    providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
  });
  started.push(() => sluice.stop());
  const admin = async (method: string, path: string, payload?: unknown) => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${BOOTSTRAP}`, 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const clients: Record<string, OpenAI> = {};
  for (const team of ['red', 'blue']) {
    assert.equal((await admin('POST', '/api/teams', { name: team, owner: `${team}@example.com` })).status, 201);
    const budget = { name: `${team}-daily`, consumers: { team }, measure: 'requests', limit: 3, window: 'day' };
    assert.equal((await admin('POST', '/api/budgets', budget)).status, 201);
  }
  for (const [name, team] of [
    ['mover', 'red'],
    ['stayer', 'red'],
  ] as const) {
    assert.equal((await admin('POST', '/api/consumers', { name, team })).status, 201);
    const key = await admin('POST', `/api/consumers/${name}/keys`, { name: 'k' });
    assert.equal(key.status, 201);
    clients[name] = new OpenAI({ apiKey: key.body.plaintext, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  }
  const status = async (who: string) => {
    try {
      await clients[who]!.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
      return 200;
    } catch (error) {
      if (error instanceof OpenAI.APIError) return error.status ?? 0;
      throw error;
    }
  };
  assert.equal(await status('mover'), 200);
  assert.equal(await status('mover'), 200);
  assert.equal((await admin('PATCH', '/api/consumers/mover', { team: 'blue' })).status, 200);
  // Red keeps the mover's two calls: one more for the stayer, then red is spent.
  assert.equal(await status('stayer'), 200);
  assert.equal(await status('stayer'), 429);
  // Blue counts the mover from the move on: three calls, then refused.
  assert.deepEqual([await status('mover'), await status('mover'), await status('mover'), await status('mover')], [200, 200, 200, 429]);
});
