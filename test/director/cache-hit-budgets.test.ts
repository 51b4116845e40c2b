// Response-cache hits are not admitted against budgets (docs/agents.md#response-cache): the burn-down the console and
// CLI read, and the counters a gateway seeds from the ledger when it starts, must leave them out as live admission does.
// A budget of 2 requests: one miss and three hits spend one; after a restart the next call still fits. On both stores,
// through the openai SDK.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';

const BOOTSTRAP = 'sa-bootstrap-cache-budget-test-token-01';

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `response-cache hits on ${storeKind}: outside budgets in the burn-down and after a restart`, (db) => {
    let mock: MockProvider;
    let sluice: TestSluice | null = null;

    const start = (storage: string | undefined) =>
      startTestSluice({
        ...(storage === undefined ? {} : { storage }),
        admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
        cache: { store: 'memory', models: { 'gpt-4o-mini': {} } },
        budgets: [
          { name: 'checkout-calls', consumers: { consumer: 'checkout-service' }, measure: 'requests', limit: 2, window: 'day' },
          {
            name: 'checkout-tokens',
            consumers: { consumer: 'checkout-service' },
            measure: 'total_tokens',
            limit: 1_000_000,
            window: 'day',
          },
          { name: 'checkout-cost', consumers: { consumer: 'checkout-service' }, measure: 'cost_usd', limit: 100, window: 'day' },
        ],
      });

    before(async () => {
      mock = await MockProvider.start((_request, res) =>
        json(res, 200, openaiCompletion('hi', { prompt_tokens: 12, completion_tokens: 5 })),
      );
      sluice = await start(db.postgres?.url);
    });

    after(async () => {
      await sluice?.stop();
      await mock?.close();
    });

    const ask = async (prompt: string): Promise<{ status: number; cache: string | null }> => {
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice!.baseURL}/v1`, maxRetries: 0 });
      try {
        const { response } = await client.chat.completions
          .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] })
          .withResponse();
        return { status: 200, cache: response.headers.get('x-sluice-cache') };
      } catch (error) {
        if (error instanceof OpenAI.APIError && error.status !== undefined) return { status: error.status, cache: null };
        throw error;
      }
    };

    const burnDown = async (name: string): Promise<{ used: number; unpricedCalls: number | null }> => {
      const response = await fetch(`${sluice!.adminURL}/api/budgets/${name}/burn-down`, {
        headers: { authorization: `Bearer ${BOOTSTRAP}` },
      });
      const body = (await response.json()) as { used: number; unpricedCalls: number | null };
      assert.equal(response.status, 200, JSON.stringify(body));
      return body;
    };

    test('one miss and three hits spend one request of two; after a restart the next call is admitted, the one after refused', async () => {
      const first = [await ask('cached?'), await ask('cached?'), await ask('cached?'), await ask('cached?')];
      assert.deepEqual(
        first.map((answer) => [answer.status, answer.cache]),
        [
          [200, 'miss'],
          [200, 'hit'],
          [200, 'hit'],
          [200, 'hit'],
        ],
      );
      await sluice!.sluice.settled();
      assert.equal((await burnDown('checkout-calls')).used, 1);
      assert.equal((await burnDown('checkout-tokens')).used, 17);
      const cost = await burnDown('checkout-cost');
      assert.ok(cost.used > 0, 'the miss is priced');

      const storage = db.besides(sluice!);
      await sluice!.stop();
      sluice = null;
      sluice = await start(storage);
      // Seeded with the one admitted call: a second fits, a third does not.
      assert.deepEqual(await ask('a new question'), { status: 200, cache: 'miss' });
      assert.equal((await ask('another new question')).status, 429);
      await sluice.sluice.settled();
      assert.equal((await burnDown('checkout-calls')).used, 2);
      assert.equal((await burnDown('checkout-tokens')).used, 34);
      assert.equal((await burnDown('checkout-cost')).used, 2 * cost.used, 'a hit costs nothing: the two misses alone');
    });
  });
}
