// Calls that cost less than a micro-USD each, as a user of the gateway sees them: a few-token embedding on
// text-embedding-3-small ($0.02 per 1M tokens) costs 60 nano-USD. Each is recorded to the nano-USD, so the ledger, the
// rollups behind usage and chargeback, a budget's burn-down and the gateway's own cost budget (in-memory and Redis
// counters) count their real sum instead of 0 each. On both stores, through the openai SDK against a loopback mock.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { adminClient, type AdminClient } from '../support/admin-client.js';
import { json, MockProvider } from '../support/mock-provider.js';
import { describeOnStore } from '../support/director-stores.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-sub-micro-cost';
/** Every embedding the mock answers states 3 prompt tokens: 3 x $0.02 / 1M = 60 nano-USD. */
const TOKENS = 3;
const NANO_PER_CALL = 60;
const CALLS = 40;
/** A cost budget of 2 micro-USD: 33 calls fit, the 35th cannot. */
const LIMIT_USD = 0.000002;

const variants = [
  { name: 'sqlite, in-memory counters', store: 'sqlite', redis: false },
  { name: 'postgres, in-memory counters', store: 'postgres', redis: false },
  { name: 'sqlite, Redis counters', store: 'sqlite', redis: true },
] as const;

for (const variant of variants) {
  describeOnStore(variant.store, `sub-micro-USD calls on ${variant.name}`, (db) => {
    let mock: MockProvider;
    let sluice: TestSluice;
    let admin: AdminClient;
    const keyPrefix = testKeyPrefix();

    before(async () => {
      mock = await MockProvider.start((request, res) => {
        const inputs = Array.isArray(request.body.input) ? request.body.input : [request.body.input];
        json(res, 200, {
          object: 'list',
          data: inputs.map((_input: unknown, index: number) => ({ object: 'embedding', index, embedding: [0.1, -0.2, 0.3] })),
          model: 'text-embedding-3-small',
          usage: { prompt_tokens: TOKENS, total_tokens: TOKENS },
        });
      });
      sluice = await startTestSluice({
        ...db.sluiceStorage,
        ...(variant.redis ? { counters: { url: TEST_REDIS_URL, keyPrefix, failMode: 'closed', timeoutMs: 5_000 } } : {}),
        admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
        models: [
          { name: 'text-embedding-3-small', targets: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
          // The test consumers' allowed model; never called here.
          { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        ],
        budgets: [
          {
            name: 'embedding-spend',
            consumers: { consumer: 'checkout-service' },
            measure: 'cost_usd',
            limit: LIMIT_USD,
            window: 'month',
          },
        ],
      });
      admin = adminClient(sluice, BOOTSTRAP);
    });

    after(async () => {
      await sluice?.stop();
      await mock?.close();
      if (variant.redis) await deleteTestKeys(keyPrefix);
    });

    test('each call costs its nano-USD, and the sums, the burn-down and the cost budget count them', async () => {
      const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const statuses: number[] = [];
      for (let i = 0; i < CALLS; i++) {
        try {
          await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
          statuses.push(200);
        } catch (error) {
          if (!(error instanceof OpenAI.APIError)) throw error;
          statuses.push(error.status ?? 0);
        }
      }
      await sluice.sluice.settled();
      const served = statuses.filter((status) => status === 200).length;
      // The budget of 2,000 nano-USD holds 33 calls of 60; the one that would pass it is refused, and so is every later one.
      assert.ok(served >= 33 && served <= 34, `served ${served}: ${statuses.join(',')}`);
      assert.deepEqual(statuses.slice(served), new Array(CALLS - served).fill(429));
      const total = served * NANO_PER_CALL;

      const page = await admin('GET', '/api/transactions?limit=1&outcome=served');
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.deepEqual(page.body.items[0].cost, { microUsd: 0, nanoUsd: NANO_PER_CALL, usd: '0.000000' });

      const usage = await admin('GET', '/api/usage?bucket=month&groupBy=consumer');
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      const checkout = usage.body.items.find((item: any) => item.group.consumer === 'checkout-service');
      assert.deepEqual(checkout.cost, { microUsd: Math.round(total / 1000), nanoUsd: total, usd: `0.00000${Math.round(total / 1000)}` });

      const report = await admin('GET', '/api/reports/chargeback');
      assert.equal(report.status, 200, JSON.stringify(report.body));
      assert.equal(report.body.total.cost.nanoUsd, total);
      assert.equal(report.body.total.cost.microUsd, Math.round(total / 1000));

      const burnDown = await admin('GET', '/api/budgets/embedding-spend/burn-down');
      assert.equal(burnDown.status, 200, JSON.stringify(burnDown.body));
      assert.equal(burnDown.body.unit, 'microUsd');
      // microUsd figures stay integers (the precise figure rounded once); nanoUsd carries it exactly.
      assert.deepEqual([burnDown.body.limit, burnDown.body.used], [2, Math.round(total / 1000)]);
      assert.deepEqual([burnDown.body.nanoUsd.limit, burnDown.body.nanoUsd.used], [2000, total]);
      assert.equal(burnDown.body.usedPercent, Math.round((total / 2000) * 10_000) / 100);
    });
  });
}
