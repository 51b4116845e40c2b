// A consumer that does not exist, named in a request body, is the caller's mistake in that field: every route that takes
// one answers 400 naming it, as budgets and rate limits do (`consumers.consumer`) and as the consumers API does for a
// team. Identity rules, reconciliation rules and reconciliation resolutions answered 409, a conflict a script retries
// or reports differently, and named no field.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-missing-consumer-refs-01';

describe('a body naming a consumer that does not exist', () => {
  let sluice: TestSluice;
  let admin: AdminClient;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    admin = adminClient(sluice, TOKEN);
  });

  after(async () => {
    await sluice.stop();
  });

  const refusedNaming = async (path: string, body: unknown, field: string) => {
    const answer = await admin('POST', path, body);
    assert.equal(answer.status, 400, `${path}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error.code, 'invalid_request');
    assert.deepEqual(answer.body.error.issues, [{ path: field, message: 'no consumer named "checkout-servcie"' }], path);
  };

  test('a budget says 400 naming consumers.consumer (the answer the others now match)', async () => {
    await refusedNaming(
      '/api/budgets',
      { name: 'b', consumers: { consumer: 'checkout-servcie' }, measure: 'requests', limit: 5, window: 'day' },
      'consumers.consumer',
    );
  });

  test('an identity rule: 400 naming consumer, and no rule made', async () => {
    await refusedNaming(
      '/api/identity-rules',
      { field: 'spiffe', match: 'exact', value: 'spiffe://acme.example/ns/pay/sa/checkout', consumer: 'checkout-servcie' },
      'consumer',
    );
    assert.deepEqual((await admin('GET', '/api/identity-rules')).body.items, []);
  });

  test('a reconciliation rule: 400 naming consumer, and no rule made', async () => {
    await refusedNaming('/api/reconciliation/rules', { match: { cidr: '10.77.0.0/16' }, consumer: 'checkout-servcie' }, 'consumer');
    assert.deepEqual((await admin('GET', '/api/reconciliation/rules')).body.items, []);
  });

  test('resolving a discovered consumer to one: 400 naming consumer, and it stays pending', async () => {
    const seen = await admin('POST', '/api/reconciliation/observations', {
      observations: [
        {
          observer: 'proxy-1',
          at: Date.now() - 60_000,
          source: { ip: '10.77.1.2' },
          provider: 'openai',
          model: 'gpt-4o',
          inputTokens: 10,
          outputTokens: 1,
        },
      ],
    });
    assert.equal(seen.status, 200, JSON.stringify(seen.body));
    const [found] = seen.body.consumers as Array<{ id: number }>;
    await refusedNaming(`/api/reconciliation/consumers/${found!.id}/resolve`, { consumer: 'checkout-servcie' }, 'consumer');
    assert.equal((await admin('GET', `/api/reconciliation/consumers/${found!.id}`)).body.status, 'pending');
  });
});
