// A tool result of several text blocks (an Anthropic tool_result's content array, an OpenAI tool message's text parts)
// reaches each translated target with its blocks apart, as its API takes them, rather than run together with nothing
// between ("Sunny" and "22°C" as "Sunny22°C"): OpenAI a tool message of the texts a blank line apart (a string, as every
// server behind the openai type takes it), Claude a tool_result of text blocks, Gemini a functionResponse whose response
// holds the texts as a list (a Struct takes no run of texts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { KEYS } from '../support/sluice.js';
import { startTranslatedTargets, type TranslatedTargets } from '../support/translated-targets.js';

const TOOLS = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];

describe('tool results of several text blocks in translation', () => {
  let targets: TranslatedTargets;
  let anthropic: Anthropic;
  let openai: OpenAI;

  before(async () => {
    targets = await startTranslatedTargets();
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: targets.sluice.baseURL, maxRetries: 0 });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${targets.sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await targets.stop();
  });

  const ask = (model: string) =>
    anthropic.messages.create({
      model,
      max_tokens: 256,
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'Weather in Nice?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Nice' } }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [
                { type: 'text', text: 'Sunny' },
                { type: 'text', text: '22°C' },
              ],
            },
          ],
        },
      ],
    });

  test('OpenAI: a tool message of the texts a blank line apart', async () => {
    await ask('gpt');
    const tool = (targets.sent('gpt').messages as Array<Record<string, unknown>>).find((message) => message.role === 'tool');
    assert.deepEqual(tool, { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny\n\n22°C' });
  });

  test("Gemini: the texts as a list in the functionResponse's response", async () => {
    await ask('gemini');
    const contents = targets.sent('gemini').contents as Array<{ parts: Array<Record<string, unknown>> }>;
    assert.deepEqual(contents.at(-1)!.parts[0], { functionResponse: { name: 'get_weather', response: { content: ['Sunny', '22°C'] } } });
  });

  test("an OpenAI client's tool message of text parts reaches Claude as a tool_result of text blocks", async () => {
    await openai.chat.completions.create({
      model: 'vertex-claude',
      messages: [
        { role: 'user', content: 'Weather in Nice?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Nice"}' } }],
        },
        {
          role: 'tool',
          tool_call_id: 'call_1',
          content: [
            { type: 'text', text: 'Sunny' },
            { type: 'text', text: '22°C' },
          ],
        },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: TOOLS[0]!.input_schema } }],
    });
    const messages = targets.sent('vertex-claude').messages as Array<{ content: Array<Record<string, unknown>> }>;
    assert.deepEqual(messages.at(-1)!.content[0], {
      type: 'tool_result',
      tool_use_id: 'call_1',
      content: [
        { type: 'text', text: 'Sunny' },
        { type: 'text', text: '22°C' },
      ],
    });
  });
});
