// Governance changed through the director mid-window, as a FinOps owner would: a consumer moved to another team keeps
// its usage so far with the team it was made in (as the ledger records it) and counts its calls from then on against its
// new team's budget; a budget lowered applies at once to the usage so far, and one deleted and made again is seeded with
// the day's usage. Nothing is lost or counted twice.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { adminClient, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-team-move';
const started: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const stop of started.reverse()) await stop();
});

/** A Sluice with a director API and one model on a mock OpenAI upstream; stopped after the file. */
async function directedSluice(): Promise<{ sluice: TestSluice; admin: AdminClient }> {
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
  return { sluice, admin: adminClient(sluice, BOOTSTRAP) };
}

/** A consumer's key made through the director, as an OpenAI client. */
async function clientOf(sluice: TestSluice, admin: AdminClient, consumer: string): Promise<OpenAI> {
  const key = await admin('POST', `/api/consumers/${consumer}/keys`, { name: 'k' });
  assert.equal(key.status, 201);
  return new OpenAI({ apiKey: key.body.plaintext, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
}

/** One chat call's status: 200, or the status Sluice refused it with. */
async function status(client: OpenAI): Promise<number> {
  try {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 });
    return 200;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error.status ?? 0;
    throw error;
  }
}

test('a consumer moved between teams mid-window: old usage stays with the old team, new calls count for the new', async () => {
  const { sluice, admin } = await directedSluice();
  for (const team of ['red', 'blue']) {
    assert.equal((await admin('POST', '/api/teams', { name: team, owner: `${team}@example.com` })).status, 201);
    const budget = { name: `${team}-daily`, consumers: { team }, measure: 'requests', limit: 3, window: 'day' };
    assert.equal((await admin('POST', '/api/budgets', budget)).status, 201);
  }
  for (const name of ['mover', 'stayer']) assert.equal((await admin('POST', '/api/consumers', { name, team: 'red' })).status, 201);
  const mover = await clientOf(sluice, admin, 'mover');
  const stayer = await clientOf(sluice, admin, 'stayer');
  assert.equal(await status(mover), 200);
  assert.equal(await status(mover), 200);
  assert.equal((await admin('PATCH', '/api/consumers/mover', { team: 'blue' })).status, 200);
  // Red keeps the mover's two calls: one more for the stayer, then red is spent.
  assert.equal(await status(stayer), 200);
  assert.equal(await status(stayer), 429);
  // Blue counts the mover from the move on: three calls, then refused.
  assert.deepEqual([await status(mover), await status(mover), await status(mover), await status(mover)], [200, 200, 200, 429]);
});

test('a budget lowered, then deleted and made again, through the director mid-window: usage so far still counts', async () => {
  const { sluice, admin } = await directedSluice();
  assert.equal((await admin('POST', '/api/consumers', { name: 'spender' })).status, 201);
  const client = await clientOf(sluice, admin, 'spender');
  const budget = { name: 'daily', measure: 'requests', limit: 5, window: 'day' };
  assert.equal((await admin('POST', '/api/budgets', budget)).status, 201);
  for (let i = 0; i < 3; i++) assert.equal(await status(client), 200);
  const lowered = await admin('PUT', '/api/budgets/daily', { ...budget, limit: 3 });
  assert.equal(lowered.status, 200, JSON.stringify(lowered.body));
  assert.equal(await status(client), 429, 'three used of a limit lowered to three');
  assert.ok([200, 204].includes((await admin('DELETE', '/api/budgets/daily')).status));
  assert.equal(await status(client), 200, 'no budget: served');
  assert.equal((await admin('POST', '/api/budgets', budget)).status, 201);
  // Made again mid-day: seeded from the ledger with the day's four calls, one left of five.
  assert.equal(await status(client), 200);
  assert.equal(await status(client), 429);
});
