// OpenAI names a rate limit it hits inside a stream by what ran out, not by kind: `type` is `tokens` or `requests` and
// `code` says `rate_limit_exceeded` ({"error":{"message":"Rate limit reached for o4-mini ... on tokens per min (TPM)
// ...","type":"tokens","param":null,"code":"rate_limit_exceeded"}}, as the openai SDKs report it mid-stream). A client
// of another API reads its own words for a rate limit (Anthropic's rate_limit_error) to wait and try again, and routing
// treats a stream that opens with one as the 429 it is: the next target, not another try at the limited one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { MockProvider, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const LIMITS = {
  tokens: {
    message: 'Rate limit reached for gpt-4o-mini in organization org-test on tokens per min (TPM): Limit 200000, Used 162960.',
    type: 'tokens',
    param: null,
    code: 'rate_limit_exceeded',
  },
  requests: {
    message: 'Rate limit reached for gpt-4o-mini in organization org-test on requests per min (RPM): Limit 500.',
    type: 'requests',
    param: null,
    code: 'rate_limit_exceeded',
  },
} as const;

describe('OpenAI rate limits inside a stream', () => {
  let limited: MockProvider;
  let spare: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;

  before(async () => {
    // Models named after the limit hit; `-opening` ones hit it before any text.
    limited = await MockProvider.start((request, res) => {
      const model = String(request.body.model);
      const limit = model.includes('requests') ? LIMITS.requests : LIMITS.tokens;
      const text = model.includes('opening') ? [] : openaiStreamFrames(['Par'], null).slice(0, 2);
      void sse(res, [...text, `data: ${JSON.stringify({ error: limit })}\n\n`]);
    });
    spare = await MockProvider.start((_request, res) => void sse(res, openaiStreamFrames(['from the spare'], null)));
    sluice = await startTestSluice({
      providers: {
        limited: { type: 'openai', baseUrl: limited.url, apiKey: 'upstream-openai-key-not-real' },
        spare: { type: 'openai', baseUrl: spare.url, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'spare', model: 'gpt-4o-mini' }] },
        { name: 'tokens', targets: [{ provider: 'limited', model: 'gpt-tokens' }] },
        { name: 'requests', targets: [{ provider: 'limited', model: 'gpt-requests' }] },
        {
          name: 'tokens-opening',
          targets: [
            { provider: 'limited', model: 'gpt-tokens-opening' },
            { provider: 'spare', model: 'gpt-4o-mini' },
          ],
        },
      ],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([limited.close(), spare.close()]);
  });

  async function anthropicStreamError(model: string): Promise<{ text: string; type: string; message: string }> {
    let text = '';
    try {
      const stream = await anthropic.messages.create({ model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Hi' }] });
      for await (const event of stream)
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    } catch (error) {
      assert.ok(error instanceof Anthropic.APIError, String(error));
      const body = error.error as { error: { type: string; message: string } };
      return { text, type: body.error.type, message: body.error.message };
    }
    throw new Error('the stream ended without an error');
  }

  for (const model of ['tokens', 'requests'] as const) {
    test(`an Anthropic client gets rate_limit_error for OpenAI's ${model} limit hit mid-stream`, async () => {
      assert.deepEqual(await anthropicStreamError(model), { text: 'Par', type: 'rate_limit_error', message: LIMITS[model].message });
    });
  }

  test('a stream that opens with the limit goes to the next target at once, as a 429 does', async () => {
    const before = limited.received.length;
    const message = await anthropic.messages.create({
      model: 'tokens-opening',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    for await (const event of message)
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    assert.equal(text, 'from the spare');
    assert.equal(limited.received.length - before, 1, 'the limited target is not tried again');
  });
});
