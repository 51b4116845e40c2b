// A cost budget admits a call by reserving its worst case, and a call given the provider's web search (or file search)
// tool may be billed per search on top of its tokens: admission reserves the searches too, as many as the tool allows
// (Anthropic's max_uses, the Responses API's max_tool_calls) or admission.defaultMaxSearches. The official SDKs against
// Sluice in front of mock Anthropic and OpenAI servers that search.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

/** Claude's answer after one search: 100 input and 50 output tokens, and the search in its usage. */
function searchedMessage() {
  return {
    id: 'msg_search1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [{ type: 'text', text: 'A sluice is a water channel.' }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 50, server_tool_use: { web_search_requests: 1 } },
  };
}

const SEARCH_CALL = { id: 'ws_1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'sluice' } };

describe('admission reserves the searches a call may run under a cost budget', () => {
  let anthropicMock: MockProvider;
  let openaiMock: MockProvider;
  const started: TestSluice[] = [];

  before(async () => {
    anthropicMock = await MockProvider.start((_request, res) => json(res, 200, searchedMessage()));
    openaiMock = await MockProvider.start((_request, res) =>
      json(res, 200, responseObject([SEARCH_CALL, messageItem('Found it')], { input_tokens: 40, output_tokens: 12 }, 'gpt-4.1')),
    );
  });

  after(async () => {
    await Promise.all(started.map((sluice) => sluice.stop()));
    await Promise.all([anthropicMock.close(), openaiMock.close()]);
  });

  /** A gateway whose models are priced by the catalog, with a cost budget of `usd` a day on each of them. */
  async function gateway(usd: number, admission?: Record<string, unknown>): Promise<TestSluice> {
    const sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'sk-ant-upstream-not-real' },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'sk-upstream-not-real' },
      },
      // The catalog's prices: claude-sonnet-4-5 $3 / $15, gpt-4.1 $2 / $8 per 1M tokens; web searches $10 per 1,000.
      models: [
        { name: 'claude-sonnet-4-5', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4.1', targets: [{ provider: 'openai', model: 'gpt-4.1' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
      budgets: ['claude-sonnet-4-5', 'gpt-4.1'].map((model) => ({
        name: `${model}-spend`,
        resources: { model },
        measure: 'cost_usd',
        limit: usd,
        window: 'day',
      })),
      ...(admission !== undefined && { admission }),
    });
    started.push(sluice);
    return sluice;
  }

  function claude(sluice: TestSluice, tool: Record<string, unknown> | null) {
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    return client.messages
      .create({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'What is a sluice?' }],
        ...(tool !== null && { tools: [{ type: 'web_search_20250305', name: 'web_search', ...tool } as Anthropic.WebSearchTool20250305] }),
      })
      .then(
        () => 200,
        (error: unknown) => (error instanceof Anthropic.APIError ? error : Promise.reject(error)),
      );
  }

  test("Anthropic's web search tool reserves max_uses searches, and admission.defaultMaxSearches (5) where it sets none", async () => {
    // $0.03: a call's tokens reserve about 1,500 micro-USD; each search it may run reserves 10,000 more.
    const sluice = await gateway(0.03);
    const refused = await claude(sluice, { max_uses: 5 });
    assert.ok(refused instanceof Anthropic.APIError, 'five searches (50,000 micro-USD) do not fit a budget of 30,000');
    // More than the whole budget: a 400 saying how to fit, not a 429 an SDK would retry in vain.
    assert.equal(refused.status, 400);
    assert.match(refused.message, /reservation of 0\.05\d* USD exceeds the whole limit of 0\.030000 USD.*max uses/);
    assert.equal(refused.headers?.get('x-sluice-budget'), 'claude-sonnet-4-5-spend');
    assert.equal(await claude(sluice, { max_uses: 2 }), 200, 'two searches fit');
    const unbounded = await claude(sluice, {});
    assert.ok(unbounded instanceof Anthropic.APIError && unbounded.status === 400, 'no max_uses reserves the default five');
    assert.equal(await claude(sluice, null), 200, 'a call without the tool reserves no searches');
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'claude-sonnet-4-5');
    assert.deepEqual(
      rows.map((row) => [row.status, row.error_class]),
      [
        [400, 'reservation_exceeds_budget'],
        [200, null],
        [400, 'reservation_exceeds_budget'],
        [200, null],
      ],
    );
  });

  test("OpenAI's web_search tool in the Responses API reserves max_tool_calls searches, else the default", async () => {
    const sluice = await gateway(0.03);
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const params = { model: 'gpt-4.1', input: 'What is a sluice?', max_output_tokens: 100, tools: [{ type: 'web_search' as const }] };
    await assert.rejects(client.responses.create(params), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 400);
      assert.equal(error.code, 'reservation_exceeds_budget');
      return true;
    });
    // max_tool_calls is the Responses API's; this SDK version has no type for it.
    const answer = await client.responses.create({ ...params, max_tool_calls: 2 } as typeof params);
    assert.equal(answer.output_text, 'Found it');
    // file_search is reserved the same way ($2.50 per 1,000: five fit).
    const files = await client.responses.create({ ...params, tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] });
    assert.equal(files.output_text, 'Found it');
  });

  test('admission.defaultMaxSearches sets what a search tool without a bound reserves', async () => {
    const sluice = await gateway(0.015, { defaultMaxSearches: 1 });
    assert.equal(await claude(sluice, {}), 200, 'one search (10,000 micro-USD) and the tokens fit 15,000');
    const refused = await claude(sluice, { max_uses: 2 });
    assert.ok(refused instanceof Anthropic.APIError && refused.status === 400, 'a bound the client sets still counts');
  });
});
