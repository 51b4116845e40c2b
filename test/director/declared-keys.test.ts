// A key declared in sluice.yaml is known to the director by its hash and a display prefix: the prefix tells keys apart in
// a listing, and must never give the key away, however short the operator made it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, clientWithRole, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';
/** Keys as an operator might declare them: short, and not in Sluice's own sk-sluice- form. */
const SHORT = 'dev-key-01';
const MEDIUM = 'ci-runner-key-xy7';

describe('keys declared in sluice.yaml', () => {
  let sluice: TestSluice;
  let viewer: AdminClient;
  let admin: AdminClient;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      ...OFFLINE_CATALOG,
      consumers: [{ name: 'ci', team: 'platform', keys: [SHORT, MEDIUM] }],
    });
    admin = adminClient(sluice, BOOTSTRAP);
    viewer = await clientWithRole(sluice, admin, 'auditor', 'viewer');
  });

  after(async () => {
    await sluice.stop();
  });

  test('show a viewer at most a quarter of the key, in the key listing and the audit log', async () => {
    const gateway = await fetch(`${sluice.baseURL}/v1/models`, { headers: { authorization: `Bearer ${SHORT}` } });
    assert.equal(gateway.status, 200, 'the short key serves');
    const keys = await viewer('GET', '/api/consumers/ci/keys');
    assert.equal(keys.status, 200);
    assert.equal(keys.body.items.length, 2);
    for (const key of keys.body.items as Array<{ prefix: string }>) {
      const declared = [SHORT, MEDIUM].find((k) => k.startsWith(key.prefix))!;
      assert.ok(declared !== undefined, `prefix ${key.prefix} starts a declared key`);
      assert.ok(key.prefix.length <= declared.length / 4, `prefix "${key.prefix}" gives away most of "${declared}"`);
    }
    const audit = JSON.stringify((await viewer('GET', '/api/audit?entityType=consumer-key')).body);
    for (const secret of [SHORT, MEDIUM]) {
      assert.ok(!audit.includes(secret.slice(0, Math.floor(secret.length / 4) + 1)), `the audit log shows too much of ${secret}`);
    }
  });

  test('rotating a declared key through the API is a 409 naming sluice.yaml, and changes nothing: a reload would undo it', async () => {
    const keys = (await admin('GET', '/api/consumers/ci/keys')).body.items as Array<{ id: string; prefix: string; expiresAt: unknown }>;
    const declared = keys.find((key) => SHORT.startsWith(key.prefix))!;
    const rotated = await admin('POST', `/api/consumers/ci/keys/${declared.id}/rotate`, { graceSeconds: 0 });
    assert.equal(rotated.status, 409, JSON.stringify(rotated.body));
    assert.equal(rotated.body.error.code, 'conflict');
    assert.match(rotated.body.error.message, /declared by sluice\.yaml.*replace the key .* there and reload/);
    const after = (await admin('GET', '/api/consumers/ci/keys')).body.items as Array<{ id: string; expiresAt: unknown }>;
    assert.deepEqual(after, keys, 'no key made, none ended');
    const gateway = await fetch(`${sluice.baseURL}/v1/models`, { headers: { authorization: `Bearer ${SHORT}` } });
    assert.equal(gateway.status, 200, 'the declared key still serves');
  });
});
