// POST /v1/messages/count_tokens with the Anthropic SDK: Anthropic's own count where the model is served by Anthropic,
// Sluice's tokenizer (marked estimated) elsewhere.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { json, MockProvider } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const ANTHROPIC_UPSTREAM_KEY = 'upstream-anthropic-key-not-real';

describe('token counting', () => {
  let anthropicMock: MockProvider;
  let openaiMock: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;
  let upstreamStatus = 200;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      if (request.path !== '/v1/messages/count_tokens')
        return json(res, 404, { type: 'error', error: { type: 'not_found_error', message: 'no' } });
      if (upstreamStatus !== 200) {
        return json(res, upstreamStatus, {
          type: 'error',
          error: { type: upstreamStatus === 400 ? 'invalid_request_error' : 'api_error', message: 'messages.0.content: bad block' },
        });
      }
      return json(res, 200, { input_tokens: 1234 });
    });
    openaiMock = await MockProvider.start((_request, res) => json(res, 500, { error: { message: 'not called' } }));
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: ANTHROPIC_UPSTREAM_KEY },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'claude-haiku', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice?.stop();
    await anthropicMock?.close();
    await openaiMock?.close();
  });

  test("a model served by Anthropic is counted by Anthropic's endpoint, with the provider's model name and key", async () => {
    upstreamStatus = 200;
    const counted = await anthropic.messages.countTokens({
      model: 'claude-haiku',
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'How many tokens is this?' }],
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    });
    assert.equal(counted.input_tokens, 1234);
    assert.equal((counted as unknown as { estimated?: boolean }).estimated, undefined);
    const sent = anthropicMock.received.at(-1)!;
    assert.equal(sent.path, '/v1/messages/count_tokens');
    assert.equal(sent.headers['x-api-key'], ANTHROPIC_UPSTREAM_KEY);
    assert.deepEqual(Object.keys(sent.body).sort(), ['messages', 'model', 'system', 'tools']);
    assert.equal(sent.body.model, 'claude-3-5-haiku-20241022');
  });

  test("a model without a counting endpoint is counted with Sluice's tokenizer and marked estimated", async () => {
    const short = await anthropic.messages.countTokens({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    const long = await anthropic.messages.countTokens({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi '.repeat(200) }],
    });
    assert.equal((short as unknown as { estimated?: boolean }).estimated, true);
    assert.ok(short.input_tokens > 0);
    assert.ok(long.input_tokens > short.input_tokens + 150, `${long.input_tokens} vs ${short.input_tokens}`);
    const raw = await anthropic.messages.countTokens({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }).asResponse();
    assert.equal(raw.headers.get('x-sluice-tokens-estimated'), 'true');
    assert.equal(openaiMock.received.length, 0);
  });

  test("Anthropic refusing the request is the client's error; Anthropic failing falls back to an estimate", async () => {
    upstreamStatus = 400;
    await assert.rejects(
      anthropic.messages.countTokens({ model: 'claude-haiku', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof Anthropic.BadRequestError,
    );
    upstreamStatus = 500;
    const counted = await anthropic.messages.countTokens({ model: 'claude-haiku', messages: [{ role: 'user', content: 'x' }] });
    assert.equal((counted as unknown as { estimated?: boolean }).estimated, true);
    upstreamStatus = 200;
  });

  test("bad input answers in Anthropic's error shape", async () => {
    await assert.rejects(anthropic.messages.countTokens({ model: 'claude-haiku', messages: [] }), (error: unknown) => {
      assert.ok(error instanceof Anthropic.BadRequestError);
      assert.match(error.message, /messages/);
      return true;
    });
    await assert.rejects(
      anthropic.messages.countTokens({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof Anthropic.NotFoundError,
    );
    const unauthenticated = new Anthropic({ apiKey: 'sk-not-a-sluice-key-000', baseURL: sluice.baseURL, maxRetries: 0 });
    await assert.rejects(
      unauthenticated.messages.countTokens({ model: 'claude-haiku', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof Anthropic.AuthenticationError,
    );
  });
});
