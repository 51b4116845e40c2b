// Bodies OpenAI takes and Anthropic's Messages API refuses with a 400, sent to Claude in a form it takes:
// - a conversation an OpenAI client ends with an assistant message is a prefill to Claude, refused when its text ends
//   in whitespace ("messages: final assistant content cannot end with trailing whitespace"): that last text goes
//   without its trailing whitespace;
// - a stop sequence that is empty or only whitespace (a newline, among the most common) is refused ("stop_sequences: each
//   stop sequence must contain non-whitespace"): those are left out, as settings Claude has no form of are, and the rest
//   are sent;
// - Claude 4.6 and later refuse any conversation that ends with an assistant message ("This model does not support
//   assistant message prefill"), on Anthropic and Bedrock alike: such a call is a 400 in OpenAI's shape naming messages,
//   nothing sent, and a model's other targets may take it;
// - a tool call id with characters other than letters, digits, _ and - (an OpenAI-compatible server's
//   functions.get_weather:0) is refused on Anthropic and Bedrock alike: it is sent in a form they take, the call and its
//   result still paired.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseAnswer, startMockBedrock } from '../support/mock-bedrock.js';
import { anthropicMessage, json, MockProvider } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

type Sent = Array<{ role: string; content: Array<{ type: string; text?: string }> }>;

/** The first tool call id (tool_use.id, toolUse.toolUseId) or result's id the APIs refuse, if any. */
function refusedToolId(messages: Array<{ content: Array<Record<string, unknown>> }>): string | undefined {
  for (const message of messages)
    for (const block of message.content) {
      const inner = (block.toolUse ?? block.toolResult ?? block) as Record<string, unknown>;
      const id = inner.id ?? inner.tool_use_id ?? inner.toolUseId;
      if (typeof id === 'string' && !/^[a-zA-Z0-9_-]+$/.test(id)) return id;
    }
  return undefined;
}

const BAD_ID = "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'";

const NO_PREFILL = 'This model does not support assistant message prefill. The conversation must end with a user message.';

/** Claude 4.6 and later: claude-opus-4-6, claude-sonnet-4-6, us.anthropic.claude-opus-4-6-v1... */
const refusesPrefill = (model: unknown) => /claude-(?:opus|sonnet)-4-[67]/.test(String(model));

describe('bodies Claude refuses where OpenAI does not', () => {
  let anthropicMock: MockProvider;
  let bedrockMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    // As the Messages API answers such bodies.
    anthropicMock = await MockProvider.start((request, res) => {
      const refuse = (message: string) => json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message } });
      const last = (request.body.messages as Sent).at(-1)!;
      if (last.role === 'assistant' && refusesPrefill(request.body.model)) return refuse(NO_PREFILL);
      if (refusedToolId(request.body.messages as Parameters<typeof refusedToolId>[0]) !== undefined) return refuse(BAD_ID);
      const text = last.content.at(-1)?.text;
      if (last.role === 'assistant' && text !== undefined && text !== text.trimEnd())
        return refuse('messages: final assistant content cannot end with trailing whitespace');
      const stops = request.body.stop_sequences as string[] | undefined;
      if (stops?.some((stop) => stop.trim() === '')) return refuse('stop_sequences: each stop sequence must contain non-whitespace');
      return json(res, 200, anthropicMessage(last.role === 'assistant' ? 'world' : 'First line'));
    });
    bedrockMock = await startMockBedrock((model, _stream, request, res) => {
      if ((request.body.messages as Sent).at(-1)!.role === 'assistant' && refusesPrefill(model))
        return json(res, 400, { message: NO_PREFILL }, { 'x-amzn-errortype': 'ValidationException' });
      if (refusedToolId(request.body.messages as Parameters<typeof refusedToolId>[0]) !== undefined)
        return json(res, 400, { message: BAD_ID }, { 'x-amzn-errortype': 'ValidationException' });
      return json(res, 200, converseAnswer('from Bedrock'));
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
        // Never called: the test config's second consumer may use gpt-4o-mini.
        openai: { type: 'openai', baseUrl: `${anthropicMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'opus-4-6', targets: [{ provider: 'anthropic', model: 'claude-opus-4-6' }] },
        { name: 'bedrock-sonnet-4-6', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-6' }] },
        {
          name: 'opus-4-6-or-haiku',
          targets: [
            { provider: 'anthropic', model: 'claude-opus-4-6' },
            { provider: 'anthropic', model: 'claude-haiku-4-5' },
          ],
        },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  beforeEach(() => {
    anthropicMock.received.length = 0;
    bedrockMock.received.length = 0;
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await bedrockMock.close();
  });

  describe('an assistant message last in the conversation', () => {
    test('its trailing whitespace is left out; earlier assistant turns are sent as they are', async () => {
      const completion = await client.chat.completions.create({
        model: 'claude',
        messages: [
          { role: 'user', content: 'Hello.' },
          { role: 'assistant', content: 'Hi! \n' },
          { role: 'user', content: 'Say world' },
          { role: 'assistant', content: 'Say: ' },
        ],
      });
      assert.equal(completion.choices[0]!.message.content, 'world');
      const sent = anthropicMock.received[0]!.body.messages as Sent;
      assert.deepEqual(sent[1]!.content, [{ type: 'text', text: 'Hi! \n' }]);
      assert.deepEqual(sent.at(-1), { role: 'assistant', content: [{ type: 'text', text: 'Say:' }] });
    });

    test('one that is only whitespace is left out', async () => {
      await client.chat.completions.create({
        model: 'claude',
        messages: [
          { role: 'user', content: 'Say world' },
          { role: 'assistant', content: '\n\n' },
        ],
      });
      const sent = anthropicMock.received[0]!.body.messages as Sent;
      assert.deepEqual(sent, [{ role: 'user', content: [{ type: 'text', text: 'Say world' }] }]);
    });
  });

  describe('an assistant message last, to Claude 4.6 and later (which refuse prefills)', () => {
    const prefilled: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Say world' },
      { role: 'assistant', content: 'Say:' },
    ];

    for (const model of ['opus-4-6', 'bedrock-sonnet-4-6']) {
      test(`${model}: a 400 naming messages, nothing sent upstream, streamed and not`, async () => {
        for (const stream of [false, true]) {
          await assert.rejects(
            client.chat.completions.create({ model, messages: prefilled, stream }),
            (error: unknown) =>
              error instanceof OpenAI.BadRequestError &&
              error.param === 'messages' &&
              error.code === 'unsupported_parameter' &&
              /end it with a user message/.test(error.message),
          );
        }
        assert.equal(anthropicMock.received.length + bedrockMock.received.length, 0);
      });
    }

    test("a model's next target that takes prefills answers it; a conversation ending with a user message is sent", async () => {
      const completion = await client.chat.completions.create({ model: 'opus-4-6-or-haiku', messages: prefilled });
      assert.equal(completion.choices[0]!.message.content, 'world');
      assert.deepEqual(
        anthropicMock.received.map((request) => request.body.model),
        ['claude-haiku-4-5'],
      );
      // Trailing whitespace alone is no prefill: left out, the conversation ends with the user.
      const answered = await client.chat.completions.create({
        model: 'opus-4-6',
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: ' \n' },
        ],
      });
      assert.equal(answered.choices[0]!.message.content, 'First line');
    });
  });

  test('tool call ids Claude refuses reach Anthropic and Bedrock in a form they take, each call paired with its result', async () => {
    const id = 'functions.get_weather:0';
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Paris and Nice?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'functions.get_weather:1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Nice"}' } },
        ],
      },
      { role: 'tool', tool_call_id: id, content: '18C' },
      { role: 'tool', tool_call_id: 'functions.get_weather:1', content: '21C' },
    ];
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    await client.chat.completions.create({ model: 'claude', messages, tools });
    await client.chat.completions.create({ model: 'bedrock-sonnet-4-6', messages, tools });
    const anthropicSent = anthropicMock.received[0]!.body.messages as Array<{ content: Array<Record<string, string>> }>;
    const calls = anthropicSent[1]!.content.map((block) => block.id!);
    assert.deepEqual(
      anthropicSent[2]!.content.map((block) => block.tool_use_id),
      calls,
    );
    assert.equal(new Set(calls).size, 2);
    for (const call of calls) assert.match(call, /^[a-zA-Z0-9_-]+$/);
    const bedrockSent = bedrockMock.received[0]!.body.messages as Array<{ content: Array<Record<string, { toolUseId: string }>> }>;
    assert.deepEqual(
      bedrockSent[1]!.content.map((block) => block.toolUse!.toolUseId),
      calls,
    );
    assert.deepEqual(
      bedrockSent[2]!.content.map((block) => block.toolResult!.toolUseId),
      calls,
    );
  });

  describe('stop sequences', () => {
    const messages = [{ role: 'user' as const, content: 'One line, please.' }];

    test('stop: ["\\n", "END"] answers, with "END" alone sent', async () => {
      const completion = await client.chat.completions.create({ model: 'claude', messages, stop: ['\n', ' ', 'END'] });
      assert.equal(completion.choices[0]!.message.content, 'First line');
      assert.deepEqual(anthropicMock.received[0]!.body.stop_sequences, ['END']);
    });

    test('stop: "\\n" answers, with no stop_sequences sent', async () => {
      const completion = await client.chat.completions.create({ model: 'claude', messages, stop: '\n' });
      assert.equal(completion.choices[0]!.message.content, 'First line');
      assert.equal(anthropicMock.received[0]!.body.stop_sequences, undefined);
    });
  });
});
