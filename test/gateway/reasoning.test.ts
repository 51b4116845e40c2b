// Reasoning settings across the API shapes: OpenAI's reasoning_effort (Chat Completions) and reasoning.effort (Responses)
// reach Claude (Anthropic, Bedrock) as its thinking and Gemini as its thinkingConfig; an Anthropic client's thinking
// reaches OpenAI's reasoning models as reasoning_effort. The mock providers hold to the real APIs' rules and refuse
// what those would refuse (a budget not below max_tokens, temperature while thinking, a tool loop's last assistant turn
// without its thinking block).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, startMockBedrock } from '../support/mock-bedrock.js';
import { json, MockProvider, openaiCompletion, sse, sseEvent } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const SECRET_THOUGHT = 'I should not be shown as the answer';

function anthropicError(res: ServerResponse, message: string): void {
  json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message } });
}

type Block = Record<string, unknown>;

/** What Anthropic refuses of a request that thinks (https://platform.claude.com/docs/en/build-with-claude/extended-thinking). */
function thinkingRefusal(body: Record<string, unknown>): string | null {
  const thinking = body.thinking as Record<string, unknown> | undefined;
  const model = String(body.model);
  const adaptiveOnly = /claude-opus-4-7/.test(model);
  const takesAdaptive = /claude-(opus|sonnet)-4-[67]/.test(model);
  if (thinking === undefined) {
    if (body.output_config !== undefined && !takesAdaptive) return 'output_config: not supported by this model';
    return null;
  }
  if (/claude-3-5/.test(model)) return 'thinking: not supported by this model';
  if (thinking.type === 'enabled') {
    if (adaptiveOnly) return '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive"';
    const budget = thinking.budget_tokens as number;
    if (!(budget >= 1024)) return 'thinking.budget_tokens: Input should be greater than or equal to 1024';
    if (!(budget < (body.max_tokens as number))) return '`max_tokens` must be greater than `thinking.budget_tokens`';
  } else if (thinking.type === 'adaptive') {
    if (!takesAdaptive) return 'thinking.type: adaptive thinking is not supported on this model';
    const effort = (body.output_config as Record<string, unknown> | undefined)?.effort;
    if (effort === 'xhigh' && !adaptiveOnly) return 'output_config.effort: xhigh is not supported on this model';
  } else return `thinking.type: unknown ${String(thinking.type)}`;
  if (adaptiveOnly && (body.temperature !== undefined || body.top_p !== undefined)) return 'top_p: not supported on this model';
  if (body.temperature !== undefined) return '`temperature` may only be set to 1 when thinking is enabled';
  if (body.top_k !== undefined) return '`top_k` is not supported when thinking is enabled';
  if (body.top_p !== undefined && (body.top_p as number) < 0.95) return '`top_p` must be at least 0.95 when thinking is enabled';
  const choice = (body.tool_choice as Record<string, unknown> | undefined)?.type;
  if (choice === 'any' || choice === 'tool') return 'Thinking may not be enabled when tool_choice forces tool use.';
  const messages = body.messages as Array<{ role: string; content: Block[] }>;
  const last = messages.findLast((message) => message.role === 'assistant');
  if (last !== undefined && last.content.some((block) => block.type === 'tool_use') && last.content[0]?.type !== 'thinking')
    return 'messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.';
  return null;
}

/** A Claude answer: a signed thinking block first when thinking, then a tool call when tools are offered on a fresh turn. */
function claudeAnswer(body: Record<string, unknown>): { content: Block[]; stop: string } {
  const content: Block[] = [];
  const messages = body.messages as Array<{ role: string; content: Block[] }>;
  // The thinking repeats a code the question holds, for the output guardrail test.
  const code = /vault-\d{4}/.exec(String(messages[0]!.content[0]!.text))?.[0];
  if (body.thinking !== undefined)
    content.push({
      type: 'thinking',
      thinking: code === undefined ? SECRET_THOUGHT : `${SECRET_THOUGHT} ${code}`,
      signature: 'EqQBCkYIARgCIkD-signed',
    });
  const afterToolResult = messages.at(-1)!.content.some((block) => block.type === 'tool_result');
  if (Array.isArray(body.tools) && !afterToolResult) {
    const name = String((body.tools[0] as Block).name);
    content.push({ type: 'tool_use', id: 'toolu_1', name, input: name === 'get_weather' ? { city: 'Paris' } : { answer: 42 } });
    return { content, stop: 'tool_use' };
  }
  content.push({ type: 'text', text: afterToolResult ? 'It is sunny in Paris.' : 'The answer is 42.' });
  return { content, stop: 'end_turn' };
}

function claudeStream(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
  const { content, stop } = claudeAnswer(body);
  const frames = [
    sseEvent('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_think',
        type: 'message',
        role: 'assistant',
        model: body.model,
        content: [],
        stop_reason: null,
        usage: { input_tokens: 30, output_tokens: 1 },
      },
    }),
  ];
  content.forEach((block, index) => {
    if (block.type === 'thinking') {
      frames.push(
        sseEvent('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        }),
      );
      frames.push(
        sseEvent('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'thinking_delta', thinking: SECRET_THOUGHT },
        }),
      );
      frames.push(
        sseEvent('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'signature_delta', signature: 'EqQBCkYIARgCIkD-signed' },
        }),
      );
    } else if (block.type === 'text') {
      frames.push(sseEvent('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
      frames.push(sseEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } }));
    } else {
      frames.push(sseEvent('content_block_start', { type: 'content_block_start', index, content_block: { ...block, input: {} } }));
      frames.push(
        sseEvent('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) },
        }),
      );
    }
    frames.push(sseEvent('content_block_stop', { type: 'content_block_stop', index }));
  });
  frames.push(
    sseEvent('message_delta', { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 250 } }),
  );
  frames.push(sseEvent('message_stop', { type: 'message_stop' }));
  return sse(res, frames);
}

function geminiAnswer(path: string) {
  return {
    candidates: [
      {
        content: { role: 'model', parts: [{ text: SECRET_THOUGHT, thought: true }, { text: 'The answer is 42.' }] },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    // As Gemini reports them: the thoughts apart from the candidates, and billed as output too.
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 7, thoughtsTokenCount: 300, totalTokenCount: 319 },
    modelVersion: path.includes('gemini-3') ? 'gemini-3-pro-preview' : 'gemini-2.5-flash',
    responseId: 'resp-think',
  };
}

describe('reasoning settings across the API shapes', () => {
  let anthropicMock: MockProvider;
  let geminiMock: MockProvider;
  let openaiMock: MockProvider;
  let bedrockMock: Awaited<ReturnType<typeof startMockBedrock>>;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      const body = request.body;
      const refusal = thinkingRefusal(body);
      if (refusal !== null) return anthropicError(res, refusal);
      if (body.stream === true) return claudeStream(res, body);
      const { content, stop } = claudeAnswer(body);
      return json(res, 200, {
        id: 'msg_think',
        type: 'message',
        role: 'assistant',
        model: body.model,
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: { input_tokens: 30, output_tokens: 250 },
      });
    });
    geminiMock = await MockProvider.start((request, res) => {
      const config = (request.body.generationConfig ?? {}) as Record<string, unknown>;
      const thinking = config.thinkingConfig as Record<string, unknown> | undefined;
      // Gemini 3 Pro takes levels low and high; 2.5 Flash a budget from 0 to 24576.
      if (request.path.includes('gemini-3-pro') && thinking !== undefined && !['low', 'high'].includes(String(thinking.thinkingLevel)))
        return json(res, 400, { error: { code: 400, message: 'Invalid thinking level', status: 'INVALID_ARGUMENT' } });
      if (request.path.includes('gemini-2.5-flash') && thinking !== undefined && !((thinking.thinkingBudget as number) <= 24576))
        return json(res, 400, { error: { code: 400, message: 'Invalid thinking budget', status: 'INVALID_ARGUMENT' } });
      const answer = geminiAnswer(request.path);
      if (request.path.endsWith('alt=sse')) return sse(res, [`data: ${JSON.stringify(answer)}\r\n\r\n`]);
      return json(res, 200, answer);
    });
    openaiMock = await MockProvider.start((request, res) => {
      const body = request.body;
      if ((body.messages as Array<Record<string, unknown>>).some((message) => 'thinking_blocks' in message))
        return json(res, 400, {
          error: {
            message: "Additional properties are not allowed ('thinking_blocks' was unexpected)",
            type: 'invalid_request_error',
            param: 'messages',
            code: null,
          },
        });
      // As OpenAI does: reasoning_effort is for reasoning models only.
      if (body.reasoning_effort !== undefined && !/^(o\d|gpt-5)/.test(String(body.model)))
        return json(res, 400, {
          error: {
            message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
            type: 'invalid_request_error',
            param: 'reasoning_effort',
            code: 'unsupported_parameter',
          },
        });
      return json(res, 200, openaiCompletion('Hi from GPT', { prompt_tokens: 12, completion_tokens: 5 }, String(body.model)));
    });
    bedrockMock = await startMockBedrock((_modelId, stream, request, res) => {
      const thinking = (request.body.additionalModelRequestFields as Record<string, unknown> | undefined)?.thinking as
        Record<string, unknown> | undefined;
      const inference = (request.body.inferenceConfig ?? {}) as Record<string, unknown>;
      if (thinking !== undefined && thinking.type === 'enabled' && !((thinking.budget_tokens as number) < (inference.maxTokens as number)))
        return json(
          res,
          400,
          { message: 'max_tokens must be greater than thinking.budget_tokens' },
          { 'x-amzn-errortype': 'ValidationException' },
        );
      if (thinking !== undefined && inference.temperature !== undefined)
        return json(
          res,
          400,
          { message: 'temperature may only be set to 1 when thinking is enabled' },
          { 'x-amzn-errortype': 'ValidationException' },
        );
      const content = [
        ...(thinking === undefined ? [] : [{ reasoningContent: { reasoningText: { text: SECRET_THOUGHT, signature: 'sig' } } }]),
        { text: 'The answer is 42.' },
      ];
      if (!stream)
        return json(res, 200, {
          output: { message: { role: 'assistant', content } },
          stopReason: 'end_turn',
          usage: { inputTokens: 20, outputTokens: 210, totalTokens: 230 },
        });
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      const frames = [
        encodeAwsEvent('messageStart', { role: 'assistant' }),
        ...(thinking === undefined
          ? []
          : [encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: SECRET_THOUGHT } } })]),
        encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { text: 'The answer is 42.' } }),
        encodeAwsEvent('messageStop', { stopReason: 'end_turn' }),
        encodeAwsEvent('metadata', { usage: { inputTokens: 20, outputTokens: 210, totalTokens: 230 }, metrics: { latencyMs: 5 } }),
      ];
      for (const frame of frames) res.write(frame);
      res.end();
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'google-key-not-real' },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      models: [
        { name: 'claude-sonnet-4-5', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' }] },
        { name: 'claude-opus-4-6', targets: [{ provider: 'anthropic', model: 'claude-opus-4-6' }] },
        { name: 'claude-opus-4-7', targets: [{ provider: 'anthropic', model: 'claude-opus-4-7' }] },
        { name: 'claude-haiku-3-5', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
        { name: 'claude-bedrock', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
        { name: 'gemini-2.5-flash', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'gemini-3-pro', targets: [{ provider: 'gemini', model: 'gemini-3-pro-preview' }] },
        { name: 'gpt-5-mini', targets: [{ provider: 'openai', model: 'gpt-5-mini' }] },
        { name: 'o3', targets: [{ provider: 'openai', model: 'o3' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      guardrails: [
        { name: 'hide-vault-codes', mode: 'mask', on: 'output', patterns: ['vault-\\d{4}'] },
        { name: 'mask-emails', mode: 'mask', on: 'input', patterns: ['[a-z]+@example\\.com'] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await geminiMock.close();
    await openaiMock.close();
    await bedrockMock.close();
  });

  const lastBody = (mock: MockProvider): Record<string, unknown> => mock.received.at(-1)!.body;

  test('reasoning_effort reaches Claude Sonnet 4.5 as a thinking budget, with room to answer; the thinking is not the answer', async () => {
    const completion = await openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      reasoning_effort: 'high',
      temperature: 0.3,
      messages: [{ role: 'user', content: 'What is six times seven?' }],
    });
    assert.equal(completion.choices[0]?.message.content, 'The answer is 42.');
    const sent = lastBody(anthropicMock);
    assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: 16384 });
    assert.equal(sent.max_tokens, 16384 + 4096);
    // Claude takes no temperature while thinking: dropped rather than refused.
    assert.equal('temperature' in sent, false);
    // Anthropic's output_tokens include the thinking, with no split to report.
    assert.equal(completion.usage?.completion_tokens, 250);
    assert.equal(completion.usage?.completion_tokens_details, undefined);
  });

  test("the client's max_completion_tokens is kept, the budget under it; one too small for any budget is a 400 saying why", async () => {
    await openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      reasoning_effort: 'medium',
      max_completion_tokens: 3000,
      messages: [{ role: 'user', content: 'What is six times seven?' }],
    });
    const sent = lastBody(anthropicMock);
    assert.equal(sent.max_tokens, 3000);
    assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: 2999 });
    const before = anthropicMock.received.length;
    const error = await openai.chat.completions
      .create({
        model: 'claude-sonnet-4-5',
        reasoning_effort: 'low',
        max_completion_tokens: 800,
        messages: [{ role: 'user', content: 'Hi' }],
      })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match(error.message, /output token limit \(800\) leaves no room for reasoning/);
    assert.match(error.message, /reasoning_effort "none"/);
    assert.equal(anthropicMock.received.length, before, 'nothing sent upstream');
  });

  test('reasoning_effort "none" means no thinking; a Claude that does not think gets none', async () => {
    await openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      reasoning_effort: 'none',
      temperature: 0.3,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal('thinking' in lastBody(anthropicMock), false);
    assert.equal(lastBody(anthropicMock).temperature, 0.3);
    const completion = await openai.chat.completions.create({
      model: 'claude-haiku-3-5',
      reasoning_effort: 'high',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(completion.choices[0]?.message.content, 'The answer is 42.');
    assert.equal('thinking' in lastBody(anthropicMock), false);
  });

  test('Claude 4.6 and 4.7 get adaptive thinking with an effort level each takes', async () => {
    await openai.chat.completions.create({
      model: 'claude-opus-4-6',
      reasoning_effort: 'medium',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.deepEqual(lastBody(anthropicMock).thinking, { type: 'adaptive' });
    assert.deepEqual(lastBody(anthropicMock).output_config, { effort: 'medium' });
    await openai.chat.completions.create({
      model: 'claude-opus-4-6',
      reasoning_effort: 'xhigh',
      top_p: 0.97,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.deepEqual(lastBody(anthropicMock).output_config, { effort: 'max' });
    assert.equal(lastBody(anthropicMock).top_p, 0.97);
    const completion = await openai.chat.completions.create({
      model: 'claude-opus-4-7',
      reasoning_effort: 'xhigh',
      top_p: 0.97,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    // Claude Opus 4.7 refuses sampling settings at all.
    assert.equal('top_p' in lastBody(anthropicMock), false);
    assert.equal(completion.choices[0]?.message.content, 'The answer is 42.');
    assert.deepEqual(lastBody(anthropicMock).thinking, { type: 'adaptive' });
    assert.deepEqual(lastBody(anthropicMock).output_config, { effort: 'xhigh' });
    await openai.chat.completions.create({
      model: 'claude-opus-4-7',
      reasoning_effort: 'minimal',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.deepEqual(lastBody(anthropicMock).output_config, { effort: 'low' });
  });

  test('a streamed answer carries no thinking text in its content; the signed thinking comes whole in thinking_blocks', async () => {
    const stream = await openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      reasoning_effort: 'low',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'What is six times seven?' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let blocks: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      blocks ??= (chunk.choices[0]?.delta as { thinking_blocks?: unknown } | undefined)?.thinking_blocks;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'The answer is 42.');
    assert.deepEqual(blocks, [{ type: 'thinking', thinking: SECRET_THOUGHT, signature: 'EqQBCkYIARgCIkD-signed' }]);
    assert.equal(usage?.completion_tokens, 250);
    assert.deepEqual(lastBody(anthropicMock).thinking, { type: 'enabled', budget_tokens: 2048 });
  });

  test('a two-turn tool loop with reasoning_effort (openai SDK) keeps thinking: the signed thinking block goes out with the tool call and back with its result', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather by city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const signed = { type: 'thinking', thinking: SECRET_THOUGHT, signature: 'EqQBCkYIARgCIkD-signed' };
    for (const stream of [false, true]) {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
      const ask = () =>
        stream
          ? openai.chat.completions
              .stream({ model: 'claude-sonnet-4-5', reasoning_effort: 'medium', tools, messages })
              .finalChatCompletion()
          : openai.chat.completions.create({ model: 'claude-sonnet-4-5', reasoning_effort: 'medium', tools, messages });
      const first = await ask();
      assert.equal(lastBody(anthropicMock).thinking !== undefined, true, 'the first turn thinks');
      const message = first.choices[0]!.message;
      const call = message.tool_calls![0]!;
      assert.equal(call.type === 'function' && call.function.name, 'get_weather');
      assert.equal(message.content ?? '', '', 'the thinking is not the answer');
      assert.deepEqual((message as unknown as { thinking_blocks: unknown }).thinking_blocks, [signed]);
      // As apps do: the assistant message appended as it came, then the tool's result.
      messages.push(message as OpenAI.ChatCompletionMessageParam);
      messages.push({ role: 'tool', tool_call_id: call.id, content: '{"sky":"sunny"}' });
      const second = await ask();
      assert.equal(second.choices[0]?.message.content, 'It is sunny in Paris.');
      const sent = lastBody(anthropicMock);
      assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: 8192 });
      const assistant = (sent.messages as Array<{ role: string; content: Block[] }>)[1]!;
      assert.deepEqual(assistant.content[0], signed);
      assert.equal(assistant.content[1]?.type, 'tool_use');
    }
  });

  test('a tool loop whose client rebuilds the assistant turn without its thinking goes on without thinking, never refused', async () => {
    const second = await openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      reasoning_effort: 'medium',
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } }],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '{"sky":"sunny"}' },
      ],
    });
    assert.equal(second.choices[0]?.message.content, 'It is sunny in Paris.');
    assert.equal('thinking' in lastBody(anthropicMock), false);
  });

  test('thinking_blocks carried back are not sent to an OpenAI model, which knows no such field', async () => {
    await openai.chat.completions.create({
      model: 'gpt-5-mini',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: 'Sunny.',
          thinking_blocks: [{ type: 'thinking', thinking: 'x', signature: 'y' }],
        } as OpenAI.ChatCompletionMessageParam,
        { role: 'user', content: 'Thanks' },
      ],
    });
    const sent = lastBody(openaiMock).messages as Array<Record<string, unknown>>;
    assert.deepEqual(sent[1], { role: 'assistant', content: 'Sunny.' });
  });

  test('guardrails: an answer whose thinking a mask would change comes without thinking_blocks; carried-back blocks are not masked', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather at vault-1234?' }];
    const first = await openai.chat.completions.create({ model: 'claude-sonnet-4-5', reasoning_effort: 'low', tools, messages });
    const message = first.choices[0]!.message;
    assert.equal('thinking_blocks' in message, false, 'a masked block would fail its signature when it came back');
    assert.equal(message.tool_calls?.length, 1);
    messages.push(message as OpenAI.ChatCompletionMessageParam);
    messages.push({ role: 'tool', tool_call_id: message.tool_calls![0]!.id, content: 'sunny' });
    const second = await openai.chat.completions.create({ model: 'claude-sonnet-4-5', reasoning_effort: 'low', tools, messages });
    assert.equal(second.choices[0]?.message.content, 'It is sunny in Paris.');
    assert.equal('thinking' in lastBody(anthropicMock), false);

    const carried = { type: 'thinking', thinking: 'Mail bob@example.com about it.', signature: 'EqQBCkYIARgCIkD-signed' };
    await openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      reasoning_effort: 'low',
      tools,
      messages: [
        { role: 'user', content: 'Weather? I am bob@example.com' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
          thinking_blocks: [carried],
        } as OpenAI.ChatCompletionMessageParam,
        { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      ],
    });
    const sent = lastBody(anthropicMock).messages as Array<{ role: string; content: Block[] }>;
    assert.equal(sent[0]!.content[0]!.text, 'Weather? I am [REDACTED]');
    assert.deepEqual(sent[1]!.content[0], carried);
    assert.deepEqual(lastBody(anthropicMock).thinking, { type: 'enabled', budget_tokens: 2048 });
  });

  test('structured output (a forced tool for Claude) goes without thinking, which Claude refuses beside a forced tool', async () => {
    const completion = await openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      reasoning_effort: 'high',
      response_format: { type: 'json_object' },
      messages: [{ role: 'user', content: 'Give JSON' }],
    });
    assert.equal(completion.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(JSON.parse(completion.choices[0]?.message.content ?? ''), { answer: 42 });
    assert.equal('thinking' in lastBody(anthropicMock), false);
  });

  test('Bedrock Claude gets the thinking in additionalModelRequestFields; its reasoning text is not the answer', async () => {
    for (const stream of [false, true]) {
      let text = '';
      if (stream) {
        const chunks = await openai.chat.completions.create({
          model: 'claude-bedrock',
          reasoning_effort: 'low',
          temperature: 0.5,
          stream: true,
          messages: [{ role: 'user', content: 'Hi' }],
        });
        for await (const chunk of chunks) text += chunk.choices[0]?.delta.content ?? '';
      } else {
        const completion = await openai.chat.completions.create({
          model: 'claude-bedrock',
          reasoning_effort: 'low',
          temperature: 0.5,
          messages: [{ role: 'user', content: 'Hi' }],
        });
        text = completion.choices[0]?.message.content ?? '';
      }
      assert.equal(text, 'The answer is 42.');
      const sent = bedrockMock.received.at(-1)!.body;
      assert.deepEqual(sent.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2048 } });
      assert.deepEqual(sent.inferenceConfig, { maxTokens: 2048 + 4096 });
    }
  });

  test('Gemini 2.5 gets a thinking budget, Gemini 3 a level; thoughts are not the answer, and are counted and billed as output', async () => {
    const completion = await openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      reasoning_effort: 'medium',
      messages: [{ role: 'user', content: 'What is six times seven?' }],
    });
    assert.equal(completion.choices[0]?.message.content, 'The answer is 42.');
    // Asked for reasoning, the client is given Gemini's thoughts too, as reasoning_content (reasoning-across-apis.test.ts).
    assert.deepEqual((lastBody(geminiMock).generationConfig as Record<string, unknown>).thinkingConfig, {
      thinkingBudget: 8192,
      includeThoughts: true,
    });
    // candidatesTokenCount (7) leaves the thoughts (300) out; both are output.
    assert.equal(completion.usage?.completion_tokens, 307);
    assert.equal(completion.usage?.total_tokens, 319);
    assert.deepEqual(completion.usage?.completion_tokens_details, { reasoning_tokens: 300 });
    await openai.chat.completions.create({
      model: 'gemini-2.5-flash',
      reasoning_effort: 'none',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.deepEqual((lastBody(geminiMock).generationConfig as Record<string, unknown>).thinkingConfig, { thinkingBudget: 0 });

    const stream = await openai.chat.completions.create({
      model: 'gemini-3-pro',
      reasoning_effort: 'medium',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'What is six times seven?' }],
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'The answer is 42.');
    assert.deepEqual((lastBody(geminiMock).generationConfig as Record<string, unknown>).thinkingConfig, {
      thinkingLevel: 'high',
      includeThoughts: true,
    });
    assert.equal(usage?.completion_tokens, 307);
    assert.deepEqual(usage?.completion_tokens_details, { reasoning_tokens: 300 });

    // The ledger meters, and prices, the thoughts as output.
    const geminiRows = async () => (await ledgerRows(sluice)).filter((row) => row.requested_model?.startsWith('gemini'));
    await until('the Gemini calls are in the ledger', async () => (await geminiRows()).length >= 3);
    for (const row of await geminiRows()) assert.equal(row.output_tokens, 307);
  });

  test("the Responses API front door: reasoning.effort reaches Claude as thinking, and Gemini's reasoning tokens are reported", async () => {
    const response = await openai.responses.create({
      model: 'claude-sonnet-4-5',
      reasoning: { effort: 'low' },
      input: 'What is six times seven?',
    });
    assert.equal(response.output_text, 'The answer is 42.');
    assert.deepEqual(lastBody(anthropicMock).thinking, { type: 'enabled', budget_tokens: 2048 });
    const gemini = await openai.responses.create({ model: 'gemini-2.5-flash', reasoning: { effort: 'high' }, input: 'Hi' });
    assert.equal(gemini.output_text, 'The answer is 42.');
    assert.equal(gemini.usage?.output_tokens_details.reasoning_tokens, 300);
    assert.deepEqual((lastBody(geminiMock).generationConfig as Record<string, unknown>).thinkingConfig, { thinkingBudget: 24576 });
  });

  test("an Anthropic client's thinking reaches OpenAI reasoning models as reasoning_effort, and is left off for others", async () => {
    const ask = (model: string, thinking: Anthropic.ThinkingConfigParam, extra: Record<string, unknown> = {}) =>
      anthropic.messages.create({ model, max_tokens: 8000, thinking, messages: [{ role: 'user', content: 'Hi' }], ...extra });
    const answer = await ask('gpt-5-mini', { type: 'enabled', budget_tokens: 6000 });
    assert.equal(answer.content[0]?.type === 'text' && answer.content[0].text, 'Hi from GPT');
    assert.equal(lastBody(openaiMock).reasoning_effort, 'medium');
    assert.equal(lastBody(openaiMock).max_completion_tokens, 8000);
    await ask('gpt-5-mini', { type: 'disabled' });
    assert.equal(lastBody(openaiMock).reasoning_effort, 'minimal');
    await ask('o3', { type: 'enabled', budget_tokens: 1024 });
    assert.equal(lastBody(openaiMock).reasoning_effort, 'low');
    await ask('gpt-5-mini', { type: 'adaptive' } as unknown as Anthropic.ThinkingConfigParam, { output_config: { effort: 'low' } });
    assert.equal(lastBody(openaiMock).reasoning_effort, 'low');
    const plain = await ask('gpt-4o-mini', { type: 'enabled', budget_tokens: 6000 });
    assert.equal(plain.content[0]?.type, 'text');
    assert.equal('reasoning_effort' in lastBody(openaiMock), false);
  });

  test("an Anthropic client's thinking budget reaches Gemini 2.5 as its thinkingBudget, its thoughts given as a thinking block", async () => {
    const answer = await anthropic.messages.create({
      model: 'gemini-2.5-flash',
      max_tokens: 8000,
      thinking: { type: 'enabled', budget_tokens: 5000 },
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.deepEqual(
      answer.content.map((block) => block.type),
      ['thinking', 'text'],
    );
    assert.deepEqual((lastBody(geminiMock).generationConfig as Record<string, unknown>).thinkingConfig, {
      thinkingBudget: 5000,
      includeThoughts: true,
    });
  });

  test('an OpenAI client to an OpenAI model passes reasoning_effort through untouched; an unknown level is refused for translation', async () => {
    await openai.chat.completions.create({ model: 'gpt-5-mini', reasoning_effort: 'high', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(lastBody(openaiMock).reasoning_effort, 'high');
    const before = anthropicMock.received.length;
    const error = await openai.chat.completions
      .create({ model: 'claude-sonnet-4-5', reasoning_effort: 'ultra' as 'high', messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match(error.message, /reasoning_effort "ultra" is not translated/);
    assert.equal(anthropicMock.received.length, before);
  });
});
