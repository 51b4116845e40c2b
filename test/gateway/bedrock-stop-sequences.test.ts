// A Bedrock Claude that stopped on one of the client's stop sequences: Converse says only stopReason "stop_sequence"; the
// matched string comes back in additionalModelResponseFields when the request names its path in
// additionalModelResponseFieldPaths ("/stop_sequence",
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html). An Anthropic client gets
// stop_reason "stop_sequence" and the string, as Anthropic's API gives them; an OpenAI client finish_reason "stop".
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, sendFrames, startMockBedrock } from '../support/mock-bedrock.js';
import { json, type MockProvider } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('Bedrock stop sequences', () => {
  let bedrockMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    // As Converse answers a Claude that wrote "Step 1 done" and then "END": the matched string only where its path was asked.
    bedrockMock = await startMockBedrock((model, stream, request, res) => {
      const stops = ((request.body.inferenceConfig ?? {}) as { stopSequences?: string[] }).stopSequences ?? [];
      const paths = (request.body.additionalModelResponseFieldPaths ?? []) as string[];
      const stopped = stops.includes('END');
      const stopReason = stopped ? 'stop_sequence' : 'end_turn';
      // Only Claude's own answer has a stop_sequence field; Nova's says no more than stopReason does.
      const extra =
        stopped && paths.includes('/stop_sequence') && model.includes('claude')
          ? { additionalModelResponseFields: { stop_sequence: 'END' } }
          : {};
      const usage = { inputTokens: 12, outputTokens: 4, totalTokens: 16 };
      if (!stream)
        return json(res, 200, {
          output: { message: { role: 'assistant', content: [{ text: 'Step 1 done' }] } },
          stopReason,
          usage,
          ...extra,
        });
      return sendFrames(res, [
        encodeAwsEvent('messageStart', { role: 'assistant' }),
        encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Step 1 done' } }),
        encodeAwsEvent('contentBlockStop', { contentBlockIndex: 0 }),
        encodeAwsEvent('messageStop', { stopReason, ...extra }),
        encodeAwsEvent('metadata', { usage, metrics: { latencyMs: 5 } }),
      ]);
    });
    sluice = await startTestSluice({
      providers: { bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS } },
      models: [
        { name: 'claude-bedrock', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
        { name: 'nova', targets: [{ provider: 'bedrock', model: 'us.amazon.nova-pro-v1:0' }] },
        // Never called: the test config's second consumer may use gpt-4o-mini.
        { name: 'gpt-4o-mini', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  beforeEach(() => {
    bedrockMock.received.length = 0;
  });

  after(async () => {
    await sluice.stop();
    await bedrockMock.close();
  });

  const params = {
    model: 'claude-bedrock',
    max_tokens: 200,
    stop_sequences: ['STOP', 'END'],
    messages: [{ role: 'user' as const, content: 'Do step 1, then write END.' }],
  };

  test('an Anthropic client gets stop_reason "stop_sequence" and the matched string', async () => {
    const message = await anthropic.messages.create(params);
    assert.equal(message.stop_reason, 'stop_sequence');
    assert.equal(message.stop_sequence, 'END');
    assert.deepEqual(message.content, [{ type: 'text', text: 'Step 1 done' }]);
    assert.deepEqual(bedrockMock.received[0]!.body.additionalModelResponseFieldPaths, ['/stop_sequence']);
  });

  test('streamed, an Anthropic client gets stop_reason "stop_sequence" and the matched string', async () => {
    const message = await anthropic.messages.stream(params).finalMessage();
    assert.equal(message.stop_reason, 'stop_sequence');
    assert.equal(message.stop_sequence, 'END');
  });

  test('an answer that ended on its own is end_turn with no stop_sequence', async () => {
    const message = await anthropic.messages.create({ ...params, stop_sequences: ['STOP'] });
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.stop_sequence, null);
  });

  test('without stop sequences no response field path is asked for', async () => {
    const { stop_sequences: _, ...plain } = params;
    await anthropic.messages.create(plain);
    assert.equal(bedrockMock.received[0]!.body.additionalModelResponseFieldPaths, undefined);
  });

  test('an OpenAI client gets finish_reason "stop", streamed and not', async () => {
    const request = { model: 'claude-bedrock', stop: ['STOP', 'END'], messages: params.messages };
    const completion = await openai.chat.completions.create(request);
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    assert.equal(completion.choices[0]!.message.content, 'Step 1 done');
    let finish: string | null = null;
    for await (const chunk of await openai.chat.completions.create({ ...request, stream: true }))
      finish = chunk.choices[0]?.finish_reason ?? finish;
    assert.equal(finish, 'stop');
  });

  test("a model that does not say which sequence matched (Nova): the client's only one, streamed and not", async () => {
    const one = { ...params, model: 'nova', stop_sequences: ['END'] };
    for (const message of [await anthropic.messages.create(one), await anthropic.messages.stream(one).finalMessage()]) {
      assert.equal(message.stop_reason, 'stop_sequence');
      assert.equal(message.stop_sequence, 'END');
    }
  });

  test('of several, which one is not known: stop_reason "stop_sequence" still, stop_sequence null, streamed and not', async () => {
    const several = { ...params, model: 'nova' };
    for (const message of [await anthropic.messages.create(several), await anthropic.messages.stream(several).finalMessage()]) {
      assert.equal(message.stop_reason, 'stop_sequence');
      assert.equal(message.stop_sequence, null);
    }
  });
});
