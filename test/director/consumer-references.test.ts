// A budget or rate limit scoped to one consumer names it: deleting the consumer under it would leave a policy counting for
// no one, ready to bind a later consumer of the same name unasked. The admin API and `sluice consumers delete` answer 409
// naming what still uses it; a sluice.yaml reload that drops a consumer with its own budgets drops them all, and one that
// drops a consumer a budget made through the API still names is refused before anything is written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/load.js';
import type { SluiceConfig } from '../../src/config/schema.js';
import { cliFor } from '../support/cli.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-consumer-references-token-01';

type Answer = { status: number; body: { error?: { code: string; message: string }; name?: string } };

describe('policies naming a consumer', () => {
  let sluice: TestSluice;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      // Never called: the tests only write definitions.
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
  });

  after(async () => {
    await sluice.stop();
  });

  const call = async (method: string, path: string, payload?: unknown): Promise<Answer> => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    return { status: response.status, body: (response.status === 204 ? {} : await response.json()) as Answer['body'] };
  };

  /** The test config with these consumers (the test's two plus extras) and policies, as a reloaded sluice.yaml. */
  const fileWith = (extra: Record<string, unknown>): SluiceConfig => {
    const { consumers, budgets, rateLimits, ...rest } = sluice.config;
    return validateConfig(
      {
        ...JSON.parse(JSON.stringify(rest)),
        consumers: [...consumers, ...((extra.consumers as unknown[]) ?? [])],
        budgets: [...budgets, ...((extra.budgets as unknown[]) ?? [])],
        rateLimits: [...rateLimits, ...((extra.rateLimits as unknown[]) ?? [])],
      },
      'reloaded test config',
    );
  };

  test('a consumer a budget or rate limit names cannot be deleted by the API or the CLI (409, naming them)', async () => {
    assert.equal((await call('POST', '/api/consumers', { name: 'ledger-export', team: 'payments' })).status, 201);
    const budget = { name: 'ledger-export-daily', consumers: { consumer: 'ledger-export' }, measure: 'requests', limit: 5, window: 'day' };
    assert.equal((await call('POST', '/api/budgets', budget)).status, 201);
    const limit = { name: 'ledger-export-rpm', consumers: { consumer: 'ledger-export' }, requestsPerMinute: 60 };
    assert.equal((await call('POST', '/api/rate-limits', limit)).status, 201);

    const refused = await call('DELETE', '/api/consumers/ledger-export');
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error?.code, 'conflict');
    assert.match(
      refused.body.error?.message ?? '',
      /consumer "ledger-export": still named by budget "ledger-export-daily", rate limit "ledger-export-rpm"/,
    );
    const cli = await cliFor(sluice.adminURL, TOKEN)(['consumers', 'delete', 'ledger-export']);
    assert.equal(cli.code, 1, cli.stdout);
    assert.match(cli.stderr, /still named by budget "ledger-export-daily"/);
    assert.equal((await call('GET', '/api/consumers/ledger-export')).status, 200, 'still there');

    assert.equal((await call('DELETE', '/api/budgets/ledger-export-daily')).status, 204);
    assert.equal((await call('DELETE', '/api/rate-limits/ledger-export-rpm')).status, 204);
    assert.equal((await call('DELETE', '/api/consumers/ledger-export')).status, 204);
  });

  test('a reload that drops a consumer together with its budget and rate limit drops all three', async () => {
    const declared = {
      consumers: [{ name: 'nightly-report', team: 'payments', keys: ['sk-sluice-test-nightly-report-0003'] }],
      budgets: [{ name: 'nightly-daily', consumers: { consumer: 'nightly-report' }, measure: 'requests', limit: 5, window: 'day' }],
      rateLimits: [{ name: 'nightly-rpm', consumers: { consumer: 'nightly-report' }, requestsPerMinute: 60 }],
    };
    await sluice.sluice.reload(fileWith(declared));
    assert.equal((await call('GET', '/api/consumers/nightly-report')).status, 200);
    assert.equal((await call('GET', '/api/budgets/nightly-daily')).status, 200);

    await sluice.sluice.reload(fileWith({}));
    assert.equal((await call('GET', '/api/consumers/nightly-report')).status, 404);
    assert.equal((await call('GET', '/api/budgets/nightly-daily')).status, 404);
    assert.equal((await call('GET', '/api/rate-limits/nightly-rpm')).status, 404);
  });

  test('a reload that drops a consumer a budget made through the API names is refused, and nothing of it is applied', async () => {
    const consumer = { name: 'batch-embedder', team: 'payments', keys: ['sk-sluice-test-batch-embedder-0004'] };
    await sluice.sluice.reload(fileWith({ consumers: [consumer] }));
    const budget = { name: 'embedder-daily', consumers: { consumer: 'batch-embedder' }, measure: 'requests', limit: 5, window: 'day' };
    assert.equal((await call('POST', '/api/budgets', budget)).status, 201);

    // The same reload also adds a rate limit: a refused reload writes none of it.
    const other = { name: 'everyone-rpm', requestsPerMinute: 600 };
    await assert.rejects(
      sluice.sluice.reload(fileWith({ rateLimits: [other] })),
      /consumer "batch-embedder": still named by budget "embedder-daily", which sluice\.yaml does not declare/,
    );
    assert.equal((await call('GET', '/api/consumers/batch-embedder')).status, 200);
    assert.equal((await call('GET', '/api/budgets/embedder-daily')).status, 200);
    assert.equal((await call('GET', '/api/rate-limits/everyone-rpm')).status, 404);

    // Once the budget is gone, the same reload is taken.
    assert.equal((await call('DELETE', '/api/budgets/embedder-daily')).status, 204);
    await sluice.sluice.reload(fileWith({ rateLimits: [other] }));
    assert.equal((await call('GET', '/api/consumers/batch-embedder')).status, 404);
    assert.equal((await call('GET', '/api/rate-limits/everyone-rpm')).status, 200);
  });
});
