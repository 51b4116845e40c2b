// The route x role table, tested from the OpenAPI document: every operation has a row, and every role the row leaves
// out gets 403 for every operation whatever the body (none, empty, not JSON) and whether the names in the path exist.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTE_ROLES, tableMismatches } from '../../src/director/route-roles.js';
import { ADMIN_ROLES, type AdminRole } from '../../src/store/director-store.js';
import { adminClient, clientWithRole, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';
const BODIES: Array<[string, unknown]> = [
  ['no body', undefined],
  ['an empty object', {}],
  ['text that is not JSON', '{"name": '],
];

/** A body each write would accept from a role it lets in (`name`: the name in the path). */
const VALID_BODIES: Record<string, (name: string) => unknown> = {
  'POST /api/teams': () => ({ name: 'rr-team', owner: 'o@example.com' }),
  'PATCH /api/teams/{name}': () => ({ owner: 'rr@example.com' }),
  'POST /api/consumers': () => ({ name: 'rr-consumer', team: 'payments' }),
  'PATCH /api/consumers/{name}': () => ({ owner: 'rr@example.com' }),
  'POST /api/consumers/{name}/keys': () => ({ name: 'rr-key' }),
  'POST /api/consumers/{name}/keys/{id}/rotate': () => ({ graceSeconds: 0 }),
  'POST /api/admin-tokens': () => ({ name: 'rr-token', role: 'admin' }),
  'POST /api/providers': () => ({ name: 'rr-provider', type: 'openai', baseUrl: 'https://llm.example.com/v1' }),
  'PATCH /api/providers/{name}': () => ({ baseUrl: 'https://llm.example.com/v2' }),
  'POST /api/models': () => ({ name: 'rr-model', targets: [{ provider: 'openai', model: 'gpt-4o' }] }),
  'PUT /api/models/{name}': (name) => ({ name, targets: [{ provider: 'openai', model: 'gpt-4o' }] }),
  'PUT /api/resources/{id}': () => ({ status: 'unsanctioned' }),
  'POST /api/webhooks': () => ({ url: 'https://hooks.example.com/x', secret: 'whsec-0123456789abcdef' }),
  'PATCH /api/webhooks/{id}': () => ({ url: 'https://hooks.example.com/y' }),
  'POST /api/gateway/key-use': () => ({ keys: [] }),
  'POST /api/reconciliation/observations': () => ({
    observations: [{ observer: 'rr', at: 0, source: { ip: '10.0.0.1' }, provider: 'openai', model: 'gpt-4o' }],
  }),
  'POST /api/reconciliation/consumers/{id}/resolve': () => ({ ignore: true }),
  'POST /api/reconciliation/resources/{id}/resolve': () => ({ status: 'sanctioned' }),
  'POST /api/reconciliation/rules': () => ({ match: { cidr: '10.0.0.0/8' }, consumer: 'checkout-service' }),
  'POST /api/identity-rules': () => ({ field: 'spiffe', match: 'prefix', value: 'spiffe://rr-acme.mil/', consumer: 'checkout-service' }),
  'POST /api/consumers/{name}/keys/{id}/revoke': () => ({}),
  'POST /api/admin-tokens/{id}/revoke': () => ({}),
  'POST /api/compliance/assessments': () => ({}),
  ...Object.fromEntries(
    ['budgets', 'rate-limits', 'budget-templates'].flatMap((kind) => {
      const definition = (name: string) =>
        kind === 'rate-limits'
          ? { name, requestsPerMinute: 1 }
          : kind === 'budgets'
            ? { name, measure: 'requests', limit: 1, window: 'day' }
            : { name, selector: 'everyone', measure: 'requests', limit: 1, window: 'day' };
      return [
        [`POST /api/${kind}`, () => definition('rr-definition')],
        [`PUT /api/${kind}/{name}`, definition],
      ];
    }),
  ),
};

describe('the route x role table', () => {
  let sluice: TestSluice;
  let operations: Array<{ method: string; path: string }>;
  const clients = new Map<AdminRole, AdminClient>();

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      ...OFFLINE_CATALOG,
    });
    const admin = adminClient(sluice, BOOTSTRAP);
    clients.set('admin', admin);
    clients.set('operator', await clientWithRole(sluice, admin, 'ops', 'operator'));
    clients.set('viewer', await clientWithRole(sluice, admin, 'auditor', 'viewer'));
    clients.set('team-owner', await clientWithRole(sluice, admin, 'payments-lead', 'team-owner', 'payments'));
    const document = (await (await fetch(`${sluice.adminURL}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })),
    );
  });

  after(async () => {
    await sluice.stop();
  });

  test('has one row for every operation of the OpenAPI document, and none for anything else', () => {
    assert.ok(operations.length > 50, `${operations.length} operations`);
    assert.deepEqual(tableMismatches(operations), []);
    // The valid bodies below are for operations that exist (a renamed route would silently go untested with one).
    const documented = new Set(operations.map(({ method, path }) => `${method} ${path}`));
    assert.deepEqual(
      Object.keys(VALID_BODIES).filter((operation) => !documented.has(operation)),
      [],
    );
  });

  test('gives a viewer 403 for POST /api/teams with an empty body, and for DELETE of a consumer that does not exist', async () => {
    const viewer = clients.get('viewer')!;
    for (const [method, path, payload] of [
      ['POST', '/api/teams', undefined],
      ['POST', '/api/teams', {}],
      ['POST', '/api/teams', ''],
      ['DELETE', '/api/consumers/no-such-consumer', undefined],
      ['DELETE', '/api/consumers/checkout-service', undefined],
    ] as Array<[string, string, unknown]>) {
      const answer = await viewer(method, path, payload);
      assert.equal(answer.status, 403, `${method} ${path} ${JSON.stringify(payload)}: ${JSON.stringify(answer.body)}`);
      assert.deepEqual(Object.keys(answer.body.error).sort(), ['code', 'message']);
      assert.equal(answer.body.error.code, 'forbidden');
      assert.doesNotMatch(answer.body.error.message, /not found|does not exist|invalid|required/i);
    }
    // Whether the name exists makes no difference to the answer.
    const missing = await viewer('DELETE', '/api/consumers/no-such-consumer');
    const existing = await viewer('DELETE', '/api/consumers/checkout-service');
    assert.equal(
      missing.body.error.message.replace('no-such-consumer', 'NAME'),
      existing.body.error.message.replace('checkout-service', 'NAME'),
    );
  });

  test('refuses every role the row leaves out with 403, before reading the body or looking anything up', async () => {
    let refusals = 0;
    for (const { method, path } of operations) {
      // A name that exists (declared in sluice.yaml) and one that does not: the answer must not tell them apart.
      for (const name of ['checkout-service', 'no-such-name']) {
        const concrete = path.replace('{name}', name).replace('{id}', '1').replace('{uuid}', '7d3c5e1a-0000-4000-8000-000000000001');
        for (const role of ADMIN_ROLES) {
          if (ROUTE_ROLES[`${method} ${path}`]!.includes(role)) continue;
          const valid = VALID_BODIES[`${method} ${path}`];
          const bodies: Array<[string, unknown]> =
            method === 'GET'
              ? BODIES.slice(0, 1)
              : [...BODIES, ...(valid === undefined ? [] : [['a valid body', valid(name)] as [string, unknown]])];
          for (const [label, payload] of bodies) {
            const answer = await clients.get(role)!(method, concrete, payload);
            assert.equal(answer.status, 403, `${role} ${method} ${concrete} with ${label}: ${JSON.stringify(answer.body)}`);
            assert.equal(answer.body.error.code, 'forbidden');
            refusals++;
          }
        }
      }
    }
    assert.ok(refusals > 300, `${refusals} refusals checked`);
    // Nothing a refused write carried was made.
    const admin = clients.get('admin')!;
    const audit = await admin('GET', '/api/audit?limit=1000');
    assert.ok(!JSON.stringify(audit.body).includes('rr-'), 'no refused write is in the audit log');
    assert.ok(
      !JSON.stringify(audit.body.items.map((item: { action: string; entityType: string; entityId: string }) => item)).includes(
        '"action":"delete"',
      ),
      'nothing was deleted',
    );
  });

  test('lets every role the row names through to the route (which may still keep a team-owner to its team)', async () => {
    for (const { method, path } of operations) {
      const concrete = path
        .replace('{name}', 'no-such-name')
        .replace('{id}', '1')
        .replace('{uuid}', '7d3c5e1a-0000-4000-8000-000000000001');
      for (const role of ROUTE_ROLES[`${method} ${path}`]!) {
        const answer = await clients.get(role)!(method, concrete, method === 'GET' ? undefined : {});
        assert.ok(
          answer.status !== 403 || (role === 'team-owner' && !/^Role /.test(answer.body.error.message)),
          `${role} ${method} ${concrete}: ${answer.status} ${JSON.stringify(answer.body)}`,
        );
      }
    }
  });
});
