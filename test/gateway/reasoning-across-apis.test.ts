// A model's reasoning reaches Chat Completions and Messages clients whichever provider gave it: an OpenAI-compatible
// server's reasoning_content (DeepSeek: api-docs.deepseek.com/guides/thinking_mode) or reasoning (vLLM from 0.11,
// OpenRouter), Gemini's thought parts (thought: true, asked for with thinkingConfig.includeThoughts), Claude's thinking.
// A Messages client that asked for thinking gets a `thinking` block (streamed as thinking_delta) with an empty signature,
// as no provider but Claude signs one; a Chat Completions client gets reasoning_content, DeepSeek's field (streamed as
// delta.reasoning_content). Unsigned blocks carried back never reach Claude, which refuses them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider, sse } from '../support/mock-provider.js';
import { claudeThinkingStream, geminiThinkingAnswer } from '../support/reasoning-answers.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const REASONING = 'The user asks for 6 x 7; that is 42.';
const SUMMARY = '**Multiplying**\n\nSix sevens make forty-two.';
const THOUGHT = 'Claude weighs the question.';
/** The reasoning of a question about the vault: an output guardrail masks the code, in the reasoning too. */
const VAULT = 'The code is vault-1234.';
const SIGNATURE = 'EqQBCkYIARgCIkD-signed-by-claude';

type Block = Record<string, unknown>;

/** The field a compatible server puts its reasoning in: DeepSeek's reasoning_content, vLLM's (and OpenRouter's) reasoning. */
function reasoningField(model: unknown): string {
  return model === 'qwen3-32b' ? 'reasoning' : 'reasoning_content';
}

const COMPATIBLE_USAGE = {
  prompt_tokens: 11,
  completion_tokens: 90,
  total_tokens: 101,
  completion_tokens_details: { reasoning_tokens: 70 },
};

function compatibleChunk(model: unknown, delta: Block, finish: string | null = null): string {
  const choices = [{ index: 0, delta, finish_reason: finish }];
  return `data: ${JSON.stringify({ id: 'cmpl-r1', object: 'chat.completion.chunk', created: 1, model, choices })}\n\n`;
}

const CLAUDE_STREAM = claudeThinkingStream(THOUGHT, SIGNATURE, 10);

describe('reasoning reaches Chat Completions and Messages clients from every provider', () => {
  const mocks: MockProvider[] = [];
  let compatibleMock: MockProvider;
  let geminiMock: MockProvider;
  let anthropicMock: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;
  let openai: OpenAI;

  before(async () => {
    compatibleMock = await MockProvider.start((request, res) => {
      const model = request.body.model;
      const field = reasoningField(model);
      const history = request.body.messages as Block[];
      if (String(model).startsWith('gpt-') && history.some((message) => 'reasoning_content' in message))
        // OpenAI's own models take no reasoning in messages.
        return json(res, 400, {
          error: { message: "Unrecognized request argument supplied: 'reasoning_content'", type: 'invalid_request_error' },
        });
      const toolTurn = history.find((message) => message.role === 'assistant' && message.tool_calls !== undefined);
      // DeepSeek's thinking mode with tools: the reasoning of a turn that called tools must come back with it.
      if (toolTurn !== undefined && toolTurn.reasoning_content !== REASONING)
        return json(res, 400, {
          error: { message: 'reasoning_content of the tool-calling turn is missing', type: 'invalid_request_error' },
        });
      if (request.body.tools !== undefined && toolTurn === undefined) {
        const call = { id: 'call_00_weather', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
        return json(res, 200, {
          id: 'cmpl-r2',
          object: 'chat.completion',
          created: 1,
          model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: null, reasoning_content: REASONING, tool_calls: [call] },
              finish_reason: 'tool_calls',
            },
          ],
          usage: COMPATIBLE_USAGE,
        });
      }
      const reasoning = JSON.stringify(request.body.messages).includes('vault') ? VAULT : REASONING;
      if (request.body.stream === true) {
        return sse(res, [
          compatibleChunk(model, { role: 'assistant', content: null, [field]: '' }),
          compatibleChunk(model, { [field]: REASONING.slice(0, 15) }),
          compatibleChunk(model, { [field]: REASONING.slice(15) }),
          compatibleChunk(model, { content: '42' }),
          compatibleChunk(model, {}, 'stop'),
          `data: ${JSON.stringify({ id: 'cmpl-r1', object: 'chat.completion.chunk', created: 1, model, choices: [], usage: COMPATIBLE_USAGE })}\n\n`,
          'data: [DONE]\n\n',
        ]);
      }
      json(res, 200, {
        id: 'cmpl-r1',
        object: 'chat.completion',
        created: 1,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: '42', [field]: reasoning }, finish_reason: 'stop' }],
        usage: COMPATIBLE_USAGE,
      });
    });
    geminiMock = await MockProvider.start((request, res) => {
      // Gemini gives thought summaries only when asked for them.
      const config = (request.body.generationConfig as { thinkingConfig?: Block } | undefined)?.thinkingConfig;
      const thoughts = config?.includeThoughts === true;
      const thought = { text: JSON.stringify(request.body.contents).includes('vault') ? VAULT : SUMMARY, thought: true };
      if (request.path.endsWith(':streamGenerateContent?alt=sse')) {
        return sse(res, [
          ...(thoughts
            ? [
                `data: ${JSON.stringify(geminiThinkingAnswer([{ ...thought, text: SUMMARY.slice(0, 20) }], false))}\r\n\r\n`,
                `data: ${JSON.stringify(geminiThinkingAnswer([{ ...thought, text: SUMMARY.slice(20) }], false))}\r\n\r\n`,
              ]
            : []),
          `data: ${JSON.stringify(geminiThinkingAnswer([{ text: '42' }], true))}\r\n\r\n`,
        ]);
      }
      json(res, 200, geminiThinkingAnswer([...(thoughts ? [thought] : []), { text: '42' }], true));
    });
    anthropicMock = await MockProvider.start((request, res) => {
      // Claude refuses a thinking block it did not sign ("messages.1.content.0.thinking.signature: Field required").
      for (const message of request.body.messages as Array<{ content: unknown }>) {
        for (const block of Array.isArray(message.content) ? (message.content as Block[]) : []) {
          if (block.type === 'thinking' && (typeof block.signature !== 'string' || block.signature === ''))
            return json(res, 400, {
              type: 'error',
              error: { type: 'invalid_request_error', message: 'Invalid `signature` in `thinking` block' },
            });
        }
      }
      if (request.body.stream === true) return sse(res, CLAUDE_STREAM);
      json(res, 200, {
        id: 'msg_thinks',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [
          { type: 'thinking', thinking: THOUGHT, signature: SIGNATURE },
          { type: 'text', text: '42' },
        ],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 30, output_tokens: 60 },
      });
    });
    mocks.push(compatibleMock, geminiMock, anthropicMock);
    sluice = await startTestSluice({
      providers: {
        deepseek: { type: 'openai', baseUrl: compatibleMock.url, apiKey: 'deepseek-test-key-not-real' },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'google-test-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
      },
      models: [
        { name: 'deepseek', targets: [{ provider: 'deepseek', model: 'deepseek-v4-flash' }] },
        { name: 'qwen', targets: [{ provider: 'deepseek', model: 'qwen3-32b' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'deepseek', model: 'deepseek-v4-flash' }] },
        { name: 'gpt', targets: [{ provider: 'deepseek', model: 'gpt-4.1' }] },
      ],
      guardrails: [{ name: 'hide-vault-codes', mode: 'mask', on: 'output', patterns: ['vault-\\d{4}'] }],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all(mocks.map((mock) => mock.close()));
  });

  const thinking = { type: 'enabled', budget_tokens: 2048 } as const;

  for (const model of ['deepseek', 'qwen']) {
    test(`Messages client, thinking on, of an OpenAI-compatible server (${model}): a thinking block, whole and streamed`, async () => {
      const whole = await anthropic.messages.create({ model, max_tokens: 4096, thinking, messages: [{ role: 'user', content: '6 x 7?' }] });
      assert.deepEqual(whole.content, [
        { type: 'thinking', thinking: REASONING, signature: '' },
        { type: 'text', text: '42' },
      ]);
      assert.equal(whole.usage.output_tokens, 90);

      const stream = anthropic.messages.stream({ model, max_tokens: 4096, thinking, messages: [{ role: 'user', content: '6 x 7?' }] });
      const deltas: string[] = [];
      stream.on('thinking', (delta) => deltas.push(delta));
      const final = await stream.finalMessage();
      assert.deepEqual(deltas, [REASONING.slice(0, 15), REASONING.slice(15)]);
      assert.deepEqual(final.content, [
        { type: 'thinking', thinking: REASONING, signature: '' },
        { type: 'text', text: '42' },
      ]);
      // The reasoning is output: the ledger counts the tokens the server reported, reasoning included.
      const row = (await ledgerRows(sluice)).at(-1)!;
      assert.equal(row.output_tokens, 90);
      assert.equal(row.tokens_estimated, 0);
    });
  }

  test('Messages client without thinking gets no thinking block (as from Claude)', async () => {
    const whole = await anthropic.messages.create({ model: 'deepseek', max_tokens: 256, messages: [{ role: 'user', content: '6 x 7?' }] });
    assert.deepEqual(whole.content, [{ type: 'text', text: '42' }]);
    const final = await anthropic.messages
      .stream({ model: 'deepseek', max_tokens: 256, messages: [{ role: 'user', content: '6 x 7?' }] })
      .finalMessage();
    assert.deepEqual(
      final.content.map((block) => block.type),
      ['text'],
    );
  });

  test('Messages client, thinking on, of Gemini: Gemini is asked for its thoughts, given as a thinking block', async () => {
    const whole = await anthropic.messages.create({
      model: 'gemini',
      max_tokens: 4096,
      thinking,
      messages: [{ role: 'user', content: '6 x 7?' }],
    });
    const sent = geminiMock.received.at(-1)!.body as { generationConfig: { thinkingConfig: Block } };
    assert.equal(sent.generationConfig.thinkingConfig.includeThoughts, true);
    assert.deepEqual(whole.content, [
      { type: 'thinking', thinking: SUMMARY, signature: '' },
      { type: 'text', text: '42' },
    ]);
    const stream = anthropic.messages.stream({
      model: 'gemini',
      max_tokens: 4096,
      thinking,
      messages: [{ role: 'user', content: '6 x 7?' }],
    });
    const deltas: string[] = [];
    stream.on('thinking', (delta) => deltas.push(delta));
    const final = await stream.finalMessage();
    assert.deepEqual(deltas, [SUMMARY.slice(0, 20), SUMMARY.slice(20)]);
    assert.equal((final.content[0] as Anthropic.ThinkingBlock).thinking, SUMMARY);
    // thinking display "omitted": no thoughts asked for.
    await anthropic.messages.create({
      model: 'gemini',
      max_tokens: 4096,
      thinking: { ...thinking, display: 'omitted' } as Anthropic.ThinkingConfigEnabled,
      messages: [{ role: 'user', content: '6 x 7?' }],
    });
    assert.equal((geminiMock.received.at(-1)!.body as typeof sent).generationConfig.thinkingConfig.includeThoughts, undefined);
  });

  test('an unsigned thinking block carried back goes to no Claude, whose signed one still does', async () => {
    const first = await anthropic.messages.create({
      model: 'gemini',
      max_tokens: 4096,
      thinking,
      messages: [{ role: 'user', content: '6 x 7?' }],
    });
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: '6 x 7?' },
      { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
      { role: 'user', content: 'And 6 x 8?' },
    ];
    // The conversation goes on with Claude (a fallback, a switch of model): Anthropic's API passed through.
    const second = await anthropic.messages.create({ model: 'claude', max_tokens: 4096, thinking, messages });
    assert.equal((second.content[0] as Anthropic.ThinkingBlock).signature, SIGNATURE);
    const sent = anthropicMock.received.at(-1)!.body as { messages: Array<{ content: Block[] }> };
    assert.deepEqual(sent.messages[1]!.content, [{ type: 'text', text: '42' }]);
    // Claude's own signed block goes back as it came.
    await anthropic.messages.create({
      model: 'claude',
      max_tokens: 4096,
      thinking,
      messages: [
        { role: 'user', content: '6 x 7?' },
        { role: 'assistant', content: second.content as Anthropic.ContentBlockParam[] },
        { role: 'user', content: 'Thanks.' },
      ],
    });
    const again = anthropicMock.received.at(-1)!.body as { messages: Array<{ content: Block[] }> };
    assert.deepEqual(again.messages[1]!.content[0], { type: 'thinking', thinking: THOUGHT, signature: SIGNATURE });
  });

  test('Chat Completions client of Claude: reasoning_content beside thinking_blocks, whole and streamed', async () => {
    const whole = await openai.chat.completions.create({
      model: 'claude',
      reasoning_effort: 'low',
      messages: [{ role: 'user', content: '6 x 7?' }],
    });
    const message = whole.choices[0]!.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string; thinking_blocks?: Block[] };
    assert.equal(message.reasoning_content, THOUGHT);
    assert.equal(message.content, '42');
    assert.deepEqual(message.thinking_blocks, [{ type: 'thinking', thinking: THOUGHT, signature: SIGNATURE }]);

    let streamed = '';
    let content = '';
    for await (const chunk of await openai.chat.completions.create({
      model: 'claude',
      reasoning_effort: 'low',
      stream: true,
      messages: [{ role: 'user', content: '6 x 7?' }],
    })) {
      const delta = chunk.choices[0]?.delta as { reasoning_content?: string; content?: string | null } | undefined;
      if (typeof delta?.reasoning_content === 'string') {
        assert.equal(content, '', 'the reasoning comes before the answer');
        streamed += delta.reasoning_content;
      }
      if (typeof delta?.content === 'string') content += delta.content;
    }
    assert.equal(streamed, THOUGHT);
    assert.equal(content, '42');
  });

  test("Chat Completions client of Gemini asking reasoning_effort: reasoning_content from Gemini's thoughts, reasoning_tokens in usage", async () => {
    const whole = await openai.chat.completions.create({
      model: 'gemini',
      reasoning_effort: 'low',
      messages: [{ role: 'user', content: '6 x 7?' }],
    });
    const sent = geminiMock.received.at(-1)!.body as { generationConfig: { thinkingConfig: Block } };
    assert.equal(sent.generationConfig.thinkingConfig.includeThoughts, true);
    assert.equal((whole.choices[0]!.message as { reasoning_content?: string }).reasoning_content, SUMMARY);
    assert.equal(whole.choices[0]!.message.content, '42');
    assert.equal(whole.usage?.completion_tokens_details?.reasoning_tokens, 40);
    assert.equal(whole.usage?.completion_tokens, 42);

    let streamed = '';
    for await (const chunk of await openai.chat.completions.create({
      model: 'gemini',
      reasoning_effort: 'low',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: '6 x 7?' }],
    })) {
      const delta = chunk.choices[0]?.delta as { reasoning_content?: string } | undefined;
      if (typeof delta?.reasoning_content === 'string') streamed += delta.reasoning_content;
    }
    assert.equal(streamed, SUMMARY);
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.output_tokens, 42, 'thoughts counted as output');

    // reasoning_effort none: no thoughts asked for.
    await openai.chat.completions.create({ model: 'gemini', reasoning_effort: 'none', messages: [{ role: 'user', content: '6 x 7?' }] });
    assert.notEqual((geminiMock.received.at(-1)!.body as typeof sent).generationConfig.thinkingConfig.includeThoughts, true);
  });

  test('an output guardrail masks the reasoning as it does the answer: reasoning_content, and a thinking block no one signed', async () => {
    const question = [{ role: 'user' as const, content: 'The vault code?' }];
    // Passed through from an OpenAI-compatible server, and translated from Gemini.
    for (const model of ['deepseek', 'gemini']) {
      const whole = await openai.chat.completions.create({ model, reasoning_effort: 'low', messages: question });
      const reasoning = (whole.choices[0]!.message as { reasoning_content?: string }).reasoning_content;
      assert.equal(typeof reasoning, 'string', model);
      assert.doesNotMatch(reasoning!, /vault-1234/, model);
    }
    const message = await anthropic.messages.create({ model: 'gemini', max_tokens: 4096, thinking, messages: question });
    assert.equal(message.content[0]!.type, 'thinking');
    assert.doesNotMatch((message.content[0] as Anthropic.ThinkingBlock).thinking, /vault-1234/);
  });

  test("a Messages client's tool loop over DeepSeek's thinking mode gives the tool-calling turn's reasoning back", async () => {
    const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await anthropic.messages.create({ model: 'deepseek', max_tokens: 4096, thinking, tools, messages });
    assert.deepEqual(
      first.content.map((block) => block.type),
      ['thinking', 'tool_use'],
    );
    const call = first.content[1] as Anthropic.ToolUseBlock;
    const second = await anthropic.messages.create({
      model: 'deepseek',
      max_tokens: 4096,
      thinking,
      tools,
      messages: [
        ...messages,
        { role: 'assistant', content: first.content as Anthropic.ContentBlockParam[] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny' }] },
      ],
    });
    assert.equal((second.content.at(-1) as Anthropic.TextBlock).text, '42');
    const sent = compatibleMock.received.at(-1)!.body as { messages: Block[] };
    assert.equal(sent.messages[1]!.reasoning_content, REASONING);
  });

  test("a Chat client's reasoning_content carried back is passed through to a compatible server, and kept from OpenAI's models", async () => {
    const first = await openai.chat.completions.create({
      model: 'claude',
      reasoning_effort: 'low',
      messages: [{ role: 'user', content: '6 x 7?' }],
    });
    const messages = [
      { role: 'user', content: '6 x 7?' },
      first.choices[0]!.message,
      { role: 'user', content: 'And 6 x 8?' },
    ] as OpenAI.ChatCompletionMessageParam[];
    for (const model of ['gpt', 'deepseek']) {
      const answer = await openai.chat.completions.create({ model, messages });
      assert.equal(answer.choices[0]!.message.content, '42', model);
    }
    const kept = compatibleMock.received.at(-1)!.body as { messages: Block[] };
    assert.equal(kept.messages[1]!.reasoning_content, THOUGHT);
  });
});
