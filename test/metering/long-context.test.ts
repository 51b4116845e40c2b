// Gemini's Pro models and Claude Sonnet 4.x with the 1M context window bill every token of a call at higher prices once
// its prompt is past a threshold (cache reads and writes counted in it): gemini-2.5-pro $1.25 / $10 per 1M tokens up
// to 200k, $2.50 / $15 past it; claude-sonnet-4-5 $3 / $15 up to 200k, $6 / $22.50 past it (cache reads $0.60, 5-minute
// writes $7.50). The Anthropic and openai SDKs against Sluice in front of mock Anthropic and Gemini servers that report
// long prompts' usage, and the ledger's cost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

/** What each mock reports, set by the test before its call. */
let claudeUsage: Record<string, number> = {};
let geminiPromptTokens = 0;

describe('long prompts are priced at the long-context prices', () => {
  let anthropicMock: MockProvider;
  let geminiMock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    anthropicMock = await MockProvider.start((_request, res) =>
      json(res, 200, {
        id: 'msg_long1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [{ type: 'text', text: 'Read it all.' }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: claudeUsage,
      }),
    );
    geminiMock = await MockProvider.start((_request, res) =>
      json(res, 200, {
        candidates: [{ content: { role: 'model', parts: [{ text: 'Read it all.' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: geminiPromptTokens, candidatesTokenCount: 2000, totalTokenCount: geminiPromptTokens + 2000 },
        modelVersion: 'gemini-2.5-pro',
      }),
    );
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'sk-ant-upstream-not-real' },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'upstream-gemini-key-not-real' },
      },
      // No pricing: the catalog's.
      models: [
        { name: 'claude-sonnet-4-5', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gemini-2.5-pro', targets: [{ provider: 'gemini', model: 'gemini-2.5-pro' }] },
      ],
      consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
    });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([anthropicMock.close(), geminiMock.close()]);
  });

  async function claudeCost(usage: Record<string, number>): Promise<number> {
    claudeUsage = usage;
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 1000,
      messages: [{ role: 'user', content: 'Review the repository' }],
    });
    return Number((await ledgerRows(sluice)).at(-1)!.cost_micro_usd);
  }

  test('Claude: up to 200k prompt tokens at $3 / $15, past them every token at $6 / $22.50, cache reads and writes counted in', async () => {
    assert.equal(await claudeCost({ input_tokens: 200_000, output_tokens: 1000 }), 200_000 * 3 + 1000 * 15);
    assert.equal(await claudeCost({ input_tokens: 200_001, output_tokens: 1000 }), 200_001 * 6 + 1000 * 22.5);
    // 10k new, 200k read from the cache and 50k written to it: a 260k prompt.
    assert.equal(
      await claudeCost({
        input_tokens: 10_000,
        cache_read_input_tokens: 200_000,
        cache_creation_input_tokens: 50_000,
        output_tokens: 1000,
      }),
      10_000 * 6 + 200_000 * 0.6 + 50_000 * 7.5 + 1000 * 22.5,
    );
  });

  test('Gemini 2.5 Pro: up to 200k at $1.25 / $10, past them at $2.50 / $15', async () => {
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    for (const prompt of [150_000, 300_000]) {
      geminiPromptTokens = prompt;
      await client.chat.completions.create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'Summarize the archive' }] });
    }
    const rows = (await ledgerRows(sluice)).slice(-2);
    assert.deepEqual(
      rows.map((row) => [row.input_tokens, Number(row.cost_micro_usd)]),
      [
        [150_000, 150_000 * 1.25 + 2000 * 10],
        [300_000, 300_000 * 2.5 + 2000 * 15],
      ],
    );
  });
});
