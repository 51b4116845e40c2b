// POST /api/apply on both stores: a document applied all or nothing in one transaction with one config version bump
// and an audit record per change; every broken reference answered at once, by its path, with nothing applied; a dry run
// that checks the same and changes nothing; the roles that may apply.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OFFLINE_CATALOG } from '../support/admin-client.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import type { TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-apply-test-token-0001';

type Answer = { status: number; body: any };

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `POST /api/apply on ${storeKind}`, (db) => {
    let sluice: TestSluice;

    before(async () => {
      sluice = await db.startSluice(BOOTSTRAP, {
        // Never called: apply only writes definitions.
        ...OFFLINE_CATALOG,
      });
    });

    after(async () => {
      await sluice?.stop();
    });

    const call = async (method: string, path: string, payload?: unknown, token = BOOTSTRAP): Promise<Answer> => {
      const response = await fetch(`${sluice.adminURL}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: payload === undefined ? undefined : JSON.stringify(payload),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : JSON.parse(text) };
    };
    const version = async () =>
      (await fetch(`${sluice.adminURL}/api/gateway/snapshot`, { headers: { authorization: `Bearer ${BOOTSTRAP}` } })).headers.get('etag');
    const auditCount = async () => (await call('GET', '/api/audit?limit=1000')).body.items.length as number;

    const document = {
      teams: [{ name: 'research', owner: 'rita@example.com' }],
      models: [{ name: 'house-model', targets: [{ provider: 'openai', model: 'house-7b' }] }],
      consumers: [{ name: 'notebook', team: 'research', models: ['house-model', 'gpt-4o-mini'] }],
      budgets: [
        {
          name: 'notebook-daily',
          consumers: { consumer: 'notebook' },
          resources: { model: 'house-model' },
          measure: 'requests',
          limit: 50,
          window: 'day',
        },
      ],
      resources: { 'openai/house-7b': 'sanctioned' },
    };

    test('every broken reference is answered at once, by its path, and nothing is applied; a dry run answers the same', async () => {
      const [versionBefore, auditBefore] = [await version(), await auditCount()];
      const broken = {
        ...document,
        models: [{ name: 'house-model', targets: [{ provider: 'nowhere', model: 'house-7b' }] }],
        consumers: [
          { name: 'notebook', team: 'research', models: ['house-model', 'gpt-9'] },
          { name: 'crawler', team: 'ghosts' },
        ],
        budgets: [{ ...document.budgets[0], consumers: { consumer: 'nobody' }, onExhausted: { downgrade: 'gpt-10' } }],
      };
      for (const dryRun of [true, false]) {
        const answer = await call('POST', '/api/apply', { ...broken, dryRun });
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.deepEqual(answer.body.error.issues, [
          { path: 'models.0.targets.0.provider', message: 'no provider named "nowhere"' },
          { path: 'consumers.0.models', message: 'no model named "gpt-9"' },
          { path: 'consumers.1.team', message: 'no team named "ghosts"' },
          { path: 'budgets.0.consumers.consumer', message: 'no consumer named "nobody"' },
          { path: 'budgets.0.onExhausted.downgrade', message: 'no model named "gpt-10"' },
        ]);
        assert.match(
          answer.body.error.message,
          /^Nothing was applied: 5 references do not hold: models\.0\.targets\.0\.provider: no provider named "nowhere"; /,
        );
      }
      assert.deepEqual([await version(), await auditCount()], [versionBefore, auditBefore]);
      assert.equal((await call('GET', '/api/teams/research')).status, 404);
    });

    test('a dry run says what it would do and changes nothing', async () => {
      const [versionBefore, auditBefore] = [await version(), await auditCount()];
      const answer = await call('POST', '/api/apply', { ...document, dryRun: true });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.dryRun, true);
      assert.deepEqual(
        answer.body.results.map((r: any) => [r.kind, r.name, r.path, r.action]),
        [
          ['team', 'research', 'teams.0', 'would create'],
          ['model', 'house-model', 'models.0', 'would create'],
          ['consumer', 'notebook', 'consumers.0', 'would create'],
          ['budget', 'notebook-daily', 'budgets.0', 'would create'],
          ['resource', 'openai/house-7b', 'resources.openai/house-7b', 'would create'],
        ],
      );
      assert.deepEqual([await version(), await auditCount()], [versionBefore, auditBefore]);
    });

    test('applies the whole document with one version bump and an audit record per entity; again, it changes nothing', async () => {
      const before = Number((await version())!.slice(2, -1));
      const auditBefore = await auditCount();
      const answer = await call('POST', '/api/apply', document);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.ok(answer.body.results.every((r: any) => r.action === 'created'));
      assert.equal(await version(), `"v${before + 1}"`);
      assert.equal(await auditCount(), auditBefore + 5);
      assert.equal((await call('GET', '/api/consumers/notebook')).body.team, 'research');
      const again = await call('POST', '/api/apply', document);
      assert.ok(
        again.body.results.every((r: any) => r.action === 'unchanged'),
        JSON.stringify(again.body),
      );
      // Nothing changed, so nothing is committed: no audit record, and no version bump for gateways to reload on.
      assert.deepEqual([await version(), await auditCount()], [`"v${before + 1}"`, auditBefore + 5]);
      const edited = await call('POST', '/api/apply', { budgets: [{ ...document.budgets[0], limit: 60 }] });
      assert.deepEqual(
        edited.body.results.map((r: any) => [r.name, r.action, r.changed]),
        [['notebook-daily', 'updated', ['limit']]],
      );
    });

    test('applying needs the admin or operator role; the body is checked like every other', async () => {
      const made = await call('POST', '/api/admin-tokens', { name: 'watcher', role: 'viewer' });
      assert.equal(made.status, 201);
      assert.equal((await call('POST', '/api/apply', document, made.body.plaintext)).status, 403);
      const bad = await call('POST', '/api/apply', {
        teams: [
          { name: 'a', owner: 'o' },
          { name: 'a', owner: 'p' },
        ],
        webhooks: [],
      });
      assert.equal(bad.status, 400);
      assert.deepEqual(
        bad.body.error.issues.map((i: any) => i.path),
        ['(body)', 'teams.1.name'],
      );
    });
  });
}
