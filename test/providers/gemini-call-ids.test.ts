// Gemini (and Gemini on Vertex) may give each functionCall an id and match each functionResponse to its call by that id
// (https://ai.google.dev/api/caching#FunctionCall: "If populated, the client to execute the functionCall and return the
// response with the matching id"); without it two parallel calls to one function are matched by order only. The id a
// client gets for such a call brings Gemini's id back, and an id Gemini never gave is never sent to it as one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { testServiceAccountJson } from '../support/google.js';
import { json, MockProvider, sse, type Received } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

// Gemini's ids as its API gives them: opaque strings, here with a character no tool-call id may carry.
const PARIS = 'fc-7q2x/paris';
const NICE = 'fc-9k1m/nice';

function answer(request: Received): unknown {
  const turns = (request.body.contents as unknown[]).length;
  const parts =
    turns > 1
      ? [{ text: 'Sunny in both.' }]
      : request.body.tools === undefined
        ? [{ text: 'no tools' }]
        : [
            { functionCall: { id: PARIS, name: 'get_weather', args: { city: 'Paris' } } },
            { functionCall: { id: NICE, name: 'get_weather', args: { city: 'Nice' } } },
          ];
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp-ids',
  };
}

function reply(request: Received, res: Parameters<Parameters<typeof MockProvider.start>[0]>[1]): void {
  if (request.path.includes(':streamGenerateContent')) void sse(res, [`data: ${JSON.stringify(answer(request))}\r\n\r\n`]);
  else json(res, 200, answer(request));
}

describe('Gemini function call ids', () => {
  let gemini: MockProvider;
  let vertex: MockProvider;
  let tokens: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    gemini = await MockProvider.start(reply);
    vertex = await MockProvider.start(reply);
    tokens = await MockProvider.start((_request, res) =>
      json(res, 200, { access_token: 'ya29.test-token', expires_in: 3600, token_type: 'Bearer' }),
    );
    sluice = await startTestSluice({
      providers: {
        gemini: { type: 'gemini', baseUrl: gemini.url, apiKey: 'upstream-gemini-key-not-real' },
        vertex: { type: 'vertex', baseUrl: vertex.url, serviceAccountJson: testServiceAccountJson(`${tokens.url}/token`) },
      },
      models: [
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'vertex-gemini', targets: [{ provider: 'vertex', model: 'gemini-2.5-flash' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([gemini.close(), vertex.close(), tokens.close()]);
  });

  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];

  /** The ids of the two calls, in the order the answer gave them. */
  async function callIds(model: string, stream: boolean): Promise<string[]> {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris and Nice?' }];
    if (!stream) {
      const completion = await openai.chat.completions.create({ model, tools, messages });
      return completion.choices[0]!.message.tool_calls!.map((call) => call.id);
    }
    const ids: string[] = [];
    for await (const chunk of await openai.chat.completions.create({ model, tools, messages, stream: true }))
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) if (call.id !== undefined) ids[call.index] = call.id;
    return ids;
  }

  const lastContents = (mock: MockProvider) => mock.received.at(-1)!.body.contents as Array<{ parts: unknown[] }>;

  for (const [model, mock] of [
    ['gemini', () => gemini],
    ['vertex-gemini', () => vertex],
  ] as const) {
    for (const stream of [false, true]) {
      test(`${model}: results given back in another order reach the ${stream ? 'streamed' : 'whole'} answer's calls by Gemini's ids`, async () => {
        const [paris, nice] = await callIds(model, stream);
        assert.ok(paris !== undefined && nice !== undefined && paris !== nice);
        for (const id of [paris, nice]) assert.match(id, /^[A-Za-z0-9_-]+$/, 'an id any provider accepts');
        await openai.chat.completions.create({
          model,
          tools,
          messages: [
            { role: 'user', content: 'Weather in Paris and Nice?' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [
                { id: paris, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
                { id: nice, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Nice"}' } },
              ],
            },
            { role: 'tool', tool_call_id: nice, content: '{"forecast":"sunny, 24C"}' },
            { role: 'tool', tool_call_id: paris, content: '{"forecast":"cloudy, 17C"}' },
          ],
        });
        const contents = lastContents(mock());
        assert.deepEqual(contents[1]!.parts, [
          { functionCall: { id: PARIS, name: 'get_weather', args: { city: 'Paris' } } },
          { functionCall: { id: NICE, name: 'get_weather', args: { city: 'Nice' } } },
        ]);
        assert.deepEqual(contents[2]!.parts, [
          { functionResponse: { id: NICE, name: 'get_weather', response: { forecast: 'sunny, 24C' } } },
          { functionResponse: { id: PARIS, name: 'get_weather', response: { forecast: 'cloudy, 17C' } } },
        ]);
      });
    }
  }

  test("an Anthropic client's tool_use ids bring Gemini's ids back too", async () => {
    const anthropicTools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object' } }];
    const first = await anthropic.messages.create({
      model: 'gemini',
      max_tokens: 100,
      tools: anthropicTools,
      messages: [{ role: 'user', content: 'Weather in Paris and Nice?' }],
    });
    const uses = first.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
    assert.equal(uses.length, 2);
    await anthropic.messages.create({
      model: 'gemini',
      max_tokens: 100,
      tools: anthropicTools,
      messages: [
        { role: 'user', content: 'Weather in Paris and Nice?' },
        { role: 'assistant', content: uses },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: uses[1]!.id, content: '{"forecast":"sunny"}' },
            { type: 'tool_result', tool_use_id: uses[0]!.id, content: '{"forecast":"cloudy"}' },
          ],
        },
      ],
    });
    const contents = lastContents(gemini);
    assert.deepEqual(
      contents[2]!.parts.map((part) => (part as { functionResponse: { id?: string } }).functionResponse.id),
      [NICE, PARIS],
    );
  });

  test("an id Gemini never gave (another provider's, or one Sluice made up) is not sent to Gemini as its id", async () => {
    await openai.chat.completions.create({
      model: 'gemini',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_Qx81bVn3', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_1_resp-ids', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Nice"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_Qx81bVn3', content: '{"forecast":"cloudy"}' },
        { role: 'tool', tool_call_id: 'call_1_resp-ids', content: '{"forecast":"sunny"}' },
      ],
    });
    const contents = lastContents(gemini);
    assert.deepEqual(contents[1]!.parts, [
      { functionCall: { name: 'get_weather', args: { city: 'Paris' } } },
      { functionCall: { name: 'get_weather', args: { city: 'Nice' } } },
    ]);
    assert.deepEqual(contents[2]!.parts, [
      { functionResponse: { name: 'get_weather', response: { forecast: 'cloudy' } } },
      { functionResponse: { name: 'get_weather', response: { forecast: 'sunny' } } },
    ]);
  });
});
