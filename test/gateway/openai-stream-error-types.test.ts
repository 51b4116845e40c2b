// An error a translated provider reports inside a stream already under way reaches an OpenAI client in OpenAI's own
// words: OpenAI ends a failing Chat Completions stream with `data: {"error":{"message":...,"type":"server_error",
// "param":null,"code":null}}`, which the openai SDKs throw as an APIError with that body. The type is chosen by the kind
// of error the provider named (server_error, rate_limit_error with code rate_limit_exceeded, invalid_request_error),
// never the provider's own name for it (Anthropic's overloaded_error, Bedrock's throttlingException, Gemini's
// RESOURCE_EXHAUSTED), which no OpenAI client knows. Its message stays the provider's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, sendFrames, startMockBedrock } from '../support/mock-bedrock.js';
import { MockProvider, sse, sseEvent } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const ANTHROPIC_ERRORS: Record<string, { type: string; message: string }> = {
  'claude-overloaded': { type: 'overloaded_error', message: 'Overloaded' },
  'claude-limited': { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' },
};

describe('error types inside translated streams, for OpenAI clients', () => {
  let anthropicMock: MockProvider;
  let geminiMock: MockProvider;
  let bedrockMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;

  before(async () => {
    // Each answers a first piece of text, then fails: the stream is the client's by then, so the error goes in it.
    anthropicMock = await MockProvider.start((request, res) =>
      sse(res, [
        sseEvent('message_start', {
          type: 'message_start',
          message: {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            model: String(request.body.model),
            content: [],
            stop_reason: null,
            usage: { input_tokens: 9, output_tokens: 1 },
          },
        }),
        sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
        sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Par' } }),
        sseEvent('error', { type: 'error', error: ANTHROPIC_ERRORS[String(request.body.model)] }),
      ]),
    );
    geminiMock = await MockProvider.start((_request, res) =>
      sse(res, [
        `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'Par' }] }, index: 0 }], responseId: 'r1' })}\r\n\r\n`,
        `data: ${JSON.stringify({ error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).', status: 'RESOURCE_EXHAUSTED' } })}\r\n\r\n`,
      ]),
    );
    bedrockMock = await startMockBedrock((_model, _stream, _request, res) =>
      sendFrames(res, [
        encodeAwsEvent('messageStart', { role: 'assistant' }),
        encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Par' } }),
        encodeAwsEvent('validationException', { message: 'The output is not valid for this model.' }, 'exception'),
      ]),
    );
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'google-test-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      models: [
        { name: 'claude-overloaded', targets: [{ provider: 'anthropic', model: 'claude-overloaded' }] },
        { name: 'claude-limited', targets: [{ provider: 'anthropic', model: 'claude-limited' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'bedrock', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([anthropicMock.close(), geminiMock.close(), bedrockMock.close()]);
  });

  /** The error body the SDK throws from the stream, and the text it had before. */
  async function streamError(model: string): Promise<{ text: string; error: unknown }> {
    let text = '';
    try {
      const stream = await openai.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'Hi' }] });
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      return { text, error: error.error };
    }
    throw new Error('the stream ended without an error');
  }

  test("Anthropic's overloaded_error is server_error, as OpenAI's own failing streams say", async () => {
    assert.deepEqual(await streamError('claude-overloaded'), {
      text: 'Par',
      error: { message: 'Overloaded', type: 'server_error', param: null, code: null },
    });
  });

  test("Anthropic's rate_limit_error and Gemini's RESOURCE_EXHAUSTED are rate_limit_error, code rate_limit_exceeded", async () => {
    assert.deepEqual(await streamError('claude-limited'), {
      text: 'Par',
      error: {
        message: 'Number of request tokens has exceeded your per-minute rate limit',
        type: 'rate_limit_error',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
    assert.deepEqual(await streamError('gemini'), {
      text: 'Par',
      error: {
        message: 'Resource has been exhausted (e.g. check quota).',
        type: 'rate_limit_error',
        param: null,
        code: 'rate_limit_exceeded',
      },
    });
  });

  test("Bedrock's validationException is invalid_request_error", async () => {
    assert.deepEqual(await streamError('bedrock'), {
      text: 'Par',
      error: { message: 'The output is not valid for this model.', type: 'invalid_request_error', param: null, code: null },
    });
  });

  test('a Responses API client gets the error event with the code OpenAI uses (server_error, rate_limit_exceeded)', async () => {
    const codes: string[] = [];
    for (const model of ['claude-overloaded', 'claude-limited']) {
      const stream = await openai.responses.create({ model, stream: true, input: 'Hi' });
      for await (const event of stream) if (event.type === 'error') codes.push(`${event.code}: ${event.message}`);
    }
    assert.deepEqual(codes, [
      'server_error: Overloaded',
      'rate_limit_exceeded: Number of request tokens has exceeded your per-minute rate limit',
    ]);
  });
});
