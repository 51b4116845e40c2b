// The response cache keeps no refusal: a content filter's stop, a refusal message or Claude's stop_reason refusal, whole
// or streamed, passed through or translated, in each API a client may ask in (raw HTTP, as any client sends it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../src/config/load.js';
import {
  anthropicMessage,
  anthropicStreamFrames,
  json,
  MockProvider,
  openaiCompletion,
  openaiStreamFrames,
  sse,
} from '../../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../../support/sluice.js';

describe('response cache: refusals are not kept', () => {
  let openaiMock: MockProvider;
  let anthropicMock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    // Each refuses: OpenAI with its content filter or a refusal message, Claude with stop_reason refusal.
    openaiMock = await MockProvider.start((request, res) => {
      const filtered = request.rawBody.includes('filter');
      if (request.body.stream === true) {
        const frames = openaiStreamFrames(filtered ? [''] : [], { prompt_tokens: 9, completion_tokens: 1 });
        const refused = frames.map((frame) =>
          filtered
            ? frame.replace('"finish_reason":"stop"', '"finish_reason":"content_filter"')
            : frame.replace('"delta":{}', '"delta":{"refusal":"I can\'t help with that."}'),
        );
        return sse(res, refused);
      }
      const answer = openaiCompletion('', { prompt_tokens: 9, completion_tokens: 1 });
      const choice = answer.choices[0]!;
      const refused = filtered
        ? { ...choice, message: { ...choice.message, content: null }, finish_reason: 'content_filter' }
        : { ...choice, message: { ...choice.message, content: null, refusal: "I can't help with that." } };
      return json(res, 200, { ...answer, choices: [refused] });
    });
    anthropicMock = await MockProvider.start((request, res) => {
      if (request.body.stream === true)
        return sse(
          res,
          anthropicStreamFrames(['I ', 'cannot.']).map((frame) => frame.replace('"stop_reason":"end_turn"', '"stop_reason":"refusal"')),
        );
      return json(res, 200, { ...anthropicMessage('I cannot.'), stop_reason: 'refusal' });
    });
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude-haiku', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
      ],
      cache: { models: { 'gpt-4o-mini': {}, 'claude-haiku': {} } },
    });
  });

  after(async () => {
    await sluice?.stop();
    await openaiMock?.close();
    await anthropicMock?.close();
  });

  /** Sends the same call twice over HTTP, reading each answer whole; the second's x-sluice-cache. */
  async function twice(path: string, body: Record<string, unknown>): Promise<string | null> {
    let cache: string | null = null;
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${sluice.baseURL}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify(body),
      });
      assert.equal(response.status, 200);
      await response.text();
      cache = response.headers.get('x-sluice-cache');
    }
    return cache;
  }

  const cases: Array<{ name: string; path: string; body: Record<string, unknown> }> = [
    {
      name: "OpenAI's content filter",
      path: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'filter me' }] },
    },
    {
      name: "OpenAI's refusal message",
      path: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Refuse me' }] },
    },
    {
      name: "Claude's refusal",
      path: '/v1/messages',
      body: { model: 'claude-haiku', max_tokens: 50, messages: [{ role: 'user', content: 'Refuse me' }] },
    },
    {
      name: "Claude's refusal, translated for an OpenAI client",
      path: '/v1/chat/completions',
      body: { model: 'claude-haiku', messages: [{ role: 'user', content: 'Refuse me' }] },
    },
    {
      name: "Claude's refusal, translated for a Responses client",
      path: '/v1/responses',
      body: { model: 'claude-haiku', input: 'Refuse me' },
    },
  ];
  for (const { name, path, body } of cases) {
    test(`${name} is not kept: asked again, the provider answers (whole and streamed)`, async () => {
      assert.equal(await twice(path, body), 'miss');
      assert.equal(await twice(path, { ...body, stream: true }), 'miss');
    });
  }

  test('an answer that is no refusal is kept, as ever', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Answer me' }] };
    const openai = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Answered')));
    try {
      const reloaded = {
        ...sluice.config,
        providers: { ...sluice.config.providers, openai: { type: 'openai', baseUrl: `${openai.url}/v1`, apiKey: 'k' } },
      };
      await sluice.sluice.reload(validateConfig(reloaded, 'reloaded'));
      assert.equal(await twice('/v1/chat/completions', body), 'hit');
    } finally {
      await openai.close();
    }
  });
});
