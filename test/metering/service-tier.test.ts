// OpenAI bills a call at the prices of the tier that served it: `service_tier` "priority" costs more than standard
// (gpt-4.1: $3.50 / $14 per 1M tokens against $2 / $8), "flex" half (gpt-5: $0.625 / $5 against $1.25 / $10). The
// openai SDK against Sluice in front of a mock OpenAI that answers with the tier it served, whole and streamed, on
// Chat Completions and the Responses API; the ledger's cost, and what a cost budget reserves for a priority call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const USAGE = { prompt_tokens: 1000, completion_tokens: 200 };

/** The tier that served a request: the one it asked for, `default` when it asked for none (or `auto`). */
function servedTier(body: Record<string, unknown>): string {
  return body.service_tier === 'priority' || body.service_tier === 'flex' || body.service_tier === 'fast' ? body.service_tier : 'default';
}

/**
 * OpenAI renamed priority processing "Fast mode" on 30 July 2026 and takes `service_tier: "fast"` as well as "priority"
 * at the same prices (openai.com/api-fast-mode); the SDK here predates the name.
 */
const FAST = 'fast' as unknown as 'priority';

describe('calls are priced at the prices of the service tier that served them', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    mock = await MockProvider.start((request, res) => {
      const tier = servedTier(request.body);
      const model = String(request.body.model);
      if (request.path === '/v1/responses') {
        const answer = { ...responseObject([messageItem('Hi')], { input_tokens: 1000, output_tokens: 200 }, model), service_tier: tier };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer, null, 2));
        return;
      }
      if (request.body.stream === true) {
        // OpenAI's chunks name the tier after the model, the usage-only chunk too.
        const frames = openaiStreamFrames(['Hi', ' there'], USAGE).map((frame) =>
          frame.replace('"model":"gpt-4o-mini-2024-07-18"', `"model":"${model}","service_tier":"${tier}"`),
        );
        return sse(res, frames);
      }
      // OpenAI writes its answers indented, the tier after the usage.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...openaiCompletion('Hi', USAGE, model), service_tier: tier, system_fingerprint: 'fp_1' }, null, 2));
    });
    sluice = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      // No pricing: the catalog's.
      models: [
        { name: 'gpt-4.1', targets: [{ provider: 'openai', model: 'gpt-4.1' }] },
        { name: 'gpt-5', targets: [{ provider: 'openai', model: 'gpt-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      // Holds a standard gpt-4o-mini call of max_tokens 10,000 (about $0.006 reserved), not a priority one (about $0.010).
      budgets: [{ name: 'search-cost', consumers: { consumer: 'search-service' }, measure: 'cost_usd', limit: 0.008, window: 'day' }],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('Chat Completions: priority and flex answers cost their tiers, whole and streamed; default costs standard', async () => {
    const messages = [{ role: 'user' as const, content: 'Hello' }];
    const priority = await client.chat.completions.create({ model: 'gpt-4.1', messages, service_tier: 'priority' });
    assert.equal(priority.service_tier, 'priority', 'the answer is passed through as it came');
    await client.chat.completions.create({ model: 'gpt-4.1', messages });
    const stream = await client.chat.completions.create({
      model: 'gpt-4.1',
      messages,
      service_tier: 'priority',
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) void chunk;
    // Sluice asks for the usage chunk itself when the client did not, and the chunk names the tier too.
    const quiet = await client.chat.completions.create({ model: 'gpt-4.1', messages, service_tier: 'priority', stream: true });
    for await (const chunk of quiet) void chunk;
    await client.chat.completions.create({ model: 'gpt-5', messages, service_tier: 'flex' });
    const rows = (await ledgerRows(sluice)).filter((row) => row.api === 'openai' && row.consumer === 'checkout-service');
    assert.deepEqual(
      rows.map((row) => [row.requested_model, row.stream, row.cost_micro_usd]),
      [
        ['gpt-4.1', 0, 1000 * 3.5 + 200 * 14],
        ['gpt-4.1', 0, 1000 * 2 + 200 * 8],
        ['gpt-4.1', 1, 1000 * 3.5 + 200 * 14],
        ['gpt-4.1', 1, 1000 * 3.5 + 200 * 14],
        ['gpt-5', 0, 1000 * 0.625 + 200 * 5],
      ],
    );
  });

  test('the Responses API: the response’s service_tier prices it', async () => {
    await client.responses.create({ model: 'gpt-4.1', input: 'Hello', service_tier: 'priority' });
    const [row] = (await ledgerRows(sluice)).filter((r) => r.api === 'openai-responses');
    assert.equal(row?.cost_micro_usd, 1000 * 3.5 + 200 * 14);
  });

  test('fast, priority processing’s new name, costs priority prices, whole and streamed, on both APIs', async () => {
    const messages = [{ role: 'user' as const, content: 'Hello fast' }];
    const answer = await client.chat.completions.create({ model: 'gpt-4.1', messages, service_tier: FAST });
    assert.equal(answer.service_tier, 'fast');
    const stream = await client.chat.completions.create({ model: 'gpt-4.1', messages, service_tier: FAST, stream: true });
    for await (const chunk of stream) void chunk;
    await client.responses.create({ model: 'gpt-5', input: 'Hello fast', service_tier: FAST });
    const rows = (await ledgerRows(sluice)).filter((row) => row.consumer === 'checkout-service').slice(-3);
    assert.deepEqual(
      rows.map((row) => [row.api, row.requested_model, row.stream, row.cost_micro_usd]),
      [
        ['openai', 'gpt-4.1', 0, 1000 * 3.5 + 200 * 14],
        ['openai', 'gpt-4.1', 1, 1000 * 3.5 + 200 * 14],
        ['openai-responses', 'gpt-5', 0, 1000 * 2.5 + 200 * 20],
      ],
    );
  });

  test('a cost budget reserves a fast call at priority prices', async () => {
    const search = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const sent = mock.received.length;
    await assert.rejects(
      search.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Hello' }],
        max_tokens: 10_000,
        service_tier: FAST,
      }),
      // More than the whole budget at priority prices: it can never fit (a 400, not a 429 to retry).
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.code === 'reservation_exceeds_budget',
    );
    assert.equal(mock.received.length, sent, 'refused before the provider');
  });

  test('a cost budget reserves a priority call at priority prices', async () => {
    const search = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const sent = mock.received.length;
    const refused = await search.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10_000, service_tier: 'priority' })
      .then(
        () => null,
        (error: unknown) => error,
      );
    assert.ok(refused instanceof OpenAI.BadRequestError && refused.code === 'reservation_exceeds_budget', String(refused));
    assert.equal(mock.received.length, sent, 'refused before the provider');
    // The same call at the standard tier fits: 10,000 output tokens at $0.60 per 1M rather than $1.00.
    await search.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 10_000 });
    assert.equal(mock.received.length, sent + 1);
  });
});
