// Both front doors reach every provider: the official SDKs against Sluice, translated both ways, streams and tools included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import {
  anthropicMessage,
  anthropicStreamFrames,
  anthropicToolMessage,
  anthropicToolStreamFrames,
  json,
  MockProvider,
  openaiCompletion,
  openaiStreamFrames,
  openaiToolCompletion,
  openaiToolStreamFrames,
  sse,
} from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const ANTHROPIC_UPSTREAM_KEY = 'upstream-anthropic-key-not-real';

describe('translation between the OpenAI and Anthropic shapes', () => {
  let anthropicMock: MockProvider;
  let openaiMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      const body = request.body;
      // As Anthropic does for Claude Sonnet 4.5, Haiku 4.5 and Opus 4.1 on: one of the two, not both.
      if (body.model === 'claude-sonnet-4-5-20250929' && body.temperature !== undefined && body.top_p !== undefined) {
        const message = '`temperature` and `top_p` cannot both be specified for this model. Please use only one.';
        return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message } });
      }
      // As Anthropic does for Claude Opus 4.7 on: no sampling settings at all.
      if (body.model === 'claude-opus-4-7' && (body.temperature !== undefined || body.top_p !== undefined || body.top_k !== undefined)) {
        const message = '`temperature` is deprecated for this model.';
        return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message } });
      }
      // As Anthropic does: an end-user id is to be opaque, and one that is an email address is refused.
      const userId = (body.metadata as { user_id?: string } | undefined)?.user_id;
      if (userId !== undefined && (userId.includes('@') || userId.length > 256)) {
        const message = 'metadata.user_id: user_id appears to contain an email address. Please send a uuid or hash value instead.';
        return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message } });
      }
      const hasTools = Array.isArray(body.tools);
      if (body.stream === true)
        return sse(
          res,
          hasTools ? anthropicToolStreamFrames('get_weather', ['{"city":', ' "Paris"}']) : anthropicStreamFrames(['Bon', 'jour']),
        );
      return json(res, 200, hasTools ? anthropicToolMessage('get_weather', { city: 'Paris' }) : anthropicMessage('Bonjour from Claude'));
    });
    openaiMock = await MockProvider.start((request, res) => {
      const body = request.body;
      // As OpenAI does for its o-series and GPT-5: the default temperature only, and no top_p.
      if (body.model === 'o3' && ((body.temperature !== undefined && body.temperature !== 1) || body.top_p !== undefined)) {
        const message = "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.";
        return json(res, 400, { error: { message, type: 'invalid_request_error', param: 'temperature', code: 'unsupported_value' } });
      }
      // As OpenAI does: no empty tools list, no tool_choice or parallel_tool_calls without tools, and none of the latter to
      // the o-series.
      const refuseTools = (param: string, message: string) =>
        json(res, 400, { error: { message, type: 'invalid_request_error', param, code: 'invalid_value' } });
      if (Array.isArray(body.tools) && body.tools.length === 0)
        return refuseTools(
          'tools',
          "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        );
      for (const field of ['tool_choice', 'parallel_tool_calls'])
        if (body[field] !== undefined && body.tools === undefined)
          return refuseTools(field, `Invalid value for '${field}': '${field}' is only allowed when 'tools' are specified.`);
      if (body.model === 'o3' && body.parallel_tool_calls !== undefined)
        return refuseTools('parallel_tool_calls', "Unsupported parameter: 'parallel_tool_calls' is not supported with this model.");
      // As OpenAI does: an end-user id of at most 64 characters.
      if (typeof body.user === 'string' && body.user.length > 64) {
        const message = `Invalid 'user': string too long. Expected a string with maximum length 64, but got a string with length ${body.user.length} instead.`;
        return json(res, 400, { error: { message, type: 'invalid_request_error', param: 'user', code: 'string_above_max_length' } });
      }
      // As OpenAI does: its reasoning models take no stop at all, the others from 1 to 4 stop sequences.
      if (body.stop !== undefined && (body.model === 'o3' || !Array.isArray(body.stop) || body.stop.length < 1 || body.stop.length > 4)) {
        const message =
          body.model === 'o3'
            ? "Unsupported parameter: 'stop' is not supported with this model."
            : "Invalid 'stop': expected an array of 1 to 4 strings.";
        return json(res, 400, { error: { message, type: 'invalid_request_error', param: 'stop', code: 'unsupported_parameter' } });
      }
      // As OpenAI does when the model declines a structured answer: its words in refusal, content null.
      if (body.response_format !== undefined && JSON.stringify(body.messages).includes('bomb')) {
        const refusal = "I'm sorry, I can't help with that.";
        if (body.stream !== true) {
          const completion = openaiCompletion('');
          completion.choices[0]!.message = { role: 'assistant', content: null, refusal } as never;
          return json(res, 200, completion);
        }
        const frames = openaiStreamFrames([], null).map((frame) =>
          frame.replace(
            '"delta":{"role":"assistant","content":""}',
            `"delta":{"role":"assistant","content":null,"refusal":${JSON.stringify(refusal)}}`,
          ),
        );
        return sse(res, frames);
      }
      const hasTools = Array.isArray(body.tools);
      // As OpenAI does: a call of the function tool_choice named ends with finish_reason "stop", not "tool_calls".
      const named = typeof body.tool_choice === 'object' && body.tool_choice !== null;
      if (body.stream === true) {
        const frames = hasTools
          ? openaiToolStreamFrames('get_weather', ['{"city":', '"Paris"}'])
          : openaiStreamFrames(['Hi', ' from', ' GPT'], { prompt_tokens: 14, completion_tokens: 3 });
        return sse(res, named ? frames.map((frame) => frame.replace('"finish_reason":"tool_calls"', '"finish_reason":"stop"')) : frames);
      }
      const toolCompletion = openaiToolCompletion('get_weather', '{"city":"Paris"}');
      if (named) toolCompletion.choices[0]!.finish_reason = 'stop';
      return json(res, 200, hasTools ? toolCompletion : openaiCompletion('Hi from GPT'));
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: ANTHROPIC_UPSTREAM_KEY },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'claude-haiku', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
        { name: 'claude-sonnet', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude-opus', targets: [{ provider: 'anthropic', model: 'claude-opus-4-7' }] },
        { name: 'o3', targets: [{ provider: 'openai', model: 'o3' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await openaiMock.close();
  });

  const weatherTool = {
    name: 'get_weather',
    description: 'Weather by city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  };

  test('OpenAI SDK -> Anthropic provider: request translated, answer in OpenAI shape', async () => {
    const completion = await openai.chat.completions.create({
      model: 'claude-haiku',
      max_tokens: 200,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, 'Bonjour from Claude');
    assert.equal(completion.choices[0]?.finish_reason, 'stop');
    assert.equal(completion.usage?.prompt_tokens, 20);
    assert.equal(completion.usage?.completion_tokens, 7);
    assert.equal(completion.model, 'claude-haiku');
    const received = anthropicMock.received.at(-1)!;
    assert.equal(received.path, '/v1/messages');
    assert.equal(received.headers['x-api-key'], ANTHROPIC_UPSTREAM_KEY);
    assert.ok(received.headers['anthropic-version']);
    assert.equal(received.body.model, 'claude-3-5-haiku-20241022');
    assert.equal(received.body.system, 'Be brief.');
    assert.equal(received.body.max_tokens, 200);
    assert.deepEqual(received.body.messages, [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }]);
  });

  test('OpenAI SDK -> Claude Sonnet 4.5: temperature and top_p both set reach it as temperature alone (it takes one)', async () => {
    const completion = await openai.chat.completions.create({
      model: 'claude-sonnet',
      temperature: 0.2,
      top_p: 0.9,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    assert.equal(completion.choices[0]?.message.content, 'Bonjour from Claude');
    const sent = anthropicMock.received.at(-1)!.body;
    assert.equal(sent.temperature, 0.2);
    assert.equal('top_p' in sent, false);
    // Older Claude models take both, and get both.
    await openai.chat.completions.create({
      model: 'claude-haiku',
      temperature: 0.2,
      top_p: 0.9,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(anthropicMock.received.at(-1)!.body.top_p, 0.9);
  });

  test('OpenAI SDK -> Claude Opus 4.7, which refuses sampling settings: temperature and top_p are left out', async () => {
    const completion = await openai.chat.completions.create({
      model: 'claude-opus',
      temperature: 0.2,
      top_p: 0.9,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    assert.equal(completion.choices[0]?.message.content, 'Bonjour from Claude');
    const sent = anthropicMock.received.at(-1)!.body;
    assert.equal(sent.model, 'claude-opus-4-7');
    assert.equal('temperature' in sent || 'top_p' in sent, false);
  });

  test('Anthropic SDK -> OpenAI o3, which takes only the default temperature: temperature and top_p are left out', async () => {
    // The SDK's own types have dropped sampling settings (Claude 4.7 on refuses them); older clients still send them.
    const withSampling = {
      model: 'o3',
      max_tokens: 100,
      temperature: 0.2,
      top_p: 0.9,
      messages: [{ role: 'user' as const, content: 'Hello' }],
    };
    const message = await anthropic.messages.create(withSampling);
    assert.equal(message.content[0]?.type === 'text' && message.content[0].text, 'Hi from GPT');
    const sent = openaiMock.received.at(-1)!.body;
    assert.equal(sent.model, 'o3');
    assert.equal('temperature' in sent || 'top_p' in sent, false);
    // A model that takes them still gets them.
    await anthropic.messages.create({ ...withSampling, model: 'gpt-4o-mini' });
    assert.equal(openaiMock.received.at(-1)!.body.temperature, 0.2);
  });

  test('Anthropic SDK -> OpenAI: stop_sequences OpenAI cannot take are a 400 naming stop_sequences, nothing sent upstream', async () => {
    const ask = (model: string, stop_sequences: string[]) =>
      anthropic.messages.create({ model, max_tokens: 100, stop_sequences, messages: [{ role: 'user', content: 'List five' }] });
    const refusedFor = (what: RegExp) => (error: unknown) =>
      error instanceof Anthropic.BadRequestError && error.message.includes('stop_sequences') && what.test(error.message);
    const before = openaiMock.received.length;
    // Five are more than Chat Completions takes; o3 (a reasoning model) takes none.
    await assert.rejects(ask('gpt-4o-mini', ['1', '2', '3', '4', '5']), refusedFor(/at most 4/));
    await assert.rejects(ask('o3', ['END']), refusedFor(/o3 takes no stop sequences/));
    assert.equal(openaiMock.received.length, before);
    // Four reach a model that takes them; none at all (an empty list) sends no stop.
    await ask('gpt-4o-mini', ['1', '2', '3', '4']);
    assert.deepEqual(openaiMock.received.at(-1)!.body.stop, ['1', '2', '3', '4']);
    const message = await ask('o3', []);
    assert.equal(message.content[0]?.type === 'text' && message.content[0].text, 'Hi from GPT');
    assert.equal('stop' in openaiMock.received.at(-1)!.body, false);
  });

  test("Anthropic SDK -> OpenAI: Claude Code's long metadata.user_id reaches OpenAI as a stable id within its 64 characters", async () => {
    // Claude Code's user_id: user_<64 hex>_account_<uuid>_session_<uuid>, some 150 characters.
    const claudeCode = `user_${'a1'.repeat(32)}_account_0b9f6a3e-2c1d-4e5f-8a7b-6c5d4e3f2a1b_session_7d6c5b4a-3e2f-4a1b-9c8d-7e6f5a4b3c2d`;
    const ask = (user_id: string) =>
      anthropic.messages.create({
        model: 'gpt-4o-mini',
        max_tokens: 64,
        metadata: { user_id },
        messages: [{ role: 'user', content: 'Hi' }],
      });
    const message = await ask(claudeCode);
    assert.equal(message.content[0]?.type === 'text' && message.content[0].text, 'Hi from GPT');
    const sent = openaiMock.received.at(-1)!.body.user as string;
    assert.match(sent, /^[0-9a-f]{64}$/);
    // The same caller is the same id on every call, as OpenAI's abuse detection needs; a short id goes as it is.
    await ask(claudeCode);
    assert.equal(openaiMock.received.at(-1)!.body.user, sent);
    await ask('user-42');
    assert.equal(openaiMock.received.at(-1)!.body.user, 'user-42');
  });

  test('OpenAI SDK -> Anthropic provider: a user that is an email address reaches Claude as an opaque id it takes', async () => {
    const ask = (user: string) =>
      openai.chat.completions.create({ model: 'claude-haiku', user, messages: [{ role: 'user', content: 'Hi' }] });
    const completion = await ask('jane.doe@example.com');
    assert.equal(completion.choices[0]?.message.content, 'Bonjour from Claude');
    const sent = (anthropicMock.received.at(-1)!.body.metadata as { user_id: string }).user_id;
    assert.match(sent, /^[0-9a-f]{64}$/);
    await ask('jane.doe@example.com');
    assert.equal((anthropicMock.received.at(-1)!.body.metadata as { user_id: string }).user_id, sent);
    await ask('user-42');
    assert.deepEqual(anthropicMock.received.at(-1)!.body.metadata, { user_id: 'user-42' });
  });

  test('OpenAI SDK -> Anthropic provider: streamed text with usage', async () => {
    const stream = await openai.chat.completions.create({
      model: 'claude-haiku',
      messages: [{ role: 'user', content: 'Hello' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'Bonjour');
    assert.equal(finish, 'stop');
    assert.equal(usage?.prompt_tokens, 25);
    assert.equal(usage?.completion_tokens, 6);
  });

  test('OpenAI SDK -> Anthropic provider: tool calls, streamed and not, and tool results in history', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: weatherTool }];
    const completion = await openai.chat.completions.create({
      model: 'claude-haiku',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools,
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    assert.equal(completion.choices[0]?.finish_reason, 'tool_calls');
    assert.ok(call?.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
    assert.deepEqual((anthropicMock.received.at(-1)!.body.tools as unknown[])[0], {
      name: 'get_weather',
      description: 'Weather by city',
      input_schema: weatherTool.parameters,
    });

    const final = await openai.chat.completions
      .stream({ model: 'claude-haiku', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools })
      .finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    assert.ok(streamed?.type === 'function');
    assert.deepEqual(JSON.parse(streamed.function.arguments), { city: 'Paris' });
    assert.equal(streamed.id, 'toolu_02');

    await openai.chat.completions.create({
      model: 'claude-haiku',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_01', content: '18C and sunny' },
      ],
    });
    const history = anthropicMock.received.at(-1)!.body.messages as Array<{ role: string; content: Array<Record<string, unknown>> }>;
    assert.deepEqual(history[1]?.content[0], { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris' } });
    assert.equal(history[2]?.role, 'user');
    assert.equal(history[2]?.content[0]?.type, 'tool_result');
    assert.equal(history[2]?.content[0]?.tool_use_id, 'toolu_01');
  });

  test('Anthropic SDK -> OpenAI provider: request translated, answer in Anthropic shape', async () => {
    const message = await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    assert.equal(message.type, 'message');
    assert.deepEqual(message.content, [{ type: 'text', text: 'Hi from GPT' }]);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.usage.input_tokens, 12);
    assert.equal(message.usage.output_tokens, 5);
    const received = openaiMock.received.at(-1)!;
    assert.equal(received.headers.authorization, 'Bearer upstream-openai-key-not-real');
    assert.deepEqual(received.body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello' },
    ]);
    assert.equal(received.body.max_completion_tokens, 64);
  });

  test('Anthropic SDK: a system message inside messages (as Claude Code sends) reaches Anthropic as sent and OpenAI in place', async () => {
    // Mid-conversation system messages: https://platform.claude.com/docs/en/build-with-claude/mid-conversation-system-messages
    const messages = [
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi!' },
      { role: 'system', content: [{ type: 'text', text: '<system-reminder>Be brief.</system-reminder>' }] },
      { role: 'user', content: 'Weather?' },
    ] as unknown as Anthropic.MessageParam[];
    const message = await anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 64, system: 'You help.', messages });
    assert.equal(message.content[0]?.type === 'text' && message.content[0].text, 'Hi from GPT');
    assert.deepEqual(openaiMock.received.at(-1)!.body.messages, [
      { role: 'system', content: 'You help.' },
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi!' },
      { role: 'system', content: '<system-reminder>Be brief.</system-reminder>' },
      { role: 'user', content: 'Weather?' },
    ]);
    await anthropic.messages.create({ model: 'claude-haiku', max_tokens: 64, messages });
    assert.deepEqual(anthropicMock.received.at(-1)!.body.messages, messages);
  });

  test('Anthropic SDK -> OpenAI provider: streamed text and usage', async () => {
    const stream = anthropic.messages.stream({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] });
    let text = '';
    stream.on('text', (delta) => (text += delta));
    const final = await stream.finalMessage();
    assert.equal(text, 'Hi from GPT');
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, 3);
  });

  test('Anthropic SDK -> OpenAI provider: tool use, streamed and not', async () => {
    const tools: Anthropic.Tool[] = [
      { name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ];
    const message = await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      tools,
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    assert.equal(message.stop_reason, 'tool_use');
    const block = message.content.find((item) => item.type === 'tool_use');
    assert.ok(block?.type === 'tool_use');
    assert.deepEqual(block.input, { city: 'Paris' });
    const final = await anthropic.messages
      .stream({ model: 'gpt-4o-mini', max_tokens: 64, tools, messages: [{ role: 'user', content: 'Weather?' }] })
      .finalMessage();
    const streamed = final.content.find((item) => item.type === 'tool_use');
    assert.ok(streamed?.type === 'tool_use');
    assert.deepEqual(streamed.input, { city: 'Paris' });
    assert.equal(final.stop_reason, 'tool_use');
  });

  test('Anthropic SDK -> OpenAI provider: a call of the tool tool_choice names is stop_reason tool_use, streamed and not', async () => {
    const request = {
      model: 'gpt-4o-mini',
      max_tokens: 64,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'tool' as const, name: 'get_weather' },
      messages: [{ role: 'user' as const, content: 'Weather?' }],
    };
    const message = await anthropic.messages.create(request);
    assert.deepEqual(openaiMock.received.at(-1)!.body.tool_choice, { type: 'function', function: { name: 'get_weather' } });
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal(message.content.find((block) => block.type === 'tool_use')?.name, 'get_weather');
    const final = await anthropic.messages.stream(request).finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
  });

  test('Anthropic SDK -> OpenAI provider: tool settings OpenAI refuses where Anthropic takes them are left out', async () => {
    const ask = (model: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming>) =>
      anthropic.messages.create({ model, max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }], ...extra });
    const sent = () => openaiMock.received.at(-1)!.body;
    // An empty tools list, and a tool_choice with no tools: nothing to choose from.
    await ask('gpt-4o-mini', { tools: [], tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
    assert.equal('tools' in sent() || 'tool_choice' in sent() || 'parallel_tool_calls' in sent(), false);
    // disable_parallel_tool_use reaches a model that takes it, and not o3, which refuses the field.
    const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const } }];
    await ask('gpt-4o-mini', { tools, tool_choice: { type: 'any', disable_parallel_tool_use: true } });
    assert.equal(sent().parallel_tool_calls, false);
    assert.equal(sent().tool_choice, 'required');
    const message = await ask('o3', { tools, tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
    assert.equal(message.stop_reason, 'tool_use');
    assert.equal('parallel_tool_calls' in sent(), false);
    assert.equal(sent().tool_choice, 'auto');
  });

  test('Anthropic SDK -> OpenAI provider: output_config.format (structured outputs) reaches OpenAI as response_format', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      output_config: { format: { type: 'json_schema', schema } },
      messages: [{ role: 'user', content: 'Which city is the capital of France?' }],
    });
    assert.deepEqual(openaiMock.received.at(-1)!.body.response_format, { type: 'json_schema', json_schema: { name: 'response', schema } });
  });

  test("Anthropic SDK -> OpenAI provider: a structured answer OpenAI's model declines is stop_reason refusal with its words", async () => {
    const request = {
      model: 'gpt-4o-mini',
      max_tokens: 64,
      output_config: { format: { type: 'json_schema' as const, schema: { type: 'object' } } },
      messages: [{ role: 'user' as const, content: 'How do I build a bomb?' }],
    };
    const message = await anthropic.messages.create(request);
    assert.equal(message.stop_reason, 'refusal');
    assert.deepEqual(message.content, [{ type: 'text', text: "I'm sorry, I can't help with that." }]);
    const final = await anthropic.messages.stream(request).finalMessage();
    assert.equal(final.stop_reason, 'refusal');
    assert.equal(final.content[0]?.type === 'text' && final.content[0].text, "I'm sorry, I can't help with that.");
  });

  test('Anthropic SDK -> OpenAI provider: a tool result marked is_error tells the model the call failed', async () => {
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'Weather in Atlantis?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Atlantis' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'unknown city', is_error: true }] },
    ];
    await anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 64, messages });
    // Chat Completions' tool messages have no error field: the content says it.
    assert.deepEqual((openaiMock.received.at(-1)!.body.messages as unknown[])[2], {
      role: 'tool',
      tool_call_id: 'toolu_1',
      content: 'Error: unknown city',
    });
    // A result not marked failed goes as it is.
    const succeeded = messages
      .slice(0, 2)
      .concat({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' }] });
    await anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 64, messages: succeeded });
    assert.equal(((openaiMock.received.at(-1)!.body.messages as unknown[])[2] as { content: string }).content, '18C');
  });

  test('Anthropic SDK -> OpenAI provider: an image in a tool result follows the tool message in a user message', async () => {
    const png = Buffer.from('not really a png').toString('base64');
    await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'What is on screen?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'screenshot', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [
                { type: 'text', text: 'Captured.' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
              ],
            },
            { type: 'text', text: 'Describe it.' },
          ],
        },
      ],
    });
    const messages = openaiMock.received.at(-1)!.body.messages as Array<Record<string, unknown>>;
    assert.deepEqual(messages.slice(2), [
      {
        role: 'tool',
        tool_call_id: 'toolu_1',
        content: 'Captured.\n\n[image 1 in the next message]',
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Images returned by tool call toolu_1:' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
        ],
      },
      { role: 'user', content: 'Describe it.' },
    ]);
  });

  test('Anthropic SDK -> Anthropic provider: passed through, streamed and not', async () => {
    // top_k is a field Sluice's IR does not carry: pass-through must keep it.
    const params = {
      model: 'claude-haiku',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Hello' }],
      top_k: 5,
    } as Anthropic.MessageCreateParamsNonStreaming;
    const message = await anthropic.messages.create(params);
    assert.deepEqual(message.content, [{ type: 'text', text: 'Bonjour from Claude' }]);
    const received = anthropicMock.received.at(-1)!;
    assert.equal(received.body.top_k, 5, 'fields Sluice does not model still reach the provider');
    assert.equal(received.body.model, 'claude-3-5-haiku-20241022');
    assert.equal(received.headers['x-api-key'], ANTHROPIC_UPSTREAM_KEY);
    const final = await anthropic.messages
      .stream({ model: 'claude-haiku', max_tokens: 64, messages: [{ role: 'user', content: 'Hello' }] })
      .finalMessage();
    assert.deepEqual(final.content, [{ type: 'text', text: 'Bonjour' }]);
    assert.equal(final.usage.output_tokens, 6);
  });

  test("the ledger prices each translated call with the provider's usage", async () => {
    const rows = await ledgerRows(sluice);
    const claude = rows.find((row) => row.api === 'openai' && row.provider === 'anthropic' && row.stream === 0 && row.input_tokens === 20);
    assert.ok(claude);
    assert.equal(claude.cost_micro_usd, Math.round(20 * 0.8 + 7 * 4));
    const streamed = rows.find((row) => row.api === 'anthropic' && row.provider === 'anthropic' && row.stream === 1);
    assert.equal(streamed?.input_tokens, 25);
    assert.equal(streamed?.output_tokens, 6);
    assert.equal(streamed?.tokens_estimated, 0);
  });
});

describe('content and disconnects', () => {
  let anthropicMock: MockProvider;
  let sluice: TestSluice;
  let upstreamClosed: Promise<void>;

  before(async () => {
    let signalClosed: () => void = () => {};
    upstreamClosed = new Promise((resolve) => (signalClosed = resolve));
    anthropicMock = await MockProvider.start((request, res) => {
      if (request.body.stream === true) {
        // An endless stream: only the client's going away ends it.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const frame of anthropicStreamFrames(['tick']).slice(0, 3)) res.write(frame);
        const timer = setInterval(
          () =>
            res.write(
              `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '.' } })}\n\n`,
            ),
          20,
        );
        res.on('close', () => {
          clearInterval(timer);
          signalClosed();
        });
        return;
      }
      json(res, 200, anthropicMessage('I see a cat'));
    });
    sluice = await startTestSluice({
      providers: { anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: ANTHROPIC_UPSTREAM_KEY } },
      models: [
        { name: 'claude-haiku', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
  });

  test('OpenAI image parts reach Anthropic as url and base64 image blocks', async () => {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    await openai.chat.completions.create({
      model: 'claude-haiku',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
      ],
    });
    const content = (anthropicMock.received.at(-1)!.body.messages as Array<{ content: unknown[] }>)[0]!.content;
    assert.deepEqual(content, [
      { type: 'text', text: 'What is in these?' },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    ]);
  });

  test('a client that disconnects mid-stream closes the upstream stream and is recorded as such', async () => {
    const controller = new AbortController();
    const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.checkout}` },
      body: JSON.stringify({ model: 'claude-haiku', stream: true, messages: [{ role: 'user', content: 'count forever' }] }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('"content":"."')) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await upstreamClosed;
    const rows = await ledgerRows(sluice);
    const row = rows.find((r) => r.stream === 1);
    assert.equal(row?.status, 499);
    assert.equal(row?.error_class, 'client_disconnected');
    assert.ok((row?.output_tokens ?? 0) > 0, 'what was streamed before the disconnect is still counted');
    assert.equal(row?.tokens_estimated, 1, 'and marked as counted by Sluice, not reported');
  });
});
