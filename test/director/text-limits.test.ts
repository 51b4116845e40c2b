// Bounded input: every text field the director API and sluice.yaml take has a length limit (the same schemas serve both),
// and the body limit is sized so the largest legitimate bodies (a full observation intake, a full key-use report) fit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { ADMIN_MAX_BODY_BYTES } from '../../src/config/schema.js';
import { adminClient, clientWithRole, OFFLINE_CATALOG, type AdminClient } from '../support/admin-client.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';
const HUGE = 'x'.repeat(300_000);

describe('length limits on the director API', () => {
  let sluice: TestSluice;
  let admin: AdminClient;
  let owner: AdminClient;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      ...OFFLINE_CATALOG,
    });
    admin = adminClient(sluice, BOOTSTRAP);
    owner = await clientWithRole(sluice, admin, 'payments-lead', 'team-owner', 'payments');
  });

  after(async () => {
    await sluice.stop();
  });

  const refusals: Array<[string, () => AdminClient, string, string, unknown, string]> = [
    ['a team owner of 300 KB', () => admin, 'POST', '/api/teams', { name: 'big', owner: HUGE }, 'owner'],
    ['a team name of 201 characters', () => admin, 'POST', '/api/teams', { name: 'n'.repeat(201), owner: 'x' }, 'name'],
    ['a consumer owner set by a team-owner', () => owner, 'PATCH', '/api/consumers/checkout-service', { owner: HUGE }, 'owner'],
    ['a label value', () => admin, 'POST', '/api/consumers', { name: 'c1', labels: { tier: HUGE } }, 'labels.tier'],
    ['a label key', () => admin, 'POST', '/api/consumers', { name: 'c2', labels: { ['k'.repeat(129)]: 'v' } }, 'labels'],
    [
      '65 labels',
      () => admin,
      'POST',
      '/api/consumers',
      { name: 'c3', labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) },
      'labels',
    ],
    ['a key name', () => admin, 'POST', '/api/consumers/checkout-service/keys', { name: HUGE }, 'name'],
    ['an admin token name', () => admin, 'POST', '/api/admin-tokens', { name: HUGE, role: 'viewer' }, 'name'],
    [
      'a webhook URL',
      () => admin,
      'POST',
      '/api/webhooks',
      { url: `https://example.com/${HUGE}`, secret: 'whsec-0123456789abcdef' },
      'url',
    ],
    ['a webhook secret', () => admin, 'POST', '/api/webhooks', { url: 'https://example.com/hook', secret: HUGE }, 'secret'],
    [
      'a resource note',
      () => admin,
      'PUT',
      `/api/resources/${encodeURIComponent('openai/gpt-4o-mini')}`,
      { status: 'sanctioned', note: HUGE },
      'note',
    ],
    ['a budget name', () => admin, 'POST', '/api/budgets', { name: HUGE, measure: 'requests', limit: 1, window: 'day' }, 'name'],
    [
      'a template selector label',
      () => admin,
      'POST',
      '/api/budget-templates',
      { name: 't', selector: { labels: { tier: HUGE } }, measure: 'requests', limit: 1, window: 'day' },
      'selector',
    ],
    ['a model name', () => admin, 'POST', '/api/models', { name: HUGE, targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }, 'name'],
    [
      'a provider header',
      () => admin,
      'POST',
      '/api/providers',
      { name: 'other', type: 'openai', baseUrl: 'https://example.com/v1', headers: { 'x-org': HUGE } },
      'headers.x-org',
    ],
    [
      'a provider base URL',
      () => admin,
      'POST',
      '/api/providers',
      { name: 'other', type: 'openai', baseUrl: `https://example.com/${HUGE}` },
      'baseUrl',
    ],
    [
      'a reconciliation rule note',
      () => admin,
      'POST',
      '/api/reconciliation/rules',
      { match: { cidr: '10.0.0.0/8' }, consumer: 'checkout-service', note: HUGE },
      'note',
    ],
  ];

  for (const [name, as, method, path, payload, field] of refusals) {
    test(`refuses ${name} with 400 naming the field`, async () => {
      const answer = await as()(method, path, payload);
      assert.equal(answer.status, 400, JSON.stringify(answer.body).slice(0, 300));
      assert.ok(
        answer.body.error.issues.some((issue: { path: string }) => issue.path.startsWith(field)),
        JSON.stringify(answer.body.error.issues).slice(0, 300),
      );
      assert.ok(JSON.stringify(answer.body).length < 10_000, 'the error does not echo the value');
    });
  }

  test('nothing refused reached the audit log', async () => {
    const audit = await admin('GET', '/api/audit?limit=1000');
    assert.ok(!JSON.stringify(audit.body).includes(HUGE.slice(0, 1000)));
  });

  test('the largest observation intake (1,000 with every field at its limit) fits the default body limit', async () => {
    const host = `${'h'.repeat(63)}.`.repeat(3) + 'h'.repeat(63);
    const observations = Array.from({ length: 1000 }, (_, i) => ({
      observer: 'o'.repeat(200),
      at: '2026-12-01T00:00:00.000+00:00',
      source: {
        ip: 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255',
        keyFingerprint: `sha256:${'ab'.repeat(12)}`,
        userAgent: `${i}`.padEnd(512, 'u'),
        host,
      },
      provider: 'p'.repeat(200),
      model: 'm'.repeat(500),
      calls: 1_000_000,
      inputTokens: 1_000_000_000,
      outputTokens: 1_000_000_000,
      costMicroUsd: 1_000_000_000_000_000,
    }));
    const body = JSON.stringify({ observations });
    assert.ok(body.length > 1_500_000 && body.length < ADMIN_MAX_BODY_BYTES, `${body.length} bytes`);
    const answer = await admin('POST', '/api/reconciliation/observations', body);
    assert.equal(answer.status, 200, JSON.stringify(answer.body).slice(0, 300));
    assert.equal(answer.body.recorded, 1000);
  });

  test('the largest key-use report (10,000 ids of 200 characters) fits the default body limit', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => ({ id: `${i}`.padEnd(200, 'k'), lastUsedAt: 1_800_000_000_000 }));
    const body = JSON.stringify({ keys });
    assert.ok(body.length < ADMIN_MAX_BODY_BYTES, `${body.length} bytes`);
    assert.equal((await admin('POST', '/api/gateway/key-use', body)).status, 204);
  });
});

describe('length limits in sluice.yaml', () => {
  const base = {
    providers: { openai: { type: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-upstream-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
  };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a consumer owner', { consumers: [{ name: 'a', owner: HUGE, keys: ['sk-sluice-test-0001'] }] }, /consumers.*owner/],
    ['a consumer label', { consumers: [{ name: 'a', labels: { tier: HUGE }, keys: ['sk-sluice-test-0001'] }] }, /consumers.*labels/],
    ['a budget name', { budgets: [{ name: HUGE, measure: 'requests', limit: 1, window: 'day' }] }, /budgets.*name/],
    ['a webhook secret', { alerts: { webhooks: [{ url: 'https://example.com/hook', secret: HUGE }] } }, /alerts.*secret/],
    ['a provider API key', { providers: { openai: { ...base.providers.openai, apiKey: HUGE } } }, /providers.*apiKey/],
  ];
  for (const [name, overrides, message] of cases) {
    test(`refuses ${name} too long`, () => {
      assert.throws(
        () => validateConfig({ ...base, ...overrides }, 'sluice.yaml'),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
      );
    });
  }
});
