// Google Gemini through Sluice: generateContent, streamGenerateContent (SSE), tools, JSON mode and embeddings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const GOOGLE_KEY = 'google-test-key-not-real';

function answer(parts: unknown[], finishReason = 'STOP', usage = { promptTokenCount: 21, candidatesTokenCount: 6, totalTokenCount: 27 }) {
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason, index: 0 }],
    usageMetadata: usage,
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp-1',
  };
}

describe('Gemini provider', () => {
  let gemini: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;

  before(async () => {
    gemini = await MockProvider.start((request, res) => {
      if (request.headers['x-goog-api-key'] !== GOOGLE_KEY)
        return json(res, 403, { error: { code: 403, message: 'API key not valid.', status: 'PERMISSION_DENIED' } });
      const path = request.path;
      if (path.includes('overloaded'))
        return json(res, 429, { error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } });
      if (path.endsWith(':batchEmbedContents')) {
        const requests = request.body.requests as unknown[];
        return json(res, 200, { embeddings: requests.map((_, i) => ({ values: [i, 0.25] })) });
      }
      // As Gemini does: no function calling config without functions.
      if (request.body.toolConfig !== undefined && request.body.tools === undefined) {
        const message = 'Function calling config is set without function_declarations.';
        return json(res, 400, { error: { code: 400, message, status: 'INVALID_ARGUMENT' } });
      }
      // As Gemini does: at most 5 stop sequences.
      const stops = (request.body.generationConfig as { stopSequences?: string[] } | undefined)?.stopSequences;
      if (stops !== undefined && stops.length > 5) {
        const message = "Invalid value at 'generation_config.stop_sequences': at most 5 stop sequences are allowed.";
        return json(res, 400, { error: { code: 400, message, status: 'INVALID_ARGUMENT' } });
      }
      const hasTools = request.body.tools !== undefined;
      if (path.includes('image-safety')) return json(res, 200, answer([], 'IMAGE_SAFETY'));
      if (path.includes('malformed')) {
        // The model wrote a function call it could not form: no parts, only the reason.
        const malformed = {
          candidates: [{ finishReason: 'MALFORMED_FUNCTION_CALL', finishMessage: 'Malformed function call: print(x', index: 0 }],
          usageMetadata: { promptTokenCount: 40, totalTokenCount: 40 },
          modelVersion: 'gemini-2.5-flash',
          responseId: 'resp-m',
        };
        if (!path.endsWith(':streamGenerateContent?alt=sse')) return json(res, 200, malformed);
        const opening = { candidates: [{ content: { role: 'model', parts: [{ text: 'Let me call it.' }] }, index: 0 }] };
        return sse(
          res,
          (path.includes('malformed-at-once') ? [malformed] : [opening, malformed]).map(
            (frame) => `data: ${JSON.stringify(frame)}\r\n\r\n`,
          ),
        );
      }
      if (path.endsWith(':streamGenerateContent?alt=sse')) {
        const frames = hasTools
          ? [answer([{ functionCall: { name: 'get_weather', args: { city: 'Nice' } } }], 'STOP')]
          : [
              {
                candidates: [{ content: { role: 'model', parts: [{ text: 'Bon' }] }, index: 0 }],
                modelVersion: 'gemini-2.5-flash',
                responseId: 'resp-s',
              },
              {
                candidates: [{ content: { role: 'model', parts: [{ text: 'soir' }] }, index: 0 }],
                modelVersion: 'gemini-2.5-flash',
                responseId: 'resp-s',
              },
              answer([{ text: '!' }], 'STOP', { promptTokenCount: 11, candidatesTokenCount: 3, totalTokenCount: 14 }),
            ];
        return sse(
          res,
          frames.map((frame) => `data: ${JSON.stringify(frame)}\r\n\r\n`),
        );
      }
      if (hasTools) return json(res, 200, answer([{ functionCall: { name: 'get_weather', args: { city: 'Nice' } } }]));
      return json(res, 200, answer([{ text: 'Bonjour from Gemini' }]));
    });
    sluice = await startTestSluice({
      providers: { gemini: { type: 'gemini', baseUrl: gemini.url, apiKey: GOOGLE_KEY } },
      models: [
        { name: 'gemini-flash', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        {
          name: 'busy-then-ok',
          targets: [
            { provider: 'gemini', model: 'overloaded' },
            { provider: 'gemini', model: 'gemini-2.5-flash' },
          ],
        },
        { name: 'gemini-embed', targets: [{ provider: 'gemini', model: 'gemini-embedding-001' }] },
        {
          name: 'malformed-then-ok',
          targets: [
            { provider: 'gemini', model: 'malformed' },
            { provider: 'gemini', model: 'gemini-2.5-flash' },
          ],
        },
        { name: 'malformed', targets: [{ provider: 'gemini', model: 'malformed' }] },
        {
          name: 'malformed-stream-then-ok',
          targets: [
            { provider: 'gemini', model: 'malformed-at-once' },
            { provider: 'gemini', model: 'gemini-2.5-flash' },
          ],
        },
        { name: 'image-safety', targets: [{ provider: 'gemini', model: 'image-safety' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await gemini.close();
  });

  test('generateContent with the key in a header, system instruction, generation config and JSON mode', async () => {
    const completion = await openai.chat.completions.create({
      model: 'gemini-flash',
      max_tokens: 50,
      temperature: 0.3,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'greeting', schema: { type: 'object', properties: { text: { type: 'string' } } } },
      },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, 'Bonjour from Gemini');
    assert.equal(completion.usage?.prompt_tokens, 21);
    const received = gemini.received.at(-1)!;
    assert.equal(received.path, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.ok(!received.path.includes('key='), 'the API key never goes in the URL');
    assert.deepEqual(received.body, {
      contents: [{ role: 'user', parts: [{ text: 'Hello' }] }],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: {
        maxOutputTokens: 50,
        temperature: 0.3,
        responseMimeType: 'application/json',
        responseJsonSchema: { type: 'object', properties: { text: { type: 'string' } } },
      },
    });
  });

  test('streams SSE chunks (CRLF-framed) to an OpenAI client with usage', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, 'Bonsoir!');
    assert.equal(usage?.prompt_tokens, 11);
    assert.equal(gemini.received.at(-1)!.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  test('function calls both ways, with the function name found for tool results in history', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const completion = await openai.chat.completions.create({
      model: 'gemini-flash',
      tools,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    assert.equal(completion.choices[0]?.finish_reason, 'tool_calls');
    assert.ok(call?.type === 'function');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Nice' });
    assert.deepEqual(gemini.received.at(-1)!.body.toolConfig, {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] },
    });

    await openai.chat.completions.create({
      model: 'gemini-flash',
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Nice"}' } }],
        },
        { role: 'tool', tool_call_id: call.id, content: '{"forecast":"sunny"}' },
      ],
    });
    const contents = gemini.received.at(-1)!.body.contents as unknown[];
    assert.deepEqual(contents[1], { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Nice' } } }] });
    assert.deepEqual(contents[2], {
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { forecast: 'sunny' } } }],
    });

    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const final = await anthropic.messages
      .stream({
        model: 'gemini-flash',
        max_tokens: 40,
        tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content: 'Weather?' }],
      })
      .finalMessage();
    const block = final.content.find((item) => item.type === 'tool_use');
    assert.ok(block?.type === 'tool_use');
    assert.deepEqual(block.input, { city: 'Nice' });
  });

  test('an image in a tool result reaches Gemini as inlineData beside the functionResponse, not dropped', async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const png = Buffer.from('not really a png').toString('base64');
    await anthropic.messages.create({
      model: 'gemini-flash',
      max_tokens: 40,
      messages: [
        { role: 'user', content: 'What is on screen?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'screenshot', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_1',
              content: [
                { type: 'text', text: 'Captured.' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
              ],
            },
          ],
        },
      ],
    });
    const contents = gemini.received.at(-1)!.body.contents as unknown[];
    assert.deepEqual(contents[2], {
      role: 'user',
      parts: [
        { functionResponse: { name: 'screenshot', response: { content: 'Captured.' } } },
        { inlineData: { mimeType: 'image/png', data: png } },
      ],
    });
  });

  test("a tool result marked is_error reaches Gemini under functionResponse.response's error key", async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const failed = (content: string): Anthropic.MessageParam[] => [
      { role: 'user', content: 'Weather in Atlantis?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Atlantis' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content, is_error: true }] },
    ];
    // Gemini reads "output" as a function's output and "error" as why it failed.
    await anthropic.messages.create({ model: 'gemini-flash', max_tokens: 40, messages: failed('unknown city') });
    assert.deepEqual((gemini.received.at(-1)!.body.contents as unknown[])[2], {
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { error: 'unknown city' } } }],
    });
    await anthropic.messages.create({ model: 'gemini-flash', max_tokens: 40, messages: failed('{"code":404}') });
    assert.deepEqual((gemini.received.at(-1)!.body.contents as unknown[])[2], {
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { error: { code: 404 } } } }],
    });
  });

  test('a tool_choice with no tools (an empty list) reaches Gemini without a function calling config', async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: 'gemini-flash',
      max_tokens: 40,
      tools: [],
      tool_choice: { type: 'auto' },
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(message.content[0]?.type === 'text' && message.content[0].text, 'Bonjour from Gemini');
    const sent = gemini.received.at(-1)!.body;
    assert.equal('toolConfig' in sent || 'tools' in sent, false);
  });

  test('output_config.format (structured outputs) reaches Gemini as responseJsonSchema', async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    await anthropic.messages.create({
      model: 'gemini-flash',
      max_tokens: 40,
      output_config: { format: { type: 'json_schema', schema } },
      messages: [{ role: 'user', content: 'Capital of France?' }],
    });
    const generation = gemini.received.at(-1)!.body.generationConfig as Record<string, unknown>;
    assert.equal(generation.responseMimeType, 'application/json');
    assert.deepEqual(generation.responseJsonSchema, schema);
  });

  test('stop_sequences: up to 5 reach Gemini; more, which it refuses, are a 400 naming stop_sequences, nothing sent', async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const ask = (stop_sequences: string[]) =>
      anthropic.messages.create({ model: 'gemini-flash', max_tokens: 40, stop_sequences, messages: [{ role: 'user', content: 'Count' }] });
    await ask(['1', '2', '3', '4', '5']);
    assert.deepEqual((gemini.received.at(-1)!.body.generationConfig as { stopSequences: string[] }).stopSequences, [
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
    const before = gemini.received.length;
    await assert.rejects(
      ask(['1', '2', '3', '4', '5', '6']),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /stop_sequences: .*more than 5 stop sequences/.test(error.message),
    );
    assert.equal(gemini.received.length, before);
  });

  test('RESOURCE_EXHAUSTED falls back to the next target; a URL image is a clear 400', async () => {
    const answered = await openai.chat.completions.create({ model: 'busy-then-ok', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(answered.choices[0]?.message.content, 'Bonjour from Gemini');
    await assert.rejects(
      openai.chat.completions.create({
        model: 'gemini-flash',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/x.png' } }] }],
      }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /gemini does not support images by URL/.test(error.message),
    );
  });

  test('embeddings through batchEmbedContents, counted by Sluice since Gemini reports no tokens', async () => {
    const result = await openai.embeddings.create({
      model: 'gemini-embed',
      input: ['one', 'two'],
      dimensions: 2,
      encoding_format: 'float',
    });
    assert.deepEqual(
      result.data.map((d) => d.embedding),
      [
        [0, 0.25],
        [1, 0.25],
      ],
    );
    assert.ok(result.usage.prompt_tokens >= 2);
    assert.deepEqual(gemini.received.at(-1)!.body, {
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'one' }] }, outputDimensionality: 2 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'two' }] }, outputDimensionality: 2 },
      ],
    });
  });

  test('MALFORMED_FUNCTION_CALL is a failed attempt: the next target answers; with none left a 502 naming it', async () => {
    const answered = await openai.chat.completions.create({ model: 'malformed-then-ok', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(answered.choices[0]?.message.content, 'Bonjour from Gemini');
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    await assert.rejects(
      anthropic.messages.create({ model: 'malformed', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof Anthropic.APIError && error.status === 502 && /MALFORMED_FUNCTION_CALL/.test(error.message),
    );
    assert.equal((await ledgerRows(sluice)).at(-1)!.error_class, 'upstream_unavailable');
    // Streamed, the client already has the opening text: the stream ends with an error event, not a quiet stop.
    const response = await fetch(`${sluice.baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.checkout, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'malformed', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const text = await response.text();
    assert.deepEqual([...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]).slice(-2), ['content_block_delta', 'error']);
    assert.match(text, /MALFORMED_FUNCTION_CALL/);
    assert.equal((await ledgerRows(sluice)).at(-1)!.error_class, 'stream_error');
    // A stream that opens with it has sent the client nothing: the next target answers.
    let streamed = '';
    const stream = await openai.chat.completions.create({
      model: 'malformed-stream-then-ok',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    assert.equal(streamed, 'Bonsoir!');
  });

  test('IMAGE_SAFETY is content_filter, not stop', async () => {
    const answered = await openai.chat.completions.create({ model: 'image-safety', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(answered.choices[0]?.finish_reason, 'content_filter');
  });

  test('the ledger prices Gemini calls from the catalog', async () => {
    const rows = await ledgerRows(sluice);
    const row = rows.find((r) => r.provider === 'gemini' && r.stream === 0 && r.input_tokens === 21 && r.status === 200);
    assert.equal(row?.cost_micro_usd, Math.round(21 * 0.3 + 6 * 2.5));
    const embedding = rows.find((r) => r.operation === 'embeddings');
    assert.equal(embedding?.tokens_estimated, 1);
  });
});
