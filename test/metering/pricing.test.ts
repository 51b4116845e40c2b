// The price catalog, cost arithmetic in integer micro-USD, and tokenizer estimates.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { costMicroUsd } from '../../src/metering/cost.js';
import { PriceCatalog } from '../../src/metering/price-catalog.js';
import { countTextTokens, estimatePromptTokens } from '../../src/metering/tokenizer.js';
import type { ChatRequest } from '../../src/ir/chat.js';

describe('price catalog', () => {
  const catalog = new PriceCatalog();

  test('finds a model by its exact name and states its source and date', () => {
    assert.deepEqual(catalog.lookup('openai', 'gpt-4o-mini'), {
      input: 0.15,
      output: 0.6,
      cachedInput: 0.075,
      webSearch: 10,
      fileSearch: 2.5,
      priority: { input: 0.25, cachedInput: 0.125, output: 1 },
    });
    assert.match(catalog.asOf, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(catalog.source.length > 0);
  });

  test('resolves dated variants to their base model, preferring the longest match', () => {
    assert.equal(catalog.lookup('openai', 'gpt-4o-mini-2024-07-18')?.input, 0.15);
    assert.equal(catalog.lookup('openai', 'gpt-4o-2024-08-06')?.input, 2.5);
    assert.equal(catalog.lookup('anthropic', 'claude-haiku-4-5-20251001')?.output, 5);
  });

  test('prices Azure deployments of OpenAI models at OpenAI list prices', () => {
    assert.equal(catalog.lookup('azure-openai', 'gpt-4o-mini')?.output, 0.6);
  });

  test("prices Vertex AI at the Gemini API's prices, except its own text embedding models, billed by the character", () => {
    assert.equal(catalog.lookup('vertex', 'gemini-embedding-001')?.input, 0.15);
    assert.equal(catalog.lookup('vertex', 'gemini-2.5-flash')?.output, 2.5);
    for (const model of ['text-embedding-005', 'text-embedding-004', 'text-multilingual-embedding-002'])
      assert.deepEqual(catalog.lookup('vertex', model), { input: 0, output: 0, inputCharacters: 0.025 }, model);
    // Not on the Gemini API, whose text-embedding-004 is gone, and never at a per-character figure taken per token.
    assert.equal(catalog.lookup('gemini', 'text-embedding-004'), undefined);
  });

  test('knows nothing of an unknown model', () => {
    assert.equal(catalog.lookup('openai', 'my-fine-tune'), undefined);
    assert.equal(catalog.lookup('openai', 'gpt-4o-minimal'), undefined);
  });
});

describe('cost', () => {
  const usage = { inputTokens: 1000, outputTokens: 500, cachedInputTokens: 200, cacheWriteTokens: 100, reported: true };

  test('charges uncached input, cached input, cache writes and output at their own rates, in integer micro-USD', () => {
    const cost = costMicroUsd(usage, { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 });
    assert.equal(cost, 700 * 3 + 200 * 0.3 + 100 * 3.75 + 500 * 15);
    assert.ok(Number.isInteger(cost));
  });

  test('falls back to the input rate for cache figures the price does not list', () => {
    assert.equal(costMicroUsd(usage, { input: 1, output: 2 }), 1000 + 1000);
  });

  test('is unknown without a price', () => {
    assert.equal(costMicroUsd(usage, undefined), null);
  });

  test('a price by the character charges the characters billed, and is unknown when the provider did not say how many', () => {
    const characters = { inputTokens: 30, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reported: true };
    const perCharacter = { input: 0, output: 0, inputCharacters: 0.025 };
    assert.equal(costMicroUsd({ ...characters, billableCharacters: 40_000 }, perCharacter), 1000);
    assert.equal(costMicroUsd(characters, perCharacter), null);
    // Added to token prices, for a model priced both ways.
    assert.equal(costMicroUsd({ ...characters, billableCharacters: 40_000 }, { ...perCharacter, input: 1 }), 1030);
  });
});

describe('tokenizer', () => {
  test('counts with a real BPE tokenizer', async () => {
    assert.equal(await countTextTokens(['hello world']), 2);
  });

  test('estimates a prompt with tool definitions higher than without', async () => {
    const base: ChatRequest = {
      model: 'm',
      stream: false,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is the weather in Paris?' }] }],
    };
    const plain = await estimatePromptTokens(base);
    const withTools = await estimatePromptTokens({
      ...base,
      tools: [
        { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      ],
    });
    assert.ok(plain > 7 && plain < 20, `plain prompt estimate ${plain}`);
    assert.ok(withTools > plain + 10);
  });
});
