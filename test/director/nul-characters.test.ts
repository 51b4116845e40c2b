// Text with a NUL character (U+0000), which PostgreSQL cannot store and SQLite would keep: on both stores, in a path, a
// query or a body, the director answers 400 invalid_request naming where it was, and writes nothing. (On PostgreSQL each
// of these was a 500, and on SQLite the body's NUL was stored.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, type AdminClient, OFFLINE_CATALOG } from '../support/admin-client.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import type { TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-nul-test-token-000001';
const NUL = '\u0000';

const CASES: Array<{ method: string; path: string; body?: unknown; issue: string }> = [
  { method: 'GET', path: '/api/consumers/checkout%00', issue: '(path)' },
  { method: 'GET', path: '/api/teams/pay%00ments', issue: '(path)' },
  { method: 'DELETE', path: '/api/resources/openai%00%2Fgpt-4o', issue: '(path)' },
  { method: 'GET', path: '/api/consumers?team=pay%00', issue: 'team' },
  { method: 'GET', path: '/api/audit?actor=someone%00', issue: 'actor' },
  { method: 'GET', path: '/api/transactions?consumer=x%00', issue: 'consumer' },
  { method: 'GET', path: '/api/usage?team=x%00', issue: 'team' },
  { method: 'GET', path: '/api/reports/chargeback?team=x%00', issue: 'team' },
  { method: 'POST', path: '/api/teams', body: { name: 'research', owner: `rita${NUL}@example.com` }, issue: 'owner' },
  { method: 'POST', path: '/api/consumers', body: { name: 'notebook', labels: { [`tier${NUL}`]: 'batch' } }, issue: `labels.tier${NUL}` },
  { method: 'PATCH', path: '/api/consumers/checkout-service', body: { owner: `a${NUL}` }, issue: 'owner' },
  { method: 'PUT', path: '/api/resources/openai%2Fgpt-4o', body: { status: 'sanctioned', note: `ok${NUL}` }, issue: 'note' },
  { method: 'POST', path: '/api/admin-tokens', body: { name: `grafana${NUL}`, role: 'viewer' }, issue: 'name' },
  {
    method: 'POST',
    path: '/api/apply',
    body: {
      teams: [
        { name: 'research', owner: 'rita@example.com' },
        { name: 'lab', owner: `x${NUL}` },
      ],
    },
    issue: 'teams.1.owner',
  },
];

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `NUL characters on ${storeKind}`, (db) => {
    let sluice: TestSluice;
    let admin: AdminClient;

    before(async () => {
      sluice = await db.startSluice(BOOTSTRAP, OFFLINE_CATALOG);
      admin = adminClient(sluice, BOOTSTRAP);
    });

    after(async () => {
      await sluice?.stop();
    });

    test('a path, query or body holding one is a 400 naming where, and nothing is written', async () => {
      const auditBefore = (await admin('GET', '/api/audit?limit=1000')).body.items.length as number;
      for (const { method, path, body, issue } of CASES) {
        const answer = await admin(method, path, body);
        const what = `${method} ${path}: ${JSON.stringify(answer.body)}`;
        assert.equal(answer.status, 400, what);
        assert.equal(answer.body.error.code, 'invalid_request', what);
        assert.deepEqual(
          answer.body.error.issues.map((i: { path: string }) => i.path),
          [issue],
          what,
        );
        assert.match(answer.body.error.issues[0].message, /NUL character/);
      }
      assert.equal((await admin('GET', '/api/audit?limit=1000')).body.items.length, auditBefore);
      assert.equal((await admin('GET', '/api/teams/research')).status, 404);
      assert.equal((await admin('GET', '/api/consumers/checkout-service')).body.owner, 'alice@example.com');
    });
  });
}
