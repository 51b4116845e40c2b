// An OpenAI client that sends no max_tokens / max_completion_tokens: Anthropic requires max_tokens, and both providers
// count it against the caller's limits before a token is written (Anthropic estimates output tokens per minute from it,
// 8,000 to 32,000 a minute on its first tiers; Bedrock reserves it against the tokens-per-minute quota, five times over
// for Claude 3.7 and later). Sluice sends 4,096 (no more than the model gives), the figure admission reserves, rather than
// the model's maximum (64,000 or 128,000), which would refuse every such call on a small tier. A client limit above the
// model's maximum (a GPT's, on a call falling back to a Claude) is sent as that maximum.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseAnswer, startMockBedrock } from '../support/mock-bedrock.js';
import { anthropicMessage, anthropicStreamFrames, json, MockProvider, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('max_tokens sent to Claude when an OpenAI client sends none', () => {
  let anthropicMock: MockProvider;
  let bedrockMock: Awaited<ReturnType<typeof startMockBedrock>>;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      // As the Messages API refuses more than Claude Sonnet 4.5 gives.
      if (request.body.model === 'claude-sonnet-4-5-20250929' && (request.body.max_tokens as number) > 64_000)
        return json(res, 400, {
          type: 'error',
          error: { type: 'invalid_request_error', message: `max_tokens: ${String(request.body.max_tokens)} > 64000` },
        });
      return request.body.stream === true
        ? sse(res, anthropicStreamFrames(['Hello', ' there']))
        : json(res, 200, anthropicMessage('Hello there'));
    });
    bedrockMock = await startMockBedrock((_model, _stream, request, res) => {
      const config = request.body.inferenceConfig as { maxTokens?: number } | undefined;
      if ((config?.maxTokens ?? 0) > 128_000) return json(res, 400, { message: 'too many' }, { 'x-amzn-errortype': 'ValidationException' });
      return json(res, 200, converseAnswer('Hello there'));
    });
    const anthropic = (name: string, model: string) => ({ name, targets: [{ provider: 'anthropic', model }] });
    const bedrock = (name: string, model: string) => ({ name, targets: [{ provider: 'bedrock', model }] });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
        // Never called: the test config's second consumer may use gpt-4o-mini.
        openai: { type: 'openai', baseUrl: `${anthropicMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        anthropic('sonnet-4-5', 'claude-sonnet-4-5-20250929'),
        anthropic('sonnet-4-6', 'claude-sonnet-4-6'),
        anthropic('opus-4-1', 'claude-opus-4-1-20250805'),
        anthropic('opus-4-6', 'claude-opus-4-6'),
        anthropic('haiku-3-5', 'claude-3-5-haiku-20241022'),
        anthropic('sonnet-3-7', 'claude-3-7-sonnet-latest'),
        anthropic('haiku-3', 'claude-3-haiku-20240307'),
        anthropic('unknown-claude', 'our-fine-tuned-assistant'),
        bedrock('bedrock-haiku-4-5', 'us.anthropic.claude-haiku-4-5-20251001-v1:0'),
        bedrock('bedrock-opus-4-7', 'global.anthropic.claude-opus-4-7'),
        bedrock('bedrock-sonnet-3-5-v1', 'anthropic.claude-3-5-sonnet-20240620-v1:0'),
        bedrock('bedrock-nova', 'amazon.nova-pro-v1:0'),
      ],
      // Fits a call reserving admission.defaultMaxTokens (4,096) of output, not one reserving a Claude's 64,000.
      budgets: [
        {
          name: 'opus-daily',
          consumers: { consumer: 'checkout-service' },
          resources: { model: 'opus-4-6' },
          measure: 'total_tokens',
          limit: 20_000,
          window: 'day',
        },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  beforeEach(() => {
    anthropicMock.received.length = 0;
    bedrockMock.received.length = 0;
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await bedrockMock.close();
  });

  const messages = [{ role: 'user' as const, content: 'Write the whole report.' }];

  async function anthropicMaxTokens(model: string): Promise<unknown> {
    anthropicMock.received.length = 0;
    const completion = await client.chat.completions.create({ model, messages });
    assert.equal(completion.choices[0]!.message.content, 'Hello there');
    return anthropicMock.received[0]!.body.max_tokens;
  }

  test('anthropic: each Claude gets 4,096, not its maximum output, which its rate limits would count in full', async () => {
    for (const model of ['sonnet-4-5', 'sonnet-4-6', 'opus-4-1', 'opus-4-6', 'haiku-3-5', 'sonnet-3-7', 'haiku-3', 'unknown-claude'])
      assert.equal(await anthropicMaxTokens(model), 4_096, model);
  });

  test('anthropic: a streamed call too, and a client max_tokens or max_completion_tokens is sent as given', async () => {
    const stream = await client.chat.completions.create({ model: 'sonnet-4-5', messages, stream: true });
    for await (const _chunk of stream);
    assert.equal(anthropicMock.received[0]!.body.max_tokens, 4_096);
    await client.chat.completions.create({ model: 'sonnet-4-5', messages, max_tokens: 300 });
    assert.equal(anthropicMock.received[1]!.body.max_tokens, 300);
    await client.chat.completions.create({ model: 'sonnet-4-5', messages, max_completion_tokens: 500 });
    assert.equal(anthropicMock.received[2]!.body.max_tokens, 500);
  });

  test("bedrock: a Claude gets 4,096 in inferenceConfig.maxTokens (no more than it gives); other models Converse's default", async () => {
    const maxTokens = async (model: string) => {
      bedrockMock.received.length = 0;
      await client.chat.completions.create({ model, messages });
      return (bedrockMock.received[0]!.body.inferenceConfig as { maxTokens?: number } | undefined)?.maxTokens;
    };
    assert.equal(await maxTokens('bedrock-haiku-4-5'), 4_096);
    assert.equal(await maxTokens('bedrock-opus-4-7'), 4_096);
    // Claude 3.5 Sonnet (June 2024) takes at most 4,096 on Bedrock.
    assert.equal(await maxTokens('bedrock-sonnet-3-5-v1'), 4_096);
    assert.equal(await maxTokens('bedrock-nova'), undefined);
  });

  test("a client max_tokens above the model's maximum (a GPT's, on fallback) is sent as the model's maximum", async () => {
    await client.chat.completions.create({ model: 'sonnet-4-5', messages, max_completion_tokens: 100_000 });
    assert.equal(anthropicMock.received[0]!.body.max_tokens, 64_000);
    await client.chat.completions.create({ model: 'bedrock-opus-4-7', messages, max_tokens: 200_000 });
    assert.equal((bedrockMock.received[0]!.body.inferenceConfig as { maxTokens: number }).maxTokens, 128_000);
    // A model Sluice cannot place gets what the client asked.
    await client.chat.completions.create({ model: 'unknown-claude', messages, max_tokens: 100_000 });
    assert.equal(anthropicMock.received[1]!.body.max_tokens, 100_000);
  });

  test('a token budget that fits admission.defaultMaxTokens admits a call without max_tokens, sent what it reserved', async () => {
    const completion = await client.chat.completions.create({ model: 'opus-4-6', messages });
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    assert.equal(anthropicMock.received[0]!.body.max_tokens, 4_096);
  });
});
