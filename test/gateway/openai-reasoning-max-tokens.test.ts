// OpenAI's reasoning models (the o-series, GPT-5 and later) refuse Chat Completions' max_tokens: "Unsupported parameter:
// 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead." (type invalid_request_error, code
// unsupported_parameter). An OpenAI client's max_tokens, right for the model it named (a Gemini, a gpt-4o, or a Sluice
// model whose first target takes it), must not fail the call when the model's target, or the one it falls back to, is
// such a model: it reaches it as max_completion_tokens, the same limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const REASONING = /^(o\d|gpt-5)/;

describe("an OpenAI client's max_tokens to a reasoning model", () => {
  let gemini: MockProvider;
  let openaiMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;

  before(async () => {
    gemini = await MockProvider.start((_request, res) =>
      json(res, 503, { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }),
    );
    openaiMock = await MockProvider.start((request, res) => {
      if (REASONING.test(String(request.body.model)) && request.body.max_tokens !== undefined) {
        const message = "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.";
        return json(res, 400, { error: { message, type: 'invalid_request_error', param: 'max_tokens', code: 'unsupported_parameter' } });
      }
      if (request.body.stream === true) return void sse(res, openaiStreamFrames(['from GPT'], { prompt_tokens: 5, completion_tokens: 2 }));
      json(res, 200, openaiCompletion('from GPT'));
    });
    sluice = await startTestSluice({
      providers: {
        gemini: { type: 'gemini', baseUrl: gemini.url, apiKey: 'upstream-gemini-key-not-real' },
        openai: { type: 'openai', baseUrl: openaiMock.url, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'o3', targets: [{ provider: 'openai', model: 'o3' }] },
        {
          name: 'fast',
          targets: [
            { provider: 'gemini', model: 'gemini-2.5-flash' },
            { provider: 'openai', model: 'gpt-5-mini' },
          ],
        },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([gemini.close(), openaiMock.close()]);
  });

  const last = () => openaiMock.received.at(-1)!.body;

  test('a fallback from Gemini to GPT-5 gets it as max_completion_tokens', async () => {
    const completion = await openai.chat.completions.create({
      model: 'fast',
      max_tokens: 300,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(completion.choices[0]!.message.content, 'from GPT');
    assert.equal(last().max_tokens, undefined);
    assert.equal(last().max_completion_tokens, 300);
  });

  test('streamed, to an o-series model named directly', async () => {
    let text = '';
    const stream = await openai.chat.completions.create({
      model: 'o3',
      max_tokens: 300,
      stream: true,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'from GPT');
    assert.equal(last().max_completion_tokens, 300);
  });

  test('a model that takes max_tokens gets it as sent; max_completion_tokens given wins', async () => {
    await openai.chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 300, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(last().max_tokens, 300);
    assert.equal(last().max_completion_tokens, undefined);
    await openai.chat.completions.create({
      model: 'o3',
      max_tokens: 300,
      max_completion_tokens: 500,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(last().max_tokens, undefined);
    assert.equal(last().max_completion_tokens, 500);
  });
});
