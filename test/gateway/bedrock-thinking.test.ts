// Claude's signed thinking on Bedrock: Converse answers it as reasoningContent blocks (reasoningText {text, signature},
// or redactedContent; streamed, contentBlockDelta.delta.reasoningContent pieces) and, thinking on, refuses a tool loop
// whose last assistant turn does not start with them
// (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ReasoningContentBlock.html). An OpenAI client gets
// them in thinking_blocks, as from Anthropic, and an Anthropic client thinking and redacted_thinking content blocks, as
// Anthropic's own answers carry them; a tool loop that carries them back keeps thinking.
import Anthropic from '@anthropic-ai/sdk';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, sendFrames, startMockBedrock } from '../support/mock-bedrock.js';
import { json, type MockProvider } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

type Block = Record<string, unknown>;
type Message = { role: string; content: Block[] };

const THOUGHT = 'The user wants the weather; I should call get_weather.';
const SIGNATURE = 'EqQBCkYIARgCIkD-bedrock-signed';
const REDACTED = Buffer.from('encrypted thinking').toString('base64');
const SIGNED = { reasoningContent: { reasoningText: { text: THOUGHT, signature: SIGNATURE } } };
const HIDDEN = { reasoningContent: { redactedContent: REDACTED } };

function validationError(res: ServerResponse, message: string): void {
  json(res, 400, { message }, { 'x-amzn-errortype': 'ValidationException' });
}

/** What Converse refuses of a thinking request's history, as Claude does. */
function historyRefusal(body: Record<string, unknown>): string | null {
  const thinking = (body.additionalModelRequestFields as Block | undefined)?.thinking;
  const messages = body.messages as Message[];
  const last = messages.findLast((message) => message.role === 'assistant');
  if (thinking === undefined || last === undefined || !last.content.some((block) => 'toolUse' in block)) return null;
  if (!('reasoningContent' in last.content[0]!))
    return 'The model returned the following errors: messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block.';
  if (JSON.stringify(last.content.slice(0, 2)) !== JSON.stringify([SIGNED, HIDDEN]))
    return 'The model returned the following errors: messages.1.content.0: Invalid `signature` in `thinking` block';
  return null;
}

describe('Claude thinking through Bedrock Converse', () => {
  let bedrockMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    bedrockMock = await startMockBedrock((_model, stream, request, res) => {
      const body = request.body;
      const refusal = historyRefusal(body);
      if (refusal !== null) return validationError(res, refusal);
      const thinks = (body.additionalModelRequestFields as Block | undefined)?.thinking !== undefined;
      const messages = body.messages as Message[];
      const afterResult = messages.at(-1)!.content.some((block) => 'toolResult' in block);
      const usage = { inputTokens: 40, outputTokens: 300, totalTokens: 340 };
      if (!stream) {
        const content: Block[] = thinks ? [SIGNED, HIDDEN] : [];
        if (afterResult) content.push({ text: 'It is sunny in Paris.' });
        else content.push({ toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } });
        return json(res, 200, {
          output: { message: { role: 'assistant', content } },
          stopReason: afterResult ? 'end_turn' : 'tool_use',
          usage,
        });
      }
      const delta = (index: number, value: Block) => encodeAwsEvent('contentBlockDelta', { contentBlockIndex: index, delta: value });
      const frames = [encodeAwsEvent('messageStart', { role: 'assistant' })];
      let index = 0;
      if (thinks) {
        frames.push(
          delta(0, { reasoningContent: { text: THOUGHT.slice(0, 20) } }),
          delta(0, { reasoningContent: { text: THOUGHT.slice(20) } }),
          delta(0, { reasoningContent: { signature: SIGNATURE } }),
          encodeAwsEvent('contentBlockStop', { contentBlockIndex: 0 }),
          delta(1, { reasoningContent: { redactedContent: REDACTED } }),
          encodeAwsEvent('contentBlockStop', { contentBlockIndex: 1 }),
        );
        index = 2;
      }
      if (afterResult) frames.push(delta(index, { text: 'It is sunny in Paris.' }));
      else
        frames.push(
          encodeAwsEvent('contentBlockStart', {
            contentBlockIndex: index,
            start: { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather' } },
          }),
          delta(index, { toolUse: { input: '{"city":"Paris"}' } }),
        );
      frames.push(
        encodeAwsEvent('contentBlockStop', { contentBlockIndex: index }),
        encodeAwsEvent('messageStop', { stopReason: afterResult ? 'end_turn' : 'tool_use' }),
        encodeAwsEvent('metadata', { usage, metrics: { latencyMs: 5 } }),
      );
      return sendFrames(res, frames);
    });
    sluice = await startTestSluice({
      providers: { bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS } },
      models: [
        { name: 'claude-bedrock', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
        // Never called: the test config's second consumer may use gpt-4o-mini.
        { name: 'gpt-4o-mini', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await bedrockMock.close();
  });

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
  const lastBody = () => bedrockMock.received.at(-1)!.body;

  for (const stream of [false, true])
    test(`a two-turn tool loop with reasoning_effort keeps thinking: thinking_blocks out with the call, back at the head of the turn${stream ? ' (streamed)' : ''}`, async () => {
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
      const ask = () =>
        stream
          ? openai.chat.completions.stream({ model: 'claude-bedrock', reasoning_effort: 'medium', tools, messages }).finalChatCompletion()
          : openai.chat.completions.create({ model: 'claude-bedrock', reasoning_effort: 'medium', tools, messages });
      const first = await ask();
      const message = first.choices[0]!.message;
      assert.equal(message.content ?? '', '', 'the thinking is not the answer');
      assert.deepEqual((message as unknown as { thinking_blocks: unknown }).thinking_blocks, [
        { type: 'thinking', thinking: THOUGHT, signature: SIGNATURE },
        { type: 'redacted_thinking', data: REDACTED },
      ]);
      const call = message.tool_calls![0]!;
      assert.equal(call.type === 'function' && call.function.arguments, '{"city":"Paris"}');
      // As apps do: the assistant message appended as it came, then the tool's result.
      messages.push(message as OpenAI.ChatCompletionMessageParam);
      messages.push({ role: 'tool', tool_call_id: call.id, content: '{"sky":"sunny"}' });
      const second = await ask();
      assert.equal(second.choices[0]?.message.content, 'It is sunny in Paris.');
      const sent = lastBody();
      assert.deepEqual(sent.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 8192 } });
      const assistant = (sent.messages as Message[])[1]!;
      assert.deepEqual(assistant.content, [
        SIGNED,
        HIDDEN,
        { toolUse: { toolUseId: call.id, name: 'get_weather', input: { city: 'Paris' } } },
      ]);
    });

  // Anthropic's SDK types (ThinkingBlock {thinking, signature}, RedactedThinkingBlock {data}; streamed as thinking_delta and
  // signature_delta, a redacted block whole in its content_block_start): what Claude Code reads and carries back.
  for (const stream of [false, true])
    test(`Anthropic SDK: a two-turn tool loop with thinking gets the signed thinking blocks and keeps thinking with them${stream ? ' (streamed)' : ''}`, async () => {
      const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
      const anthropicTools: Anthropic.Tool[] = [
        { name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      ];
      const params = () => ({
        model: 'claude-bedrock',
        max_tokens: 16000,
        thinking: { type: 'enabled' as const, budget_tokens: 8192 },
        tools: anthropicTools,
        messages,
      });
      const ask = () => (stream ? anthropic.messages.stream(params()).finalMessage() : anthropic.messages.create(params()));
      const first = await ask();
      assert.equal(first.stop_reason, 'tool_use');
      assert.deepEqual(first.content.slice(0, 2), [
        { type: 'thinking', thinking: THOUGHT, signature: SIGNATURE },
        { type: 'redacted_thinking', data: REDACTED },
      ]);
      const use = first.content[2]!;
      assert.equal(use.type, 'tool_use');
      assert.deepEqual(use.type === 'tool_use' && use.input, { city: 'Paris' });
      // As Claude Code does: the assistant's content carried back as it came, then the tool's result.
      messages.push({ role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] });
      messages.push({
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: use.type === 'tool_use' ? use.id : '', content: '{"sky":"sunny"}' }],
      });
      const second = await ask();
      assert.deepEqual(second.content.at(-1), { type: 'text', text: 'It is sunny in Paris.' });
      const sent = lastBody();
      assert.deepEqual(sent.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 8192 } });
      const assistant = (sent.messages as Message[])[1]!;
      assert.deepEqual(assistant.content, [
        SIGNED,
        HIDDEN,
        { toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Paris' } } },
      ]);
    });

  test('thinking_blocks carried back without thinking asked for are not sent (Converse takes them only while thinking)', async () => {
    const completion = await openai.chat.completions.create({
      model: 'claude-bedrock',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          thinking_blocks: [{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }],
        } as OpenAI.ChatCompletionMessageParam,
        { role: 'tool', tool_call_id: 'tooluse_1', content: '{"sky":"sunny"}' },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, 'It is sunny in Paris.');
    assert.equal(lastBody().additionalModelRequestFields, undefined);
    assert.equal(JSON.stringify(lastBody().messages).includes('reasoningContent'), false);
  });
});
