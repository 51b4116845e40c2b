// An error a translated provider reports inside a stream already under way reaches an Anthropic client as one of
// Anthropic's own error types (https://docs.anthropic.com/en/api/errors: rate_limit_error, overloaded_error, api_error,
// ...), chosen by the kind of error the provider named, never the provider's own name for it (Bedrock's
// throttlingException, Gemini's RESOURCE_EXHAUSTED), which no Anthropic client knows. Its message stays the provider's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, sendFrames, startMockBedrock } from '../support/mock-bedrock.js';
import { MockProvider, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('error types inside translated streams, for Anthropic clients', () => {
  let bedrockMock: MockProvider;
  let geminiMock: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;

  before(async () => {
    // Both answer a first piece of text, then fail: the stream is the client's by then, so the error goes in it.
    bedrockMock = await startMockBedrock((model, _stream, _request, res) =>
      sendFrames(res, [
        encodeAwsEvent('messageStart', { role: 'assistant' }),
        encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Par' } }),
        model.includes('throttled')
          ? encodeAwsEvent('throttlingException', { message: 'Too many tokens, please wait before trying again.' }, 'exception')
          : encodeAwsEvent('modelStreamErrorException', { message: 'The model stream failed.' }, 'exception'),
      ]),
    );
    geminiMock = await MockProvider.start((_request, res) =>
      sse(res, [
        `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'Par' }] }, index: 0 }], responseId: 'r1' })}\r\n\r\n`,
        `data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } })}\r\n\r\n`,
      ]),
    );
    sluice = await startTestSluice({
      providers: {
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'google-test-key-not-real' },
      },
      models: [
        { name: 'bedrock-throttled', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-throttled-v1:0' }] },
        { name: 'bedrock-broken', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-broken-v1:0' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
      ],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await bedrockMock.close();
    await geminiMock.close();
  });

  /** The error the SDK throws from the stream, and the text it had before. */
  async function streamError(model: string): Promise<{ text: string; type: string; message: string }> {
    let text = '';
    try {
      const stream = await anthropic.messages.create({
        model,
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'Hi' }],
      });
      for await (const event of stream)
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    } catch (error) {
      assert.ok(error instanceof Anthropic.APIError, String(error));
      const body = error.error as { error: { type: string; message: string } };
      return { text, type: body.error.type, message: body.error.message };
    }
    throw new Error('the stream ended without an error');
  }

  test("Bedrock's throttlingException is rate_limit_error, its modelStreamErrorException api_error", async () => {
    assert.deepEqual(await streamError('bedrock-throttled'), {
      text: 'Par',
      type: 'rate_limit_error',
      message: 'Too many tokens, please wait before trying again.',
    });
    const broken = await streamError('bedrock-broken');
    assert.equal(broken.type, 'api_error');
  });

  test("Gemini's UNAVAILABLE (503) is overloaded_error", async () => {
    assert.deepEqual(await streamError('gemini'), {
      text: 'Par',
      type: 'overloaded_error',
      message: 'The model is overloaded. Please try again later.',
    });
  });
});
