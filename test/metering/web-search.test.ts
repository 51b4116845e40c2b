// Web searches the provider runs for a call are billed per search on top of the tokens (Anthropic's web search tool,
// $10 per 1,000 searches; OpenAI's web_search tool in the Responses API, $10 per 1,000 search actions): the official
// SDKs against Sluice in front of mock Anthropic and OpenAI servers that run "searches", and the ledger's cost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider, sse, typedSseEvent } from '../support/mock-provider.js';
import { messageItem, responseObject, responseStreamFrames } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

/** Claude's answer after searching: the search call, its results and the text, with the searches in its usage. */
function searchedMessage(searches: number) {
  return {
    id: 'msg_search1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [
      { type: 'server_tool_use', id: 'srvtoolu_01', name: 'web_search', input: { query: 'sluice gates' } },
      {
        type: 'web_search_tool_result',
        tool_use_id: 'srvtoolu_01',
        content: [{ type: 'web_search_result', url: 'https://example.com', title: 'Sluice', encrypted_content: 'abc', page_age: null }],
      },
      { type: 'text', text: 'A sluice is a water channel.' },
    ],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 50, server_tool_use: { web_search_requests: searches } },
  };
}

function searchedStream(searches: number): string[] {
  const message = { ...searchedMessage(searches), content: [], stop_reason: null, usage: { input_tokens: 100, output_tokens: 1 } };
  return [
    typedSseEvent('message_start', { message }),
    typedSseEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    typedSseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'A sluice.' } }),
    typedSseEvent('content_block_stop', { index: 0 }),
    typedSseEvent('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 100, output_tokens: 50, server_tool_use: { web_search_requests: searches } },
    }),
    typedSseEvent('message_stop', {}),
  ];
}

function searchCall(id: string, action: string) {
  return { id, type: 'web_search_call', status: 'completed', action: { type: action, query: 'sluice gates' } };
}

describe('web searches are priced per search', () => {
  let anthropicMock: MockProvider;
  let openaiMock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      if (request.body.stream === true) return sse(res, searchedStream(3));
      json(res, 200, searchedMessage(2));
    });
    openaiMock = await MockProvider.start((request, res) => {
      // Two searches and a page opened: the page is not a search and is not billed as one.
      const output = [searchCall('ws_1', 'search'), searchCall('ws_2', 'open_page'), searchCall('ws_3', 'search'), messageItem('Found it')];
      if (request.body.stream === true) {
        const frames = responseStreamFrames(['Found', ' it'], { input_tokens: 40, output_tokens: 12 }, 'gpt-4.1');
        const last = frames.length - 1;
        const completed = JSON.parse(frames[last]!.split('data: ')[1]!) as { response: { output: unknown[] } };
        completed.response.output = [...output.slice(0, 3), ...completed.response.output];
        frames[last] = `event: response.completed\ndata: ${JSON.stringify(completed)}\n\n`;
        return sse(res, frames);
      }
      json(res, 200, responseObject(output, { input_tokens: 40, output_tokens: 12 }, 'gpt-4.1'));
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'sk-ant-upstream-not-real' },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'sk-upstream-not-real' },
      },
      // No pricing: the catalog's (claude-sonnet-4-5 $3 / $15, gpt-4.1 $2 / $8 per 1M tokens; searches $10 per 1,000).
      models: [
        { name: 'claude-sonnet-4-5', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4.1', targets: [{ provider: 'openai', model: 'gpt-4.1' }] },
        // The test consumers' own grant names it.
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([anthropicMock.close(), openaiMock.close()]);
  });

  test("Anthropic's web search tool: usage.server_tool_use.web_search_requests at $10 per 1,000, whole and streamed", async () => {
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const params = {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user' as const, content: 'What is a sluice?' }],
      tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 5 }],
    };
    const answer = await client.messages.create(params);
    assert.equal(answer.usage.server_tool_use?.web_search_requests, 2, 'the answer is passed through as it came');
    const streamed = await client.messages.stream(params).finalMessage();
    assert.equal(streamed.content[0]?.type === 'text' && streamed.content[0].text, 'A sluice.');
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'claude-sonnet-4-5');
    // 100 input tokens at $3, 50 output at $15 (micro-USD per token), and each search 10,000 micro-USD.
    assert.deepEqual(
      rows.map((row) => [row.stream, row.cost_micro_usd]),
      [
        [0, 100 * 3 + 50 * 15 + 2 * 10_000],
        [1, 100 * 3 + 50 * 15 + 3 * 10_000],
      ],
    );
  });

  test("OpenAI's web_search tool in the Responses API: each search action at $10 per 1,000, whole and streamed", async () => {
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const params = { model: 'gpt-4.1', input: 'What is a sluice?', tools: [{ type: 'web_search' as const }] };
    const answer = await client.responses.create(params);
    assert.equal(answer.output_text, 'Found it');
    const streamed = await client.responses.stream(params).finalResponse();
    assert.equal(streamed.output.filter((item) => item.type === 'web_search_call').length, 3);
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'gpt-4.1');
    assert.deepEqual(
      rows.map((row) => [row.stream, row.cost_micro_usd]),
      [
        [0, 40 * 2 + 12 * 8 + 2 * 10_000],
        [1, 40 * 2 + 12 * 8 + 2 * 10_000],
      ],
    );
  });

  test('a price set in sluice.yaml states its own search price; without one, searches are not charged', async () => {
    const priced = await startTestSluice({
      providers: { anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'sk-ant-upstream-not-real' } },
      models: [
        {
          name: 'searching',
          targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }],
          pricing: { input: 1, output: 2, webSearch: 25 },
        },
        { name: 'plain', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }], pricing: { input: 1, output: 2 } },
        { name: 'gpt-4o-mini', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
      ],
    });
    try {
      const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: priced.baseURL, maxRetries: 0 });
      for (const model of ['searching', 'plain'])
        await client.messages.create({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Search' }] });
      const rows = await ledgerRows(priced);
      assert.deepEqual(
        rows.map((row) => [row.requested_model, row.cost_micro_usd]),
        [
          ['searching', 100 + 50 * 2 + 2 * 25_000],
          ['plain', 100 + 50 * 2],
        ],
      );
    } finally {
      await priced.stop();
    }
  });
});
