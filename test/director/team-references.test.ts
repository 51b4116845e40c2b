// A budget, budget template or rate limit scoped to a team names a team of the director's store: one that does not exist
// (a typo) would bind no consumer, so the admin API and `sluice apply` refuse it with 400, naming the field, as they do a
// consumer or a model that does not exist; and a team one names cannot be deleted under it (a consumer: consumer-references.test).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliFor, emptyDir } from '../support/cli.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-team-references-token-01';

type Answer = { status: number; body: { error?: { code: string; message: string; issues?: Array<{ path: string; message: string }> } } };

describe('policies naming a team', () => {
  let sluice: TestSluice;

  before(async () => {
    // The test config's consumers are of teams payments and discovery.
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

  const call = async (method: string, path: string, payload: unknown): Promise<Answer> => {
    const response = await fetch(`${sluice.adminURL}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    return { status: response.status, body: (response.status === 204 ? {} : await response.json()) as Answer['body'] };
  };

  const terms = { measure: 'requests', limit: 5, window: 'day' };
  const CASES = [
    { noun: 'a budget', path: '/api/budgets', body: { name: 'b', consumers: { team: 'platfrom' }, ...terms }, field: 'consumers.team' },
    {
      noun: 'a budget template',
      path: '/api/budget-templates',
      body: { name: 't', selector: { team: 'platfrom' }, ...terms },
      field: 'selector.team',
    },
    {
      noun: 'a rate limit',
      path: '/api/rate-limits',
      body: { name: 'r', consumers: { team: 'platfrom' }, requestsPerMinute: 60 },
      field: 'consumers.team',
    },
  ];

  for (const { noun, path, body, field } of CASES) {
    test(`${noun} for a team that does not exist: 400 naming the field, created neither by POST nor by PUT`, async () => {
      const created = await call('POST', path, body);
      assert.equal(created.status, 400, JSON.stringify(created.body));
      assert.equal(created.body.error?.code, 'invalid_request');
      assert.deepEqual(created.body.error?.issues, [{ path: field, message: 'no team named "platfrom"' }]);
      assert.match(created.body.error?.message ?? '', /no team named "platfrom"/);

      // The same definition for a team that exists is taken; replacing its team with a typo is refused alike.
      const good = JSON.parse(JSON.stringify(body).replace('platfrom', 'payments')) as Record<string, unknown>;
      assert.equal((await call('POST', path, good)).status, 201);
      const replaced = await call('PUT', `${path}/${String(good.name)}`, body);
      assert.equal(replaced.status, 400, JSON.stringify(replaced.body));
      assert.deepEqual(replaced.body.error?.issues, [{ path: field, message: 'no team named "platfrom"' }]);
    });
  }

  test('a consumer or team-owner token for a team that does not exist: 400 naming team, by the API and the CLI', async () => {
    const CALLS: Array<[string, string, unknown]> = [
      ['POST', '/api/consumers', { name: 'ledger-sync', team: 'platfrom' }],
      ['PATCH', '/api/consumers/checkout-service', { team: 'platfrom' }],
      ['POST', '/api/admin-tokens', { name: 'platform-lead', role: 'team-owner', team: 'platfrom' }],
    ];
    for (const [method, path, payload] of CALLS) {
      const refused = await call(method, path, payload);
      assert.equal(refused.status, 400, `${method} ${path}: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error?.code, 'invalid_request');
      assert.deepEqual(refused.body.error?.issues, [{ path: 'team', message: 'no team named "platfrom"' }]);
    }
    assert.equal((await call('GET', '/api/consumers/ledger-sync', undefined)).status, 404);
    assert.equal(((await call('GET', '/api/consumers/checkout-service', undefined)).body as { team?: string }).team, 'payments');
    const cli = cliFor(sluice.adminURL, TOKEN);
    const typed = await cli(['consumers', 'create', 'ledger-sync', '--team', 'platfrom']);
    assert.equal(typed.code, 1, typed.stderr);
    assert.match(typed.stderr, /team: no team named "platfrom"/);
  });

  test('a team a budget, template or rate limit names cannot be deleted (409, naming them), as a model they name cannot', async () => {
    assert.equal((await call('POST', '/api/teams', { name: 'growth', owner: 'gina@example.com' })).status, 201);
    assert.equal((await call('POST', '/api/budgets', { name: 'growth-daily', consumers: { team: 'growth' }, ...terms })).status, 201);
    const refused = await call('DELETE', '/api/teams/growth', undefined);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error?.code, 'conflict');
    assert.match(refused.body.error?.message ?? '', /team "growth": still named by budget "growth-daily"/);
    assert.equal((await call('DELETE', '/api/budgets/growth-daily', undefined)).status, 204);
    assert.equal((await call('DELETE', '/api/teams/growth', undefined)).status, 204);
  });

  test('sluice apply of a budget for a team that does not exist applies nothing; a team the document declares is fine', async () => {
    const cli = cliFor(sluice.adminURL, TOKEN);
    const dir = emptyDir();
    const file = join(dir, 'governance.yaml');
    writeFileSync(
      file,
      'budgets:\n  - { name: platform-daily, consumers: { team: platfrom }, measure: requests, limit: 5, window: day }\n',
    );
    const refused = await cli(['apply', '-f', file]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^ {2}budgets\[0\]\.consumers\.team: no team named "platfrom"$/m);

    writeFileSync(
      file,
      'teams:\n  - { name: platform, owner: pat@example.com }\nbudgets:\n  - { name: platform-daily, consumers: { team: platform }, measure: requests, limit: 5, window: day }\n',
    );
    const applied = await cli(['apply', '-f', file]);
    assert.equal(applied.code, 0, applied.stderr);
  });
});
