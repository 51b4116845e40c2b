// A streamed /v1/messages call served by an OpenAI-compatible provider states the prompt's tokens in message_start
// (estimated: OpenAI reports usage only after the last token) and the provider's count in message_delta, as
// Anthropic clients expect: LangChain's ChatAnthropic reads input tokens from message_start alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { ChatAnthropic } from '@langchain/anthropic';
import type { AIMessageChunk } from '@langchain/core/messages';
import { countTextTokens } from '../../src/metering/tokenizer.js';
import { MockProvider, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('input tokens of a translated Anthropic stream', () => {
  let openaiMock: MockProvider;
  let sluice: TestSluice;
  let reportUsage = true;

  before(async () => {
    // The tokenizer loaded, as on a gateway that has served a while: the first streams after a start state a rough count
    // rather than wait for its tables (tokenizer.test.ts), and these tests compare the stream's count with the ledger's.
    await countTextTokens([]);
    openaiMock = await MockProvider.start((_request, res) =>
      sse(res, openaiStreamFrames(['Hi', ' there'], reportUsage ? { prompt_tokens: 57, completion_tokens: 2 } : null)),
    );
    sluice = await startTestSluice({
      consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
      providers: { openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
  });

  after(async () => {
    await sluice?.stop();
    await openaiMock?.close();
  });

  const prompt = 'Tell me, in a few words, what the weather is usually like in Lyon in the spring.';

  test("LangChain's ChatAnthropic sees input tokens above zero", async () => {
    reportUsage = true;
    const model = new ChatAnthropic({
      model: 'gpt-4o-mini',
      apiKey: KEYS.checkout,
      anthropicApiUrl: sluice.baseURL,
      maxRetries: 0,
      maxTokens: 50,
    });
    let message: AIMessageChunk | undefined;
    for await (const chunk of await model.stream(prompt)) message = message === undefined ? chunk : message.concat(chunk);
    assert.equal(message!.content, 'Hi there');
    assert.ok(message!.usage_metadata!.input_tokens > 0, `input_tokens ${message!.usage_metadata!.input_tokens}`);
    assert.equal(message!.usage_metadata!.output_tokens, 2);
  });

  test("the Anthropic SDK gets the estimate in message_start and the provider's count in message_delta", async () => {
    reportUsage = true;
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const events = [];
    for await (const event of await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 50,
      stream: true,
      messages: [{ role: 'user', content: prompt }],
    }))
      events.push(event);
    const start = events.find((event) => event.type === 'message_start')!;
    const delta = events.find((event) => event.type === 'message_delta')!;
    const estimated = start.message.usage.input_tokens;
    // The tokenizer's count of the prompt: its ~17 words and the message framing, well short of the provider's 57.
    assert.ok(estimated > 10 && estimated < 57, `estimate ${estimated}`);
    assert.equal(delta.usage.input_tokens, 57);
    assert.equal(delta.usage.output_tokens, 2);
    const final = await anthropic.messages
      .stream({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: prompt }] })
      .finalMessage();
    assert.equal(final.usage.input_tokens, 57);
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.input_tokens, 57);
    assert.equal(row.tokens_estimated, 0);
  });

  test('a provider that never reports usage leaves the estimate in both events, and the ledger marks it estimated', async () => {
    reportUsage = false;
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const final = await anthropic.messages
      .stream({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: prompt }] })
      .finalMessage();
    assert.ok(final.usage.input_tokens > 10);
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.tokens_estimated, 1);
    assert.equal(row.input_tokens, final.usage.input_tokens);
  });
});
