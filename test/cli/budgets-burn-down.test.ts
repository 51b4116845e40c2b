// `sluice budgets burn-down NAME` run as a user runs it, against a real director: the usage so far in the budget's
// window and the projection, in the budget's unit (requests, tokens, USD), for calendar and rolling windows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cliFor } from '../support/cli.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-cli-test-token-000004';

describe('sluice budgets burn-down', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let cli: ReturnType<typeof cliFor>;

  const call = async () => {
    const answer = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      // max_tokens keeps the reservation within the budgets' limits.
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(answer.status, 200);
  };

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      budgets: [
        {
          name: 'checkout-daily',
          consumers: { consumer: 'checkout-service' },
          resources: { model: 'gpt-4o-mini' },
          measure: 'requests',
          limit: 4,
          window: 'day',
        },
        { name: 'payments-monthly', consumers: { team: 'payments' }, measure: 'cost_usd', limit: 100, window: 'month' },
        {
          name: 'checkout-rolling',
          consumers: { consumer: 'checkout-service' },
          measure: 'total_tokens',
          limit: 1000,
          window: { rolling: '24h' },
        },
      ],
    });
    cli = cliFor(sluice.adminURL, TOKEN);
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test("budgets burn-down shows the usage so far in the window and the projection, in the budget's unit", async () => {
    await call();
    await call();
    await sluice.sluice.settled();
    const requests = await cli(['budgets', 'burn-down', 'checkout-daily']);
    assert.equal(requests.code, 0, requests.stderr);
    const field = (output: string, name: string) => new RegExp(`^${name}\\s{2,}(.+)$`, 'm').exec(output)?.[1];
    assert.equal(field(requests.stdout, 'budget'), 'checkout-daily');
    assert.match(field(requests.stdout, 'window')!, /^day, \d{4}-\d{2}-\d{2}T00:00:00Z to \d{4}-\d{2}-\d{2}T00:00:00Z$/);
    assert.equal(field(requests.stdout, 'limit'), '4 requests');
    assert.equal(field(requests.stdout, 'used'), '2 requests (50%)');
    assert.equal(field(requests.stdout, 'remaining'), '2 requests');
    assert.equal(field(requests.stdout, 'method'), 'linear-since-window-start');
    const asJson = JSON.parse((await cli(['budgets', 'burn-down', 'checkout-daily', '--json'])).stdout) as {
      used: number;
      limit: number;
      unit: string;
    };
    assert.deepEqual([asJson.used, asJson.limit, asJson.unit], [2, 4, 'requests']);

    const money = await cli(['budgets', 'burn-down', 'payments-monthly']);
    assert.equal(money.code, 0, money.stderr);
    assert.equal(field(money.stdout, 'limit'), '$100.000000');
    assert.match(field(money.stdout, 'used')!, /^\$0\.\d{6} \(\d+(\.\d+)?%\)$/);
    assert.match(field(money.stdout, 'window')!, /^month, /);

    const rolling = await cli(['budgets', 'burn-down', 'checkout-rolling']);
    assert.equal(rolling.code, 0, rolling.stderr);
    assert.equal(field(rolling.stdout, 'used'), '34 tokens (3.4%)', '2 calls of 12 + 5 tokens');
    assert.match(field(rolling.stdout, 'window')!, /^rolling 24h, \d{4}-.+ to now$/);
    assert.equal(field(rolling.stdout, 'method'), 'rolling-recent-rate');

    const unknown = await cli(['budgets', 'burn-down', 'nope']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'sluice: budget "nope" does not exist\n');
    assert.equal((await cli(['budgets', 'burn-down'])).code, 2);
    assert.match((await cli(['budgets', '--help'])).stdout, /burn-down NAME/);
  });
});
