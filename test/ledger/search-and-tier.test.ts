// What a call was billed for beside its tokens, in the ledger, against both stores: the web and file searches a provider
// ran and the service tier that served it are recorded with the call and shown by /api/transactions, so a row says why its cost
// is above its tokens' price. Calls through the official SDKs to mock Anthropic and OpenAI servers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { adminClient, type AdminClient } from '../support/admin-client.js';
import { anthropicMessage, json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { KEYS, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-search-and-tier';

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `web searches and service tiers in the ledger on ${storeKind}`, (db) => {
    let claude: MockProvider;
    let openai: MockProvider;
    let sluice: TestSluice;
    let admin: AdminClient;

    before(async () => {
      claude = await MockProvider.start((_request, res) =>
        json(res, 200, {
          ...anthropicMessage('Searched.'),
          usage: { input_tokens: 100, output_tokens: 20, server_tool_use: { web_search_requests: 3 } },
        }),
      );
      openai = await MockProvider.start((request, res) => {
        if (request.path.endsWith('/responses')) {
          const searched = (id: string) => ({ id, type: 'file_search_call', status: 'completed', queries: ['sluice'], results: null });
          return json(
            res,
            200,
            responseObject([searched('fs_1'), searched('fs_2'), messageItem('Found.')], { input_tokens: 30, output_tokens: 6 }, 'gpt-4.1'),
          );
        }
        const tier = (request.body.service_tier as string | undefined) ?? 'default';
        json(res, 200, { ...openaiCompletion('Fast.', { prompt_tokens: 10, completion_tokens: 5 }, 'gpt-4.1'), service_tier: tier });
      });
      sluice = await db.startSluice(BOOTSTRAP, {
        providers: {
          claude: { type: 'anthropic', baseUrl: claude.url, apiKey: 'anthropic-key-not-real' },
          openai: { type: 'openai', baseUrl: `${openai.url}/v1`, apiKey: 'sk-upstream-not-real' },
        },
        models: [
          { name: 'sonnet', targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] },
          { name: 'gpt-4.1', targets: [{ provider: 'openai', model: 'gpt-4.1' }] },
          { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        ],
      });
      admin = adminClient(sluice, BOOTSTRAP);
    });

    after(async () => {
      await sluice?.stop();
      await claude?.close();
      await openai?.close();
    });

    test('a row keeps its web searches and its priority or flex tier, and /api/transactions shows them', async () => {
      const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: 'What is a sluice?' }];
      await anthropic.messages.create({
        model: 'sonnet',
        max_tokens: 200,
        messages,
        tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }],
      });
      await client.chat.completions.create({ model: 'gpt-4.1', messages });
      await client.chat.completions.create({ model: 'gpt-4.1', messages, service_tier: 'priority' });
      await client.chat.completions.create({ model: 'gpt-4.1', messages, service_tier: 'flex' });
      await client.responses.create({
        model: 'gpt-4.1',
        input: 'What does the manual say about sluices?',
        tools: [{ type: 'file_search', vector_store_ids: ['vs_manuals'] }],
      });
      await sluice.sluice.settled();

      const page = await admin('GET', '/api/transactions?limit=10');
      assert.equal(page.status, 200, JSON.stringify(page.body));
      // Newest first.
      assert.deepEqual(
        page.body.items.map((item: any) => [item.requestedModel, item.webSearches, item.fileSearches, item.serviceTier]),
        [
          ['gpt-4.1', 0, 2, null],
          ['gpt-4.1', 0, 0, 'flex'],
          ['gpt-4.1', 0, 0, 'priority'],
          ['gpt-4.1', 0, 0, null],
          ['sonnet', 3, 0, null],
        ],
      );
      // The tier's price is in the cost: GPT-4.1's priority prices above its standard ones.
      const [, , priority, standard] = page.body.items.map((item: any) => item.cost.microUsd as number);
      assert.ok(priority! > standard!, JSON.stringify([priority, standard]));
      const detail = await admin('GET', `/api/transactions/${page.body.items.at(-1).id}`);
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      assert.deepEqual([detail.body.webSearches, detail.body.fileSearches, detail.body.serviceTier], [3, 0, null]);
    });
  });
}
