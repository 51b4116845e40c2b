// The Responses API translated for providers that do not speak it: the official openai SDK's client.responses against
// Sluice in front of Anthropic, Bedrock (Converse / ConverseStream) and Gemini mocks: plain, streamed, and a function
// tool round trip whose result each mock must find in its own wire format; ledger rows and usage checked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import type { ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import {
  converseAnswer,
  converseStreamFrames,
  converseToolAnswer,
  sendFrames,
  startMockBedrock,
  AWS_TEST_CREDENTIALS,
  AWS_TEST_REGION,
} from '../support/mock-bedrock.js';
import {
  anthropicMessage,
  anthropicStreamFrames,
  anthropicToolMessage,
  anthropicToolStreamFrames,
  json,
  MockProvider,
  sse,
  type Received,
} from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const GOOGLE_KEY = 'google-test-key-not-real';

/** Whether the request carries a tool's result back (in any wire: the mock checks which one in the test). */
function carriesToolResult(body: Record<string, unknown>): boolean {
  return /tool_result|toolResult|functionResponse/.test(JSON.stringify(body));
}

function gemini(parts: unknown[], usage = { promptTokenCount: 21, candidatesTokenCount: 6, totalTokenCount: 27 }) {
  return { candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }], usageMetadata: usage, responseId: 'gem-1' };
}

function answerGemini(request: Received, res: ServerResponse): void {
  if (request.headers['x-goog-api-key'] !== GOOGLE_KEY) return json(res, 403, { error: { code: 403, message: 'bad key' } });
  const toolCall = request.body.tools !== undefined && !carriesToolResult(request.body);
  const parts = toolCall
    ? [{ functionCall: { name: 'get_weather', args: { city: 'Nice' } } }]
    : [{ text: carriesToolResult(request.body) ? 'Sunny in Nice' : 'Bonjour from Gemini' }];
  if (request.path.endsWith(':streamGenerateContent?alt=sse')) {
    const frames = toolCall
      ? [gemini(parts, { promptTokenCount: 12, candidatesTokenCount: 4, totalTokenCount: 16 })]
      : [
          { candidates: [{ content: { role: 'model', parts: [{ text: 'Bon' }] }, index: 0 }], responseId: 'gem-s' },
          gemini([{ text: 'soir' }], { promptTokenCount: 11, candidatesTokenCount: 3, totalTokenCount: 14 }),
        ];
    return void sse(
      res,
      frames.map((frame) => `data: ${JSON.stringify(frame)}\r\n\r\n`),
    );
  }
  json(res, 200, gemini(parts));
}

interface Case {
  name: string;
  model: string;
  mock: () => MockProvider;
  /** The text and usage of the plain answer, as each mock scripts it. */
  plain: { text: string; input: number; output: number };
  streamed: { text: string; input: number; output: number };
  /** Checks that the provider received the tool's result in its own wire. */
  toolResultSeen: (body: Record<string, unknown>, callId: string) => void;
  /** Checks that the provider received the system prompt and the question in its own wire. */
  promptSeen: (body: Record<string, unknown>) => void;
}

describe('Responses API translated for Anthropic, Bedrock and Gemini', () => {
  let anthropicMock: MockProvider;
  let bedrockMock: MockProvider;
  let geminiMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      const body = request.body;
      const toolCall = Array.isArray(body.tools) && !carriesToolResult(body);
      if (body.stream === true)
        return sse(
          res,
          toolCall ? anthropicToolStreamFrames('get_weather', ['{"city":', ' "Paris"}']) : anthropicStreamFrames(['Bon', 'jour']),
        );
      return json(
        res,
        200,
        toolCall
          ? anthropicToolMessage('get_weather', { city: 'Paris' })
          : anthropicMessage(carriesToolResult(body) ? 'Sunny in Paris' : 'Bonjour from Claude'),
      );
    });
    bedrockMock = await startMockBedrock((_modelId, stream, request, res) => {
      const toolCall = request.body.toolConfig !== undefined && !carriesToolResult(request.body);
      if (stream)
        return sendFrames(
          res,
          toolCall
            ? converseStreamFrames([], { name: 'get_weather', inputPieces: ['{"city":', '"Lyon"}'] })
            : converseStreamFrames(['Sa', 'lut']),
        );
      json(
        res,
        200,
        toolCall
          ? converseToolAnswer('get_weather', { city: 'Lyon' })
          : converseAnswer(carriesToolResult(request.body) ? 'Sunny in Lyon' : 'Hello from Bedrock'),
      );
    });
    geminiMock = await MockProvider.start(answerGemini);
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        bedrock: {
          type: 'bedrock',
          baseUrl: bedrockMock.url,
          region: AWS_TEST_REGION,
          accessKeyId: AWS_TEST_CREDENTIALS.accessKeyId,
          secretAccessKey: AWS_TEST_CREDENTIALS.secretAccessKey,
        },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: GOOGLE_KEY },
      },
      models: [
        { name: 'claude-haiku', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
        { name: 'nova', targets: [{ provider: 'bedrock', model: 'amazon.nova-lite-v1:0' }] },
        { name: 'gemini-flash', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await bedrockMock.close();
    await geminiMock.close();
  });

  const tools: OpenAI.Responses.FunctionTool[] = [
    {
      type: 'function',
      name: 'get_weather',
      description: 'Weather by city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      strict: false,
    },
  ];

  const cases: Case[] = [
    {
      name: 'Anthropic',
      model: 'claude-haiku',
      mock: () => anthropicMock,
      plain: { text: 'Bonjour from Claude', input: 20, output: 7 },
      streamed: { text: 'Bonjour', input: 25, output: 6 },
      promptSeen: (body) => {
        assert.equal(body.system, 'Be brief.');
        assert.deepEqual(body.messages, [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }]);
        assert.equal(body.max_tokens, 300);
      },
      toolResultSeen: (body, callId) => {
        const messages = body.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>;
        assert.deepEqual(messages[1]!.content.at(-1), { type: 'tool_use', id: callId, name: 'get_weather', input: { city: 'Paris' } });
        const result = messages[2]!.content[0]!;
        assert.equal(messages[2]!.role, 'user');
        assert.equal(result.type, 'tool_result');
        assert.equal(result.tool_use_id, callId);
        assert.match(JSON.stringify(result.content), /22C and sunny/);
      },
    },
    {
      name: 'Bedrock',
      model: 'nova',
      mock: () => bedrockMock,
      plain: { text: 'Hello from Bedrock', input: 30, output: 8 },
      streamed: { text: 'Salut', input: 33, output: 9 },
      promptSeen: (body) => {
        assert.deepEqual(body.system, [{ text: 'Be brief.' }]);
        assert.deepEqual(body.messages, [{ role: 'user', content: [{ text: 'Hello' }] }]);
        assert.equal((body.inferenceConfig as Record<string, unknown>).maxTokens, 300);
      },
      toolResultSeen: (body, callId) => {
        const messages = body.messages as Array<{ role: string; content: Array<Record<string, Record<string, unknown>>> }>;
        assert.equal(messages[1]!.content.at(-1)!.toolUse!.toolUseId, callId);
        const result = messages[2]!.content[0]!.toolResult!;
        assert.equal(result.toolUseId, callId);
        assert.match(JSON.stringify(result.content), /22C and sunny/);
      },
    },
    {
      name: 'Gemini',
      model: 'gemini-flash',
      mock: () => geminiMock,
      plain: { text: 'Bonjour from Gemini', input: 21, output: 6 },
      streamed: { text: 'Bonsoir', input: 11, output: 3 },
      promptSeen: (body) => {
        assert.deepEqual(body.systemInstruction, { parts: [{ text: 'Be brief.' }] });
        assert.deepEqual(body.contents, [{ role: 'user', parts: [{ text: 'Hello' }] }]);
        assert.equal((body.generationConfig as Record<string, unknown>).maxOutputTokens, 300);
      },
      toolResultSeen: (body) => {
        const contents = body.contents as Array<{ role: string; parts: Array<Record<string, Record<string, unknown>>> }>;
        assert.deepEqual(contents[1]!.parts.at(-1)!.functionCall, { name: 'get_weather', args: { city: 'Nice' } });
        const result = contents[2]!.parts[0]!.functionResponse!;
        assert.equal(result.name, 'get_weather');
        assert.match(JSON.stringify(result.response), /22C and sunny/);
      },
    },
  ];

  for (const c of cases) {
    test(`${c.name}: responses.create, the prompt translated and the answer in the Responses shape`, async () => {
      const response = await client.responses.create({ model: c.model, instructions: 'Be brief.', input: 'Hello', max_output_tokens: 300 });
      assert.equal(response.object, 'response');
      assert.equal(response.status, 'completed');
      assert.equal(response.model, c.model);
      assert.match(response.id, /^resp_/);
      assert.equal(response.output_text, c.plain.text);
      assert.equal(response.output[0]?.type, 'message');
      assert.equal(response.usage?.input_tokens, c.plain.input);
      assert.equal(response.usage?.output_tokens, c.plain.output);
      assert.equal(response.usage?.total_tokens, c.plain.input + c.plain.output);
      c.promptSeen(c.mock().received.at(-1)!.body);
    });

    test(`${c.name}: a streamed response, event by event and through finalResponse()`, async () => {
      const stream = await client.responses.create({ model: c.model, input: 'Hello', stream: true });
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      const types = events.map((event) => event.type);
      assert.deepEqual(types.slice(0, 4), [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
      ]);
      assert.deepEqual(types.slice(-4), [
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.completed',
      ]);
      assert.deepEqual(
        events.map((event) => event.sequence_number),
        events.map((_, i) => i),
      );
      const deltas = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : []));
      assert.equal(deltas.join(''), c.streamed.text);
      const completed = events.at(-1)!;
      assert.ok(completed.type === 'response.completed');
      assert.equal(completed.response.usage?.input_tokens, c.streamed.input);
      assert.equal(completed.response.usage?.output_tokens, c.streamed.output);

      const final = await client.responses.stream({ model: c.model, input: 'Hello' }).finalResponse();
      assert.equal(final.output_text, c.streamed.text);
      assert.equal(final.status, 'completed');
    });

    test(`${c.name}: a function tool round trip, the result reaching the provider in its own wire`, async () => {
      const input: ResponseInputItem[] = [{ role: 'user', content: 'Weather?' }];
      const first = await client.responses.create({ model: c.model, input, tools });
      const call = first.output.find((item) => item.type === 'function_call');
      assert.ok(call?.type === 'function_call', JSON.stringify(first.output));
      assert.equal(call.name, 'get_weather');
      assert.ok(call.call_id !== '');
      const firstBody = c.mock().received.at(-1)!.body;
      assert.match(JSON.stringify(firstBody), /Weather by city/, 'the tool definition went to the provider');

      const streamed = await client.responses.stream({ model: c.model, input, tools }).finalResponse();
      const streamedCall = streamed.output.find((item) => item.type === 'function_call');
      assert.ok(streamedCall?.type === 'function_call');
      assert.equal(streamedCall.name, 'get_weather');
      assert.deepEqual(JSON.parse(streamedCall.arguments), JSON.parse(call.arguments));
      // The events an agent loop reads as they come: arguments.done names the function, as OpenAI's does.
      const events: ResponseStreamEvent[] = [];
      for await (const event of await client.responses.create({ model: c.model, input, tools, stream: true })) events.push(event);
      const added = events.find((event) => event.type === 'response.output_item.added' && event.item.type === 'function_call');
      const done = events.find((event) => event.type === 'response.function_call_arguments.done');
      assert.ok(added?.type === 'response.output_item.added' && done?.type === 'response.function_call_arguments.done');
      assert.equal(done.item_id, added.item.id);
      assert.equal(done.name, 'get_weather');
      assert.deepEqual(JSON.parse(done.arguments), JSON.parse(call.arguments));

      const second = await client.responses.create({
        model: c.model,
        tools,
        input: [
          ...input,
          ...first.output.filter((item) => item.type === 'function_call'),
          { type: 'function_call_output', call_id: call.call_id, output: '22C and sunny' },
        ],
      });
      assert.match(second.output_text, /^Sunny in /);
      c.toolResultSeen(c.mock().received.at(-1)!.body, call.call_id);
    });
  }

  test('json_schema output format translated (Gemini responseSchema)', async () => {
    await client.responses.create({
      model: 'gemini-flash',
      input: 'A city',
      text: {
        format: { type: 'json_schema', name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } } }, strict: true },
      },
    });
    const config = geminiMock.received.at(-1)!.body.generationConfig as Record<string, unknown>;
    assert.equal(config.responseMimeType, 'application/json');
    assert.ok(config.responseSchema !== undefined || config.responseJsonSchema !== undefined);
  });

  test('what needs state or OpenAI-run tools is a 400 naming the field; nothing reaches the provider', async () => {
    const before = anthropicMock.received.length;
    const refused = async (body: Record<string, unknown>) => {
      const error = await client.responses.create({ model: 'claude-haiku', input: 'Hi', ...body } as never).then(
        () => assert.fail('expected a 400'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.type, 'invalid_request_error');
      return error;
    };
    const chained = await refused({ previous_response_id: 'resp_abc' });
    assert.equal(chained.param, 'previous_response_id');
    assert.match(chained.message, /keeps no responses/);
    assert.equal((await refused({ store: true })).param, 'store');
    const tool = await refused({ tools: [{ type: 'web_search' }] });
    assert.equal(tool.param, 'tools[0].type');
    // What needs no state is not told to send the whole conversation: it says what the field is, and where it works.
    assert.doesNotMatch(tool.message, /keeps no responses|whole conversation/);
    assert.match(tool.message, /use a model served by OpenAI or Azure OpenAI/);
    assert.equal((await refused({ input: [{ type: 'item_reference', id: 'msg_1' }] })).param, 'input[0].type');
    const untyped = await refused({ input: [{ role: 'user', content: 'Hi' }, { id: 'msg_1' }] });
    assert.equal(untyped.param, 'input[1].type');
    assert.match(untyped.message, /item_reference/);
    assert.match(untyped.message, /send the whole conversation in input/, 'a reference is to a kept item');
    const file = await refused({ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file_1' }] }] });
    assert.equal(file.param, 'input[0].content[0].file_id');
    assert.doesNotMatch(file.message, /keeps no responses|whole conversation/);
    // text.format json_schema is no longer among them: Claude gets it as a forced tool (structured-outputs.test).
    assert.equal(anthropicMock.received.length, before);
    // store: false and absent are fine.
    const response = await client.responses.create({ model: 'claude-haiku', input: 'Hi', store: false });
    assert.equal(response.output_text, 'Bonjour from Claude');
  });

  test('the ledger records Responses calls like chat, on their own API', async () => {
    const rows = (await ledgerRows(sluice)).filter((row) => row.status === 200);
    assert.ok(rows.length >= 9);
    for (const row of rows) {
      assert.equal(row.api, 'openai-responses');
      assert.equal(row.operation, 'chat');
      assert.equal(row.consumer, 'checkout-service');
      assert.equal(row.tokens_estimated, 0);
    }
    const streamed = rows.find((row) => row.provider === 'bedrock' && row.stream === 1 && row.output_tokens === 9);
    assert.ok(streamed, 'a streamed Bedrock call with its usage');
    assert.equal(streamed.input_tokens, 33);
    const plain = rows.find((row) => row.provider === 'anthropic' && row.stream === 0 && row.input_tokens === 20);
    assert.equal(plain?.provider_model, 'claude-3-5-haiku-20241022');
    assert.equal(plain?.requested_model, 'claude-haiku');
    const refused = (await ledgerRows(sluice)).filter((row) => row.status === 400);
    assert.ok(refused.some((row) => row.error_class === 'unsupported_by_provider'));
  });
});
