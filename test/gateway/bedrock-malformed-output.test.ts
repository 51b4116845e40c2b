// Converse's stopReason malformed_tool_use and malformed_model_output
// (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_MessageStopEvent.html): the model wrote a tool call
// or an answer it could not form, and the answer holds nothing usable. Passed on as a stop, a client gets an empty
// end_turn and an agent loop ends as if the model had finished; it is a failed attempt, as Gemini's
// MALFORMED_FUNCTION_CALL is: the next target answers, and with none left a 502 naming it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseAnswer, sendFrames, startMockBedrock } from '../support/mock-bedrock.js';
import { json, type MockProvider } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const MALFORMED = 'amazon.nova-pro-v1:0';
const SOUND = 'amazon.nova-lite-v1:0';
/** Its stream opens with the malformed stop: the client has nothing yet. */
const MALFORMED_AT_ONCE = 'amazon.nova-micro-v1:0';
/** Its stream opens with a tool use, its input in pieces, and ends malformed_tool_use: the tool call is no answer. */
const MALFORMED_TOOL = 'amazon.nova-premier-v1:0';
const USAGE = { inputTokens: 30, outputTokens: 12, totalTokens: 42 };

describe('Bedrock answers Converse calls malformed', () => {
  let bedrockMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    bedrockMock = await startMockBedrock((model, stream, _request, res) => {
      if (model === MALFORMED_TOOL && stream)
        return sendFrames(
          res,
          [
            encodeAwsEvent('messageStart', { role: 'assistant' }),
            encodeAwsEvent('contentBlockStart', {
              contentBlockIndex: 0,
              start: { toolUse: { toolUseId: 'tooluse_m1', name: 'get_weather' } },
            }),
            encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '{"city":' } } }),
            encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { toolUse: { input: '"Par' } } }),
            encodeAwsEvent('contentBlockStop', { contentBlockIndex: 0 }),
            encodeAwsEvent('messageStop', { stopReason: 'malformed_tool_use' }),
            encodeAwsEvent('metadata', { usage: USAGE, metrics: { latencyMs: 5 } }),
          ],
          // Each frame its own chunk, as a model writing its tool call sends them.
          5,
        );
      if (model !== MALFORMED && model !== MALFORMED_AT_ONCE) {
        if (!stream) return json(res, 200, converseAnswer('Sunny in Paris.'));
        return sendFrames(res, [
          encodeAwsEvent('messageStart', { role: 'assistant' }),
          encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Sunny in Paris.' } }),
          encodeAwsEvent('contentBlockStop', { contentBlockIndex: 0 }),
          encodeAwsEvent('messageStop', { stopReason: 'end_turn' }),
          encodeAwsEvent('metadata', { usage: USAGE, metrics: { latencyMs: 5 } }),
        ]);
      }
      if (!stream)
        return json(res, 200, { output: { message: { role: 'assistant', content: [] } }, stopReason: 'malformed_tool_use', usage: USAGE });
      if (model === MALFORMED_AT_ONCE)
        return sendFrames(res, [
          encodeAwsEvent('messageStart', { role: 'assistant' }),
          encodeAwsEvent('messageStop', { stopReason: 'malformed_tool_use' }),
          encodeAwsEvent('metadata', { usage: USAGE, metrics: { latencyMs: 5 } }),
        ]);
      return sendFrames(res, [
        encodeAwsEvent('messageStart', { role: 'assistant' }),
        encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Let me check.' } }),
        encodeAwsEvent('contentBlockStop', { contentBlockIndex: 0 }),
        encodeAwsEvent('messageStop', { stopReason: 'malformed_model_output' }),
        encodeAwsEvent('metadata', { usage: USAGE, metrics: { latencyMs: 5 } }),
      ]);
    });
    sluice = await startTestSluice({
      providers: { bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS } },
      models: [
        { name: 'malformed', targets: [{ provider: 'bedrock', model: MALFORMED }] },
        {
          name: 'malformed-then-ok',
          targets: [
            { provider: 'bedrock', model: MALFORMED },
            { provider: 'bedrock', model: SOUND },
          ],
        },
        { name: 'malformed-at-once', targets: [{ provider: 'bedrock', model: MALFORMED_AT_ONCE }] },
        {
          name: 'malformed-at-once-then-ok',
          targets: [
            { provider: 'bedrock', model: MALFORMED_AT_ONCE },
            { provider: 'bedrock', model: SOUND },
          ],
        },
        {
          name: 'malformed-tool-then-ok',
          targets: [
            { provider: 'bedrock', model: MALFORMED_TOOL },
            { provider: 'bedrock', model: SOUND },
          ],
        },
        { name: 'malformed-tool', targets: [{ provider: 'bedrock', model: MALFORMED_TOOL }] },
        // Never called: the test config's second consumer may use gpt-4o-mini.
        { name: 'gpt-4o-mini', targets: [{ provider: 'bedrock', model: SOUND }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await bedrockMock.close();
  });

  test('malformed_tool_use is a failed attempt: the next target answers; with none left a 502 naming it', async () => {
    const answered = await openai.chat.completions.create({ model: 'malformed-then-ok', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(answered.choices[0]?.message.content, 'Sunny in Paris.');
    await assert.rejects(
      anthropic.messages.create({ model: 'malformed', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof Anthropic.APIError && error.status === 502 && /malformed_tool_use/.test(error.message),
    );
    assert.equal((await ledgerRows(sluice)).at(-1)!.error_class, 'upstream_unavailable');
  });

  test('streamed, malformed_model_output after the opening text ends the stream with an error event, not a quiet end_turn', async () => {
    const response = await fetch(`${sluice.baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.checkout, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'malformed', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = await response.text();
    assert.deepEqual([...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]).slice(-2), ['content_block_delta', 'error']);
    assert.match(text, /malformed_model_output/);
    assert.equal(text.includes('end_turn'), false);
    assert.equal((await ledgerRows(sluice)).at(-1)!.error_class, 'stream_error');
  });

  test('a stream that opens with malformed_tool_use has sent the client nothing: the next target answers; with none left a 502 naming it', async () => {
    let streamed = '';
    const stream = await openai.chat.completions.create({
      model: 'malformed-at-once-then-ok',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, 'Sunny in Paris.');
    const message = await anthropic.messages
      .stream({ model: 'malformed-at-once-then-ok', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage();
    assert.equal(message.content[0]?.type === 'text' ? message.content[0].text : null, 'Sunny in Paris.');
    await assert.rejects(
      anthropic.messages.stream({ model: 'malformed-at-once', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }).finalMessage(),
      (error: unknown) => error instanceof Anthropic.APIError && error.status === 502 && /malformed_tool_use/.test(error.message),
    );
    assert.equal((await ledgerRows(sluice)).at(-1)!.error_class, 'upstream_unavailable');
  });

  test('a stream whose tool use ends malformed_tool_use sends the client none of it: the next target answers; with none left a 502', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const stream = await openai.chat.completions.create({
      model: 'malformed-tool-then-ok',
      messages: [{ role: 'user', content: 'x' }],
      tools,
      stream: true,
    });
    let streamed = '';
    const toolCalls: unknown[] = [];
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta.content ?? '';
      toolCalls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
    }
    assert.deepEqual(toolCalls, []);
    assert.equal(streamed, 'Sunny in Paris.');
    const events: string[] = [];
    const message = await anthropic.messages
      .stream({ model: 'malformed-tool-then-ok', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] })
      .on('streamEvent', (event) => events.push(event.type === 'content_block_start' ? event.content_block.type : event.type))
      .finalMessage();
    assert.equal(events.includes('tool_use'), false);
    assert.deepEqual(
      message.content.map((block) => block.type),
      ['text'],
    );
    await assert.rejects(
      anthropic.messages.stream({ model: 'malformed-tool', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }).finalMessage(),
      (error: unknown) => error instanceof Anthropic.APIError && error.status === 502 && /malformed_tool_use/.test(error.message),
    );
  });
});
