// The figures agree with what the gateway admitted: a budget of N calls, then calls the gateway refuses (404 unknown model,
// 403 unsanctioned, 429 budget) and one that fails upstream; the burn-down counts the N it admitted, and the chargeback
// keeps refusals and failures out of its unpriced column, each in its own. On both stores, through the openai SDK.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import { KEYS, type TestSluice } from '../support/sluice.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';
const LIMIT = 3;

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `figures on ${storeKind}: burn-down and chargeback count what the gateway admitted`, (db) => {
    let mock: MockProvider;
    let sluice: TestSluice;

    before(async () => {
      // The upstream fails a prompt of "fail"; it answers every other.
      mock = await MockProvider.start((request, res) => {
        if ((request.body.messages as Array<{ content: unknown }>)[0]!.content === 'fail')
          json(res, 500, { error: { message: 'upstream is down', type: 'server_error' } });
        else json(res, 200, openaiCompletion('hi'));
      });
      sluice = await db.startSluice(BOOTSTRAP, {
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
        models: [
          { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
          { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
          // No price is known for this one: served, but unpriced.
          { name: 'house-model', targets: [{ provider: 'openai', model: 'house-model-7b' }] },
        ],
        resources: { 'openai/gpt-4o': 'unsanctioned' },
        budgets: [
          { name: 'checkout-hourly', consumers: { consumer: 'checkout-service' }, measure: 'requests', limit: LIMIT, window: 'hour' },
        ],
      });
    });

    after(async () => {
      await sluice?.stop();
      await mock?.close();
    });

    const ask = async (key: string, model: string, prompt = 'hi'): Promise<number> => {
      const client = new OpenAI({ apiKey: key, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
      try {
        await client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }] });
        return 200;
      } catch (error) {
        if (error instanceof OpenAI.APIError && error.status !== undefined) return error.status;
        throw error;
      }
    };

    const admin = async (path: string): Promise<{ status: number; body: any; text: string }> => {
      const response = await fetch(`${sluice.adminURL}${path}`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } });
      const text = await response.text();
      return {
        status: response.status,
        body: (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : null,
        text,
      };
    };

    test(`a budget of ${LIMIT} calls: ${LIMIT} admitted, refusals on the side, and the figures say so`, async () => {
      const statuses = [
        await ask(KEYS.checkout, 'no-such-model'),
        await ask(KEYS.checkout, 'gpt-4o-mini'),
        await ask(KEYS.checkout, 'gpt-4o'),
        await ask(KEYS.checkout, 'gpt-4o-mini'),
        await ask(KEYS.checkout, 'house-model'),
        await ask(KEYS.checkout, 'gpt-4o-mini'),
        await ask(KEYS.checkout, 'no-such-model'),
        await ask(KEYS.checkout, 'gpt-4o-mini'),
        await ask(KEYS.checkout, 'gpt-4o'),
        // Outside the budget's scope: a call the upstream fails.
        await ask(KEYS.search, 'gpt-4o-mini', 'fail'),
      ];
      assert.deepEqual(statuses, [404, 200, 403, 200, 200, 429, 404, 429, 403, 502]);
      await sluice.sluice.settled();
      const burnDown = await admin('/api/budgets/checkout-hourly/burn-down');
      assert.equal(burnDown.status, 200, JSON.stringify(burnDown.body));
      assert.deepEqual(
        [burnDown.body.used, burnDown.body.usedPercent, burnDown.body.remaining, burnDown.body.exhausted],
        [LIMIT, 100, 0, true],
      );

      const report = await admin('/api/reports/chargeback');
      assert.equal(report.status, 200, JSON.stringify(report.body));
      const lines = report.body.items.map((line: any) => [line.team, line.calls, line.unpricedCalls, line.refusedCalls, line.failedCalls]);
      assert.deepEqual(lines, [
        ['discovery', 1, 0, 0, 1],
        ['payments', 9, 1, 6, 0],
      ]);
      assert.deepEqual(
        [report.body.total.calls, report.body.total.unpricedCalls, report.body.total.refusedCalls, report.body.total.failedCalls],
        [10, 1, 6, 1],
      );

      const sheet = await admin('/api/reports/chargeback?format=csv');
      const [header, ...rows] = sheet.text.trimEnd().split('\r\n');
      assert.equal(
        header,
        'period,team,calls,input_tokens,output_tokens,cached_input_tokens,total_tokens,cost_usd,unpriced_calls,refused_calls,failed_calls,cache_write_tokens,cache_write_1h_tokens,saved_usd,cost_nano_usd,saved_nano_usd',
      );
      assert.deepEqual(
        rows.map((row) => row.split(',').slice(8, 11)),
        [
          ['0', '0', '1'],
          ['1', '6', '0'],
        ],
      );

      const usage = await admin('/api/usage?bucket=month&groupBy=team');
      assert.deepEqual(
        usage.body.items.map((item: any) => [item.group.team, item.calls, item.unpricedCalls, item.refusedCalls, item.failedCalls]),
        [
          ['discovery', 1, 0, 0, 1],
          ['payments', 9, 1, 6, 0],
        ],
      );
    });
  });
}
