// Parallel tool calls streamed by OpenAI-compatible servers that do not number them as OpenAI does (Ollama gives every
// call index 0, older builds no index at all), translated for an Anthropic client: each call stays its own tool_use.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { MockProvider, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const base = { id: 'chatcmpl-ollama', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'llama3.2' };

function chunk(delta: Record<string, unknown>, finish: string | null = null): string {
  return `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

/** Two whole calls, one chunk each, both numbered `index` (or not numbered when index is undefined). */
function frames(index: number | undefined): string[] {
  const call = (id: string, city: string) => ({
    ...(index !== undefined && { index }),
    id,
    type: 'function',
    function: { name: 'get_weather', arguments: JSON.stringify({ city }) },
  });
  return [
    chunk({ role: 'assistant', content: '', tool_calls: [call('call_paris', 'Paris')] }),
    chunk({ tool_calls: [call('call_tokyo', 'Tokyo')] }),
    chunk({}, 'tool_calls'),
    `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 40, completion_tokens: 20, total_tokens: 60 } })}\n\n`,
    'data: [DONE]\n\n',
  ];
}

describe('parallel tool calls from OpenAI-compatible streams', () => {
  let server: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;

  before(async () => {
    server = await MockProvider.start((request, res) => sse(res, frames(request.body.model === 'unnumbered' ? undefined : 0)));
    sluice = await startTestSluice({
      providers: { local: { type: 'openai', baseUrl: `${server.url}/v1`, apiKey: 'unused-local-key' } },
      models: [
        { name: 'ollama', targets: [{ provider: 'local', model: 'llama3.2' }] },
        { name: 'unnumbered', targets: [{ provider: 'local', model: 'unnumbered' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'local', model: 'llama3.2' }] },
      ],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await server.close();
  });

  for (const model of ['ollama', 'unnumbered']) {
    test(`${model === 'ollama' ? 'every call at index 0' : 'no index'}: two tool_use blocks with their own inputs`, async () => {
      const message = await anthropic.messages
        .stream({
          model,
          max_tokens: 200,
          tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
          messages: [{ role: 'user', content: 'Weather in Paris and Tokyo?' }],
        })
        .finalMessage();
      assert.deepEqual(
        message.content.map((block) => (block.type === 'tool_use' ? { id: block.id, input: block.input } : block.type)),
        [
          { id: 'call_paris', input: { city: 'Paris' } },
          { id: 'call_tokyo', input: { city: 'Tokyo' } },
        ],
      );
      assert.equal(message.stop_reason, 'tool_use');
    });
  }
});
