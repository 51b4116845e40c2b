// The pricing rules of OpenAI's models from GPT-5.4 on, as their model pages (developers.openai.com/api/docs/models/<id>)
// state them: a prompt past 272K input tokens bills the whole request at 2x its input and cache prices and 1.5x output;
// cache writes (usage.*_tokens_details.cache_write_tokens) at 1.25x input; fast mode (service_tier "priority" or "fast")
// at 2x and flex at 0.5x whichever rates apply, long-context ones included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { costMicroUsd } from '../../src/metering/cost.js';
import { PriceCatalog } from '../../src/metering/price-catalog.js';
import { asServiceTier, type Usage } from '../../src/ir/usage.js';
import { openaiUsage } from '../../src/providers/openai/response.js';
import { responsesUsage } from '../../src/providers/openai/responses-response.js';

const catalog = new PriceCatalog();

function usage(input: number, cached: number, written: number, output: number, serviceTier?: unknown): Usage {
  const tier = asServiceTier(serviceTier);
  return {
    inputTokens: input,
    outputTokens: output,
    cachedInputTokens: cached,
    cacheWriteTokens: written,
    reported: true,
    ...(tier !== undefined && { serviceTier: tier }),
  };
}

test('a prompt past 272K tokens bills every token at 2x input and cache prices and 1.5x output', () => {
  const sol = catalog.lookup('openai', 'gpt-6.1-sol');
  // Exactly 272,000: the short-context prices ($2, cached $0.10, writes $2.50, output $10).
  assert.equal(costMicroUsd(usage(272_000, 100_000, 50_000, 1_000), sol), 122_000 * 2 + 100_000 * 0.1 + 50_000 * 2.5 + 1_000 * 10);
  // One more: every token at $4, cached $0.20, writes $5, output $15.
  assert.equal(costMicroUsd(usage(272_001, 100_000, 50_000, 1_000), sol), 122_001 * 4 + 100_000 * 0.2 + 50_000 * 5 + 1_000 * 15);
  // GPT-5.4: $2.50 / $15 up to 272K, $5 / $22.50 past it, its cached input at 2x too.
  const gpt54 = catalog.lookup('openai', 'gpt-5.4');
  assert.equal(costMicroUsd(usage(300_000, 100_000, 0, 1_000), gpt54), 200_000 * 5 + 100_000 * 0.5 + 1_000 * 22.5);
});

test('cache writes are billed at 1.25x the input price, and read from both OpenAI APIs', () => {
  const chat = openaiUsage({
    prompt_tokens: 1000,
    completion_tokens: 10,
    prompt_tokens_details: { cached_tokens: 200, cache_write_tokens: 300 },
  });
  assert.deepEqual([chat.inputTokens, chat.cachedInputTokens, chat.cacheWriteTokens], [1000, 200, 300]);
  const responses = responsesUsage({
    input_tokens: 1000,
    output_tokens: 10,
    input_tokens_details: { cached_tokens: 200, cache_write_tokens: 300 },
  });
  assert.deepEqual([responses.inputTokens, responses.cachedInputTokens, responses.cacheWriteTokens], [1000, 200, 300]);
  // Never more than the prompt's uncached part, whatever the server says.
  assert.equal(
    openaiUsage({ prompt_tokens: 100, prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 90 } }).cacheWriteTokens,
    40,
  );
  // GPT-6 Luna: $0.10 input, $0.01 cached, $0.125 written, $0.50 output.
  assert.equal(costMicroUsd(chat, catalog.lookup('openai', 'gpt-6-luna')), Math.round(500 * 0.1 + 200 * 0.01 + 300 * 0.125 + 10 * 0.5));
});

test('fast mode costs 2x and flex 0.5x the rates that apply, long-context ones included', () => {
  const sol = catalog.lookup('openai', 'gpt-6-sol');
  const standard = costMicroUsd(usage(10_000, 2_000, 1_000, 500), sol)!;
  assert.equal(standard, 7_000 * 2 + 2_000 * 0.2 + 1_000 * 2.5 + 500 * 10);
  assert.equal(costMicroUsd(usage(10_000, 2_000, 1_000, 500, 'priority'), sol), standard * 2);
  assert.equal(costMicroUsd(usage(10_000, 2_000, 1_000, 500, 'fast'), sol), standard * 2);
  assert.equal(costMicroUsd(usage(10_000, 2_000, 1_000, 500, 'flex'), sol), standard / 2);
  const long = costMicroUsd(usage(300_000, 0, 0, 1_000), sol)!;
  assert.equal(long, 300_000 * 4 + 1_000 * 15);
  assert.equal(costMicroUsd(usage(300_000, 0, 0, 1_000, 'fast'), sol), long * 2);
  // A tier priced apart keeps its own prices (gpt-5's priority: $2.50 / $20).
  assert.equal(costMicroUsd(usage(1_000, 0, 0, 100, 'priority'), catalog.lookup('openai', 'gpt-5')), 1_000 * 2.5 + 100 * 20);
});

test('gpt-5.6 is GPT-5.6 Sol; a point release the catalog does not list is not priced as its neighbour', () => {
  assert.deepEqual(catalog.lookup('openai', 'gpt-5.6'), catalog.lookup('openai', 'gpt-5.6-sol'));
  assert.equal(catalog.lookup('openai', 'gpt-6.3-sol'), undefined);
  assert.equal(catalog.lookup('openai', 'gpt-6'), undefined);
  assert.equal(catalog.lookup('azure-openai', 'gpt-6.1-sol')?.cachedInput, 0.1);
});

// GPT-5.4 nano's model page (developers.openai.com/ja-JP/api/docs/models/gpt-5.4-nano and its zh-Hant edition, the
// English one not found): $0.20 input, $0.02 cached input, $1.25 output; a 400,000-token window, so no long-prompt price
// (the 272K rule is stated for the 1.05M-window GPT-5.4 and GPT-5.4 Pro); snapshot gpt-5.4-nano-2026-03-17.
test('GPT-5.4 nano at its model page prices, its snapshot too, with no long-prompt premium', () => {
  const nano = catalog.lookup('openai', 'gpt-5.4-nano');
  assert.deepEqual([nano?.input, nano?.cachedInput, nano?.output, nano?.cacheWrite], [0.2, 0.02, 1.25, undefined]);
  assert.equal(nano?.longContext, undefined);
  assert.deepEqual(catalog.lookup('openai', 'gpt-5.4-nano-2026-03-17'), nano);
  assert.equal(costMicroUsd(usage(300_000, 100_000, 0, 1_000), nano), 200_000 * 0.2 + 100_000 * 0.02 + 1_000 * 1.25);
  // Not GPT-5.4's prices: a model of its own, not a version of gpt-5.4.
  assert.notDeepEqual(nano, catalog.lookup('openai', 'gpt-5.4'));
});

// GPT-5.1's model page (developers.openai.com/api/docs/models/gpt-5.1, "Deprecated"): $1.25 input, $0.125 cached input,
// $10 output; a 400,000-token window; snapshot gpt-5.1-2025-11-13.
test('GPT-5.1 at its model page prices, its dated snapshot too, and not as GPT-5', () => {
  const gpt51 = catalog.lookup('openai', 'gpt-5.1');
  assert.deepEqual([gpt51?.input, gpt51?.cachedInput, gpt51?.output, gpt51?.cacheWrite], [1.25, 0.125, 10, undefined]);
  assert.equal(gpt51?.longContext, undefined);
  assert.equal(gpt51?.priority, undefined, 'no priority price stated on its page');
  assert.deepEqual(catalog.lookup('openai', 'gpt-5.1-2025-11-13'), gpt51);
  assert.equal(costMicroUsd(usage(10_000, 2_000, 0, 500), gpt51), 8_000 * 1.25 + 2_000 * 0.125 + 500 * 10);
  assert.equal(catalog.lookup('azure-openai', 'gpt-5.1')?.input, 1.25);
});
