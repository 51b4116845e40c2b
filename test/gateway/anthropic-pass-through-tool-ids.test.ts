// An Anthropic client keeps the tool_use ids Sluice gave it; when its model's target is an OpenAI-compatible server,
// those are the server's own, such as Kimi's `functions.get_weather:0`. Anthropic takes only ids of letters, digits, `_`
// and `-` ("messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"), so the client's own
// body, passed through to Anthropic when the conversation falls back there, must carry them as Claude takes them, the
// same for a call and its result, as the translated bodies already do (claudeToolUseId).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicMessage, json, MockProvider, openaiToolCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const ID = /^[a-zA-Z0-9_-]+$/;

describe("an Anthropic client's tool ids from another provider, passed through to Anthropic", () => {
  let kimi: MockProvider;
  let claude: MockProvider;
  let sluice: TestSluice;
  let anthropic: Anthropic;
  let kimiDown = false;

  before(async () => {
    kimi = await MockProvider.start((_request, res) => {
      if (kimiDown) return json(res, 503, { error: { message: 'overloaded', type: 'server_error', code: null } });
      const completion = openaiToolCompletion('get_weather', '{"city":"Paris"}');
      completion.choices[0]!.message.tool_calls[0]!.id = 'functions.get_weather:0';
      json(res, 200, completion);
    });
    claude = await MockProvider.start((request, res) => {
      const messages = request.body.messages as Array<{ content: string | Array<{ type: string; id?: string; tool_use_id?: string }> }>;
      for (const [i, message] of messages.entries()) {
        if (typeof message.content === 'string') continue;
        for (const [j, block] of message.content.entries()) {
          const id = block.type === 'tool_use' ? block.id : block.type === 'tool_result' ? block.tool_use_id : undefined;
          const field = block.type === 'tool_use' ? 'id' : 'tool_use_id';
          if (id !== undefined && !ID.test(id))
            return json(res, 400, {
              type: 'error',
              error: {
                type: 'invalid_request_error',
                message: `messages.${i}.content.${j}.${block.type}.${field}: String should match pattern '^[a-zA-Z0-9_-]+$'`,
              },
            });
        }
      }
      if (request.path.endsWith('/count_tokens')) return json(res, 200, { input_tokens: 42 });
      json(res, 200, anthropicMessage('from Claude'));
    });
    sluice = await startTestSluice({
      providers: {
        kimi: { type: 'openai', baseUrl: kimi.url, apiKey: 'upstream-kimi-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: claude.url, apiKey: 'upstream-anthropic-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'kimi', model: 'kimi-k2' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' }] },
        {
          name: 'kimi-then-claude',
          targets: [
            { provider: 'kimi', model: 'kimi-k2' },
            { provider: 'anthropic', model: 'claude-sonnet-4-5-20250929' },
          ],
        },
      ],
    });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([kimi.close(), claude.close()]);
  });

  test('the fallback to Anthropic takes the conversation, each result still with its call', async () => {
    const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object' } }];
    kimiDown = false;
    const first = await anthropic.messages.create({
      model: 'kimi-then-claude',
      max_tokens: 100,
      tools,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    });
    const uses = first.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    assert.equal(uses.length, 1);
    kimiDown = true;
    const second = await anthropic.messages.create({
      model: 'kimi-then-claude',
      max_tokens: 100,
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: uses },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: uses[0]!.id, content: 'sunny' }] },
      ],
    });
    assert.deepEqual(second.content, [{ type: 'text', text: 'from Claude' }]);
    const sent = claude.received.at(-1)!.body.messages as Array<{ content: Array<{ id?: string; tool_use_id?: string }> }>;
    assert.match(sent[1]!.content[0]!.id!, ID);
    assert.equal(sent[2]!.content[0]!.tool_use_id, sent[1]!.content[0]!.id);
  });

  test("Anthropic's token count takes such a conversation too", async () => {
    const counted = await anthropic.messages.countTokens({
      model: 'claude',
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'functions.get_weather:0', name: 'get_weather', input: { city: 'Paris' } }],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'functions.get_weather:0', content: 'sunny' }] },
      ],
    });
    assert.equal(counted.input_tokens, 42);
  });
});
