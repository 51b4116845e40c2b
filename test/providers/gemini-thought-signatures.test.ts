// Gemini 3 puts a thoughtSignature beside each turn's first functionCall and refuses the next call if the history does
// not give it back (https://ai.google.dev/gemini-api/docs/thought-signatures): a client that only knows tool-call ids
// gets it back to Gemini through the id Sluice makes, streamed and not.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json, MockProvider, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

// Standard base64 with '+', '/' and padding, as Gemini sends its signature bytes.
const SIGNATURE = Buffer.from([0xfb, 0xff, 0xbf, 0x01, 0x02]).toString('base64');

describe('Gemini thought signatures', () => {
  let gemini: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;

  before(async () => {
    gemini = await MockProvider.start((request, res) => {
      const answer = {
        candidates: [
          {
            content: {
              role: 'model',
              parts: [{ functionCall: { name: 'get_weather', args: { city: 'Nice' } }, thoughtSignature: SIGNATURE }],
            },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 5, totalTokenCount: 15 },
        modelVersion: 'gemini-3-flash',
        responseId: 'resp-sig',
      };
      if (request.path.includes(':streamGenerateContent')) return sse(res, [`data: ${JSON.stringify(answer)}\r\n\r\n`]);
      return json(res, 200, answer);
    });
    sluice = await startTestSluice({
      providers: { gemini: { type: 'gemini', baseUrl: gemini.url, apiKey: 'upstream-gemini-key-not-real' } },
      models: [
        { name: 'gemini-3', targets: [{ provider: 'gemini', model: 'gemini-3-flash' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'gemini-3-flash' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await gemini.close();
  });

  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];

  async function callId(stream: boolean): Promise<string> {
    if (!stream) {
      const completion = await openai.chat.completions.create({
        model: 'gemini-3',
        tools,
        messages: [{ role: 'user', content: 'Weather?' }],
      });
      return completion.choices[0]!.message.tool_calls![0]!.id;
    }
    const chunks = await openai.chat.completions.create({
      model: 'gemini-3',
      tools,
      stream: true,
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    let id = '';
    for await (const chunk of chunks) id ||= chunk.choices[0]?.delta.tool_calls?.[0]?.id ?? '';
    return id;
  }

  for (const stream of [false, true]) {
    test(`the signature of a ${stream ? 'streamed' : 'whole'} answer's call goes back beside its functionCall`, async () => {
      const id = await callId(stream);
      assert.match(id, /^[A-Za-z0-9_-]+$/, 'an id any provider accepts');
      await openai.chat.completions.create({
        model: 'gemini-3',
        tools,
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Nice"}' } }],
          },
          { role: 'tool', tool_call_id: id, content: '{"forecast":"sunny"}' },
        ],
      });
      const contents = gemini.received.at(-1)!.body.contents as unknown[];
      assert.deepEqual(contents[1], {
        role: 'model',
        parts: [{ functionCall: { name: 'get_weather', args: { city: 'Nice' } }, thoughtSignature: SIGNATURE }],
      });
      assert.deepEqual(contents[2], {
        role: 'user',
        parts: [{ functionResponse: { name: 'get_weather', response: { forecast: 'sunny' } } }],
      });
    });
  }
});
