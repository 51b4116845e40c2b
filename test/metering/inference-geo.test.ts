// Anthropic bills a call to Claude Opus 4.6 or a later model at 1.1x every token price (input, output, cache reads and
// writes) when it ran US-only (`inference_geo: "us"`), which its usage states as `inference_geo`; earlier models and
// global routing at the standard prices. The official Anthropic SDK against Sluice in front of a mock Anthropic server,
// whole and streamed, and the ledger's cost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { json, MockProvider, sse, typedSseEvent } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

/** 400 uncached input tokens, 200 read from the cache, 400 written to it, 100 output tokens. */
function usage(geo: string) {
  return {
    input_tokens: 400,
    cache_read_input_tokens: 200,
    cache_creation_input_tokens: 400,
    output_tokens: 100,
    inference_geo: geo,
  };
}

function answer(model: string, geo: string) {
  return {
    id: 'msg_geo1',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: 'Ran.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: usage(geo),
  };
}

function stream(model: string, geo: string): string[] {
  const message = { ...answer(model, geo), content: [], stop_reason: null, usage: { ...usage(geo), output_tokens: 1 } };
  return [
    typedSseEvent('message_start', { message }),
    typedSseEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    typedSseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Ran.' } }),
    typedSseEvent('content_block_stop', { index: 0 }),
    typedSseEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: usage(geo) }),
    typedSseEvent('message_stop', {}),
  ];
}

/** Micro-USD at a price per 1M tokens: reads 0.1x input, 5-minute writes 1.25x. */
function costAt(input: number, output: number, multiple = 1): number {
  return Math.round((400 * input + 200 * input * 0.1 + 400 * input * 1.25 + 100 * output) * multiple);
}

describe('US-only inference is priced at 1.1x on Claude Opus 4.6 and later', () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    mock = await MockProvider.start((request, res) => {
      const geo = request.body.inference_geo === 'us' ? 'us' : 'global';
      const model = String(request.body.model);
      if (request.body.stream === true) return sse(res, stream(model, geo));
      json(res, 200, answer(model, geo));
    });
    sluice = await startTestSluice({
      providers: { anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'sk-ant-upstream-not-real' } },
      models: [
        { name: 'claude-opus-4-6', targets: [{ provider: 'anthropic', model: 'claude-opus-4-6' }] },
        { name: 'claude-sonnet-4-5', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'anthropic', model: 'claude-opus-4-6' }] },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('the answer says it ran in the US: every token at 1.1x, whole and streamed; global routing at list', async () => {
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const params = { model: 'claude-opus-4-6', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Run in the US.' }] };
    const us = { ...params, inference_geo: 'us' } as typeof params;
    const whole = await client.messages.create(us);
    assert.equal((whole.usage as unknown as { inference_geo: string }).inference_geo, 'us', 'passed through as it came');
    await client.messages.stream(us).finalMessage();
    await client.messages.create(params);
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'claude-opus-4-6');
    assert.deepEqual(
      rows.map((row) => [row.stream, row.cost_micro_usd]),
      [
        [0, costAt(5, 25, 1.1)],
        [1, costAt(5, 25, 1.1)],
        [0, costAt(5, 25)],
      ],
    );
  });

  test('a model before Opus 4.6 keeps its prices whatever the answer says', async () => {
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const params = { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user' as const, content: 'Run in the US.' }] };
    await client.messages.create({ ...params, inference_geo: 'us' } as typeof params);
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'claude-sonnet-4-5');
    assert.deepEqual(
      rows.map((row) => row.cost_micro_usd),
      [costAt(3, 15)],
    );
  });
});

describe('a cost budget reserves a US-only call at the price it will be billed', () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    mock = await MockProvider.start((request, res) => json(res, 200, answer(String(request.body.model), 'us')));
    sluice = await startTestSluice({
      providers: { anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'sk-ant-upstream-not-real' } },
      models: [
        { name: 'claude-opus-4-6', targets: [{ provider: 'anthropic', model: 'claude-opus-4-6' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'anthropic', model: 'claude-opus-4-6' }] },
        // A fallback to a model without the multiple: the route's reservation keeps the highest.
        {
          name: 'claude-opus-4-6-fallback',
          targets: [
            { provider: 'anthropic', model: 'claude-sonnet-4-5' },
            { provider: 'anthropic', model: 'claude-opus-4-6' },
          ],
        },
      ],
      // Output of 1,000 tokens at $25 per 1M reserves $0.025 (and the prompt a little): $0.0275 at 1.1x.
      budgets: ['claude-opus-4-6', 'claude-opus-4-6-fallback'].map((model) => ({
        name: `${model}-spend`,
        resources: { model },
        measure: 'cost_usd',
        limit: 0.026,
        window: 'day',
      })),
    });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  for (const model of ['claude-opus-4-6', 'claude-opus-4-6-fallback']) {
    test(`${model}: inference_geo "us" reserves every token at 1.1x; global routing at list`, async () => {
      const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
      const params = { model, max_tokens: 1000, messages: [{ role: 'user' as const, content: 'Run in the US.' }] };
      const sent = mock.received.length;
      const refused = await client.messages.create({ ...params, inference_geo: 'us' } as typeof params).then(
        () => null,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof Anthropic.APIError, 'about $0.0276 does not fit a budget of $0.026');
      // More than the whole budget at 1.1x: it can never fit (a 400, not a 429 to retry).
      assert.equal(refused.status, 400);
      assert.match(refused.message, /reservation of 0\.0275\d* USD exceeds the whole limit/);
      assert.equal(mock.received.length, sent, 'refused before the provider');
      await client.messages.create(params);
      assert.equal(mock.received.length, sent + 1, 'about $0.0251 at list prices fits');
    });
  }
});
