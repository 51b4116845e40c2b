// Empty content an OpenAI client's history may hold (an assistant turn of "", an empty text part) is accepted by OpenAI
// but refused by Anthropic, Bedrock and Gemini: the translation leaves it out rather than send what they refuse.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, startMockBedrock } from '../support/mock-bedrock.js';
import { anthropicMessage, json, MockProvider } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

/**
 * What the providers refuse, in their own words: a turn with no content, a blank text; Claude (Anthropic, Bedrock) also a
 * text of only whitespace and a last assistant turn (a prefill) whose text ends in whitespace.
 */
function emptiness(
  turns: Array<{ role?: string; content: unknown[] }>,
  textOf: (block: Record<string, unknown>) => unknown,
  claude = false,
): string | null {
  for (const [i, turn] of turns.entries()) {
    if (turn.content.length === 0) return `messages.${i}: all messages must have non-empty content`;
    for (const block of turn.content as Array<Record<string, unknown>>) {
      const text = textOf(block);
      if (text === '') return `messages.${i}: text content blocks must be non-empty`;
      if (claude && typeof text === 'string' && text.trim() === '') return `messages: text content blocks must contain non-whitespace text`;
    }
  }
  const last = turns.at(-1);
  const text = last?.role === 'assistant' ? textOf(last.content.at(-1) as Record<string, unknown>) : undefined;
  if (claude && typeof text === 'string' && text !== text.trimEnd())
    return 'messages: final assistant content cannot end with trailing whitespace';
  return null;
}

describe('empty content in a translated history', () => {
  let anthropicMock: MockProvider;
  let geminiMock: MockProvider;
  let bedrockMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      const problem = emptiness(request.body.messages as Array<{ content: unknown[] }>, (block) => block.text, true);
      if (problem !== null) return json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: problem } });
      return json(res, 200, anthropicMessage('from Claude'));
    });
    geminiMock = await MockProvider.start((request, res) => {
      const contents = (request.body.contents as Array<{ parts: unknown[] }>).map((turn) => ({ content: turn.parts }));
      const problem = emptiness(contents, (part) => part.text);
      if (problem !== null) return json(res, 400, { error: { code: 400, message: problem, status: 'INVALID_ARGUMENT' } });
      return json(res, 200, {
        candidates: [{ content: { role: 'model', parts: [{ text: 'from Gemini' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 },
      });
    });
    bedrockMock = await startMockBedrock((_model, _stream, request, res) => {
      const problem = emptiness(request.body.messages as Array<{ content: unknown[] }>, (block) => block.text, true);
      if (problem !== null) return json(res, 400, { message: problem }, { 'x-amzn-errortype': 'ValidationException' });
      return json(res, 200, {
        output: { message: { role: 'assistant', content: [{ text: 'from Bedrock' }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 },
      });
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'upstream-gemini-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      models: [
        { name: 'anthropic', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'bedrock', targets: [{ provider: 'bedrock', model: 'anthropic.claude-haiku-4-5-v1:0' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await geminiMock.close();
    await bedrockMock.close();
  });

  const history: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: '' },
    {
      role: 'user',
      content: [
        { type: 'text', text: '' },
        { type: 'text', text: 'Are you there?' },
      ],
    },
  ];

  for (const provider of ['anthropic', 'bedrock', 'gemini']) {
    test(`${provider}: an empty assistant turn and an empty text part are left out`, async () => {
      const completion = await openai.chat.completions.create({ model: provider, messages: history });
      assert.match(completion.choices[0]?.message.content ?? '', /^from /);
    });
  }

  // Claude refuses a text of only whitespace, and a prefill ending in it, which OpenAI takes.
  const blankHistory: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: ' \n' },
    {
      role: 'user',
      content: [
        { type: 'text', text: '\n\n' },
        { type: 'text', text: 'Say world' },
      ],
    },
    { role: 'assistant', content: 'Say: ' },
  ];

  for (const provider of ['anthropic', 'bedrock']) {
    test(`${provider}: texts of only whitespace are left out, and a prefill's trailing whitespace`, async () => {
      const completion = await openai.chat.completions.create({ model: provider, messages: blankHistory });
      assert.match(completion.choices[0]?.message.content ?? '', /^from /);
    });
  }

  test('bedrock: what is sent is the texts with words, the prefill without its trailing space', async () => {
    await openai.chat.completions.create({ model: 'bedrock', messages: blankHistory });
    assert.deepEqual(bedrockMock.received.at(-1)!.body.messages, [
      { role: 'user', content: [{ text: 'Hi' }, { text: 'Say world' }] },
      { role: 'assistant', content: [{ text: 'Say:' }] },
    ]);
  });

  test('anthropic: what is left is one user turn with the texts that have words', async () => {
    await openai.chat.completions.create({ model: 'anthropic', messages: history });
    assert.deepEqual(anthropicMock.received.at(-1)!.body.messages, [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Hi' },
          { type: 'text', text: 'Are you there?' },
        ],
      },
    ]);
  });
});
