// An OpenAI-compatible server (vLLM and the like) that fails inside a stream already under way puts the HTTP status of
// the failure in the error's `code`, as a number: vLLM's create_streaming_error_response writes
// `data: {"error":{"message":...,"type":"BadRequestError","param":null,"code":400}}` (type InternalServerError and code
// 500 for a failed generation), and other servers send only `{"error":{"message":...,"code":429}}`. A client of another
// API reads its own words for that status (Anthropic's rate_limit_error, invalid_request_error, overloaded_error) to
// decide whether to wait and try again; an error naming no kind Sluice knows is told by its status, not as api_error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { MockProvider, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

/** Each model's mid-stream error, and the Anthropic error type a client of Sluice's Messages API reads for it. */
const CASES: Record<string, { error: Record<string, unknown>; anthropicType: string }> = {
  'vllm-bad-request': {
    error: { message: 'max_tokens is too large', type: 'BadRequestError', param: 'max_tokens', code: 400 },
    anthropicType: 'invalid_request_error',
  },
  'vllm-failed': {
    error: { message: 'Internal server error', type: 'InternalServerError', param: null, code: 500 },
    anthropicType: 'api_error',
  },
  'server-limited': { error: { message: 'Too many requests in flight', code: 429 }, anthropicType: 'rate_limit_error' },
  'server-unavailable': { error: { message: 'The engine is restarting', code: '503' }, anthropicType: 'overloaded_error' },
};

describe('numeric error codes inside an OpenAI-compatible stream', () => {
  let server: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;

  before(async () => {
    // The role chunk and a first piece of text, then the failure: the stream is the client's by then.
    server = await MockProvider.start((request, res) => {
      const error = CASES[String(request.body.model)]!.error;
      void sse(res, [...openaiStreamFrames(['Par'], null).slice(0, 2), `data: ${JSON.stringify({ error })}\n\n`, 'data: [DONE]\n\n']);
    });
    sluice = await startTestSluice({
      providers: { vllm: { type: 'openai', baseUrl: `${server.url}/v1`, apiKey: 'vllm-key-not-real' } },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'vllm', model: 'vllm-failed' }] },
        ...Object.keys(CASES).map((name) => ({ name, targets: [{ provider: 'vllm', model: name }] })),
      ],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await server.close();
  });

  for (const [model, { error, anthropicType }] of Object.entries(CASES)) {
    test(`an Anthropic client reads ${anthropicType} for code ${String(error.code)}`, async () => {
      let text = '';
      let failure: unknown = null;
      try {
        const stream = await anthropic.messages.create({
          model,
          max_tokens: 64,
          stream: true,
          messages: [{ role: 'user', content: 'Hi' }],
        });
        for await (const event of stream)
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
      } catch (caught) {
        failure = caught;
      }
      assert.ok(failure instanceof Anthropic.APIError, String(failure));
      assert.equal(text, 'Par');
      assert.deepEqual(failure.error, { type: 'error', error: { type: anthropicType, message: error.message } });
    });
  }
});
