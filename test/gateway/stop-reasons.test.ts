// Why an answer ended, translated: a context window the prompt filled is a length stop, a prompt Gemini blocked is a
// content filter stop, in each client's words, streamed and not.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, startMockBedrock } from '../support/mock-bedrock.js';
import { json, MockProvider, sse, sseEvent } from '../support/mock-provider.js';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const CONTEXT_FULL = 'model_context_window_exceeded';

describe('stop reasons', () => {
  let anthropicMock: MockProvider;
  let geminiMock: MockProvider;
  let bedrockMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      const usage = { input_tokens: 199_990, output_tokens: 10 };
      if (request.body.stream !== true) {
        return json(res, 200, {
          id: 'msg_full',
          type: 'message',
          role: 'assistant',
          model: 'claude-sonnet-4-5',
          content: [{ type: 'text', text: 'The answer is' }],
          stop_reason: CONTEXT_FULL,
          stop_sequence: null,
          usage,
        });
      }
      return sse(res, [
        sseEvent('message_start', {
          type: 'message_start',
          message: {
            id: 'msg_full',
            type: 'message',
            role: 'assistant',
            model: 'claude-sonnet-4-5',
            content: [],
            usage: { ...usage, output_tokens: 1 },
          },
        }),
        sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
        sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'The answer is' } }),
        sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
        sseEvent('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: CONTEXT_FULL, stop_sequence: null },
          usage: { output_tokens: 10 },
        }),
        sseEvent('message_stop', { type: 'message_stop' }),
      ]);
    });
    // A blocked prompt: no candidates, the reason in promptFeedback (https://ai.google.dev/api/generate-content#PromptFeedback).
    const blocked = {
      promptFeedback: { blockReason: 'PROHIBITED_CONTENT' },
      usageMetadata: { promptTokenCount: 12, totalTokenCount: 12 },
      modelVersion: 'gemini-2.5-flash',
      responseId: 'resp-blocked',
    };
    geminiMock = await MockProvider.start((request, res) =>
      request.path.includes(':streamGenerateContent') ? sse(res, [`data: ${JSON.stringify(blocked)}\r\n\r\n`]) : json(res, 200, blocked),
    );
    bedrockMock = await startMockBedrock((_model, stream, _request, res) => {
      const usage = { inputTokens: 199_990, outputTokens: 10, totalTokens: 200_000 };
      if (!stream) {
        return json(res, 200, {
          output: { message: { role: 'assistant', content: [{ text: 'The answer is' }] } },
          stopReason: CONTEXT_FULL,
          usage,
        });
      }
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      res.write(encodeAwsEvent('messageStart', { role: 'assistant' }));
      res.write(encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'The answer is' } }));
      res.write(encodeAwsEvent('contentBlockStop', { contentBlockIndex: 0 }));
      res.write(encodeAwsEvent('messageStop', { stopReason: CONTEXT_FULL }));
      res.end(encodeAwsEvent('metadata', { usage, metrics: { latencyMs: 5 } }));
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'upstream-gemini-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'bedrock', targets: [{ provider: 'bedrock', model: 'anthropic.claude-sonnet-4-5-v1:0' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await geminiMock.close();
    await bedrockMock.close();
  });

  async function openaiFinish(model: string): Promise<{ whole: string | null; streamed: string | null }> {
    const completion = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }] });
    const stream = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }], stream: true });
    let streamed: string | null = null;
    for await (const chunk of stream) streamed = chunk.choices[0]?.finish_reason ?? streamed;
    return { whole: completion.choices[0]?.finish_reason ?? null, streamed };
  }

  for (const model of ['claude', 'bedrock']) {
    test(`${model}: ${CONTEXT_FULL} is finish_reason length for an OpenAI client, streamed and not`, async () => {
      assert.deepEqual(await openaiFinish(model), { whole: 'length', streamed: 'length' });
    });
  }

  test(`bedrock: ${CONTEXT_FULL} is stop_reason max_tokens for an Anthropic client, streamed and not`, async () => {
    const message = await anthropic.messages.create({ model: 'bedrock', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(message.stop_reason, 'max_tokens');
    const streamed = await anthropic.messages
      .stream({ model: 'bedrock', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] })
      .finalMessage();
    assert.equal(streamed.stop_reason, 'max_tokens');
  });

  test('gemini: a blocked prompt is finish_reason content_filter for an OpenAI client, streamed and not', async () => {
    assert.deepEqual(await openaiFinish('gemini'), { whole: 'content_filter', streamed: 'content_filter' });
  });

  test('gemini: a blocked prompt is stop_reason refusal for an Anthropic client, streamed and not', async () => {
    const message = await anthropic.messages.create({ model: 'gemini', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(message.stop_reason, 'refusal');
    const streamed = await anthropic.messages
      .stream({ model: 'gemini', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] })
      .finalMessage();
    assert.equal(streamed.stop_reason, 'refusal');
  });
});
