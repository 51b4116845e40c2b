// AWS Bedrock through Sluice: SigV4-signed Converse and ConverseStream, driven by the official OpenAI and Anthropic SDKs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { StreamEvent } from '../../src/ir/stream.js';
import { BedrockStreamDecoder } from '../../src/providers/bedrock/stream.js';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { json } from '../support/mock-provider.js';
import {
  AWS_TEST_CREDENTIALS,
  AWS_TEST_REGION,
  converseAnswer,
  converseStreamFrames,
  converseToolAnswer,
  sendFrames,
  startMockBedrock,
} from '../support/mock-bedrock.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const HAIKU = 'anthropic.claude-3-5-haiku-20241022-v1:0';

/** Prompts the mock answers with 3,000 cache writes: split 2,000 1-hour and 1,000 5-minute, all 5-minute, or unsplit. */
const CACHE_WRITES = [
  {
    prompt: 'Summarise the cached manual.',
    cacheDetails: [
      { ttl: '1h', inputTokens: 2000 },
      { ttl: '5m', inputTokens: 1000 },
    ],
  },
  { prompt: 'Summarise the short-lived manual.', cacheDetails: [{ ttl: '5m', inputTokens: 3000 }] },
  { prompt: 'Summarise the unsplit manual.', cacheDetails: undefined },
];

describe('Bedrock provider', () => {
  let bedrock: Awaited<ReturnType<typeof startMockBedrock>>;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    bedrock = await startMockBedrock(async (modelId, stream, request, res, operation) => {
      const body = request.body;
      if (operation === 'invoke' && modelId.startsWith('amazon.titan-embed')) {
        return json(res, 200, { embedding: [0.5, -0.25, 1], inputTextTokenCount: 4 });
      }
      if (operation === 'invoke' && modelId.startsWith('cohere.embed')) {
        return json(res, 200, {
          id: 'e1',
          embeddings: (body.texts as string[]).map((_, i) => [i, 0.5]),
          texts: body.texts,
          response_type: 'embeddings_floats',
        });
      }
      if (modelId === 'throttled') {
        return json(
          res,
          429,
          { message: 'Too many requests, please wait before trying again.' },
          { 'x-amzn-errortype': 'ThrottlingException' },
        );
      }
      if (modelId === 'invalid') {
        return json(
          res,
          400,
          { message: 'The model returned the following errors: temperature: range: 0..1' },
          { 'x-amzn-errortype': 'ValidationException' },
        );
      }
      const hasTools = body.toolConfig !== undefined;
      const cached = CACHE_WRITES.find(({ prompt }) => JSON.stringify(body.messages).includes(prompt));
      if (cached !== undefined) {
        // Converse splits its cache writes by lifetime in cacheDetails, 1h before 5m (or not at all).
        const usage = { inputTokens: 10, outputTokens: 8, cacheWriteInputTokens: 3000 };
        const answer = converseAnswer('Cached.', usage);
        const stated = { ...answer.usage, ...(cached.cacheDetails === undefined ? {} : { cacheDetails: cached.cacheDetails }) };
        if (!stream) return json(res, 200, { ...answer, usage: stated });
        const frames = converseStreamFrames(['Cached.']);
        frames[frames.length - 1] = encodeAwsEvent('metadata', { usage: stated, metrics: { latencyMs: 200 } });
        return sendFrames(res, frames);
      }
      if (stream && modelId === 'slow') return sendFrames(res, converseStreamFrames(['one ', 'two ', 'three ', 'four ', 'five']), 150);
      if (stream) {
        return sendFrames(
          res,
          hasTools
            ? converseStreamFrames([], { name: 'get_weather', inputPieces: ['{"city":', '"Lyon"}'] })
            : converseStreamFrames(['Sa', 'lut']),
          5,
        );
      }
      return json(res, 200, hasTools ? converseToolAnswer('get_weather', { city: 'Lyon' }) : converseAnswer('Bonjour from Bedrock'));
    });
    sluice = await startTestSluice({
      providers: {
        bedrock: { type: 'bedrock', baseUrl: bedrock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
        'bedrock-wrong-key': {
          type: 'bedrock',
          baseUrl: bedrock.url,
          region: AWS_TEST_REGION,
          accessKeyId: AWS_TEST_CREDENTIALS.accessKeyId,
          secretAccessKey: 'wrong-secret',
        },
      },
      models: [
        { name: 'claude-bedrock', targets: [{ provider: 'bedrock', model: HAIKU }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'bedrock', model: HAIKU }] },
        {
          name: 'throttled-then-ok',
          targets: [
            { provider: 'bedrock', model: 'throttled' },
            { provider: 'bedrock', model: HAIKU },
          ],
        },
        {
          name: 'invalid',
          targets: [
            { provider: 'bedrock', model: 'invalid' },
            { provider: 'bedrock', model: HAIKU },
          ],
        },
        { name: 'badly-signed', targets: [{ provider: 'bedrock-wrong-key', model: HAIKU }] },
        { name: 'slow', targets: [{ provider: 'bedrock', model: 'slow' }] },
        { name: 'titan-embed', targets: [{ provider: 'bedrock', model: 'amazon.titan-embed-text-v2:0' }] },
        { name: 'cohere-embed', targets: [{ provider: 'bedrock', model: 'cohere.embed-english-v3' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await bedrock.close();
  });

  test('signs Converse with SigV4, encodes the model id in the path, and translates both ways', async () => {
    const completion = await openai.chat.completions.create({
      model: 'claude-bedrock',
      max_tokens: 100,
      temperature: 0.2,
      stop: ['END'],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, 'Bonjour from Bedrock');
    assert.equal(completion.usage?.prompt_tokens, 30);
    const received = bedrock.received.at(-1)!;
    assert.equal(received.path, '/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse');
    assert.match(
      String(received.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLETESTONLY\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
    );
    assert.deepEqual(received.body, {
      messages: [{ role: 'user', content: [{ text: 'Hello' }] }],
      system: [{ text: 'Be brief.' }],
      inferenceConfig: { maxTokens: 100, temperature: 0.2, stopSequences: ['END'] },
      additionalModelResponseFieldPaths: ['/stop_sequence'],
    });
    assert.equal(bedrock.signatureFailures, 0);
  });

  test('a wrong signature is refused by the mock and reported as a failed target, never as a client error', async () => {
    const before = bedrock.signatureFailures;
    await assert.rejects(
      openai.chat.completions.create({ model: 'badly-signed', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 502);
        assert.match(error.message, /InvalidSignatureException/);
        assert.ok(!error.message.includes('wrong-secret'));
        return true;
      },
    );
    assert.equal(bedrock.signatureFailures, before + 1);
  });

  test('streams ConverseStream event-stream frames to an OpenAI client as they arrive', async () => {
    const stream = await openai.chat.completions.create({
      model: 'claude-bedrock',
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
    assert.equal(text, 'Salut');
    assert.equal(usage?.prompt_tokens, 33);
    assert.equal(usage?.completion_tokens, 9);
    assert.equal(bedrock.received.at(-1)!.path, '/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream');
  });

  test('translated streams relay each token as it arrives: the first comes long before a slow stream ends', async () => {
    const started = Date.now();
    const stream = anthropic.messages.stream({ model: 'slow', max_tokens: 20, messages: [{ role: 'user', content: 'count' }] });
    let firstAt = 0;
    stream.on('text', () => {
      if (firstAt === 0) firstAt = Date.now() - started;
    });
    const final = await stream.finalMessage();
    const total = Date.now() - started;
    assert.deepEqual(final.content, [{ type: 'text', text: 'one two three four five' }]);
    // Nine frames 150 ms apart: about 1.3 s in all.
    assert.ok(total >= 1_000, `stream took ${total} ms`);
    assert.ok(firstAt > 0 && firstAt < total - 600, `first token at ${firstAt} ms of ${total} ms`);
  });

  test('tool calls round-trip for OpenAI and Anthropic clients, streamed and not', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const completion = await openai.chat.completions.create({
      model: 'claude-bedrock',
      tools,
      tool_choice: 'required',
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    assert.ok(call?.type === 'function');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Lyon' });
    const sent = bedrock.received.at(-1)!.body.toolConfig as Record<string, unknown>;
    assert.deepEqual(sent, {
      tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }],
      toolChoice: { any: {} },
    });

    await openai.chat.completions.create({
      model: 'claude-bedrock',
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'tooluse_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }],
        },
        { role: 'tool', tool_call_id: 'tooluse_1', content: 'Sunny' },
      ],
    });
    const history = bedrock.received.at(-1)!.body.messages as Array<{ role: string; content: unknown[] }>;
    assert.deepEqual(history[1], {
      role: 'assistant',
      content: [{ toolUse: { toolUseId: 'tooluse_1', name: 'get_weather', input: { city: 'Lyon' } } }],
    });
    assert.deepEqual(history[2], { role: 'user', content: [{ toolResult: { toolUseId: 'tooluse_1', content: [{ text: 'Sunny' }] } }] });

    const anthropicTools: Anthropic.Tool[] = [
      { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ];
    const final = await anthropic.messages
      .stream({ model: 'claude-bedrock', max_tokens: 50, tools: anthropicTools, messages: [{ role: 'user', content: 'Weather?' }] })
      .finalMessage();
    const block = final.content.find((item) => item.type === 'tool_use');
    assert.ok(block?.type === 'tool_use');
    assert.deepEqual(block.input, { city: 'Lyon' });
    assert.equal(final.stop_reason, 'tool_use');
  });

  test('tool_choice "none": the tools are left out while no turn holds a tool call; with one, a 400 naming tool_choice', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const completion = await openai.chat.completions.create({
      model: 'claude-bedrock',
      tools,
      tool_choice: 'none',
      messages: [{ role: 'user', content: 'Say hello, no tools.' }],
    });
    assert.equal(completion.choices[0]?.message.content, 'Bonjour from Bedrock');
    assert.equal(bedrock.received.at(-1)!.body.toolConfig, undefined);
    const before = bedrock.received.length;
    await assert.rejects(
      openai.chat.completions.create({
        model: 'claude-bedrock',
        tools,
        tool_choice: 'none',
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }],
          },
          { role: 'tool', tool_call_id: 't1', content: 'Sunny' },
        ],
      }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'tool_choice',
    );
    assert.equal(bedrock.received.length, before);
  });

  test('ThrottlingException falls back to the next target; ValidationException goes back to the client', async () => {
    const answer = await openai.chat.completions.create({ model: 'throttled-then-ok', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(answer.choices[0]?.message.content, 'Bonjour from Bedrock');
    await assert.rejects(
      openai.chat.completions.create({ model: 'invalid', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /ValidationException: The model returned the following errors/);
        return true;
      },
    );
  });

  test('images by URL are refused with a clear 400; base64 images are sent as bytes', async () => {
    await assert.rejects(
      openai.chat.completions.create({
        model: 'claude-bedrock',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
      }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /bedrock does not support images by URL/.test(error.message),
    );
    await openai.chat.completions.create({
      model: 'claude-bedrock',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/AAAA' } }] }],
    });
    const content = (bedrock.received.at(-1)!.body.messages as Array<{ content: unknown[] }>)[0]!.content;
    assert.deepEqual(content, [{ image: { format: 'jpeg', source: { bytes: '/9j/AAAA' } } }]);
  });

  test('embeddings through InvokeModel: Titan one text at a time, Cohere in batches, base64 as OpenAI encodes it', async () => {
    const titan = await openai.embeddings.create({ model: 'titan-embed', input: 'hello there', dimensions: 256, encoding_format: 'float' });
    assert.deepEqual(titan.data[0]?.embedding, [0.5, -0.25, 1]);
    assert.equal(titan.usage.prompt_tokens, 4);
    assert.equal(bedrock.received.at(-1)!.path, '/model/amazon.titan-embed-text-v2%3A0/invoke');
    assert.deepEqual(bedrock.received.at(-1)!.body, { inputText: 'hello there', dimensions: 256 });

    const cohere = await openai.embeddings.create({ model: 'cohere-embed', input: ['a', 'b'], encoding_format: 'float' });
    assert.deepEqual(
      cohere.data.map((d) => d.embedding),
      [
        [0, 0.5],
        [1, 0.5],
      ],
    );
    assert.deepEqual(bedrock.received.at(-1)!.body, { texts: ['a', 'b'], input_type: 'search_document' });
    assert.ok(cohere.usage.prompt_tokens > 0, 'Cohere reports no tokens: Sluice counts them');

    const base64 = await fetch(`${sluice.baseURL}/v1/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.checkout}` },
      body: JSON.stringify({ model: 'titan-embed', input: 'x', encoding_format: 'base64' }),
    });
    const encoded = ((await base64.json()) as { data: Array<{ embedding: string }> }).data[0]!.embedding;
    assert.deepEqual([...new Float32Array(new Uint8Array(Buffer.from(encoded, 'base64')).buffer)], [0.5, -0.25, 1]);
  });

  test('1-hour cache writes (cacheDetails) are priced at 2x input, 5-minute ones at 1.25x', async () => {
    await openai.chat.completions.create({
      model: 'claude-bedrock',
      messages: [{ role: 'user', content: 'Summarise the cached manual.' }],
    });
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.input_tokens, 3010);
    // Haiku 3.5 at $0.80 input, $1.00 5-minute writes, $1.60 1-hour writes, $4 output per 1M tokens.
    assert.equal(row.cost_micro_usd, Math.round(10 * 0.8 + 1000 * 1 + 2000 * 1.6 + 8 * 4));
  });

  test("the Anthropic front door states Bedrock's cache writes by lifetime in usage.cache_creation, streamed or not", async () => {
    const expected = [
      // 3,000 written: 2,000 to the 1-hour cache, 1,000 to the 5-minute one.
      { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
      { ephemeral_5m_input_tokens: 3000, ephemeral_1h_input_tokens: 0 },
      // No cacheDetails: Bedrock stated no split, so none is made up.
      undefined,
    ];
    for (const [i, { prompt }] of CACHE_WRITES.entries()) {
      const messages = [{ role: 'user' as const, content: prompt }];
      const answer = await anthropic.messages.create({ model: 'claude-bedrock', max_tokens: 100, messages });
      // Converse states its usage only at the stream's end, after message_start: message_delta carries the whole usage, as
      // Anthropic's newer API versions repeat it there.
      let delta: Record<string, unknown> | undefined;
      for await (const event of await anthropic.messages.create({ model: 'claude-bedrock', max_tokens: 100, messages, stream: true })) {
        if (event.type === 'message_delta') delta = event.usage as unknown as Record<string, unknown>;
      }
      for (const usage of [answer.usage as unknown as Record<string, unknown>, delta!]) {
        assert.deepEqual(
          [usage.input_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens, usage.output_tokens],
          [10, 3000, 0, 8],
          prompt,
        );
        assert.deepEqual(usage.cache_creation ?? undefined, expected[i], prompt);
      }
    }
  });

  test('the ledger prices Bedrock calls from the catalog', async () => {
    const rows = await ledgerRows(sluice);
    const row = rows.find((r) => r.provider === 'bedrock' && r.stream === 0 && r.input_tokens === 30 && r.status === 200);
    assert.ok(row);
    assert.equal(row.provider_model, HAIKU);
    assert.equal(row.cost_micro_usd, Math.round(30 * 0.8 + 8 * 4));
  });
});

describe('Bedrock stream decoder', () => {
  test('decodes event-stream frames fed whole or one byte at a time into the same events', () => {
    const bytes = Buffer.concat(converseStreamFrames(['Sa', 'lut'], { name: 'f', inputPieces: ['{"a":', '1}'] }));
    const whole = new BedrockStreamDecoder('id1');
    const all = [...whole.push(bytes), ...whole.end()];
    const split = new BedrockStreamDecoder('id1');
    const one: StreamEvent[] = [];
    for (let i = 0; i < bytes.length; i++) one.push(...split.push(bytes.subarray(i, i + 1)));
    one.push(...split.end());
    const stable = (events: StreamEvent[]) => events.map((e) => (e.type === 'start' ? { ...e, created: 0 } : e));
    assert.deepEqual(stable(one), stable(all));
    assert.deepEqual(
      all.filter((e) => e.type !== 'start'),
      [
        { type: 'text', text: 'Sa' },
        { type: 'text', text: 'lut' },
        { type: 'tool_call_start', index: 0, id: 'tooluse_s1', name: 'f' },
        { type: 'tool_call_delta', index: 0, argumentsDelta: '{"a":' },
        { type: 'tool_call_delta', index: 0, argumentsDelta: '1}' },
        { type: 'finish', finishReason: 'tool_calls' },
        { type: 'usage', usage: { inputTokens: 33, outputTokens: 9, cachedInputTokens: 0, cacheWriteTokens: 0, reported: true } },
      ],
    );
  });

  test('reports a stream that ends inside a frame', () => {
    const bytes = Buffer.concat(converseStreamFrames(['x']));
    const decoder = new BedrockStreamDecoder('id2');
    decoder.push(bytes.subarray(0, bytes.length - 3));
    assert.equal(decoder.end()[0]?.type, 'error');
  });
});

describe('Bedrock inference profiles and the resource policy', () => {
  const base = (model: string) => `bedrock/${model}`;
  const SONNET = 'anthropic.claude-sonnet-4-20250514-v1:0';
  let bedrock: Awaited<ReturnType<typeof startMockBedrock>>;
  let sluice: TestSluice;
  let openai: OpenAI;

  before(async () => {
    bedrock = await startMockBedrock((_modelId, _stream, _request, res) => json(res, 200, converseAnswer('Bonjour from Bedrock')));
    sluice = await startTestSluice({
      providers: { bedrock: { type: 'bedrock', baseUrl: bedrock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS } },
      models: [
        // A cross-region profile, a profile's ARN and a global profile: each is its foundation model under another name.
        { name: 'haiku-us', targets: [{ provider: 'bedrock', model: `us.${HAIKU}` }] },
        {
          name: 'haiku-arn',
          targets: [{ provider: 'bedrock', model: `arn:aws:bedrock:us-east-1:123456789012:inference-profile/apac.${HAIKU}` }],
        },
        { name: 'sonnet-global', targets: [{ provider: 'bedrock', model: `global.${SONNET}` }] },
        // Listed by its own name: that status, whatever its foundation model's.
        { name: 'haiku-eu', targets: [{ provider: 'bedrock', model: `eu.${HAIKU}` }] },
        // The test config's search-service may use it.
        { name: 'gpt-4o-mini', targets: [{ provider: 'bedrock', model: `global.${SONNET}` }] },
      ],
      resources: { [base(HAIKU)]: 'unsanctioned', [base(SONNET)]: 'sanctioned', [base(`eu.${HAIKU}`)]: 'sanctioned' },
      resourcePolicy: { unsanctioned: 'enforce', unreviewed: 'enforce' },
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await bedrock.close();
  });

  const ask = (model: string) =>
    openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Bonjour' }] }).then(
      (answer) => ({ status: 200, text: answer.choices[0]!.message.content }),
      (error: unknown) => {
        if (!(error instanceof OpenAI.APIError)) throw error;
        return { status: error.status, text: error.message, code: error.code };
      },
    );

  test('a profile or ARN of an unsanctioned model is refused (403) as the model is; of a sanctioned one, served; its own listing wins', async () => {
    const refused = await ask('haiku-us');
    assert.equal(refused.status, 403, refused.text ?? '');
    assert.equal((refused as { code?: string }).code, 'model_not_sanctioned');
    assert.match(
      refused.text ?? '',
      new RegExp(`bedrock/us\\.${HAIKU.replaceAll('.', '\\.')} is unsanctioned \\(as bedrock/${HAIKU.replaceAll('.', '\\.')}\\)`),
    );
    assert.equal((await ask('haiku-arn')).status, 403);
    assert.deepEqual(await ask('sonnet-global'), { status: 200, text: 'Bonjour from Bedrock' });
    assert.deepEqual(await ask('haiku-eu'), { status: 200, text: 'Bonjour from Bedrock' });
    assert.deepEqual(
      bedrock.received.map((request) => decodeURIComponent(request.path)),
      [`/model/global.${SONNET}/converse`, `/model/eu.${HAIKU}/converse`],
      'refused calls never reach Bedrock',
    );
  });
});
