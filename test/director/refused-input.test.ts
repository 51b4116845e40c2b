// Input the director refuses outright: a provider base URL carrying user:password@ (readers and the audit log see base
// URLs; credentials belong in apiKey or headers), and a key that would expire before it is made.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { adminClient, clientWithRole, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';
const PASSWORD = 'hunter2-not-real';

describe('refused input', () => {
  let sluice: TestSluice;
  let admin: AdminClient;

  before(async () => {
    sluice = await startTestSluice({ ...OFFLINE_CATALOG, admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP } });
    admin = adminClient(sluice, BOOTSTRAP);
  });

  after(async () => {
    await sluice.stop();
  });

  test('a provider base URL with user:password@ is refused with a 400 that says where credentials go, and never echoed', async () => {
    for (const baseUrl of [`https://svc:${PASSWORD}@llm.internal.example/v1`, `http://svc@llm.internal.example/v1`]) {
      const answer = await admin('POST', '/api/providers', { name: 'private', type: 'openai', baseUrl });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.deepEqual(
        answer.body.error.issues.map((issue: { path: string }) => issue.path),
        ['baseUrl'],
      );
      assert.match(answer.body.error.message, /apiKey or headers/);
      assert.ok(!JSON.stringify(answer.body).includes(PASSWORD));
    }
    assert.equal(
      (await admin('PATCH', '/api/providers/openai', { baseUrl: `https://svc:${PASSWORD}@llm.internal.example/v1` })).status,
      400,
    );
    const audit = await admin('GET', '/api/audit?entityType=provider&limit=100');
    assert.ok(!JSON.stringify(audit.body).includes(PASSWORD), 'nothing refused is in the audit log');
    assert.equal(
      (
        await admin('POST', '/api/providers', {
          name: 'private',
          type: 'openai',
          baseUrl: 'https://llm.internal.example/v1',
          headers: { authorization: `Basic ${PASSWORD}` },
        })
      ).status,
      201,
    );
  });

  test('header names and values that could split a request (CR, LF, NUL, not an HTTP token) are refused where they are set', async () => {
    for (const headers of [
      { 'x-team\r\nhost': 'evil.example' },
      { 'x team': 'a' },
      { 'x-team': 'a\r\nx-injected: 1' },
      { 'x-team': 'a\nb' },
    ]) {
      const answer = await admin('POST', '/api/providers', {
        name: 'headered',
        type: 'openai',
        baseUrl: 'https://llm.example/v1',
        apiKey: 'sk-test',
        headers,
      });
      assert.equal(answer.status, 400, `${JSON.stringify(headers)}: ${JSON.stringify(answer.body)}`);
      assert.ok(
        answer.body.error.issues.every((issue: { path: string }) => issue.path.startsWith('headers')),
        JSON.stringify(answer.body),
      );
    }
    assert.throws(
      () =>
        validateConfig(
          {
            alerts: {
              webhooks: [{ url: 'https://hooks.example/x', secret: 'whsec-test-secret-0123456789', headers: { 'x-a\r\nb': 'c' } }],
            },
          },
          'sluice.yaml',
        ),
      (error: unknown) => error instanceof ConfigError && /alerts\.webhooks\[0\]\.headers/.test(error.message),
    );
    const fine = await admin('POST', '/api/providers', {
      name: 'headered',
      baseUrl: 'https://llm.example/v1',
      type: 'openai',
      apiKey: 'sk-test',
      headers: { 'x-team': 'payments' },
    });
    assert.equal(fine.status, 201, JSON.stringify(fine.body));
  });

  test('sluice.yaml refuses the same base URL', () => {
    assert.throws(
      () =>
        validateConfig(
          {
            providers: { openai: { type: 'openai', baseUrl: `https://svc:${PASSWORD}@llm.internal.example/v1` } },
          },
          'sluice.yaml',
        ),
      (error: unknown) =>
        error instanceof ConfigError && /providers\.openai\.baseUrl/.test(error.message) && !error.message.includes(PASSWORD),
    );
  });

  test('a page size that is not a number says so, not that it got a number', async () => {
    for (const path of ['/api/consumers?limit=abc', '/api/audit?limit=ten']) {
      const answer = await admin('GET', path);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.deepEqual(answer.body.error.issues, [{ path: 'limit', message: 'expected a number; got something that is not a number' }]);
    }
  });

  test('a page size or grace period that is not a whole number says so, not that it got a number', async () => {
    for (const path of ['/api/consumers?limit=1.5', '/api/audit?limit=2.5']) {
      const answer = await admin('GET', path);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.deepEqual(answer.body.error.issues, [{ path: 'limit', message: `expected a whole number; got ${path.split('=')[1]}` }]);
    }
    const made = await admin('POST', '/api/consumers/checkout-service/keys', { name: 'rotated' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const rotated = await admin('POST', `/api/consumers/checkout-service/keys/${made.body.key.id}/rotate`, { graceSeconds: 1.5 });
    assert.equal(rotated.status, 400, JSON.stringify(rotated.body));
    assert.deepEqual(rotated.body.error.issues, [{ path: 'graceSeconds', message: 'expected a whole number; got 1.5' }]);
  });

  test('a key whose expiresAt is not in the future is refused; one in the future is made', async () => {
    for (const expiresAt of ['2020-01-01T00:00:00Z', new Date(Date.now() - 1000).toISOString()]) {
      const answer = await admin('POST', '/api/consumers/checkout-service/keys', { name: 'late', expiresAt });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.deepEqual(answer.body.error.issues, [{ path: 'expiresAt', message: 'not in the future' }]);
    }
    const keys = await admin('GET', '/api/consumers/checkout-service/keys');
    assert.ok(!keys.body.items.some((key: { name: string }) => key.name === 'late'), 'no key was made');
    const made = await admin('POST', '/api/consumers/checkout-service/keys', {
      name: 'timely',
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(made.status, 201);
  });

  test('a base URL with user:password@ stored before the refusal is shown to readers masked', async () => {
    const db = new Database(sluice.dbPath);
    db.prepare(
      'INSERT INTO providers (name, settings, credential_fields, credentials, created_at, updated_at) VALUES (?, ?, NULL, NULL, ?, ?)',
    ).run(
      'legacy',
      JSON.stringify({ type: 'openai', baseUrl: `https://svc:${PASSWORD}@llm.internal.example/v1`, connections: 128 }),
      Date.now(),
      Date.now(),
    );
    db.close();
    const viewer = await clientWithRole(sluice, admin, 'auditor', 'viewer');
    const one = await viewer('GET', '/api/providers/legacy');
    assert.equal(one.status, 200);
    assert.equal(one.body.baseUrl, 'https://***@llm.internal.example/v1');
    assert.ok(!JSON.stringify((await viewer('GET', '/api/providers')).body).includes(PASSWORD));
    const patched = await admin('PATCH', '/api/providers/legacy', { anthropicVersion: null });
    assert.equal(patched.status, 400, 'a change must give the base URL without its userinfo');
    assert.ok(!JSON.stringify(patched.body).includes(PASSWORD));
  });
});
