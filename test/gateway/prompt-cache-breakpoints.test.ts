// An Anthropic client's prompt-cache breakpoints (cache_control: {type: "ephemeral", ttl?} on a system block, a tool, a
// message's block, a tool result) on Claude reached by translation. Bedrock's Converse marks the same place with a
// cachePoint block after the content to cache ({type: "default", ttl?: "5m" | "1h"}, in system, messages and toolConfig's
// tools: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_CachePointBlock.html), for the models that
// cache (Claude from 3.5 Haiku and 3.7 Sonnet, Amazon Nova). Without them nothing is cached and every call of an agent
// (Claude Code marks its system prompt, tools and last turn) pays its whole prompt at the full input price.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseAnswer, startMockBedrock } from '../support/mock-bedrock.js';
import { json, type MockProvider } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const EPHEMERAL = { type: 'ephemeral' as const };
const HOUR = { type: 'ephemeral' as const, ttl: '1h' as const };

describe('prompt-cache breakpoints on Claude through Bedrock Converse', () => {
  let bedrockMock: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;

  before(async () => {
    bedrockMock = await startMockBedrock((_model, _stream, _request, res) =>
      json(res, 200, {
        ...converseAnswer('Done.'),
        usage: { inputTokens: 12, outputTokens: 3, cacheReadInputTokens: 2048, cacheWriteInputTokens: 100, totalTokens: 2163 },
      }),
    );
    sluice = await startTestSluice({
      providers: { bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS } },
      models: [
        { name: 'claude-bedrock', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
        { name: 'claude-3-bedrock', targets: [{ provider: 'bedrock', model: 'anthropic.claude-3-haiku-20240307-v1:0' }] },
        { name: 'llama-bedrock', targets: [{ provider: 'bedrock', model: 'meta.llama3-3-70b-instruct-v1:0' }] },
        // Never called: the test config's second consumer may use gpt-4o-mini.
        { name: 'gpt-4o-mini', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
      ],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await bedrockMock.close();
  });

  const lastBody = () => bedrockMock.received.at(-1)!.body;
  const ask = (model: string) =>
    anthropic.messages.create({
      model,
      max_tokens: 100,
      system: [
        { type: 'text', text: 'You are a coding agent.', cache_control: HOUR },
        { type: 'text', text: 'Today is Monday.' },
      ],
      tools: [
        { name: 'read', input_schema: { type: 'object', properties: { path: { type: 'string' } } } },
        { name: 'write', input_schema: { type: 'object', properties: { path: { type: 'string' } } }, cache_control: HOUR },
      ],
      messages: [
        { role: 'user', content: 'Read a.txt' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'read', input: { path: 'a.txt' } }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'hello', cache_control: EPHEMERAL },
            { type: 'text', text: 'Now write b.txt', cache_control: EPHEMERAL },
          ],
        },
      ],
    });

  test('cache_control reaches Claude as cachePoint blocks after what it marks, its ttl kept; the cache figures come back', async () => {
    const message = await ask('claude-bedrock');
    const sent = lastBody();
    assert.deepEqual(sent.system, [
      { text: 'You are a coding agent.' },
      { cachePoint: { type: 'default', ttl: '1h' } },
      { text: 'Today is Monday.' },
    ]);
    const tools = (sent.toolConfig as { tools: Array<Record<string, unknown>> }).tools;
    assert.deepEqual(
      tools.map((tool) => ('cachePoint' in tool ? tool : (tool.toolSpec as { name: string }).name)),
      ['read', 'write', { cachePoint: { type: 'default', ttl: '1h' } }],
    );
    const last = (sent.messages as Array<{ content: Array<Record<string, unknown>> }>).at(-1)!;
    assert.deepEqual(
      last.content.map((block) => Object.keys(block)[0]),
      ['toolResult', 'cachePoint', 'text', 'cachePoint'],
    );
    assert.deepEqual(last.content[1], { cachePoint: { type: 'default' } });
    assert.equal(message.usage.cache_read_input_tokens, 2048);
    assert.equal(message.usage.cache_creation_input_tokens, 100);
  });

  test('a Bedrock model that has no prompt caching (Claude 3 Haiku, Llama) is sent no cachePoint, the call served', async () => {
    for (const model of ['claude-3-bedrock', 'llama-bedrock']) {
      const message = await ask(model);
      assert.deepEqual(message.content, [{ type: 'text', text: 'Done.' }]);
      assert.equal(JSON.stringify(lastBody()).includes('cachePoint'), false, model);
    }
  });
});
