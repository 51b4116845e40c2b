// Every error of the admin listener in one JSON shape, `{ "error": { "code", "message", "issues"? } }`, with its status:
// authentication, authorization, validation, bodies that are not JSON or too large, unknown routes and methods, and a
// failure inside the director.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { adminClient, clientWithRole, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';
const LIMIT = 64 * 1024;
type RequestBody = string | ReadableStream<Uint8Array>;

async function raw(
  sluice: TestSluice,
  method: string,
  path: string,
  init: { token?: string; body?: RequestBody; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${sluice.adminURL}${path}`, {
    method,
    headers: { ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }), ...init.headers },
    body: init.body,
    ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function assertErrorShape(answer: { status: number; headers: Headers; text: string }, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(answer.text) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, code);
  assert.equal(typeof body.error.message, 'string');
  for (const key of Object.keys(body.error)) assert.ok(['code', 'message', 'issues'].includes(key), `unexpected field ${key}`);
}

describe("the admin listener's errors", () => {
  let sluice: TestSluice;
  let admin: AdminClient;
  let viewerToken: string;

  before(async () => {
    sluice = await startTestSluice({ ...OFFLINE_CATALOG, admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP, maxBodyBytes: LIMIT } });
    admin = adminClient(sluice, BOOTSTRAP);
    const made = await admin('POST', '/api/admin-tokens', { name: 'auditor', role: 'viewer' });
    viewerToken = made.body.plaintext;
  });

  after(async () => {
    await sluice.stop();
  });

  const cases: Array<{
    name: string;
    method: string;
    path: string;
    token?: () => string;
    body?: () => RequestBody;
    headers?: Record<string, string>;
    status: number;
    code: string;
  }> = [
    { name: 'no token', method: 'GET', path: '/api/consumers', status: 401, code: 'unauthenticated' },
    {
      name: 'an unknown token',
      method: 'GET',
      path: '/api/consumers',
      token: () => 'sa-not-a-token-000000000000',
      status: 401,
      code: 'unauthenticated',
    },
    { name: 'a role that may not', method: 'GET', path: '/api/admin-tokens', token: () => viewerToken, status: 403, code: 'forbidden' },
    {
      name: 'a field that fails validation',
      method: 'POST',
      path: '/api/teams',
      body: () => JSON.stringify({ name: '', owner: 'x' }),
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'invalid_request',
    },
    { name: 'a query that fails validation', method: 'GET', path: '/api/consumers?limit=0', status: 400, code: 'invalid_request' },
    {
      name: 'a body that is not JSON',
      method: 'POST',
      path: '/api/teams',
      body: () => '{"name": ',
      headers: { 'content-type': 'application/json' },
      status: 400,
      code: 'invalid_json',
    },
    {
      name: 'a body without a JSON content type',
      method: 'POST',
      path: '/api/teams',
      body: () => 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      status: 415,
      code: 'unsupported_media_type',
    },
    { name: 'an unknown route', method: 'GET', path: '/api/nothing-here', status: 404, code: 'route_not_found' },
    { name: 'a missing entity', method: 'GET', path: '/api/teams/no-such-team', status: 404, code: 'not_found' },
    { name: 'a method the route does not take', method: 'PUT', path: '/api/consumers', status: 405, code: 'method_not_allowed' },
    {
      name: 'a duplicate',
      method: 'POST',
      path: '/api/teams',
      body: () => JSON.stringify({ name: 'payments', owner: 'x' }),
      headers: { 'content-type': 'application/json' },
      status: 409,
      code: 'already_exists',
    },
    {
      name: 'a body over the limit, with its length',
      method: 'POST',
      path: '/api/teams',
      body: () => JSON.stringify({ name: 'big', owner: 'x'.repeat(LIMIT) }),
      headers: { 'content-type': 'application/json' },
      status: 413,
      code: 'body_too_large',
    },
    {
      name: 'a body over the limit, chunked',
      method: 'POST',
      path: '/api/teams',
      headers: { 'content-type': 'application/json' },
      status: 413,
      code: 'body_too_large',
      body: () => {
        const chunk = new TextEncoder().encode('x'.repeat(16 * 1024));
        let sent = 0;
        return new ReadableStream({
          pull(controller) {
            if (sent++ < 8) controller.enqueue(chunk);
            else controller.close();
          },
        });
      },
    },
    { name: 'an unknown path outside /api', method: 'GET', path: '/nothing', status: 404, code: 'route_not_found' },
    ...['/metrics', '/healthz', '/readyz'].map((path) => ({
      name: `a method ${path} does not take`,
      method: 'POST',
      path,
      status: 405,
      code: 'method_not_allowed',
    })),
  ];

  for (const item of cases) {
    test(`${item.name}: ${item.status} ${item.code}`, async () => {
      const answer = await raw(sluice, item.method, item.path, {
        token: item.token === undefined ? (item.status === 401 ? undefined : BOOTSTRAP) : item.token(),
        body: item.body?.(),
        headers: item.headers,
      });
      assertErrorShape(answer, item.status, item.code);
    });
  }

  test('a 405 names the methods the route takes', async () => {
    const answer = await raw(sluice, 'DELETE', '/api/teams', { token: BOOTSTRAP });
    assert.equal(answer.status, 405);
    assert.equal(answer.headers.get('allow'), 'GET, POST');
    // Outside /api too: /metrics is scraped with GET, and takes HEAD as /healthz and /readyz do.
    const metrics = await raw(sluice, 'DELETE', '/metrics', {});
    assert.equal(metrics.status, 405);
    assert.equal(metrics.headers.get('allow'), 'GET, HEAD');
    const head = await fetch(`${sluice.adminURL}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.match(head.headers.get('content-type') ?? '', /^text\/plain/);
  });

  test('the validation error names each field by its path', async () => {
    const answer = await admin('POST', '/api/consumers', { name: 'bad name!', labels: { tier: 3 } });
    assertErrorShape({ status: answer.status, headers: answer.headers, text: JSON.stringify(answer.body) }, 400, 'invalid_request');
    assert.deepEqual(answer.body.error.issues.map((issue: { path: string }) => issue.path).sort(), ['labels.tier', 'name']);
  });

  test('a failure inside the director is a 500 in the same shape, saying no more', async () => {
    // A real fault: the table the route reads is gone.
    const db = new Database(sluice.dbPath);
    db.exec('DROP TABLE webhooks');
    db.close();
    const answer = await raw(sluice, 'GET', '/api/webhooks', { token: BOOTSTRAP });
    assertErrorShape(answer, 500, 'internal');
    assert.doesNotMatch(answer.text, /webhooks|sqlite/i);
  });
});

describe('authorization before validation and look-up', () => {
  let sluice: TestSluice;
  let viewer: AdminClient;

  before(async () => {
    sluice = await startTestSluice({ ...OFFLINE_CATALOG, admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP } });
    viewer = await clientWithRole(sluice, adminClient(sluice, BOOTSTRAP), 'auditor', 'viewer');
  });

  after(async () => {
    await sluice.stop();
  });

  test("a viewer's write is 403 whatever its body, and whether or not the name exists", async () => {
    for (const payload of [undefined, {}, '{"broken', { name: 'ok', owner: 'x' }]) {
      const answer = await viewer('POST', '/api/teams', payload);
      assert.equal(answer.status, 403, `POST /api/teams with ${JSON.stringify(payload)}`);
      assert.equal(answer.body.error.code, 'forbidden');
    }
    assert.equal((await viewer('DELETE', '/api/consumers/no-such-consumer')).status, 403);
    assert.equal((await viewer('DELETE', '/api/consumers/checkout-service')).status, 403);
    assert.deepEqual((await viewer('DELETE', '/api/consumers/no-such-consumer')).body.error.code, 'forbidden');
  });
});
