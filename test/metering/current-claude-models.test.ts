// The Claude models current in late 2026 are priced wherever they are served: on Anthropic by their own ids
// (claude-opus-4-6, claude-sonnet-4-6, claude-opus-4-5-20251101, claude-fable-5-1), on Bedrock by their cross-region inference profiles
// (global. at the list price, us. / eu. / jp. / apac. and the bare in-region id at 10% more, from Sonnet 4.5 on) and on
// Vertex AI by its ids. The official Anthropic SDK against Sluice in front of mock Anthropic and Bedrock servers, and
// the ledger's cost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { PriceCatalog } from '../../src/metering/price-catalog.js';
import { json, MockProvider } from '../support/mock-provider.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseAnswer, startMockBedrock } from '../support/mock-bedrock.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

/** Every answer: 1,000 input tokens (200 of them read from the cache, 400 written to it) and 100 output tokens. */
const USAGE = { input: 400, cacheRead: 200, cacheWrite: 400, output: 100 };

function claudeAnswer(model: string) {
  return {
    id: 'msg_current1',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: 'Priced.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: USAGE.input,
      cache_read_input_tokens: USAGE.cacheRead,
      cache_creation_input_tokens: USAGE.cacheWrite,
      output_tokens: USAGE.output,
    },
  };
}

/** The cost in micro-USD of USAGE at a price in USD per 1M tokens (reads 0.1x input unless stated, 5-minute writes 1.25x). */
function costAt(input: number, output: number, premium = 1, cacheRead = input * 0.1): number {
  return Math.round(
    (USAGE.input * input + USAGE.cacheRead * cacheRead + USAGE.cacheWrite * input * 1.25 + USAGE.output * output) * premium,
  );
}

const ANTHROPIC_MODELS = [
  { id: 'claude-opus-4-6', input: 5, output: 25 },
  { id: 'claude-sonnet-4-6', input: 3, output: 15 },
  { id: 'claude-opus-4-5-20251101', input: 5, output: 25 },
  { id: 'claude-opus-4-5', input: 5, output: 25 },
  { id: 'claude-opus-5', input: 5, output: 25 },
  { id: 'claude-sonnet-5', input: 2, output: 10 },
  { id: 'claude-opus-4-7', input: 5, output: 25 },
  { id: 'claude-opus-4-8', input: 5, output: 25 },
  { id: 'claude-sonnet-5-5', input: 2, output: 10 },
  // Cache reads at 0.05x input, not 0.1x.
  { id: 'claude-opus-5-5', input: 4, output: 20, cacheRead: 0.2 },
  // Up to 100,000 prompt tokens (this call's 1,000); past them $0.50 / $2.50.
  { id: 'claude-haiku-5-5', input: 0.1, output: 0.5 },
  // Fable and Mythos 5.1 read the cache at $0.25, a quarter of Fable 5's $1.
  { id: 'claude-fable-5-1', input: 10, output: 50, cacheRead: 0.25 },
  { id: 'claude-mythos-5-1', input: 10, output: 50, cacheRead: 0.25 },
  { id: 'claude-fable-5', input: 10, output: 50 },
  { id: 'claude-mythos-5', input: 10, output: 50 },
];

/** Bedrock model ids and what a call to each costs: the regional profiles of Sonnet 4.5 and later at 10% more. */
const BEDROCK_MODELS = [
  { id: 'global.anthropic.claude-opus-4-6-v1', input: 5, output: 25, premium: 1 },
  { id: 'us.anthropic.claude-opus-4-6-v1', input: 5, output: 25, premium: 1.1 },
  { id: 'eu.anthropic.claude-sonnet-4-6', input: 3, output: 15, premium: 1.1 },
  { id: 'global.anthropic.claude-sonnet-4-6', input: 3, output: 15, premium: 1 },
  { id: 'apac.anthropic.claude-opus-4-6-v1', input: 5, output: 25, premium: 1.1 },
  { id: 'jp.anthropic.claude-sonnet-4-5-20250929-v1:0', input: 3, output: 15, premium: 1.1 },
  { id: 'global.anthropic.claude-opus-4-5-20251101-v1:0', input: 5, output: 25, premium: 1 },
  { id: 'global.anthropic.claude-haiku-4-5-20251001-v1:0', input: 1, output: 5, premium: 1 },
  { id: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', input: 1, output: 5, premium: 1.1 },
  // Before Sonnet 4.5 a geographic profile costs what the model costs in the region.
  { id: 'us.anthropic.claude-opus-4-1-20250805-v1:0', input: 15, output: 75, premium: 1 },
  { id: 'us.anthropic.claude-sonnet-4-20250514-v1:0', input: 3, output: 15, premium: 1 },
  { id: 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-opus-4-6-v1', input: 5, output: 25, premium: 1 },
];

describe('current Claude models are priced on Anthropic, Bedrock and Vertex AI', () => {
  let anthropicMock: MockProvider;
  let bedrock: Awaited<ReturnType<typeof startMockBedrock>>;
  let sluice: TestSluice;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => json(res, 200, claudeAnswer(String(request.body.model))));
    bedrock = await startMockBedrock((_modelId, _stream, _request, res) => {
      const answer = converseAnswer('Priced.', { inputTokens: USAGE.input, outputTokens: USAGE.output });
      json(res, 200, {
        ...answer,
        usage: { ...answer.usage, cacheReadInputTokens: USAGE.cacheRead, cacheWriteInputTokens: USAGE.cacheWrite },
      });
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'sk-ant-upstream-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      // No pricing: the catalog's.
      models: [
        ...ANTHROPIC_MODELS.map(({ id }) => ({ name: id, targets: [{ provider: 'anthropic', model: id }] })),
        ...BEDROCK_MODELS.map(({ id }, i) => ({ name: `bedrock-${i}`, targets: [{ provider: 'bedrock', model: id }] })),
        { name: 'gpt-4o-mini', targets: [{ provider: 'anthropic', model: 'claude-opus-4-6' }] },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([anthropicMock.close(), bedrock.close()]);
  });

  test('on Anthropic: Opus 4.5 to 5.5, Sonnet 4.6 to 5.5, Haiku 5.5, Fable and Mythos 5 and 5.1 at their list prices, cache reads and writes too', async () => {
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    for (const { id } of ANTHROPIC_MODELS) {
      const answer = await client.messages.create({ model: id, max_tokens: 64, messages: [{ role: 'user', content: 'Price me.' }] });
      assert.equal(answer.usage.cache_read_input_tokens, USAGE.cacheRead);
    }
    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      ANTHROPIC_MODELS.map(({ id }) => [id, rows.find((row) => row.requested_model === id)?.cost_micro_usd]),
      ANTHROPIC_MODELS.map(({ id, input, output, cacheRead }) => [id, costAt(input, output, 1, cacheRead)]),
    );
  });

  test('on Bedrock: by inference profile, global at the list price and regional profiles at 10% more', async () => {
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    for (const [i] of BEDROCK_MODELS.entries()) {
      await client.messages.create({ model: `bedrock-${i}`, max_tokens: 64, messages: [{ role: 'user', content: 'Price me.' }] });
    }
    assert.deepEqual(
      bedrock.received.map((request) => decodeURIComponent(request.path.split('/')[2]!)),
      BEDROCK_MODELS.map(({ id }) => id),
    );
    const rows = await ledgerRows(sluice);
    assert.deepEqual(
      BEDROCK_MODELS.map(({ id }, i) => [id, rows.find((row) => row.requested_model === `bedrock-${i}`)?.cost_micro_usd]),
      BEDROCK_MODELS.map(({ id, input, output, premium }) => [id, costAt(input, output, premium)]),
    );
  });

  test('a profile of a model the catalog does not list, or an application inference profile, has no price', () => {
    const catalog = new PriceCatalog();
    assert.equal(catalog.lookup('bedrock', 'us.anthropic.claude-unknown-9-v1'), undefined);
    assert.equal(catalog.lookup('bedrock', 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3'), undefined);
    // Not a geography: a model id is never read as one.
    assert.equal(catalog.lookup('bedrock', 'xx.anthropic.claude-opus-4-6-v1'), undefined);
  });

  test('Haiku 5.5 bills every token of a prompt past 100,000 tokens at its long-prompt prices', () => {
    const haiku = new PriceCatalog().lookup('anthropic', 'claude-haiku-5-5');
    assert.deepEqual(haiku?.longContext, {
      above: 100_000,
      input: 0.5,
      output: 2.5,
      cachedInput: 0.05,
      cacheWrite: 0.625,
      cacheWrite1h: 1,
    });
    assert.deepEqual([haiku?.cachedInput, haiku?.cacheWrite, haiku?.cacheWrite1h], [0.01, 0.125, 0.2]);
  });

  test('a point release after a catalog name is not priced as that name: claude-opus-5-6 is unknown, not Opus 5', () => {
    const catalog = new PriceCatalog();
    assert.equal(catalog.lookup('anthropic', 'claude-opus-5-6'), undefined);
    assert.equal(catalog.lookup('anthropic', 'claude-sonnet-4-7'), undefined);
    assert.equal(catalog.lookup('vertex', 'claude-opus-5-6'), undefined);
    // Dates and versions still resolve to their base.
    assert.equal(catalog.lookup('anthropic', 'claude-opus-4-5-20251101')?.input, 5);
    assert.equal(catalog.lookup('anthropic', 'claude-haiku-4-5-20251001')?.input, 1);
    assert.equal(catalog.lookup('openai', 'gpt-4o-mini-2024-07-18')?.input, 0.15);
    assert.equal(catalog.lookup('gemini', 'gemini-2.0-flash-001')?.input, 0.1);
    assert.equal(catalog.lookup('anthropic', 'claude-sonnet-4-5-latest')?.input, 3);
  });

  test("on Vertex AI: Claude's ids there, at Anthropic's list prices", () => {
    const catalog = new PriceCatalog();
    assert.equal(catalog.lookup('vertex', 'claude-opus-4-6')?.input, 5);
    assert.equal(catalog.lookup('vertex', 'claude-sonnet-4-6')?.output, 15);
    assert.equal(catalog.lookup('vertex', 'claude-opus-4-5@20251101')?.cacheWrite1h, 10);
  });
});
