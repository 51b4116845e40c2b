// Vertex AI through Sluice: a service account's signed JWT exchanged for a token (checked by a mock token endpoint),
// Gemini models through generateContent and Claude models through rawPredict / streamRawPredict.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { importSPKI, jwtVerify } from 'jose';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import {
  anthropicMessage,
  anthropicStreamFrames,
  anthropicToolMessage,
  anthropicToolStreamFrames,
  json,
  MockProvider,
  sse,
} from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const CLIENT_EMAIL = 'sluice-test@proj-1.iam.gserviceaccount.com';

describe('Vertex AI provider', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let tokenEndpoint: MockProvider;
  let vertex: MockProvider;
  let sluice: TestSluice;
  let exchanges = 0;
  let refused = 0;

  before(async () => {
    const verifyKey = await importSPKI(publicPem, 'RS256');
    tokenEndpoint = await MockProvider.start(async (request, res) => {
      const form = new URLSearchParams(request.rawBody);
      try {
        assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
        const { payload } = await jwtVerify(form.get('assertion') ?? '', verifyKey, {
          issuer: CLIENT_EMAIL,
          audience: `${tokenEndpoint.url}${request.path}`,
        });
        assert.equal(payload.scope, 'https://www.googleapis.com/auth/cloud-platform');
      } catch {
        refused++;
        return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
      }
      exchanges++;
      json(res, 200, {
        access_token: `ya29.token-${exchanges}`,
        expires_in: request.path.includes('short') ? 60 : 3600,
        token_type: 'Bearer',
      });
    });
    vertex = await MockProvider.start((request, res) => {
      if (!String(request.headers.authorization).startsWith('Bearer ya29.token-'))
        return json(res, 401, { error: { code: 401, message: 'unauthenticated', status: 'UNAUTHENTICATED' } });
      if (request.path.includes('/publishers/anthropic/')) {
        // Structured output: the forced tool's call, alone (Claude writes no text before a tool it is made to use).
        const forced = (request.body.tool_choice as { type?: string; name?: string } | undefined)?.type === 'tool';
        if (forced && request.path.endsWith(':streamRawPredict'))
          return sse(res, anthropicToolStreamFrames('greeting', ['{"word":', '"Salut"}']));
        if (forced) {
          const message = anthropicToolMessage('greeting', { word: 'Salut' });
          return json(res, 200, { ...message, content: message.content.filter((block) => block.type === 'tool_use') });
        }
        if (request.path.endsWith(':streamRawPredict')) return sse(res, anthropicStreamFrames(['Cou', 'cou']));
        return json(res, 200, anthropicMessage('Claude on Vertex'));
      }
      if (request.path.includes('/models/gemini-too-many-calls:')) {
        // The model called tools in a row until Vertex stopped it: a candidate with no answer in it.
        const stopped = { candidates: [{ finishReason: 'TOO_MANY_TOOL_CALLS', index: 0 }], usageMetadata: { promptTokenCount: 9 } };
        if (request.path.endsWith(':streamGenerateContent?alt=sse')) return sse(res, [`data: ${JSON.stringify(stopped)}\n\n`]);
        return json(res, 200, stopped);
      }
      if (request.path.endsWith(':streamGenerateContent?alt=sse')) {
        return sse(res, [
          `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'Stream' }] } }] })}\n\n`,
          `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'ed' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2 } })}\n\n`,
        ]);
      }
      const parts =
        request.body.tools !== undefined ? [{ functionCall: { name: 'lookup', args: { q: 'sluice' } } }] : [{ text: 'Gemini on Vertex' }];
      json(res, 200, {
        candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 },
      });
    });
    const account = (tokenPath: string, key = privatePem) =>
      JSON.stringify({
        type: 'service_account',
        project_id: 'proj-1',
        client_email: CLIENT_EMAIL,
        private_key: key,
        token_uri: `${tokenEndpoint.url}${tokenPath}`,
      });
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    sluice = await startTestSluice({
      providers: {
        vertex: { type: 'vertex', baseUrl: vertex.url, location: 'us-central1', serviceAccountJson: account('/token') },
        'vertex-short': {
          type: 'vertex',
          baseUrl: vertex.url,
          location: 'europe-west4',
          project: 'proj-2',
          serviceAccountJson: account('/token?short'),
        },
        'vertex-wrong-key': { type: 'vertex', baseUrl: vertex.url, serviceAccountJson: account('/token', otherKey) },
      },
      models: [
        { name: 'gemini-vertex', targets: [{ provider: 'vertex', model: 'gemini-2.5-flash' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'vertex', model: 'gemini-2.5-flash' }] },
        { name: 'claude-vertex', targets: [{ provider: 'vertex', model: 'claude-3-5-haiku@20241022' }] },
        { name: 'short-lived', targets: [{ provider: 'vertex-short', model: 'gemini-2.5-flash' }] },
        { name: 'wrong-key', targets: [{ provider: 'vertex-wrong-key', model: 'gemini-2.5-flash' }] },
        {
          name: 'too-many-calls-then-ok',
          targets: [
            { provider: 'vertex', model: 'gemini-too-many-calls' },
            { provider: 'vertex', model: 'gemini-2.5-flash' },
          ],
        },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await vertex.close();
    await tokenEndpoint.close();
  });

  test('Gemini on Vertex: project path from the service account, bearer token from the JWT exchange, cached', async () => {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    for (let i = 0; i < 3; i++) {
      const completion = await openai.chat.completions.create({ model: 'gemini-vertex', messages: [{ role: 'user', content: 'Hi' }] });
      assert.equal(completion.choices[0]?.message.content, 'Gemini on Vertex');
    }
    const received = vertex.received.at(-1)!;
    assert.equal(received.path, '/v1/projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent');
    assert.equal(received.headers.authorization, 'Bearer ya29.token-1');
    assert.equal(exchanges, 1, 'one token exchange serves calls until the token nears expiry');
  });

  test('Gemini on Vertex streams', async () => {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: 'gemini-vertex',
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
    assert.equal(text, 'Streamed');
    assert.equal(usage?.completion_tokens, 2);
    assert.ok(vertex.received.at(-1)!.path.endsWith('/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse'));
  });

  test('Gemini on Vertex: TOO_MANY_TOOL_CALLS holds no answer, so the next target answers, whole and streamed', async () => {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: 'too-many-calls-then-ok',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.equal(completion.choices[0]?.message.content, 'Gemini on Vertex');
    const stream = await openai.chat.completions.create({
      model: 'too-many-calls-then-ok',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, 'Streamed');
  });

  test('Gemini on Vertex answers tool calls', async () => {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: 'gemini-vertex',
      messages: [{ role: 'user', content: 'Look it up' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
    });
    const call = completion.choices[0]?.message.tool_calls?.[0];
    assert.ok(call?.type === 'function');
    assert.deepEqual(JSON.parse(call.function.arguments), { q: 'sluice' });
  });

  test('a token that expires within the refresh margin is exchanged again for the next call', async () => {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const before = exchanges;
    await openai.chat.completions.create({ model: 'short-lived', messages: [{ role: 'user', content: 'Hi' }] });
    await openai.chat.completions.create({ model: 'short-lived', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(exchanges, before + 2);
    assert.equal(
      vertex.received.at(-1)!.path,
      '/v1/projects/proj-2/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent',
    );
  });

  test('Claude on Vertex through rawPredict and streamRawPredict, from the Anthropic SDK', async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const message = await anthropic.messages.create({
      model: 'claude-vertex',
      max_tokens: 30,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    assert.deepEqual(message.content, [{ type: 'text', text: 'Claude on Vertex' }]);
    const received = vertex.received.at(-1)!;
    assert.equal(
      received.path,
      '/v1/projects/proj-1/locations/us-central1/publishers/anthropic/models/claude-3-5-haiku%4020241022:rawPredict',
    );
    assert.equal(received.body.anthropic_version, 'vertex-2023-10-16');
    assert.equal(received.body.model, undefined);
    const final = await anthropic.messages
      .stream({ model: 'claude-vertex', max_tokens: 30, messages: [{ role: 'user', content: 'Hi' }] })
      .finalMessage();
    assert.deepEqual(final.content, [{ type: 'text', text: 'Coucou' }]);
    assert.ok(vertex.received.at(-1)!.path.endsWith(':streamRawPredict'));
  });

  // cache_control (https://platform.claude.com/docs/en/build-with-claude/prompt-caching; @anthropic-ai/sdk's
  // CacheControlEphemeral {type: 'ephemeral', ttl?: '5m' | '1h'}) on a system block, a tool, a message's block and a
  // tool result: without it Claude on Vertex caches nothing, and an agent pays its whole prompt on every call.
  test("Claude on Vertex: an Anthropic client's cache_control breakpoints reach Claude where the client set them", async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const hour = { type: 'ephemeral' as const, ttl: '1h' as const };
    await anthropic.messages.create({
      model: 'claude-vertex',
      max_tokens: 30,
      system: [
        { type: 'text', text: 'You are a coding agent.', cache_control: hour },
        { type: 'text', text: 'Today is Monday.' },
      ],
      tools: [{ name: 'read', input_schema: { type: 'object', properties: {} }, cache_control: hour }],
      messages: [
        { role: 'user', content: 'Read a.txt' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'read', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'hello', cache_control: { type: 'ephemeral' } },
            { type: 'text', text: 'Now summarize it', cache_control: { type: 'ephemeral' } },
          ],
        },
      ],
    });
    const body = vertex.received.at(-1)!.body;
    assert.deepEqual(body.system, [
      { type: 'text', text: 'You are a coding agent.', cache_control: hour },
      { type: 'text', text: 'Today is Monday.' },
    ]);
    assert.deepEqual((body.tools as Array<Record<string, unknown>>)[0]!.cache_control, hour);
    const last = (body.messages as Array<{ content: Array<Record<string, unknown>> }>).at(-1)!;
    assert.deepEqual(last.content, [
      { type: 'tool_result', tool_use_id: 'toolu_1', content: 'hello', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: 'Now summarize it', cache_control: { type: 'ephemeral' } },
    ]);
  });

  test('Claude on Vertex: response_format becomes a forced tool, parsed back by the openai SDK, whole and streamed', async () => {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const format = zodResponseFormat(z.object({ word: z.string() }), 'greeting');
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const completion = await openai.chat.completions.parse({ model: 'claude-vertex', messages, response_format: format });
    const body = vertex.received.at(-1)!.body;
    assert.deepEqual(body.tool_choice, { type: 'tool', name: 'greeting', disable_parallel_tool_use: true });
    assert.equal(body.anthropic_version, 'vertex-2023-10-16');
    assert.deepEqual(completion.choices[0]!.message.parsed, { word: 'Salut' });
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    const final = await openai.chat.completions.stream({ model: 'claude-vertex', messages, response_format: format }).finalChatCompletion();
    assert.ok(vertex.received.at(-1)!.path.endsWith(':streamRawPredict'));
    assert.deepEqual(final.choices[0]!.message.parsed, { word: 'Salut' });
    assert.equal(final.choices[0]!.finish_reason, 'stop');
  });

  test('an assertion signed with the wrong key is refused by the token endpoint and reported as a failed target', async () => {
    const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    await assert.rejects(
      openai.chat.completions.create({ model: 'wrong-key', messages: [{ role: 'user', content: 'Hi' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 502);
        assert.match(error.message, /token endpoint refused/);
        assert.ok(!error.message.includes('PRIVATE KEY'));
        return true;
      },
    );
    assert.ok(refused >= 1);
  });

  test('the ledger prices Claude on Vertex at Anthropic prices and Gemini at Gemini prices', async () => {
    const rows = await ledgerRows(sluice);
    const claude = rows.find((r) => r.provider === 'vertex' && r.provider_model === 'claude-3-5-haiku@20241022' && r.stream === 0);
    assert.equal(claude?.cost_micro_usd, Math.round(20 * 0.8 + 7 * 4));
    const gemini = rows.find((r) => r.provider === 'vertex' && r.provider_model === 'gemini-2.5-flash' && r.status === 200);
    assert.equal(gemini?.cost_micro_usd, Math.round(9 * 0.3 + 4 * 2.5));
  });
});
