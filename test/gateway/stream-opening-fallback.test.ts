// Routing as a streaming client sees it when an upstream answers 200 but opens its stream with an error event
// (Anthropic's overloaded_error, an OpenAI-compatible server's {"error":...}, a Bedrock exception frame): nothing has
// reached the client yet, so the attempt fails like an error status of the same kind would, and the next target answers.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseStreamFrames, sendFrames, startMockBedrock } from '../support/mock-bedrock.js';
import { anthropicStreamFrames, MockProvider, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const overloaded = `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`;

describe('a stream that opens with an error event falls back', () => {
  let primary: MockProvider;
  let secondary: MockProvider;
  let openaiPrimary: MockProvider;
  let openaiSecondary: MockProvider;
  let bedrock: MockProvider;
  let gemini: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;
  let openai: OpenAI;

  before(async () => {
    primary = await MockProvider.start((_r, res) => void sse(res, [overloaded]));
    secondary = await MockProvider.start((_r, res) => void sse(res, anthropicStreamFrames(['from ', 'secondary'])));
    openaiPrimary = await MockProvider.start((_r, res) => void sse(res, openaiStreamFrames(['from primary'], null)));
    openaiSecondary = await MockProvider.start((_r, res) => void sse(res, openaiStreamFrames(['from ', 'secondary'], null)));
    bedrock = await startMockBedrock(async (modelId, _stream, _request, res) => {
      if (modelId === 'throttled')
        return sendFrames(res, [encodeAwsEvent('throttlingException', { message: 'Too many requests' }, 'exception')]);
      return sendFrames(res, converseStreamFrames(['from ', 'bedrock']));
    });
    // https://ai.google.dev/gemini-api/docs/troubleshooting: an overloaded model is a 503 UNAVAILABLE.
    const unavailable = { error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } };
    gemini = await MockProvider.start((_r, res) => void sse(res, [`data: ${JSON.stringify(unavailable)}\r\n\r\n`]));
    const pair = (name: string, first: string, second: string) => ({
      name,
      targets: [
        { provider: first, model: `p-${name}` },
        { provider: second, model: 's-model' },
      ],
    });
    sluice = await startTestSluice({
      providers: {
        primary: { type: 'anthropic', baseUrl: primary.url, apiKey: 'primary-key-not-real' },
        secondary: { type: 'anthropic', baseUrl: secondary.url, apiKey: 'secondary-key-not-real' },
        'openai-primary': { type: 'openai', baseUrl: `${openaiPrimary.url}/v1`, apiKey: 'openai-primary-key-not-real' },
        'openai-secondary': { type: 'openai', baseUrl: `${openaiSecondary.url}/v1`, apiKey: 'openai-secondary-key-not-real' },
        gemini: { type: 'gemini', baseUrl: gemini.url, apiKey: 'gemini-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      routing: { retry: { attempts: 1, backoffMs: 5, timeoutMs: 2_000 }, circuitBreaker: { failures: 10, cooldownMs: 60_000 } },
      models: [
        pair('anthropic-overloaded', 'primary', 'secondary'),
        pair('anthropic-overloaded-after-start', 'primary', 'secondary'),
        pair('anthropic-dies-after-start', 'primary', 'secondary'),
        pair('openai-error-first', 'openai-primary', 'openai-secondary'),
        pair('openai-bad-request-first', 'openai-primary', 'openai-secondary'),
        pair('openai-content-mentions-error', 'openai-primary', 'openai-secondary'),
        {
          name: 'bedrock-throttled',
          targets: [
            { provider: 'bedrock', model: 'throttled' },
            { provider: 'bedrock', model: 'ok' },
          ],
        },
        pair('gemini-unavailable', 'gemini', 'openai-secondary'),
        { name: 'anthropic-alone', targets: [{ provider: 'primary', model: 'alone' }] },
        // The test consumers are granted this model.
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai-secondary', model: 'gpt-4o-mini' }] },
      ],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  afterEach(() => {
    primary.respondWith((_r, res) => void sse(res, [overloaded]));
    openaiPrimary.respondWith((_r, res) => void sse(res, openaiStreamFrames(['from primary'], null)));
    for (const mock of [primary, secondary, openaiPrimary, openaiSecondary, bedrock, gemini]) mock.received.length = 0;
  });

  after(async () => {
    await sluice.stop();
    for (const mock of [primary, secondary, openaiPrimary, openaiSecondary, bedrock, gemini]) await mock.close();
  });

  const streamAnthropic = async (model: string) => {
    const stream = anthropic.messages.stream({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const event of stream)
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    return text;
  };

  const streamOpenai = async (model: string) => {
    const stream = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    return text;
  };

  const row = async (model: string) => (await ledgerRows(sluice)).find((candidate) => candidate.requested_model === model);

  test("Anthropic: an overloaded_error as the stream's first event is retried, then the next target answers", async () => {
    assert.equal(await streamAnthropic('anthropic-overloaded'), 'from secondary');
    assert.equal(primary.received.length, 2, 'overloaded is transient, as an HTTP 529: tried again on the same target first');
    assert.equal(secondary.received.length, 1);
    const recorded = await row('anthropic-overloaded');
    assert.equal(recorded?.provider, 'secondary');
    assert.equal(recorded?.attempts, 3);
    assert.equal(recorded?.status, 200);
  });

  test('Anthropic: an error event right after message_start (in a later chunk) still falls back', async () => {
    const [start] = anthropicStreamFrames([]);
    primary.respondWith((_r, res) => void sse(res, [start!, `event: ping\ndata: {"type": "ping"}\n\n`, overloaded], 30));
    assert.equal(await streamAnthropic('anthropic-overloaded-after-start'), 'from secondary');
    assert.equal(primary.received.length, 2);
    assert.equal((await row('anthropic-overloaded-after-start'))?.provider, 'secondary');
  });

  test('Anthropic: a stream that dies after message_start, before its first event, falls back', async () => {
    const [start] = anthropicStreamFrames([]);
    primary.respondWith((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(start!);
      setTimeout(() => res.destroy(), 30);
    });
    assert.equal(await streamAnthropic('anthropic-dies-after-start'), 'from secondary');
    assert.equal(primary.received.length, 2);
    assert.equal((await row('anthropic-dies-after-start'))?.provider, 'secondary');
  });

  test('OpenAI-compatible: a first data line holding an error falls back to the next target', async () => {
    openaiPrimary.respondWith(
      (_r, res) =>
        void sse(res, [`data: ${JSON.stringify({ error: { message: 'upstream overloaded', type: 'server_error', code: 503 } })}\n\n`]),
    );
    assert.equal(await streamOpenai('openai-error-first'), 'from secondary');
    assert.equal(openaiPrimary.received.length, 2);
    assert.equal(openaiSecondary.received.length, 1);
    const recorded = await row('openai-error-first');
    assert.equal(recorded?.provider, 'openai-secondary');
    assert.equal(recorded?.attempts, 3);
  });

  test("OpenAI-compatible: a request error as the stream's first event is not retried elsewhere, as an HTTP 400 is not", async () => {
    openaiPrimary.respondWith(
      (_r, res) =>
        void sse(res, [
          `data: ${JSON.stringify({ error: { message: 'max_tokens is too large', type: 'BadRequestError', code: 400 } })}\n\n`,
        ]),
    );
    await assert.rejects(streamOpenai('openai-bad-request-first'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 400);
      assert.match(error.message, /max_tokens is too large/);
      return true;
    });
    assert.equal(openaiPrimary.received.length, 1);
    assert.equal(openaiSecondary.received.length, 0);
  });

  test('a stream whose first content merely mentions "error" is relayed, not failed', async () => {
    openaiPrimary.respondWith((_r, res) => void sse(res, openaiStreamFrames(['"error": none'], null)));
    assert.equal(await streamOpenai('openai-content-mentions-error'), '"error": none');
    assert.equal(openaiSecondary.received.length, 0);
  });

  test('Bedrock: an exception frame as the first frame falls back to the next target', async () => {
    assert.equal(await streamOpenai('bedrock-throttled'), 'from bedrock');
    assert.deepEqual(
      bedrock.received.map((request) => request.path),
      // Throttling is a 429: as for that status, no retry on the rate-limited target, straight to the next.
      ['/model/throttled/converse-stream', '/model/ok/converse-stream'],
    );
    assert.equal((await row('bedrock-throttled'))?.attempts, 2);
  });

  test("Gemini: an error as the stream's first event falls back to the next target", async () => {
    assert.equal(await streamOpenai('gemini-unavailable'), 'from secondary');
    assert.equal(gemini.received.length, 2, 'a 503: tried again on the same target first');
    assert.equal((await row('gemini-unavailable'))?.provider, 'openai-secondary');
  });

  test('with no target left, the client gets the error', async () => {
    await assert.rejects(streamAnthropic('anthropic-alone'), (error: unknown) => {
      assert.ok(error instanceof Anthropic.APIError);
      assert.match(error.message, /Overloaded/);
      return true;
    });
    assert.equal(primary.received.length, 2);
  });
});
