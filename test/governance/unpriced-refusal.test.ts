// A cost budget counts a call at its price, and a model with no price (a local model, a deployment the catalog does not
// know) costs nothing as far as the budget can tell. With admission.unpriced: refuse such calls are refused with a 403
// rather than served uncounted, so that no call escapes a spending limit. The official SDKs against Sluice in front of
// a mock OpenAI-compatible server that records what reaches it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('admission.unpriced: a cost budget over a model with no price', () => {
  let mock: MockProvider;
  const started: TestSluice[] = [];

  before(async () => {
    mock = await MockProvider.start((request, res) => json(res, 200, openaiCompletion(String(request.body.model))));
  });

  after(async () => {
    await Promise.all(started.map((sluice) => sluice.stop()));
    await mock.close();
  });

  /**
   * `gpt-4o-mini` is priced by the catalog; `llama-local` is not; `mixed` falls back from the one to the other. The
   * budgets and the admission section are the test's.
   */
  async function gateway(budgets: Array<Record<string, unknown>>, unpriced?: 'admit' | 'refuse'): Promise<TestSluice> {
    const sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' },
        local: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-local-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'local-model', targets: [{ provider: 'local', model: 'llama-local' }] },
        {
          name: 'mixed',
          targets: [
            { provider: 'openai', model: 'gpt-4o-mini' },
            { provider: 'local', model: 'llama-local' },
          ],
        },
      ],
      budgets,
      ...(unpriced !== undefined && { admission: { unpriced } }),
    });
    started.push(sluice);
    return sluice;
  }

  const spend = { name: 'payments-spend', consumers: { team: 'payments' }, measure: 'cost_usd', limit: 100, window: 'day' };

  async function chat(sluice: TestSluice, model: string): Promise<{ status: number; code: string | null; message: string }> {
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    try {
      await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 20 });
      return { status: 200, code: null, message: '' };
    } catch (error) {
      if (!(error instanceof OpenAI.APIError)) throw error;
      return { status: error.status ?? 0, code: error.code ?? null, message: error.message };
    }
  }

  test('refuse: a call the cost budget could not count is a 403 in the caller API shape, and never reaches the provider', async () => {
    const sluice = await gateway([spend], 'refuse');
    const before = mock.received.length;
    const refused = await chat(sluice, 'local-model');
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'model_unpriced');
    assert.match(refused.message, /budget 'payments-spend', which limits cost: local\/llama-local has no price/);

    const claude = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const anthropicRefusal = await claude.messages
      .create({ model: 'local-model', max_tokens: 20, messages: [{ role: 'user', content: 'Hello' }] })
      .then(
        () => null,
        (error: unknown) => error,
      );
    assert.ok(anthropicRefusal instanceof Anthropic.PermissionDeniedError, String(anthropicRefusal));
    assert.equal((anthropicRefusal.error as { error: { type: string } }).error.type, 'permission_error');
    assert.equal(mock.received.length, before, 'no refused call reached the provider');

    // A model picker is not offered what every call would be refused; asked for by name, the model answers as a call would.
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    assert.deepEqual(
      (await client.models.list()).data.map((model) => model.id),
      ['gpt-4o-mini'],
    );
    const retrieved = await client.models.retrieve('local-model').then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(retrieved instanceof OpenAI.PermissionDeniedError, String(retrieved));
    assert.equal(retrieved.code, 'model_unpriced');
    // The search service (no cost budget, gpt-4o-mini alone allowed to it) is offered what it may use, as before.
    const search = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    assert.deepEqual(
      (await search.models.list()).data.map((model) => model.id),
      ['gpt-4o-mini'],
    );

    // A priced model under the same budget is served; a route that may fall back to the unpriced target is refused.
    assert.equal((await chat(sluice, 'gpt-4o-mini')).status, 200);
    assert.equal((await chat(sluice, 'mixed')).code, 'model_unpriced');
    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      rows.map((row) => [row.requested_model, row.status, row.error_class]),
      [
        ['local-model', 403, 'model_unpriced'],
        ['local-model', 403, 'model_unpriced'],
        ['gpt-4o-mini', 200, null],
        ['mixed', 403, 'model_unpriced'],
      ],
    );
  });

  test('refuse holds only where a budget that enforces a cost limit covers the unpriced target', async () => {
    const sluice = await gateway(
      [
        // Cost counted on the openai provider only: the local target is not its to count.
        { ...spend, name: 'openai-spend', resources: { provider: 'openai' } },
        // Watched, not enforced: its calls are served and reported as ever.
        { ...spend, name: 'watched-spend', mode: 'monitor' },
        // Tokens are counted whatever the price.
        { ...spend, name: 'payments-tokens', measure: 'total_tokens', limit: 1_000_000 },
      ],
      'refuse',
    );
    assert.equal((await chat(sluice, 'local-model')).status, 200);
    assert.equal((await chat(sluice, 'mixed')).status, 200);
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    assert.deepEqual(
      (await client.models.list()).data.map((model) => model.id),
      ['gpt-4o-mini', 'local-model', 'mixed'],
    );
  });

  test('admit, the default: the call is served and counted at $0, its row marked unpriced', async () => {
    const sluice = await gateway([spend]);
    assert.equal((await chat(sluice, 'local-model')).status, 200);
    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      rows.map((row) => [row.requested_model, row.status, row.cost_micro_usd]),
      [['local-model', 200, null]],
    );
  });

  test("a budget that downgrades to an unpriced model does not: the call gets the exhausted budget's refusal, not a 403", async () => {
    const sluice = await gateway(
      [
        { ...spend, name: 'tiny-spend', resources: { model: 'gpt-4o-mini' }, limit: 0.000001, onExhausted: { downgrade: 'local-model' } },
        spend,
      ],
      'refuse',
    );
    const answer = await chat(sluice, 'gpt-4o-mini');
    // The call can never fit the tiny budget: its refusal is the 400 saying so, not a 403 about the downgrade.
    assert.equal(answer.status, 400);
    assert.equal(answer.code, 'reservation_exceeds_budget');
  });
});
