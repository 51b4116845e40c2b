// The Responses API's streamed events and usage as a translated provider's answer becomes them, read with the official
// openai SDK against OpenAI's API reference (https://platform.openai.com/docs/api-reference/responses-streaming): each
// output item is added, streamed and done before the next is added; usage carries cached and reasoning tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { json, MockProvider, sse, sseEvent } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const GOOGLE_KEY = 'google-test-key-not-real';

/** Claude streaming two tool uses in turn, after a sentence; its prompt partly read from the cache. */
const CLAUDE_TWO_CALLS = [
  sseEvent('message_start', {
    type: 'message_start',
    message: {
      id: 'msg_two',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 10, cache_read_input_tokens: 40, cache_creation_input_tokens: 0, output_tokens: 1 },
    },
  }),
  sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
  sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Checking both.' } }),
  sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
  ...[1, 2].flatMap((n) => [
    sseEvent('content_block_start', {
      type: 'content_block_start',
      index: n,
      content_block: { type: 'tool_use', id: `toolu_0${n}`, name: 'get_weather', input: {} },
    }),
    sseEvent('content_block_delta', {
      type: 'content_block_delta',
      index: n,
      delta: { type: 'input_json_delta', partial_json: `{"city":"${n === 1 ? 'Paris' : 'Nice'}"}` },
    }),
    sseEvent('content_block_stop', { type: 'content_block_stop', index: n }),
  ]),
  sseEvent('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: { output_tokens: 30 },
  }),
  sseEvent('message_stop', { type: 'message_stop' }),
];

/** Claude overloaded once its answer has begun: Anthropic's error event mid-stream. */
const CLAUDE_FAILING = [
  CLAUDE_TWO_CALLS[0]!,
  CLAUDE_TWO_CALLS[1]!,
  sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Partial' } }),
  sseEvent('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
];

/** Gemini thinking, answering two function calls in one chunk, its prompt partly cached. */
const GEMINI_TWO_CALLS = {
  candidates: [
    {
      content: {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { name: 'get_weather', args: { city: 'Nice' } } },
        ],
      },
      finishReason: 'STOP',
      index: 0,
    },
  ],
  usageMetadata: {
    promptTokenCount: 50,
    cachedContentTokenCount: 32,
    candidatesTokenCount: 10,
    thoughtsTokenCount: 25,
    totalTokenCount: 85,
  },
  responseId: 'gem-two',
};

describe('Responses API events and usage, translated', () => {
  let anthropicMock: MockProvider;
  let geminiMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) =>
      sse(res, JSON.stringify(request.body.messages).includes('Fail midway') ? CLAUDE_FAILING : CLAUDE_TWO_CALLS),
    );
    geminiMock = await MockProvider.start((request, res) => {
      if (request.path.endsWith(':streamGenerateContent?alt=sse')) return sse(res, [`data: ${JSON.stringify(GEMINI_TWO_CALLS)}\r\n\r\n`]);
      json(res, 200, GEMINI_TWO_CALLS);
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: GOOGLE_KEY },
      },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await geminiMock.close();
  });

  const tools: OpenAI.Responses.FunctionTool[] = [
    { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false },
  ];

  for (const model of ['claude', 'gemini']) {
    test(`${model}: each function call item is added, streamed and done before the next is added`, async () => {
      const events: ResponseStreamEvent[] = [];
      for await (const event of await client.responses.create({ model, input: 'Weather in Paris and Nice?', tools, stream: true }))
        events.push(event);
      // Per output item, in stream order: what happened to it.
      const trail = events.flatMap((event) =>
        'output_index' in event ? [`${event.output_index}:${event.type.replace('response.', '')}`] : [event.type],
      );
      const calls = events.flatMap((event) =>
        event.type === 'response.output_item.done' && event.item.type === 'function_call' ? [event.item] : [],
      );
      assert.deepEqual(
        calls.map((call) => JSON.parse(call.arguments)),
        [{ city: 'Paris' }, { city: 'Nice' }],
      );
      let open = -1;
      for (const event of events) {
        if (event.type === 'response.output_item.added') {
          assert.equal(open, -1, `item ${event.output_index} added while item ${open} is still open: ${trail.join(', ')}`);
          open = event.output_index;
        } else if (event.type === 'response.output_item.done') {
          assert.equal(event.output_index, open);
          open = -1;
        } else if ('output_index' in event) assert.equal(event.output_index, open, `${event.type} of an item not open`);
      }
      const completed = events.at(-1)!;
      assert.ok(completed.type === 'response.completed');
    });
  }

  test('usage: cached input tokens (Claude, Gemini) and reasoning tokens (Gemini), whole and streamed', async () => {
    const claude = await client.responses.stream({ model: 'claude', input: 'x', tools }).finalResponse();
    assert.equal(claude.usage?.input_tokens, 50);
    assert.equal(claude.usage?.input_tokens_details.cached_tokens, 40);
    assert.equal(claude.usage?.output_tokens, 30);
    for (const stream of [false, true]) {
      const gemini = stream
        ? await client.responses.stream({ model: 'gemini', input: 'x', tools }).finalResponse()
        : await client.responses.create({ model: 'gemini', input: 'x', tools });
      assert.equal(gemini.usage?.input_tokens, 50);
      assert.equal(gemini.usage?.input_tokens_details.cached_tokens, 32);
      assert.equal(gemini.usage?.output_tokens, 35);
      assert.equal(gemini.usage?.output_tokens_details.reasoning_tokens, 25);
      assert.equal(gemini.usage?.total_tokens, 85);
    }
  });

  test('a provider error once the stream has begun ends it with error, then response.failed carrying the failed response', async () => {
    const events: ResponseStreamEvent[] = [];
    for await (const event of await client.responses.create({ model: 'claude', input: 'Fail midway', stream: true })) events.push(event);
    assert.deepEqual(
      events.slice(-2).map((event) => event.type),
      ['error', 'response.failed'],
    );
    const failed = events.at(-1)!;
    assert.ok(failed.type === 'response.failed');
    assert.equal(failed.sequence_number, events.length - 1);
    assert.equal(failed.response.status, 'failed');
    assert.equal(failed.response.error?.code, 'server_error');
    assert.match(failed.response.error?.message ?? '', /Overloaded/);
    const message = failed.response.output[0];
    assert.ok(message?.type === 'message' && message.content[0]?.type === 'output_text');
    assert.equal(message.content[0].text, 'Partial');
    assert.equal(failed.response.usage?.input_tokens, 50);
  });
});
