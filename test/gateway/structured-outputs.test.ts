// Structured output (response_format json_schema / json_object, the Responses API's text.format) for Claude, which has
// no such option: the official openai SDK's chat.completions.parse and stream helpers, and responses.parse, through
// Sluice to mock Anthropic and Bedrock providers that insist on the forced tool Sluice must send, and answer with it.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import {
  AWS_TEST_CREDENTIALS,
  AWS_TEST_REGION,
  converseStreamFrames,
  converseToolAnswer,
  sendFrames,
  startMockBedrock,
} from '../support/mock-bedrock.js';
import {
  anthropicStreamFrames,
  anthropicToolMessage,
  anthropicToolStreamFrames,
  json,
  MockProvider,
  sse,
  type Received,
} from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const Weather = z.object({ city: z.string(), celsius: z.number(), sunny: z.boolean() });
const REPORT = { city: 'Lyon', celsius: 21.5, sunny: true };
const PIECES = ['{"city":"Ly', 'on","celsius":21.5,', '"sunny":true}'];
const REFUSAL_PIECES = ['I can', "'t help with that."];

/** The tool a request forces, in Anthropic's wire; null when it forces none. */
function anthropicForced(body: Record<string, unknown>): string | null {
  const choice = body.tool_choice as { type?: string; name?: string } | undefined;
  return choice?.type === 'tool' && typeof choice.name === 'string' ? choice.name : null;
}

function bedrockForced(body: Record<string, unknown>): string | null {
  const config = body.toolConfig as { toolChoice?: { tool?: { name?: string } } } | undefined;
  return config?.toolChoice?.tool?.name ?? null;
}

/** A forced tool's answer: the tool_use block alone (Claude writes no text before a tool it is made to use, `any` or `tool`). */
function anthropicForcedAnswer(name: string, input: Record<string, unknown>) {
  const message = anthropicToolMessage(name, input);
  return { ...message, content: message.content.filter((block) => block.type === 'tool_use') };
}

function converseForcedAnswer(name: string, input: Record<string, unknown>) {
  const answer = converseToolAnswer(name, input);
  return { ...answer, output: { message: { ...answer.output.message, content: [answer.output.message.content[1]!] } } };
}

describe('structured output translated to a forced tool for Claude (Anthropic, Bedrock)', () => {
  let anthropicMock: MockProvider;
  let bedrockMock: Awaited<ReturnType<typeof startMockBedrock>>;
  let gptMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      const body = request.body;
      const forced = anthropicForced(body);
      // Claude declining: text and stop_reason refusal, no tool call, even with one forced.
      if (JSON.stringify(body.messages).includes('lock picking') && body.stream === true) {
        const frames = anthropicStreamFrames(REFUSAL_PIECES);
        return sse(
          res,
          frames.map((frame) => frame.replace('"stop_reason":"end_turn"', '"stop_reason":"refusal"')),
        );
      }
      // A user tool called when the choice lets the model pick among several (the JSON tool among them).
      if (forced === null && (body.tool_choice as { type?: string } | undefined)?.type === 'any') {
        return json(res, 200, anthropicForcedAnswer('get_weather', { city: 'Lyon' }));
      }
      if (forced === null)
        return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'mock: no forced tool' } });
      const input = forced.startsWith('json') ? { anything: ['goes', 1] } : REPORT;
      if (body.stream === true)
        return sse(res, anthropicToolStreamFrames(forced, forced.startsWith('json') ? [JSON.stringify(input)] : PIECES));
      return json(res, 200, anthropicForcedAnswer(forced, input));
    });
    bedrockMock = await startMockBedrock((_modelId, stream, request, res) => {
      const forced = bedrockForced(request.body);
      if (forced === null) return json(res, 400, { message: 'mock: no forced tool' }, { 'x-amzn-errortype': 'ValidationException' });
      if (stream) return sendFrames(res, converseStreamFrames([], { name: forced, inputPieces: PIECES }));
      return json(res, 200, converseForcedAnswer(forced, REPORT));
    });
    gptMock = await MockProvider.start((_request, res) => json(res, 503, { error: { message: 'overloaded', type: 'server_error' } }));
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
        openai: { type: 'openai', baseUrl: `${gptMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'claude-haiku', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'bedrock-claude', targets: [{ provider: 'bedrock', model: 'anthropic.claude-3-5-haiku-20241022-v1:0' }] },
        { name: 'claude-sonnet', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' }] },
        { name: 'bedrock-claude-haiku-45', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0' }] },
        {
          name: 'gpt-then-claude',
          targets: [
            { provider: 'openai', model: 'gpt-4o-mini' },
            { provider: 'anthropic', model: 'claude-3-5-haiku-20241022' },
          ],
        },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  beforeEach(() => {
    anthropicMock.received.length = 0;
    bedrockMock.received.length = 0;
    gptMock.received.length = 0;
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await bedrockMock.close();
    await gptMock.close();
  });

  const messages = [{ role: 'user' as const, content: 'Weather in Lyon?' }];

  function assertAnthropicForcedSchema(received: Received | undefined): void {
    assert.ok(received);
    const tools = received.body.tools as Array<{ name: string; input_schema: Record<string, unknown> }>;
    assert.deepEqual(
      tools.map((tool) => tool.name),
      ['weather_report'],
    );
    const schema = tools[0]!.input_schema;
    assert.equal(schema.type, 'object');
    assert.deepEqual(Object.keys(schema.properties as object), ['city', 'celsius', 'sunny']);
    assert.deepEqual(received.body.tool_choice, { type: 'tool', name: 'weather_report', disable_parallel_tool_use: true });
  }

  test('anthropic: chat.completions.parse gets the parsed object from the forced tool, finish_reason stop', async () => {
    const completion = await client.chat.completions.parse({
      model: 'claude-haiku',
      messages,
      response_format: zodResponseFormat(Weather, 'weather_report'),
    });
    assertAnthropicForcedSchema(anthropicMock.received[0]);
    const choice = completion.choices[0]!;
    assert.deepEqual(choice.message.parsed, REPORT);
    assert.equal(choice.message.content, JSON.stringify(REPORT));
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.tool_calls, undefined);
    assert.equal(completion.usage?.prompt_tokens, 50);
    assert.equal(completion.usage?.completion_tokens, 15);
  });

  test('anthropic: the streamed answer arrives as content deltas and the stream helper parses it', async () => {
    const stream = client.chat.completions.stream({
      model: 'claude-haiku',
      messages,
      response_format: zodResponseFormat(Weather, 'weather_report'),
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on('content.delta', ({ delta }) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    assertAnthropicForcedSchema(anthropicMock.received[0]);
    assert.equal(anthropicMock.received[0]!.body.stream, true);
    assert.deepEqual(deltas, PIECES);
    const choice = final.choices[0]!;
    assert.deepEqual(choice.message.parsed, REPORT);
    assert.equal(choice.finish_reason, 'stop');
    assert.deepEqual(choice.message.tool_calls ?? [], []);
    assert.equal(final.usage?.prompt_tokens, 60);
    assert.equal(final.usage?.completion_tokens, 18);
  });

  test('anthropic: json_object forces a tool taking any object; its input is the content', async () => {
    const completion = await client.chat.completions.create({ model: 'claude-haiku', messages, response_format: { type: 'json_object' } });
    const received = anthropicMock.received[0]!;
    const tools = received.body.tools as Array<{ name: string; input_schema: unknown }>;
    assert.equal(tools.length, 1);
    assert.deepEqual(tools[0]!.input_schema, { type: 'object' });
    assert.deepEqual(received.body.tool_choice, { type: 'tool', name: tools[0]!.name, disable_parallel_tool_use: true });
    assert.deepEqual(JSON.parse(completion.choices[0]!.message.content!), { anything: ['goes', 1] });
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    assert.equal(completion.choices[0]!.message.tool_calls, undefined);
  });

  test('bedrock: chat.completions.parse through Converse with toolChoice forcing the schema tool', async () => {
    const completion = await client.chat.completions.parse({
      model: 'bedrock-claude',
      messages,
      response_format: zodResponseFormat(Weather, 'weather_report'),
    });
    const body = bedrockMock.received[0]!.body as {
      toolConfig: { tools: Array<{ toolSpec: { name: string; inputSchema: { json: Record<string, unknown> } } }>; toolChoice: unknown };
    };
    assert.deepEqual(
      body.toolConfig.tools.map((tool) => tool.toolSpec.name),
      ['weather_report'],
    );
    assert.deepEqual(Object.keys(body.toolConfig.tools[0]!.toolSpec.inputSchema.json.properties as object), ['city', 'celsius', 'sunny']);
    assert.deepEqual(body.toolConfig.toolChoice, { tool: { name: 'weather_report' } });
    const choice = completion.choices[0]!;
    assert.deepEqual(choice.message.parsed, REPORT);
    assert.equal(choice.finish_reason, 'stop');
    assert.equal(choice.message.tool_calls, undefined);
    assert.equal(completion.usage?.prompt_tokens, 55);
    assert.equal(completion.usage?.completion_tokens, 20);
  });

  test('bedrock: ConverseStream toolUse deltas become content deltas the stream helper parses', async () => {
    const stream = client.chat.completions.stream({
      model: 'bedrock-claude',
      messages,
      response_format: zodResponseFormat(Weather, 'weather_report'),
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on('content.delta', ({ delta }) => deltas.push(delta));
    const final = await stream.finalChatCompletion();
    assert.deepEqual(bedrockMock.received[0]!.body.toolConfig, {
      tools: [
        {
          toolSpec: {
            name: 'weather_report',
            description: 'Give the answer as JSON matching the weather_report schema.',
            inputSchema: { json: zodResponseFormat(Weather, 'weather_report').json_schema.schema },
          },
        },
      ],
      toolChoice: { tool: { name: 'weather_report' } },
    });
    assert.deepEqual(deltas, PIECES);
    assert.deepEqual(final.choices[0]!.message.parsed, REPORT);
    assert.equal(final.choices[0]!.finish_reason, 'stop');
    assert.equal(final.usage?.prompt_tokens, 33);
    assert.equal(final.usage?.completion_tokens, 9);
  });

  test('fallback: the GPT target fails and the Claude target serves the parse; the ledger meters the Claude call', async () => {
    const completion = await client.chat.completions.parse({
      model: 'gpt-then-claude',
      messages,
      response_format: zodResponseFormat(Weather, 'weather_report'),
    });
    assert.ok(gptMock.received.length >= 1, 'the GPT target was tried first');
    assert.deepEqual((gptMock.received[0]!.body.response_format as { type: string }).type, 'json_schema');
    assertAnthropicForcedSchema(anthropicMock.received[0]);
    assert.deepEqual(completion.choices[0]!.message.parsed, REPORT);
    const rows = await ledgerRows(sluice);
    const row = rows.findLast((candidate) => candidate.requested_model === 'gpt-then-claude');
    assert.ok(row);
    assert.equal(row.status, 200);
    assert.equal(row.provider, 'anthropic');
    assert.equal(row.input_tokens, 50);
    assert.equal(row.output_tokens, 15);
    assert.equal(row.tokens_estimated, 0);
  });

  test('responses.parse: text.format json_schema goes to Claude as the forced tool and comes back as output_parsed', async () => {
    const response = await client.responses.parse({
      model: 'claude-haiku',
      input: 'Weather in Lyon?',
      text: { format: zodTextFormat(Weather, 'weather_report') },
    });
    assertAnthropicForcedSchema(anthropicMock.received[0]);
    assert.deepEqual(response.output_parsed, REPORT);
    assert.equal(response.output_text, JSON.stringify(REPORT));
    assert.equal(response.output.filter((item) => item.type === 'function_call').length, 0);
  });

  test('responses.stream: text.format streamed from Bedrock comes back parsed', async () => {
    const final = await client.responses
      .stream({ model: 'bedrock-claude', input: 'Weather in Lyon?', text: { format: zodTextFormat(Weather, 'weather_report') } })
      .finalResponse();
    assert.deepEqual(bedrockForced(bedrockMock.received[0]!.body), 'weather_report');
    assert.deepEqual(final.output_parsed, REPORT);
  });

  test('with tools of its own: the JSON tool is offered beside them (the model must use one); a user tool call stays a tool call', async () => {
    const completion = await client.chat.completions.parse({
      model: 'claude-haiku',
      messages,
      response_format: zodResponseFormat(Weather, 'weather_report'),
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            strict: true,
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
          },
        },
      ],
    });
    const body = anthropicMock.received[0]!.body;
    assert.deepEqual(
      (body.tools as Array<{ name: string }>).map((tool) => tool.name),
      ['get_weather', 'weather_report'],
    );
    assert.deepEqual(body.tool_choice, { type: 'any' });
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls?.[0]?.function.name, 'get_weather');
    assert.equal(choice.message.parsed, null);
  });

  // A schema with constraints Claude's strict mode does not take (minimum, maximum): Anthropic's SDK moves them into the
  // description, and so must Sluice, or Claude answers 400.
  const Bounded = z.object({ city: z.string(), celsius: z.number().min(-90).max(60), sunny: z.boolean() });
  const strictTool = {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      strict: true,
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
    },
  };
  const looseTool = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };

  test('strict: a strict json_schema reaches Claude Sonnet 4.5 as a strict tool, its unsupported constraints in the description', async () => {
    const completion = await client.chat.completions.parse({
      model: 'claude-sonnet',
      messages,
      response_format: zodResponseFormat(Bounded, 'weather_report'),
    });
    const tools = anthropicMock.received[0]!.body.tools as Array<{ name: string; strict?: boolean; input_schema: Record<string, unknown> }>;
    assert.equal(tools[0]!.strict, true);
    const celsius = (tools[0]!.input_schema.properties as Record<string, Record<string, unknown>>).celsius!;
    assert.equal(celsius.type, 'number');
    assert.equal(celsius.minimum, undefined);
    assert.match(String(celsius.description), /minimum: -90/);
    assert.equal(tools[0]!.input_schema.additionalProperties, false);
    assert.deepEqual(completion.choices[0]!.message.parsed, REPORT);
  });

  test('strict: function tools marked strict reach Claude Sonnet 4.5 with strict: true, the others without', async () => {
    await client.chat.completions.create({ model: 'claude-sonnet', messages, tools: [strictTool, looseTool], tool_choice: 'required' });
    const tools = anthropicMock.received[0]!.body.tools as Array<{ name: string; strict?: boolean; input_schema: unknown }>;
    assert.deepEqual(
      tools.map((tool) => [tool.name, tool.strict]),
      [
        ['get_weather', true],
        ['get_time', undefined],
      ],
    );
    assert.deepEqual(tools[0]!.input_schema, strictTool.function.parameters);
  });

  test('strict: Claude models that have no strict mode (Claude 3.5 Haiku) get the tools without it, as before', async () => {
    await client.chat.completions.parse({ model: 'claude-haiku', messages, response_format: zodResponseFormat(Bounded, 'weather_report') });
    const tools = anthropicMock.received[0]!.body.tools as Array<{ strict?: boolean; input_schema: Record<string, unknown> }>;
    assert.equal('strict' in tools[0]!, false);
    assert.equal((tools[0]!.input_schema.properties as Record<string, Record<string, unknown>>).celsius!.minimum, -90);
  });

  test('strict: on Bedrock, Claude Haiku 4.5 gets toolSpec.strict for the schema tool and the strict function tool', async () => {
    // create, not parse: the SDK's parse takes strict tools only.
    const completion = await client.chat.completions.create({
      model: 'bedrock-claude-haiku-45',
      messages,
      response_format: zodResponseFormat(Bounded, 'weather_report'),
      tools: [strictTool, looseTool],
      tool_choice: 'none',
    });
    const specs = (bedrockMock.received[0]!.body as { toolConfig: { tools: Array<{ toolSpec: { name: string; strict?: boolean } }> } })
      .toolConfig.tools;
    assert.deepEqual(
      specs.map((tool) => [tool.toolSpec.name, tool.toolSpec.strict]),
      [
        ['get_weather', true],
        ['get_time', undefined],
        ['weather_report', true],
      ],
    );
    assert.deepEqual(JSON.parse(completion.choices[0]!.message.content!), REPORT);
  });

  test('anthropic: a streamed refusal (no JSON tool call) reaches the client as its refusal, finish_reason stop', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude-haiku',
      messages: [{ role: 'user', content: 'Teach me lock picking' }],
      response_format: zodResponseFormat(Weather, 'weather_report'),
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = '';
    let refusal = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? '';
      refusal += chunk.choices[0]?.delta.refusal ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(anthropicForced(anthropicMock.received[0]!.body), 'weather_report');
    assert.equal(content, '');
    assert.equal(refusal, REFUSAL_PIECES.join(''));
    assert.equal(finish, 'stop');
    assert.equal(usage?.completion_tokens, 6);
  });
});
