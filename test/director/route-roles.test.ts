// The route x role table, tested from the OpenAPI document: every operation has a row, and every role the row leaves
// out gets 403 for every operation whatever the body (none, empty, not JSON) and whether the names in the path exist.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROUTE_ROLES, tableMismatches } from '../../src/director/route-roles.js';
import { ADMIN_ROLES, type AdminRole } from '../../src/store/director-store.js';
import { adminClient, clientWithRole, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';
const BODIES: Array<[string, unknown]> = [['no body', undefined], ['an empty object', {}], ['text that is not JSON', '{"name": ']];

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
    const document = await (await fetch(`${sluice.adminURL}/api/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> };
    operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })));
  });

  after(async () => {
    await sluice.stop();
  });

  test('has one row for every operation of the OpenAPI document, and none for anything else', () => {
    assert.ok(operations.length > 50, `${operations.length} operations`);
    assert.deepEqual(tableMismatches(operations), []);
  });

  test('refuses every role the row leaves out with 403, before reading the body or looking anything up', async () => {
    let refusals = 0;
    for (const { method, path } of operations) {
      // A name that exists (declared in sluice.yaml) and one that does not: the answer must not tell them apart.
      for (const name of ['checkout-service', 'no-such-name']) {
        const concrete = path.replace('{name}', name).replace('{id}', '1');
        for (const role of ADMIN_ROLES) {
          if (ROUTE_ROLES[`${method} ${path}`]!.includes(role)) continue;
          for (const [label, payload] of method === 'GET' ? BODIES.slice(0, 1) : BODIES) {
            const answer = await clients.get(role)!(method, concrete, payload);
            assert.equal(answer.status, 403, `${role} ${method} ${concrete} with ${label}: ${JSON.stringify(answer.body)}`);
            assert.equal(answer.body.error.code, 'forbidden');
            refusals++;
          }
        }
      }
    }
    assert.ok(refusals > 300, `${refusals} refusals checked`);
  });

  test('lets every role the row names through to the route (which may still keep a team-owner to its team)', async () => {
    for (const { method, path } of operations) {
      const concrete = path.replace('{name}', 'no-such-name').replace('{id}', '1');
      for (const role of ROUTE_ROLES[`${method} ${path}`]!) {
        const answer = await clients.get(role)!(method, concrete, method === 'GET' ? undefined : {});
        assert.ok(answer.status !== 403 || (role === 'team-owner' && !/^Role /.test(answer.body.error.message)),
          `${role} ${method} ${concrete}: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    }
  });
});
