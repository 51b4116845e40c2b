// Bedrock's Messages API (`api: messages`, bedrock-mantle) through Sluice: SigV4 for "bedrock-mantle" or a Bedrock API
// key, the Anthropic body passed through or translated, SSE streams, errors in the caller's shape, usage metered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { validateConfig } from '../../src/config/load.js';
import {
  anthropicMessage,
  anthropicStreamFrames,
  anthropicToolMessage,
  anthropicToolStreamFrames,
  json,
  sse,
} from '../support/mock-provider.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, BEDROCK_TEST_API_KEY, startMockBedrockMantle } from '../support/mock-bedrock.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

/** A Claude with no ARN-versioned id, reached only through the Messages API; priced in the test's config. */
const OPUS = 'global.anthropic.claude-opus-4-7';
/** A Claude the price catalog knows on Bedrock, by a geographic profile (10% over the global price). */
const HAIKU = 'us.anthropic.claude-haiku-4-5-20251001-v1:0';

describe('Bedrock provider with the Messages API (bedrock-mantle)', () => {
  let mantle: Awaited<ReturnType<typeof startMockBedrockMantle>>;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    mantle = await startMockBedrockMantle(async (request, res) => {
      const body = request.body;
      if (body.model === 'throttled') {
        return json(
          res,
          429,
          { message: 'Too many requests, please wait before trying again.' },
          { 'x-amzn-errortype': 'ThrottlingException' },
        );
      }
      if (body.model === 'refuses') {
        return json(res, 400, {
          type: 'error',
          error: { type: 'invalid_request_error', message: 'messages.0.content: must not be empty' },
        });
      }
      const tools = Array.isArray(body.tools) && body.tools.length > 0;
      if (body.stream === true) {
        return sse(
          res,
          tools
            ? anthropicToolStreamFrames('get_weather', ['{"city":', '"Lyon"}'])
            : anthropicStreamFrames(['Bon', 'jour'], { input_tokens: 40, output_tokens: 12 }),
          2,
        );
      }
      if (tools) return json(res, 200, anthropicToolMessage('get_weather', { city: 'Lyon' }));
      return json(
        res,
        200,
        anthropicMessage('Bonjour from Bedrock', body.model === HAIKU ? { input_tokens: 100, output_tokens: 20 } : undefined),
      );
    });
    const messagesApi = { type: 'bedrock', api: 'messages', baseUrl: `${mantle.url}/anthropic`, region: AWS_TEST_REGION };
    sluice = await startTestSluice({
      providers: {
        'bedrock-claude': { ...messagesApi, ...AWS_TEST_CREDENTIALS },
        'bedrock-claude-key': { ...messagesApi, apiKey: BEDROCK_TEST_API_KEY },
        'bedrock-claude-wrong-key': { ...messagesApi, accessKeyId: AWS_TEST_CREDENTIALS.accessKeyId, secretAccessKey: 'wrong-secret' },
      },
      models: [
        { name: 'opus', targets: [{ provider: 'bedrock-claude', model: OPUS }], pricing: { input: 5, output: 25 } },
        { name: 'haiku', targets: [{ provider: 'bedrock-claude', model: HAIKU }] },
        // The test config's second consumer may use only this model.
        { name: 'gpt-4o-mini', targets: [{ provider: 'bedrock-claude', model: HAIKU }] },
        { name: 'opus-by-key', targets: [{ provider: 'bedrock-claude-key', model: OPUS }], pricing: { input: 5, output: 25 } },
        { name: 'badly-signed', targets: [{ provider: 'bedrock-claude-wrong-key', model: OPUS }] },
        {
          name: 'throttled-then-ok',
          targets: [
            { provider: 'bedrock-claude', model: 'throttled' },
            { provider: 'bedrock-claude', model: OPUS },
          ],
        },
        { name: 'refuses', targets: [{ provider: 'bedrock-claude', model: 'refuses' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await mantle.close();
  });

  test("passes an Anthropic client's body through to /anthropic/v1/messages, signed for bedrock-mantle, and meters it", async () => {
    const message = await anthropic.beta.messages.create({
      model: 'opus',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello' }],
      betas: ['context-management-2025-06-27'],
    });
    assert.deepEqual(message.content, [{ type: 'text', text: 'Bonjour from Bedrock' }]);
    const received = mantle.received.at(-1)!;
    assert.equal(received.path, '/anthropic/v1/messages');
    assert.match(
      String(received.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLETESTONLY\/\d{8}\/us-east-1\/bedrock-mantle\/aws4_request, SignedHeaders=[^,]*host/,
    );
    assert.equal(received.headers['anthropic-version'], '2023-06-01');
    assert.equal(received.headers['anthropic-beta'], 'context-management-2025-06-27');
    // The model named in the body, as on Anthropic's API; no anthropic_version in it (that is bedrock-runtime's way).
    assert.deepEqual(received.body, {
      model: OPUS,
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    assert.equal(mantle.signatureFailures, 0);
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.provider, 'bedrock-claude');
    assert.equal(row.provider_model, OPUS);
    assert.equal(row.api, 'anthropic');
    assert.equal(row.input_tokens, 20);
    assert.equal(row.output_tokens, 7);
    assert.equal(row.cost_micro_usd, 20 * 5 + 7 * 25);
  });

  test("relays the SSE stream to an Anthropic client as it came, with the stream's usage metered", async () => {
    const stream = anthropic.messages.stream({ model: 'opus', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    const final = await stream.finalMessage();
    assert.deepEqual(final.content, [{ type: 'text', text: 'Bonjour' }]);
    assert.equal(final.usage.input_tokens, 40);
    assert.equal(final.usage.output_tokens, 12);
    assert.equal(mantle.received.at(-1)!.body.stream, true);
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.stream, 1);
    assert.equal(row.input_tokens, 40);
    assert.equal(row.output_tokens, 12);
    assert.equal(row.tokens_estimated, 0);
    assert.equal(row.cost_micro_usd, 40 * 5 + 12 * 25);
  });

  test('translates an OpenAI client to Anthropic Messages and the answer back, tools included', async () => {
    const completion = await openai.chat.completions.create({
      model: 'opus',
      max_tokens: 100,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, 'Bonjour from Bedrock');
    assert.equal(completion.usage?.prompt_tokens, 20);
    assert.equal(completion.usage?.completion_tokens, 7);
    const received = mantle.received.at(-1)!;
    assert.equal(received.path, '/anthropic/v1/messages');
    assert.deepEqual(received.body, {
      model: OPUS,
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello' }] }],
    });
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.api, 'openai');
    assert.equal(row.cost_micro_usd, 20 * 5 + 7 * 25);

    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const called = await openai.chat.completions.create({ model: 'opus', tools, messages: [{ role: 'user', content: 'Weather?' }] });
    const call = called.choices[0]?.message.tool_calls?.[0];
    assert.ok(call?.type === 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Lyon' });
    assert.deepEqual(mantle.received.at(-1)!.body.tools, [
      { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ]);
  });

  test("streams to an OpenAI client from Anthropic's SSE, usage at the end", async () => {
    const stream = await openai.chat.completions.create({
      model: 'opus',
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
    assert.equal(text, 'Bonjour');
    assert.equal(usage?.prompt_tokens, 40);
    assert.equal(usage?.completion_tokens, 12);
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.stream, 1);
    assert.equal(row.cost_micro_usd, 40 * 5 + 12 * 25);

    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const toolStream = await openai.chat.completions.create({
      model: 'opus',
      tools,
      stream: true,
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    let args = '';
    for await (const chunk of toolStream) args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '';
    assert.deepEqual(JSON.parse(args), { city: 'Lyon' });
  });

  test("an OpenAI client's reasoning reaches Opus 4.7 as adaptive thinking, without the sampling it refuses", async () => {
    await openai.chat.completions.create({
      model: 'opus',
      reasoning_effort: 'high',
      temperature: 0.5,
      messages: [{ role: 'user', content: 'Think.' }],
    });
    const body = mantle.received.at(-1)!.body;
    // Bedrock's model card: Claude Opus 4.7 takes `thinking.type: "adaptive"` only, and Claude 4.7 refuses sampling settings.
    assert.equal((body.thinking as { type?: string } | undefined)?.type, 'adaptive');
    assert.equal(body.temperature, undefined);
  });

  test("a Claude the catalog knows on Bedrock is priced at Bedrock's price, a geographic profile's 10% over", async () => {
    await anthropic.messages.create({ model: 'haiku', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] });
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.provider_model, HAIKU);
    // Claude Haiku 4.5 on Bedrock: $1 / $5 per 1M tokens, times 1.1 for the us. profile.
    assert.equal(row.cost_micro_usd, Math.round((100 * 1 + 20 * 5) * 1.1));
  });

  test('a Bedrock API key goes as a bearer token, with no signature', async () => {
    const message = await anthropic.messages.create({ model: 'opus-by-key', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] });
    assert.deepEqual(message.content, [{ type: 'text', text: 'Bonjour from Bedrock' }]);
    const received = mantle.received.at(-1)!;
    assert.equal(received.headers.authorization, `Bearer ${BEDROCK_TEST_API_KEY}`);
    assert.equal(received.headers['x-amz-date'], undefined);
    assert.equal(received.headers['x-api-key'], undefined);
  });

  test("errors reach each client in its own shape: Anthropic's passed on, AWS's read, throttling falls back", async () => {
    await assert.rejects(
      anthropic.messages.create({ model: 'refuses', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.BadRequestError);
        assert.equal((error.error as { error?: { type?: string } }).error?.type, 'invalid_request_error');
        assert.match(error.message, /messages\.0\.content: must not be empty/);
        return true;
      },
    );
    await assert.rejects(
      openai.chat.completions.create({ model: 'refuses', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /must not be empty/.test(error.message),
    );
    const before = mantle.signatureFailures;
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
    assert.equal(mantle.signatureFailures, before + 1);
    const answer = await openai.chat.completions.create({ model: 'throttled-then-ok', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(answer.choices[0]?.message.content, 'Bonjour from Bedrock');
  });

  test('embeddings are refused with a 400 naming the provider; `api` is refused on a provider other than bedrock', async () => {
    await assert.rejects(
      openai.embeddings.create({ model: 'opus', input: 'hello' }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /api: messages\) does not offer embeddings/.test(error.message),
    );
    assert.throws(
      () => validateConfig({ providers: { claude: { type: 'anthropic', baseUrl: 'https://api.anthropic.com', api: 'messages' } } }, 'test'),
      /providers\.claude\.api: only for bedrock/,
    );
  });

  // Converse is always SigV4-signed: a Bedrock API key there was silently unused (the call signed with whatever AWS
  // credentials the environment had, or refused for having none) while the compliance inventory listed "api key".
  test('a Bedrock API key on a Converse provider is refused by the config check, not silently unused', () => {
    assert.throws(
      () => validateConfig({ providers: { aws: { type: 'bedrock', region: 'us-east-1', apiKey: BEDROCK_TEST_API_KEY } } }, 'test'),
      /providers\.aws\.apiKey: .*api: messages/,
    );
    assert.doesNotThrow(() =>
      validateConfig(
        { providers: { aws: { type: 'bedrock', region: 'us-east-1', api: 'messages', apiKey: BEDROCK_TEST_API_KEY } } },
        'test',
      ),
    );
  });
});
