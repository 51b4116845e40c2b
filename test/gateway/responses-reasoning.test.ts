// A translated provider's reasoning reaches a Responses API client as OpenAI's own does: a `reasoning` output item
// ({id, type: "reasoning", summary: [{type: "summary_text", text}], encrypted_content, status}) before the answer's
// items, streamed as response.output_item.added, response.reasoning_summary_part.added,
// response.reasoning_summary_text.delta..., .done, response.reasoning_summary_part.done and response.output_item.done
// (openai-node src/resources/responses/responses.ts: ResponseReasoningItem, ResponseReasoningSummary*Event). Claude's
// signed thinking travels in encrypted_content, so a client that sends the output back as input (a tool loop) gives
// Claude its thinking back; Gemini's thought summaries come when the client asks for a summary (reasoning.summary).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, sendFrames, startMockBedrock } from '../support/mock-bedrock.js';
import { json, MockProvider, sse } from '../support/mock-provider.js';
import { claudeThinkingStream, geminiThinkingAnswer } from '../support/reasoning-answers.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const THOUGHT = 'The user wants the weather; I should call get_weather.';
const SIGNATURE = 'EqQBCkYIARgCIkD-signed-by-claude';
const SUMMARY = '**Weighing the question**\n\nThe answer is 42.';

type Block = Record<string, unknown>;

/** Claude thinking, then calling get_weather; after the tool result, answering. */
function claudeAnswer(afterResult: boolean, thought = THOUGHT): Block {
  return {
    id: 'msg_thinks',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: afterResult
      ? [{ type: 'text', text: 'It is sunny.' }]
      : [
          { type: 'thinking', thinking: thought, signature: SIGNATURE },
          { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } },
        ],
    stop_reason: afterResult ? 'end_turn' : 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 30, output_tokens: 80 },
  };
}

const CLAUDE_STREAM = claudeThinkingStream(THOUGHT, SIGNATURE, 20);

const BEDROCK_STREAM = [
  encodeAwsEvent('messageStart', { role: 'assistant' }),
  encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: THOUGHT.slice(0, 30) } } }),
  encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: THOUGHT.slice(30) } } }),
  encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: SIGNATURE } } }),
  encodeAwsEvent('contentBlockStop', { contentBlockIndex: 0 }),
  encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { text: '42' } }),
  encodeAwsEvent('contentBlockStop', { contentBlockIndex: 1 }),
  encodeAwsEvent('messageStop', { stopReason: 'end_turn' }),
  encodeAwsEvent('metadata', { usage: { inputTokens: 30, outputTokens: 70, totalTokens: 100 }, metrics: { latencyMs: 100 } }),
];

const TOOLS: OpenAI.Responses.FunctionTool[] = [
  { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false },
];

describe('reasoning as Responses API output items, translated', () => {
  const mocks: MockProvider[] = [];
  let anthropicMock: MockProvider;
  let geminiMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    anthropicMock = await MockProvider.start(async (request, res) => {
      if (JSON.stringify(request.body.messages).includes('Cut')) {
        // Broken off while Claude thinks: nothing of the answer's text has come.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(CLAUDE_STREAM.slice(0, 4).join(''));
        await new Promise((resolve) => setTimeout(resolve, 30));
        return void res.destroy();
      }
      if (request.body.stream === true) return sse(res, CLAUDE_STREAM);
      const messages = request.body.messages as Array<{ content: unknown }>;
      const last = JSON.stringify(messages.at(-1)!.content);
      json(res, 200, claudeAnswer(last.includes('tool_result'), last.includes('vault') ? 'The code is vault-1234.' : THOUGHT));
    });
    geminiMock = await MockProvider.start((request, res) => {
      const thought = { text: SUMMARY, thought: true };
      if (request.path.endsWith(':streamGenerateContent?alt=sse')) {
        return sse(res, [
          `data: ${JSON.stringify(geminiThinkingAnswer([{ ...thought, text: SUMMARY.slice(0, 25) }], false))}\r\n\r\n`,
          `data: ${JSON.stringify(geminiThinkingAnswer([{ ...thought, text: SUMMARY.slice(25) }], false))}\r\n\r\n`,
          `data: ${JSON.stringify(geminiThinkingAnswer([{ text: '42' }], true))}\r\n\r\n`,
        ]);
      }
      json(res, 200, geminiThinkingAnswer([thought, { text: '42' }], true));
    });
    const bedrockMock = await startMockBedrock((_model, _stream, _request, res) => sendFrames(res, BEDROCK_STREAM));
    mocks.push(anthropicMock, geminiMock, bedrockMock);
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'google-test-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'bedrock', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
      ],
      guardrails: [{ name: 'hide-vault-codes', mode: 'mask', on: 'output', patterns: ['vault-\\d{4}'] }],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all(mocks.map((mock) => mock.close()));
  });

  test("Claude's thinking: a reasoning item first, its signed block carried back by a tool loop", async () => {
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await client.responses.create({ model: 'claude', input, tools: TOOLS, reasoning: { effort: 'low', summary: 'auto' } });
    assert.deepEqual(
      first.output.map((item) => item.type),
      ['reasoning', 'function_call'],
    );
    const reasoning = first.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.match(reasoning.id, /^rs_/);
    assert.deepEqual(reasoning.summary, [{ type: 'summary_text', text: THOUGHT }]);
    assert.equal(reasoning.status, 'completed');
    assert.equal(typeof reasoning.encrypted_content, 'string');
    // The client sends the whole output back with the tool's result, as the SDK's agents do.
    const call = first.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await client.responses.create({
      model: 'claude',
      tools: TOOLS,
      reasoning: { effort: 'low' },
      input: [
        ...input,
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: call.call_id, output: 'sunny' },
      ],
    });
    assert.equal(second.output_text, 'It is sunny.');
    const sent = anthropicMock.received.at(-1)!.body as { messages: Array<{ role: string; content: Block[] }>; thinking?: unknown };
    assert.ok(sent.thinking !== undefined, 'served with thinking');
    assert.deepEqual(sent.messages[1]!.content[0], { type: 'thinking', thinking: THOUGHT, signature: SIGNATURE });
  });

  test('an output mask that changes the thinking masks the summary and leaves the signed block out', async () => {
    const answer = await client.responses.create({ model: 'claude', input: 'The vault code?', tools: TOOLS, reasoning: { effort: 'low' } });
    const reasoning = answer.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.equal(reasoning.type, 'reasoning');
    assert.doesNotMatch(JSON.stringify(reasoning.summary), /vault-1234/);
    assert.equal(reasoning.encrypted_content, undefined, 'the original thinking is not given in encrypted_content');
  });

  test('a stream broken off while the model thinks bills the thinking it gave as output', async () => {
    const events: ResponseStreamEvent[] = [];
    for await (const event of await client.responses.create({ model: 'claude', input: 'Cut', stream: true, reasoning: { effort: 'low' } }))
      events.push(event);
    assert.deepEqual(
      events.slice(-3).map((event) => event.type),
      ['response.reasoning_summary_text.delta', 'error', 'response.failed'],
    );
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.error_class, 'stream_interrupted');
    assert.ok(row.output_tokens >= 10, `${row.output_tokens} output tokens for the thinking streamed`);
  });

  for (const model of ['claude', 'bedrock']) {
    test(`${model}, streamed: the reasoning item's summary streams before the message`, async () => {
      const events: ResponseStreamEvent[] = [];
      const stream = client.responses.stream({ model, input: 'Question?', reasoning: { effort: 'low', summary: 'auto' } });
      stream.on('event', (event) => events.push(event));
      const final = await stream.finalResponse();
      const types = events.map((event) => event.type);
      assert.deepEqual(types.slice(2, 10), [
        'response.output_item.added',
        'response.reasoning_summary_part.added',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.done',
        'response.reasoning_summary_part.done',
        'response.output_item.done',
        'response.output_item.added',
      ]);
      const added = events[2] as OpenAI.Responses.ResponseOutputItemAddedEvent;
      assert.deepEqual(added.item, { id: added.item.id, type: 'reasoning', summary: [], status: 'in_progress' });
      const done = events[8] as OpenAI.Responses.ResponseOutputItemDoneEvent;
      assert.equal(done.item.id, added.item.id);
      assert.equal((done.item as OpenAI.Responses.ResponseReasoningItem).summary[0]?.text, THOUGHT);
      assert.equal(typeof (done.item as OpenAI.Responses.ResponseReasoningItem).encrypted_content, 'string');
      assert.deepEqual(
        final.output.map((item) => item.type),
        ['reasoning', 'message'],
      );
      assert.deepEqual((final.output[0] as OpenAI.Responses.ResponseReasoningItem).summary, [{ type: 'summary_text', text: THOUGHT }]);
      assert.equal(final.output_text, '42');
      assert.deepEqual(
        events.map((event) => event.sequence_number),
        events.map((_event, i) => i),
      );
    });
  }

  test("Gemini's thought summaries, asked for with reasoning.summary: a reasoning item, whole and streamed", async () => {
    const whole = await client.responses.create({ model: 'gemini', input: 'Question?', reasoning: { effort: 'low', summary: 'auto' } });
    const sent = geminiMock.received.at(-1)!.body as { generationConfig: { thinkingConfig: Block } };
    assert.equal(sent.generationConfig.thinkingConfig.includeThoughts, true);
    assert.deepEqual(
      whole.output.map((item) => item.type),
      ['reasoning', 'message'],
    );
    const item = whole.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.deepEqual(item.summary, [{ type: 'summary_text', text: SUMMARY }]);
    assert.equal(item.encrypted_content, undefined, 'Gemini signs no thoughts to carry back');
    assert.equal(whole.output_text, '42');
    assert.equal(whole.usage?.output_tokens_details.reasoning_tokens, 40);

    const final = await client.responses.stream({ model: 'gemini', input: 'Question?', reasoning: { summary: 'auto' } }).finalResponse();
    assert.equal((geminiMock.received.at(-1)!.body as typeof sent).generationConfig.thinkingConfig.includeThoughts, true);
    assert.deepEqual((final.output[0] as OpenAI.Responses.ResponseReasoningItem).summary, [{ type: 'summary_text', text: SUMMARY }]);
    assert.equal(final.output_text, '42');

    // Not asked for, Gemini is asked for no thoughts, and none are given.
    await client.responses.create({ model: 'gemini', input: 'Question?', reasoning: { effort: 'low' } });
    assert.equal((geminiMock.received.at(-1)!.body as typeof sent).generationConfig.thinkingConfig.includeThoughts, undefined);
  });
});
