// Reasoning tokens in the ledger, against both stores: of a call's output tokens, those the provider states the model spent
// reasoning (OpenAI's completion_tokens_details and output_tokens_details, Gemini's thoughtsTokenCount) are kept as
// reasoning_tokens and shown by /api/transactions; null where the provider states no split (Anthropic, Claude on Bedrock).
// They are priced once, as the output they are part of: a call that states a split costs what one with the same output
// and none does. Calls through the official SDKs to mock OpenAI, Gemini, Anthropic and Bedrock servers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { adminClient, type AdminClient } from '../support/admin-client.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, converseAnswer, startMockBedrock } from '../support/mock-bedrock.js';
import { anthropicMessage, json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { freshDatabase, type TestDatabase } from '../support/postgres.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-reasoning-tokens';

/** Whether the caller's last message asks the mock to state a reasoning split. */
const reasons = (body: Record<string, unknown>) => JSON.stringify(body).includes('think first');

function geminiAnswer(thoughts: boolean) {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text: '42' }] }, finishReason: 'STOP', index: 0 }],
    // thoughtsTokenCount is not part of candidatesTokenCount (ai.google.dev/api/generate-content#UsageMetadata): the
    // plain answer states the same output, 42, as candidates alone.
    usageMetadata: thoughts
      ? { promptTokenCount: 12, candidatesTokenCount: 2, thoughtsTokenCount: 40, totalTokenCount: 54 }
      : { promptTokenCount: 12, candidatesTokenCount: 42, totalTokenCount: 54 },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'gem-reasoning-tokens',
  };
}

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe(`reasoning tokens in the ledger on ${storeKind}`, () => {
    let database: TestDatabase | null = null;
    let openaiMock: MockProvider;
    let geminiMock: MockProvider;
    let claudeMock: MockProvider;
    let bedrockMock: MockProvider;
    let sluice: TestSluice;
    let admin: AdminClient;

    before(async () => {
      if (storeKind === 'postgres') database = await freshDatabase();
      openaiMock = await MockProvider.start(async (request, res) => {
        const split = reasons(request.body);
        if (request.path.endsWith('/responses')) {
          const usage = { input_tokens: 30, output_tokens: 60, ...(split && { reasoning_tokens: 48 }) };
          return json(res, 200, responseObject([messageItem('42')], usage, 'gpt-5-mini'));
        }
        const usage = {
          prompt_tokens: 20,
          completion_tokens: 80,
          ...(split && { completion_tokens_details: { reasoning_tokens: 64 } }),
        };
        if (request.body.stream === true) return sse(res, openaiStreamFrames(['4', '2'], usage));
        json(res, 200, openaiCompletion('42', usage, 'gpt-5-mini'));
      });
      geminiMock = await MockProvider.start((request, res) => json(res, 200, geminiAnswer(reasons(request.body))));
      claudeMock = await MockProvider.start((_request, res) =>
        json(res, 200, anthropicMessage('42', { input_tokens: 25, output_tokens: 300 })),
      );
      bedrockMock = await startMockBedrock((_model, _stream, _request, res) =>
        json(res, 200, converseAnswer('42', { inputTokens: 25, outputTokens: 300 })),
      );
      sluice = await startTestSluice({
        ...(database === null ? {} : { storage: database.url }),
        admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
        providers: {
          openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'sk-upstream-not-real' },
          gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'google-key-not-real' },
          claude: { type: 'anthropic', baseUrl: claudeMock.url, apiKey: 'anthropic-key-not-real' },
          bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
        },
        models: [
          { name: 'gpt-5-mini', targets: [{ provider: 'openai', model: 'gpt-5-mini' }] },
          { name: 'gemini-2.5-flash', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
          { name: 'sonnet', targets: [{ provider: 'claude', model: 'claude-sonnet-4-5-20250929' }] },
          { name: 'claude-bedrock', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
          // The test key's consumer names it.
          { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        ],
      });
      admin = adminClient(sluice, BOOTSTRAP);
    });

    after(async () => {
      await sluice?.stop();
      await openaiMock?.close();
      await geminiMock?.close();
      await claudeMock?.close();
      await bedrockMock?.close();
      await database?.drop();
    });

    test('each row keeps the reasoning tokens its provider stated, priced once within the output', async () => {
      const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
      const ask = (text: string) => [{ role: 'user' as const, content: text }];
      // In this order; /api/transactions lists the newest first.
      await openai.chat.completions.create({ model: 'gpt-5-mini', messages: ask('think first: 6 x 7?') });
      await openai.chat.completions.create({ model: 'gpt-5-mini', messages: ask('6 x 7?') });
      const stream = await openai.chat.completions.create({
        model: 'gpt-5-mini',
        messages: ask('think first: 6 x 7?'),
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) void chunk;
      await openai.responses.create({ model: 'gpt-5-mini', input: 'think first: 6 x 7?' });
      await openai.responses.create({ model: 'gpt-5-mini', input: '6 x 7?' });
      // Gemini through a Chat client and an Anthropic (Messages) client.
      await openai.chat.completions.create({ model: 'gemini-2.5-flash', messages: ask('think first: 6 x 7?') });
      await anthropic.messages.create({ model: 'gemini-2.5-flash', max_tokens: 500, messages: ask('think first: 6 x 7?') });
      await openai.chat.completions.create({ model: 'gemini-2.5-flash', messages: ask('6 x 7?') });
      await anthropic.messages.create({ model: 'sonnet', max_tokens: 500, messages: ask('think first: 6 x 7?') });
      await openai.chat.completions.create({ model: 'claude-bedrock', messages: ask('think first: 6 x 7?') });
      await sluice.sluice.settled();

      const page = await admin('GET', '/api/transactions?limit=20');
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const rows = [...page.body.items].reverse() as any[];
      assert.deepEqual(
        rows.map((row) => [row.requestedModel, row.api, row.stream, row.outputTokens, row.reasoningTokens]),
        [
          ['gpt-5-mini', 'openai', false, 80, 64],
          ['gpt-5-mini', 'openai', false, 80, null],
          ['gpt-5-mini', 'openai', true, 80, 64],
          ['gpt-5-mini', 'openai-responses', false, 60, 48],
          // The mock states reasoning_tokens 0 when it has none, as OpenAI does.
          ['gpt-5-mini', 'openai-responses', false, 60, 0],
          // Gemini's thoughts are added to its candidates' tokens: the output is 42, 40 of them reasoning.
          ['gemini-2.5-flash', 'openai', false, 42, 40],
          ['gemini-2.5-flash', 'anthropic', false, 42, 40],
          ['gemini-2.5-flash', 'openai', false, 42, null],
          // Anthropic and Claude on Bedrock count thinking in the output with no split.
          ['sonnet', 'anthropic', false, 300, null],
          ['claude-bedrock', 'openai', false, 300, null],
        ],
      );
      const cost = (row: any) => row.cost.nanoUsd as number;
      assert.ok(
        rows.every((row) => row.cost !== null && cost(row) > 0),
        'every model here is priced',
      );
      // Not billed twice: a call that states its reasoning costs what the same output with no split does.
      assert.equal(cost(rows[0]), cost(rows[1]));
      assert.equal(cost(rows[2]), cost(rows[1]));
      assert.equal(cost(rows[3]), cost(rows[4]));
      assert.equal(cost(rows[5]), cost(rows[7]));
      assert.equal(cost(rows[6]), cost(rows[7]));

      const detail = await admin('GET', `/api/transactions/${page.body.items.find((item: any) => item.api === 'openai-responses').id}`);
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      assert.equal(detail.body.reasoningTokens, 0);
      const spec = await admin('GET', '/api/openapi.json');
      assert.deepEqual(spec.body.components.schemas.Transaction.properties.reasoningTokens.type, ['number', 'null']);
    });
  });
}
