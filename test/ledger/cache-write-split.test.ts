// Prompt-cache writes by lifetime in the ledger, against both stores: calls through the gateway whose provider split its
// cache writes into 1-hour and 5-minute ones are recorded with the 1-hour part beside the total, and /api/transactions
// shows it, whichever API the client speaks, streamed or not.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { adminClient, type AdminClient } from '../support/admin-client.js';
import { anthropicMessage, anthropicStreamFrames, json, MockProvider, sse } from '../support/mock-provider.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { KEYS, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-cache-write-split';
const SPLIT = {
  input_tokens: 10,
  cache_creation_input_tokens: 3000,
  cache_read_input_tokens: 0,
  cache_creation: { ephemeral_5m_input_tokens: 1000, ephemeral_1h_input_tokens: 2000 },
  output_tokens: 100,
};
/** An older API version's usage: the writes' sum, no split (every write a 5-minute one). */
const UNSPLIT = { input_tokens: 10, cache_creation_input_tokens: 3000, cache_read_input_tokens: 0, output_tokens: 100 };

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `cache writes by lifetime in the ledger on ${storeKind}`, (db) => {
    let upstream: MockProvider;
    let sluice: TestSluice;
    let admin: AdminClient;

    before(async () => {
      upstream = await MockProvider.start((request, res) => {
        const usage = JSON.stringify(request.body.messages).includes('unsplit') ? UNSPLIT : SPLIT;
        if (request.body.stream !== true) return json(res, 200, { ...anthropicMessage('Cached.'), usage });
        const { output_tokens: _output, ...startUsage } = usage;
        const frames = anthropicStreamFrames(['Cached', '.'], { input_tokens: 10, output_tokens: 100 });
        frames[0] = frames[0]!.replace(
          '"usage":{"input_tokens":10,"output_tokens":1}',
          JSON.stringify({ usage: { ...startUsage, output_tokens: 1 } }).slice(1, -1),
        );
        return sse(res, frames);
      });
      sluice = await db.startSluice(BOOTSTRAP, {
        providers: { claude: { type: 'anthropic', baseUrl: upstream.url, apiKey: 'anthropic-key-not-real' } },
        models: [
          { name: 'sonnet', targets: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] },
          { name: 'gpt-4o-mini', targets: [{ provider: 'claude', model: 'claude-haiku-4-5' }] },
        ],
      });
      admin = adminClient(sluice, BOOTSTRAP);
    });

    after(async () => {
      await sluice?.stop();
      await upstream?.close();
    });

    test('the ledger keeps the 1-hour cache writes beside the total, and /api/transactions shows both', async () => {
      const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
      const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      for (const prompt of ['Summarise the cached manual.', 'Summarise the unsplit manual.']) {
        const messages = [{ role: 'user' as const, content: prompt }];
        await anthropic.messages.create({ model: 'sonnet', max_tokens: 200, messages });
        await anthropic.messages.stream({ model: 'sonnet', max_tokens: 200, messages }).finalMessage();
        await openai.chat.completions.create({ model: 'sonnet', messages });
        for await (const _chunk of await openai.chat.completions.create({ model: 'sonnet', messages, stream: true })) {
          /* drain */
        }
      }
      await sluice.sluice.settled();

      const page = await admin('GET', '/api/transactions?limit=100');
      assert.equal(page.status, 200, JSON.stringify(page.body));
      // Newest first: the four unsplit calls, then the four split ones.
      assert.deepEqual(
        page.body.items.map((item: any) => [item.api, item.stream, item.cacheWriteTokens, item.cacheWrite1hTokens]),
        [0, 2000].flatMap((hour) => [
          ['openai', true, 3000, hour],
          ['openai', false, 3000, hour],
          ['anthropic', true, 3000, hour],
          ['anthropic', false, 3000, hour],
        ]),
      );
      const detail = await admin('GET', `/api/transactions/${page.body.items.at(-1).id}`);
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      assert.deepEqual([detail.body.cacheWriteTokens, detail.body.cacheWrite1hTokens], [3000, 2000]);
    });
  });
}
