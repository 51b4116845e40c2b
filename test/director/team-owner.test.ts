// What a team-owner token may do to its team's consumers: keys and owner, never the fields that decide governance
// (model allow-list, the labels budget templates select on, team), and nothing that tells it which other names exist.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, clientWithRole, type AdminClient } from '../support/admin-client.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';

describe('a team-owner and governance', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let admin: AdminClient;
  let owner: AdminClient;
  let key: string;

  const call = async (model = 'gpt-4o-mini') =>
    (
      await fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      })
    ).status;

  before(async () => {
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('hi')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
      ],
    });
    admin = adminClient(sluice, BOOTSTRAP);
    assert.equal((await admin('POST', '/api/teams', { name: 'finance', owner: 'alice@example.com' })).status, 201);
    assert.equal((await admin('POST', '/api/teams', { name: 'analytics', owner: 'dan@example.com' })).status, 201);
    assert.equal(
      (await admin('POST', '/api/consumers', { name: 'alice', team: 'finance', labels: { tier: 'batch' }, models: ['gpt-4o-mini'] }))
        .status,
      201,
    );
    assert.equal((await admin('POST', '/api/consumers', { name: 'etl', team: 'analytics' })).status, 201);
    // One call a day for consumers labelled tier=batch.
    assert.equal(
      (
        await admin('POST', '/api/budget-templates', {
          name: 'batch-daily',
          selector: { labels: { tier: 'batch' } },
          measure: 'requests',
          limit: 1,
          window: 'day',
        })
      ).status,
      201,
    );
    key = (await admin('POST', '/api/consumers/alice/keys', { name: 'prod' })).body.plaintext;
    owner = await clientWithRole(sluice, admin, 'finance-lead', 'team-owner', 'finance');
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('may not remove an admin-set model allow-list', async () => {
    const refused = await call('gpt-4o');
    assert.equal(refused, 404, "gpt-4o is outside alice's allow-list: it does not exist for her");
    const answer = await owner('PATCH', '/api/consumers/alice', { models: null });
    assert.equal(answer.status, 403, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, 'forbidden');
    assert.deepEqual((await admin('GET', '/api/consumers/alice')).body.models, ['gpt-4o-mini']);
    assert.equal(await call('gpt-4o'), refused, 'still refused');
  });

  test('may not take its consumer out of a label-selected budget template', async () => {
    assert.equal(await call(), 200);
    assert.equal(await call(), 429, 'the template allows one call a day');
    for (const labels of [{}, { tier: 'online' }]) {
      const answer = await owner('PATCH', '/api/consumers/alice', { labels });
      assert.equal(answer.status, 403, JSON.stringify(answer.body));
    }
    assert.deepEqual((await admin('GET', '/api/consumers/alice')).body.labels, { tier: 'batch' });
    assert.equal(await call(), 429, 'still under the template');
  });

  test('may not move its consumer to another team, nor name its own team in a patch', async () => {
    assert.equal((await owner('PATCH', '/api/consumers/alice', { team: 'analytics' })).status, 403);
    assert.equal((await owner('PATCH', '/api/consumers/alice', { team: 'finance' })).status, 403, 'team is for admins and operators');
    assert.equal((await owner('PATCH', '/api/consumers/alice', { team: null })).status, 403);
  });

  test("manages its consumers' owner and keys", async () => {
    const patched = await owner('PATCH', '/api/consumers/alice', { owner: 'bob@example.com' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.owner, 'bob@example.com');
    assert.deepEqual(patched.body.labels, { tier: 'batch' });
    const made = await owner('POST', '/api/consumers/alice/keys', { name: 'ci' });
    assert.equal(made.status, 201);
    assert.equal((await owner('POST', `/api/consumers/alice/keys/${made.body.key.id}/revoke`)).status, 200);
  });

  test('creates a consumer in its team without governance fields, and may not set them', async () => {
    assert.equal((await owner('POST', '/api/consumers', { name: 'plain', team: 'finance', owner: 'bob@example.com' })).status, 201);
    assert.equal(
      (await owner('POST', '/api/consumers', { name: 'empty-ok', team: 'finance', labels: {}, models: null })).status,
      201,
      'empty labels and no allow-list are what a consumer gets anyway',
    );
    assert.equal((await owner('POST', '/api/consumers', { name: 'labelled', team: 'finance', labels: { tier: 'online' } })).status, 403);
    assert.equal((await owner('POST', '/api/consumers', { name: 'restricted', team: 'finance', models: ['gpt-4o-mini'] })).status, 403);
    assert.equal((await admin('GET', '/api/consumers/labelled')).status, 404, 'nothing was created');
  });

  test("gets the same 403 for a missing consumer as for another team's, on every consumer route", async () => {
    const routes: Array<[string, string, unknown]> = [
      ['GET', '/api/consumers/{name}', undefined],
      ['PATCH', '/api/consumers/{name}', { owner: 'x@example.com' }],
      ['DELETE', '/api/consumers/{name}', undefined],
      ['GET', '/api/consumers/{name}/keys', undefined],
      ['POST', '/api/consumers/{name}/keys', { name: 'k' }],
      ['POST', '/api/consumers/{name}/keys/00000000-0000-0000-0000-000000000000/revoke', undefined],
      ['POST', '/api/consumers/{name}/keys/00000000-0000-0000-0000-000000000000/rotate', { graceSeconds: 0 }],
    ];
    for (const [method, path, payload] of routes) {
      const otherTeams = await owner(method, path.replace('{name}', 'etl'), payload);
      const missing = await owner(method, path.replace('{name}', 'no-such-consumer'), payload);
      assert.equal(otherTeams.status, 403, `${method} ${path} of another team's`);
      assert.equal(missing.status, 403, `${method} ${path} of a missing name`);
      assert.deepEqual(missing.body, otherTeams.body, `${method} ${path}: the two answers are alike`);
    }
    assert.equal((await owner('GET', '/api/teams/no-such-team')).status, 403);
    assert.deepEqual((await owner('GET', '/api/teams/no-such-team')).body, (await owner('GET', '/api/teams/analytics')).body);
    assert.equal((await admin('GET', '/api/consumers/etl')).status, 200, "another team's consumer is untouched");
  });
});
