// OpenAI bills calls of its built-in file_search tool per call ($2.50 per 1,000 `file_search_call` items of a Responses
// answer), and its Chat Completions search models per call (each call searches the web: $25 per 1,000 on
// gpt-4o-search-preview and gpt-4o-mini-search-preview, $10 on gpt-5-search-api), beside the tokens: the openai SDK
// against Sluice in front of a mock OpenAI, and the ledger's cost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { messageItem, responseObject, responseStreamFrames } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

function fileSearchCall(id: string) {
  return {
    id,
    type: 'file_search_call',
    status: 'completed',
    queries: ['sluice gate maintenance'],
    results: [{ file_id: 'file-1', filename: 'manual.pdf', score: 0.9, text: 'Grease the gate.', attributes: {} }],
  };
}

describe('built-in tools OpenAI bills per call are priced per call', () => {
  let openaiMock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    openaiMock = await MockProvider.start((request, res) => {
      if (request.path.endsWith('/chat/completions')) {
        const model = String(request.body.model);
        if (request.body.stream === true)
          return sse(res, openaiStreamFrames(['A sluice', '.'], { prompt_tokens: 30, completion_tokens: 10 }));
        return json(res, 200, openaiCompletion('A sluice.', { prompt_tokens: 30, completion_tokens: 10 }, model));
      }
      // Two file searches, then the answer.
      const output = [fileSearchCall('fs_1'), fileSearchCall('fs_2'), messageItem('Grease the gate.')];
      if (request.body.stream === true) {
        const frames = responseStreamFrames(['Grease', ' the gate.'], { input_tokens: 40, output_tokens: 12 }, 'gpt-4.1');
        const last = frames.length - 1;
        const completed = JSON.parse(frames[last]!.split('data: ')[1]!) as { response: { output: unknown[] } };
        completed.response.output = [...output.slice(0, 2), ...completed.response.output];
        frames[last] = `event: response.completed\ndata: ${JSON.stringify(completed)}\n\n`;
        return sse(res, frames);
      }
      json(res, 200, responseObject(output, { input_tokens: 40, output_tokens: 12 }, 'gpt-4.1'));
    });
    sluice = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      // No pricing: the catalog's.
      models: [
        { name: 'gpt-4.1', targets: [{ provider: 'openai', model: 'gpt-4.1' }] },
        { name: 'gpt-4o-search-preview', targets: [{ provider: 'openai', model: 'gpt-4o-search-preview' }] },
        { name: 'gpt-4o-mini-search-preview', targets: [{ provider: 'openai', model: 'gpt-4o-mini-search-preview-2025-03-11' }] },
        { name: 'gpt-5-search-api', targets: [{ provider: 'openai', model: 'gpt-5-search-api' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await openaiMock.close();
  });

  test("OpenAI's file_search tool in the Responses API: each file_search_call at $2.50 per 1,000, whole and streamed", async () => {
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const params = {
      model: 'gpt-4.1',
      input: 'How do I maintain the gate?',
      tools: [{ type: 'file_search' as const, vector_store_ids: ['vs_1'] }],
    };
    const answer = await client.responses.create(params);
    assert.equal(answer.output_text, 'Grease the gate.');
    const streamed = await client.responses.stream(params).finalResponse();
    assert.equal(streamed.output.filter((item) => item.type === 'file_search_call').length, 2);
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'gpt-4.1');
    // 40 input tokens at $2, 12 output at $8 (micro-USD per token), and each file search 2,500 micro-USD.
    assert.deepEqual(
      rows.map((row) => [row.stream, row.cost_micro_usd]),
      [
        [0, 40 * 2 + 12 * 8 + 2 * 2_500],
        [1, 40 * 2 + 12 * 8 + 2 * 2_500],
      ],
    );
  });

  test('the Chat Completions search models: each call is a web search, billed per call beside the tokens', async () => {
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'What is a sluice?' }];
    for (const model of ['gpt-4o-search-preview', 'gpt-4o-mini-search-preview', 'gpt-5-search-api']) {
      const answer = await client.chat.completions.create({ model, messages, web_search_options: {} });
      assert.equal(answer.choices[0]?.message.content, 'A sluice.');
    }
    const stream = await client.chat.completions.create({ model: 'gpt-4o-search-preview', messages, stream: true });
    for await (const chunk of stream) assert.ok(chunk);
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model?.includes('search') === true);
    assert.deepEqual(
      rows.map((row) => [row.requested_model, row.stream, row.cost_micro_usd]),
      [
        // 30 input and 10 output tokens at the model's prices, and the call's search: 25,000 or 10,000 micro-USD.
        ['gpt-4o-search-preview', 0, 30 * 2.5 + 10 * 10 + 25_000],
        ['gpt-4o-mini-search-preview', 0, Math.round(30 * 0.15 + 10 * 0.6) + 25_000],
        ['gpt-5-search-api', 0, Math.round(30 * 1.25 + 10 * 10) + 10_000],
        ['gpt-4o-search-preview', 1, 30 * 2.5 + 10 * 10 + 25_000],
      ],
    );
  });

  test('a price set in sluice.yaml states its own file search and per-call prices', async () => {
    const priced = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [
        { name: 'files', targets: [{ provider: 'openai', model: 'gpt-4.1' }], pricing: { input: 1, output: 2, fileSearch: 3 } },
        { name: 'searcher', targets: [{ provider: 'openai', model: 'my-search-model' }], pricing: { input: 1, output: 2, request: 30 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
    try {
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${priced.baseURL}/v1`, maxRetries: 0 });
      await client.responses.create({ model: 'files', input: 'Search', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] });
      await client.chat.completions.create({ model: 'searcher', messages: [{ role: 'user', content: 'Search' }] });
      const rows = await ledgerRows(priced);
      assert.deepEqual(
        rows.map((row) => [row.requested_model, row.cost_micro_usd]),
        [
          ['files', 40 + 12 * 2 + 2 * 3_000],
          ['searcher', 30 + 10 * 2 + 30_000],
        ],
      );
    } finally {
      await priced.stop();
    }
  });
});
