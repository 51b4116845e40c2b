// The OpenAI-compatible API driven by the official openai SDK, in front of mock OpenAI and Azure OpenAI servers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  json,
  MockProvider,
  openaiCompletion,
  openaiStreamFrames,
  openaiToolCompletion,
  openaiToolStreamFrames,
  sse,
} from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const UPSTREAM_KEY = 'upstream-openai-key-not-real';
const AZURE_KEY = 'upstream-azure-key-not-real';

describe('OpenAI front door over OpenAI-compatible providers', () => {
  let openaiMock: MockProvider;
  let azureMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    openaiMock = await MockProvider.start(async (request, res) => {
      const body = request.body;
      if (request.path === '/v1/embeddings') {
        const inputs = Array.isArray(body.input) ? body.input : [body.input];
        return json(res, 200, {
          object: 'list',
          data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.1 * (index + 1), 0.2, 0.3] })),
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: 8, total_tokens: 8 },
        });
      }
      if (body.tools !== undefined) {
        if (body.stream === true) return sse(res, openaiToolStreamFrames('get_weather', ['{"city"', ':"Paris"}']));
        return json(res, 200, openaiToolCompletion('get_weather', '{"city":"Paris"}'));
      }
      if (body.stream === true) return sse(res, openaiStreamFrames(['Hel', 'lo', ' there'], { prompt_tokens: 9, completion_tokens: 3 }));
      return json(res, 200, openaiCompletion('Hello from OpenAI'));
    });
    azureMock = await MockProvider.start((request, res) => {
      if (request.path.includes('/embeddings')) {
        return json(res, 200, {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.9] }],
          model: 'ada',
          usage: { prompt_tokens: 3, total_tokens: 3 },
        });
      }
      if (request.body.stream === true) {
        return sse(
          res,
          request.body.tools !== undefined
            ? openaiToolStreamFrames('get_weather', ['{"city":"Oslo"}'])
            : openaiStreamFrames(['Az', 'ure'], { prompt_tokens: 5, completion_tokens: 2 }),
        );
      }
      json(res, 200, openaiCompletion('Hello from Azure', { prompt_tokens: 10, completion_tokens: 4 }));
    });
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: UPSTREAM_KEY },
        azure: { type: 'azure-openai', baseUrl: azureMock.url, apiKey: AZURE_KEY, apiVersion: '2024-10-21' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'azure-mini', targets: [{ provider: 'azure', model: 'my-4o-mini-deployment' }] },
        { name: 'text-embedding-3-small', targets: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
        { name: 'azure-embed', targets: [{ provider: 'azure', model: 'my-embedding-deployment' }] },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await openaiMock.close();
    await azureMock.close();
  });

  test('answers a chat completion and injects the provider key instead of the Sluice key', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(completion.choices[0]?.message.content, 'Hello from OpenAI');
    assert.equal(completion.usage?.prompt_tokens, 12);
    const received = openaiMock.received.at(-1)!;
    assert.equal(received.path, '/v1/chat/completions');
    assert.equal(received.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.ok(!JSON.stringify(received).includes(KEYS.checkout), 'the consumer key never goes upstream');
    assert.equal(received.body.model, 'gpt-4o-mini');
  });

  test('streams a completion and strips the usage chunk the client did not ask for', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageChunks++;
    }
    assert.equal(text, 'Hello there');
    assert.equal(usageChunks, 0);
    const received = openaiMock.received.at(-1)!;
    assert.deepEqual(received.body.stream_options, { include_usage: true }, 'Sluice asks upstream for usage');
  });

  test('keeps the usage chunk when the client asked for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.equal(usage?.prompt_tokens, 9);
    assert.equal(usage?.completion_tokens, 3);
  });

  test('passes tool definitions through and returns tool calls, streamed or not', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather by city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools,
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    assert.equal(call?.type === 'function' ? call.function.name : undefined, 'get_weather');
    assert.deepEqual(openaiMock.received.at(-1)!.body.tools, tools);

    const stream = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather?' }], tools });
    const final = await stream.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    assert.equal(streamed?.type === 'function' ? streamed.function.arguments : undefined, '{"city":"Paris"}');
    assert.equal(final.choices[0]?.finish_reason, 'tool_calls');
  });

  test('reaches Azure OpenAI at its deployment URL with the api-key header and api-version', async () => {
    const completion = await client.chat.completions.create({ model: 'azure-mini', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(completion.choices[0]?.message.content, 'Hello from Azure');
    const received = azureMock.received.at(-1)!;
    assert.equal(received.path, '/openai/deployments/my-4o-mini-deployment/chat/completions?api-version=2024-10-21');
    assert.equal(received.headers['api-key'], AZURE_KEY);
    assert.equal(received.headers.authorization, undefined);
  });

  test('streams, calls tools and embeds through Azure deployments too', async () => {
    const stream = await client.chat.completions.create({ model: 'azure-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Azure');
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const final = await client.chat.completions
      .stream({ model: 'azure-mini', messages: [{ role: 'user', content: 'Weather?' }], tools })
      .finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    assert.equal(call?.type === 'function' ? call.function.arguments : undefined, '{"city":"Oslo"}');
    const embedded = await client.embeddings.create({ model: 'azure-embed', input: 'x', encoding_format: 'float' });
    assert.deepEqual(embedded.data[0]?.embedding, [0.9]);
    assert.equal(azureMock.received.at(-1)!.path, '/openai/deployments/my-embedding-deployment/embeddings?api-version=2024-10-21');
  });

  test('serves embeddings', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'], encoding_format: 'float' });
    assert.equal(result.data.length, 2);
    assert.deepEqual(result.data[1]?.embedding, [0.2, 0.2, 0.3]);
  });

  test('lists only the models the consumer may use', async () => {
    const all = [];
    for await (const model of client.models.list()) all.push(model.id);
    assert.deepEqual(all.sort(), ['azure-embed', 'azure-mini', 'gpt-4o-mini', 'text-embedding-3-small']);
    const restricted = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1` });
    const limited = [];
    for await (const model of restricted.models.list()) limited.push(model.id);
    assert.deepEqual(limited, ['gpt-4o-mini']);
  });

  test('records every call in the ledger with consumer, tokens, cost and no text', async () => {
    const rows = await ledgerRows(sluice);
    const chat = rows.find((row) => row.requested_model === 'gpt-4o-mini' && row.stream === 0 && row.input_tokens === 12);
    assert.ok(chat, 'a row for the first chat call');
    assert.equal(chat.consumer, 'checkout-service');
    assert.equal(chat.team, 'payments');
    assert.equal(chat.provider, 'openai');
    assert.equal(chat.provider_model, 'gpt-4o-mini');
    assert.equal(chat.output_tokens, 5);
    assert.equal(chat.tokens_estimated, 0);
    assert.equal(chat.cost_micro_usd, Math.round(12 * 0.15 + 5 * 0.6), 'priced from the catalog: $0.15/$0.60 per 1M');
    assert.equal(chat.status, 200);
    const streamed = rows.find((row) => row.stream === 1 && row.input_tokens === 9);
    assert.ok(streamed, 'the streamed call is metered from the usage Sluice asked for');
    assert.ok(streamed.time_to_first_token_ms !== null && streamed.time_to_first_token_ms <= streamed.latency_ms);
    const azure = rows.find((row) => row.provider === 'azure' && row.stream === 0 && row.operation === 'chat');
    assert.equal(azure?.provider_model, 'my-4o-mini-deployment');
    assert.equal(azure?.input_tokens, 10);
    assert.equal(azure?.cost_micro_usd, null, 'a deployment name says nothing of its model: unpriced until the config gives a price');
    const embeddings = rows.find((row) => row.operation === 'embeddings' && row.provider === 'openai');
    assert.equal(embeddings?.input_tokens, 8);
    const text = JSON.stringify(rows);
    assert.ok(!text.includes('Hello from OpenAI') && !text.includes('Weather?'), 'no prompt or completion text in the ledger');
  });
});
