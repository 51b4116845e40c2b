// A client's "one tool call at a time" (OpenAI's parallel_tool_calls: false, Anthropic's
// tool_choice.disable_parallel_tool_use) reaches Claude on Bedrock. Converse's toolChoice has no such field; Claude takes
// its own tool_choice in additionalModelRequestFields, with a `type` (else "tool_choice.type: Field required") that
// matches Converse's toolChoice (a forced tool beside an "auto" there is refused): BerriAI/litellm#34347, #36536, run
// against Bedrock's Converse with Claude 4.5 and later. Other models, and older Claude ("extraneous key
// [disable_parallel_tool_use] is not permitted", anthropic-sdk-typescript#592), are sent nothing new.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startTranslatedTargets, type TranslatedTargets } from '../support/translated-targets.js';
import { KEYS } from '../support/sluice.js';

describe('parallel tool use turned off, to Claude on Bedrock', () => {
  let targets: TranslatedTargets;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    targets = await startTranslatedTargets();
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${targets.sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: targets.sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await targets.stop();
  });

  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];

  const cases: Array<[string, OpenAI.ChatCompletionToolChoiceOption | undefined, Record<string, unknown>]> = [
    ['no tool_choice', undefined, { type: 'auto', disable_parallel_tool_use: true }],
    ['auto', 'auto', { type: 'auto', disable_parallel_tool_use: true }],
    ['required', 'required', { type: 'any', disable_parallel_tool_use: true }],
    [
      'a named tool',
      { type: 'function', function: { name: 'get_weather' } },
      { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    ],
  ];
  for (const [name, choice, expected] of cases) {
    test(`an OpenAI client's parallel_tool_calls false with ${name}`, async () => {
      await openai.chat.completions.create({
        model: 'bedrock-claude',
        tools,
        ...(choice !== undefined && { tool_choice: choice }),
        parallel_tool_calls: false,
        messages: [{ role: 'user', content: 'Weather in Paris and Nice?' }],
      });
      const sent = targets.sent('bedrock-claude');
      assert.deepEqual((sent.additionalModelRequestFields as Record<string, unknown> | undefined)?.tool_choice, expected);
    });
  }

  test("an Anthropic client's disable_parallel_tool_use", async () => {
    await anthropic.messages.create({
      model: 'bedrock-claude',
      max_tokens: 100,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: 'Weather in Paris and Nice?' }],
    });
    const sent = targets.sent('bedrock-claude');
    assert.deepEqual(sent.toolConfig, {
      tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object' } } } }],
      toolChoice: { any: {} },
    });
    assert.deepEqual((sent.additionalModelRequestFields as Record<string, unknown>).tool_choice, {
      type: 'any',
      disable_parallel_tool_use: true,
    });
  });

  test('parallel calls left on, no tools, or another model: nothing added', async () => {
    await openai.chat.completions.create({ model: 'bedrock-claude', tools, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(targets.sent('bedrock-claude').additionalModelRequestFields, undefined);
    await openai.chat.completions.create({
      model: 'bedrock-claude',
      parallel_tool_calls: false,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(targets.sent('bedrock-claude').additionalModelRequestFields, undefined);
    await openai.chat.completions.create({
      model: 'bedrock-nova',
      tools,
      parallel_tool_calls: false,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(targets.sent('bedrock-nova').additionalModelRequestFields, undefined);
  });
});
