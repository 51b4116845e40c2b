// Every error of the admin listener in one JSON shape, `{ "error": { "code", "message", "issues"? } }`, with its status:
// authentication, authorization, validation, bodies that are not JSON or too large, unknown routes and methods, and a
// failure inside the director. Every 400, whatever its code, has `issues` naming what was wrong.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { adminClient, clientWithRole, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';
import { budgetSchema } from '../../src/config/governance-schema.js';
import { toApiError } from '../../src/director/errors.js';
import { openDirectorStore } from '../../src/store/open.js';

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
  if (status === 400) assertIssues(body.error.issues, answer.text);
}

/** A 400's issues: at least one, each a path and a message. */
function assertIssues(issues: unknown, what: string): asserts issues is Array<{ path: string; message: string }> {
  assert.ok(Array.isArray(issues) && issues.length > 0, `a 400 without issues: ${what}`);
  for (const issue of issues) {
    assert.deepEqual(Object.keys(issue as object).sort(), ['message', 'path'], what);
    assert.equal(typeof (issue as { path: unknown }).path, 'string', what);
    assert.equal(typeof (issue as { message: unknown }).message, 'string', what);
  }
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

describe('every kind of 400', () => {
  let sluice: TestSluice;
  let admin: AdminClient;

  before(async () => {
    sluice = await startTestSluice({ ...OFFLINE_CATALOG, admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP } });
    admin = adminClient(sluice, BOOTSTRAP);
  });

  after(async () => {
    await sluice.stop();
  });

  test('names what was wrong in issues: a body not JSON, a role and team that do not go together, a renaming PUT, a burn-down of a window under an hour', async () => {
    const paths = (answer: { body: { error: { issues?: unknown } } }) => {
      const text = JSON.stringify(answer.body);
      assertIssues(answer.body.error.issues, text);
      return answer.body.error.issues.map((issue) => issue.path);
    };
    const notJson = await admin('POST', '/api/teams', '{"name": ');
    assert.equal(notJson.body.error.code, 'invalid_json');
    assert.deepEqual(paths(notJson), ['(body)']);
    assert.match(notJson.body.error.issues[0].message, /not valid JSON/);
    const owner = await admin('POST', '/api/admin-tokens', { name: 'no-team', role: 'team-owner' });
    assert.deepEqual(paths(owner), ['team']);
    const viewerWithTeam = await admin('POST', '/api/admin-tokens', { name: 'with-team', role: 'viewer', team: 'payments' });
    assert.deepEqual(paths(viewerWithTeam), ['team']);
    const budget = { name: 'per-minute', measure: 'requests', limit: 10, window: 'minute' };
    assert.equal((await admin('POST', '/api/budgets', budget)).status, 201);
    const renamed = await admin('PUT', '/api/budgets/per-minute', { ...budget, name: 'per-hour' });
    assert.deepEqual(paths(renamed), ['name']);
    const burnDown = await admin('GET', '/api/budgets/per-minute/burn-down');
    assert.equal(burnDown.status, 400, JSON.stringify(burnDown.body));
    assert.deepEqual(paths(burnDown), ['name']);
    assert.match(burnDown.body.error.issues[0].message, /minute window/);
  });
});

// The API checks these before the store; the store refuses them again (a second line, e.g. for a caller of the store
// other than the API), and its refusal too becomes a 400 naming the field.
test("the store's own refusals (a role and team that do not go together, a definition named other than its path) are 400s naming the field", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-store-refusals-'));
  const store = await openDirectorStore(`sqlite:${join(dir, 'director.db')}`);
  const refusal = async (work: () => Promise<unknown>) => {
    const error = await work().then(
      () => assert.fail('not refused'),
      (caught: unknown) => caught,
    );
    const failure = toApiError(error);
    assert.equal(failure.status, 400, failure.message);
    return JSON.parse(failure.body()).error as { code: string; issues?: Array<{ path: string; message: string }> };
  };
  try {
    const owner = await refusal(() => store.createAdminToken('test', { name: 'no-team', role: 'team-owner' }));
    assert.deepEqual(
      owner.issues?.map((issue) => issue.path),
      ['team'],
      JSON.stringify(owner),
    );
    assert.match(owner.issues![0]!.message, /team-owner token needs a team/);
    const viewer = await refusal(() => store.createAdminToken('test', { name: 'with-team', role: 'viewer', team: 'payments' }));
    assert.deepEqual(
      viewer.issues?.map((issue) => issue.path),
      ['team'],
      JSON.stringify(viewer),
    );
    const budget = budgetSchema.parse({ name: 'daily', measure: 'requests', limit: 10, window: 'day' });
    await store.createDefinition('test', 'budget', budget);
    const renamed = await refusal(() => store.updateDefinition('test', 'budget', 'daily', { ...budget, name: 'weekly' }));
    assert.deepEqual(
      renamed.issues?.map((issue) => issue.path),
      ['name'],
      JSON.stringify(renamed),
    );
    assert.match(renamed.issues![0]!.message, /named "weekly"/);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
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
