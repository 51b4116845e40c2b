// Anthropic's beta features, asked for by the client in the anthropic-beta header (the SDK's `betas`): passed on to an
// anthropic provider with the client's own body, beside any betas the operator configured; not sent where the call is
// translated, where they mean nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicMessage, anthropicStreamFrames, json, MockProvider, openaiCompletion, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('anthropic-beta', () => {
  let anthropicMock: MockProvider;
  let configuredMock: MockProvider;
  let openaiMock: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;

  before(async () => {
    const answer = (request: { path: string; body: Record<string, unknown> }, res: Parameters<typeof json>[0]) => {
      if (request.path.endsWith('/count_tokens')) return json(res, 200, { input_tokens: 14 });
      if (request.body.stream === true) return void sse(res, anthropicStreamFrames(['Hel', 'lo']));
      json(res, 200, anthropicMessage('Hello'));
    };
    anthropicMock = await MockProvider.start(answer);
    configuredMock = await MockProvider.start(answer);
    openaiMock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('from GPT')));
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        configured: {
          type: 'anthropic',
          baseUrl: configuredMock.url,
          apiKey: 'upstream-anthropic-key-not-real',
          headers: { 'anthropic-beta': 'token-efficient-tools-2025-02-19' },
        },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'claude-configured', targets: [{ provider: 'configured', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice?.stop();
    await anthropicMock?.close();
    await configuredMock?.close();
    await openaiMock?.close();
  });

  const betas = ['context-1m-2025-08-07', 'interleaved-thinking-2025-05-14'];
  const messages = [{ role: 'user' as const, content: 'Hi' }];

  test('reaches an anthropic provider as the client sent it, for a call and a stream', async () => {
    const message = await anthropic.beta.messages.create({ model: 'claude', max_tokens: 64, messages, betas });
    assert.equal(message.content[0]?.type === 'text' && message.content[0].text, 'Hello');
    assert.equal(anthropicMock.received.at(-1)!.headers['anthropic-beta'], betas.join(','));

    const stream = anthropic.beta.messages.stream({ model: 'claude', max_tokens: 64, messages, betas: [betas[0]!] });
    const final = await stream.finalMessage();
    assert.equal(final.content[0]?.type === 'text' && final.content[0].text, 'Hello');
    assert.equal(anthropicMock.received.at(-1)!.headers['anthropic-beta'], betas[0]);
    assert.equal(anthropicMock.received.at(-1)!.headers['x-api-key'], 'upstream-anthropic-key-not-real');
  });

  test('reaches count_tokens too', async () => {
    const counted = await anthropic.beta.messages.countTokens({ model: 'claude', messages, betas: [betas[1]!] });
    assert.equal(counted.input_tokens, 14);
    assert.equal(anthropicMock.received.at(-1)!.path, '/v1/messages/count_tokens');
    // The SDK adds a token-counting beta of its own.
    const sent = String(anthropicMock.received.at(-1)!.headers['anthropic-beta']).split(',');
    assert.ok(sent.includes(betas[1]!), sent.join(','));
  });

  test("joins the provider's configured betas, each once", async () => {
    await anthropic.beta.messages.create({
      model: 'claude-configured',
      max_tokens: 64,
      messages,
      betas: ['token-efficient-tools-2025-02-19', betas[0]!],
    });
    assert.equal(configuredMock.received.at(-1)!.headers['anthropic-beta'], `token-efficient-tools-2025-02-19,${betas[0]}`);
    await anthropic.messages.create({ model: 'claude-configured', max_tokens: 64, messages });
    assert.equal(configuredMock.received.at(-1)!.headers['anthropic-beta'], 'token-efficient-tools-2025-02-19');
  });

  test('without a beta asked for, none is sent', async () => {
    await anthropic.messages.create({ model: 'claude', max_tokens: 64, messages });
    assert.equal(anthropicMock.received.at(-1)!.headers['anthropic-beta'], undefined);
  });

  test('are part of the response cache key: other betas, another entry', async () => {
    const before = anthropicMock.received.length;
    const ask = (asked: string[]) =>
      anthropic.beta.messages
        .create(
          { model: 'claude', max_tokens: 32, messages: [{ role: 'user', content: 'Cache me' }], betas: asked },
          { headers: { 'x-sluice-cache': 'on' } },
        )
        .withResponse();
    assert.equal((await ask([betas[0]!])).response.headers.get('x-sluice-cache'), 'miss');
    assert.equal((await ask([betas[0]!])).response.headers.get('x-sluice-cache'), 'hit');
    assert.equal((await ask([betas[1]!])).response.headers.get('x-sluice-cache'), 'miss');
    assert.equal(anthropicMock.received.length, before + 2);
  });

  test('is not sent to a provider the call is translated for', async () => {
    const message = await anthropic.beta.messages.create({ model: 'gpt-4o-mini', max_tokens: 64, messages, betas });
    assert.equal(message.content[0]?.type === 'text' && message.content[0].text, 'from GPT');
    assert.equal(openaiMock.received.at(-1)!.headers['anthropic-beta'], undefined);
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'claude', messages }, { headers: { 'anthropic-beta': betas[0]! } });
    assert.equal(anthropicMock.received.at(-1)!.headers['anthropic-beta'], undefined);
  });
});
