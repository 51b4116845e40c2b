// Response-cache savings of calls that cost less than a micro-USD: a gpt-4o-mini call of 1 prompt token and no output
// costs 150 nano-USD, 0 in whole micro-USD. A hit saves those 150 nano-USD: in the ledger (saved_nano_usd), the
// rollups behind usage and chargeback, the API's saved Money and the saved-USD metric, instead of 0 per hit. A cached
// entry keeps its whole micro-USD for the versions that share it and adds the exact figure; an entry an earlier version
// wrote (micro-USD only) saves its micro-USD x 1,000. On SQLite with the memory cache, and PostgreSQL with Redis.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { Redis } from 'ioredis';
import { adminClient, type AdminClient } from '../../support/admin-client.js';
import { json, MockProvider, openaiCompletion } from '../../support/mock-provider.js';
import { describeOnStore } from '../../support/director-stores.js';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../../support/redis.js';
import { KEYS, type TestSluice } from '../../support/sluice.js';
import { until } from '../../support/until.js';
import { decodeAnswer, encodeAnswer } from '../../../src/gateway/cache/response-cache.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-sub-micro-saving';
/** 1 prompt token of gpt-4o-mini ($0.15 per 1M), no output. */
const NANO_PER_CALL = 150;

const variants = [
  { name: 'sqlite, memory cache', store: 'sqlite' },
  { name: 'postgres, Redis cache', store: 'postgres' },
] as const;

for (const variant of variants) {
  describeOnStore(variant.store, `response-cache savings under a micro-USD on ${variant.name}`, (db) => {
    let mock: MockProvider;
    let sluice: TestSluice;
    let admin: AdminClient;
    const prefix = testKeyPrefix();

    const ask = async (content: string) => {
      const openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      const { response } = await openai.chat.completions
        .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] })
        .withResponse();
      return response.headers.get('x-sluice-cache');
    };

    before(async () => {
      mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('', { prompt_tokens: 1, completion_tokens: 0 })));
      sluice = await db.startSluice(BOOTSTRAP, {
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-openai-key-not-real' } },
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
        cache: {
          ...(variant.store === 'postgres' ? { store: TEST_REDIS_URL, keyPrefix: prefix } : {}),
          models: { 'gpt-4o-mini': { ttlSeconds: 600 } },
        },
      });
      admin = adminClient(sluice, BOOTSTRAP);
    });

    after(async () => {
      await sluice?.stop();
      await mock?.close();
      if (variant.store === 'postgres') await deleteTestKeys(prefix);
    });

    test('a hit saves the call’s nano-USD: in its transaction, usage, chargeback and the saved-USD metric', async () => {
      assert.equal(await ask('tiny'), 'miss');
      // The entry is stored after the answer, by a Redis client that may still be connecting (a store that fails drops
      // the answer): ask again until it is there rather than wait for a time. A miss saves nothing.
      if (variant.store === 'postgres') {
        const redis = new Redis(TEST_REDIS_URL);
        try {
          await until('the entry is in Redis', async () => {
            if ((await redis.keys(`${prefix}*`)).length === 1) return true;
            await ask('tiny');
            return false;
          });
        } finally {
          redis.disconnect();
        }
      }
      for (let i = 0; i < 3; i++) assert.equal(await ask('tiny'), 'hit');
      await sluice.sluice.settled();

      const list = await admin('GET', '/api/transactions?model=gpt-4o-mini&limit=10');
      assert.equal(list.status, 200, JSON.stringify(list.body));
      const [newest] = list.body.items;
      assert.deepEqual(newest.saved, { microUsd: 0, nanoUsd: NANO_PER_CALL, usd: '0.000000' });
      assert.deepEqual(newest.cost, { microUsd: 0, nanoUsd: 0, usd: '0.000000' });

      const usage = await admin('GET', '/api/usage?bucket=month&groupBy=consumer');
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      const checkout = usage.body.items.find((item: any) => item.group.consumer === 'checkout-service');
      assert.deepEqual(checkout.saved, { microUsd: 0, nanoUsd: 3 * NANO_PER_CALL, usd: '0.000000' });

      const report = await admin('GET', '/api/reports/chargeback');
      assert.equal(report.status, 200, JSON.stringify(report.body));
      assert.equal(report.body.total.saved.nanoUsd, 3 * NANO_PER_CALL);

      // The metric keeps its unit, micro-USD, and counts the fraction (a float sum: 0.15 three times).
      const metrics = await (await fetch(`${sluice.adminURL}/metrics`)).text();
      const saved = /sluice_response_cache_saved_micro_usd_total\{model="gpt-4o-mini"\} (\S+)/.exec(metrics)?.[1];
      assert.ok(Math.abs(Number(saved) - (3 * NANO_PER_CALL) / 1000) < 1e-9, String(saved));
    });

    if (variant.store === 'postgres')
      test('a Redis entry keeps whole micro-USD for other versions beside the exact figure; an earlier version’s saves its micro-USD', async () => {
        const redis = new Redis(TEST_REDIS_URL);
        try {
          const [key] = await redis.keys(`${prefix}*`);
          assert.ok(key !== undefined);
          const entry = decodeAnswer((await redis.getBuffer(key))!)!;
          assert.deepEqual([entry.costMicroUsd, entry.costNanoUsd], [0, NANO_PER_CALL]);
          // As an earlier version writes it: whole micro-USD only.
          const { costNanoUsd: _exact, ...earlier } = entry;
          await redis.set(key, encodeAnswer({ ...earlier, costMicroUsd: 7 }), 'PX', 600_000);
        } finally {
          redis.disconnect();
        }
        assert.equal(await ask('tiny'), 'hit');
        await sluice.sluice.settled();
        const [newest] = (await admin('GET', '/api/transactions?model=gpt-4o-mini&limit=1')).body.items;
        assert.deepEqual(newest.saved, { microUsd: 7, nanoUsd: 7_000, usd: '0.000007' });
      });
  });
}
