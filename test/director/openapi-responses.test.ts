// The OpenAPI document at /api/openapi.json against what the director really answers: every answer below, success or
// error, has a status the operation documents and a body its schema for that status accepts (JSON Schema 2020-12, as
// OpenAPI 3.1 describes it), so a client generated from the document reads what the API sends.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { adminClient, clientWithRole, OFFLINE_CATALOG, type AdminAnswer, type AdminClient } from '../support/admin-client.js';
import { withStoreOf } from '../support/director-stores.js';
import { ledgerRow } from '../support/ledger.js';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-0123456789';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
}

/** The document's operation for a request (path parameters matched one segment each). */
function operationOf(document: Document, method: string, path: string): { template: string; operation: Operation } {
  const bare = path.split('?')[0]!;
  for (const [template, operations] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const operation = operations[method.toLowerCase()];
    if (pattern.test(bare) && operation !== undefined) return { template, operation };
  }
  throw new Error(`no operation ${method} ${bare} in the document`);
}

describe('the OpenAPI document describes what the director answers', () => {
  let sluice: TestSluice;
  let admin: AdminClient;
  let document: Document;
  let ajv: Ajv2020;
  /** Every answer checked, with what was wrong with it. */
  const problems: string[] = [];

  /** Sends a request as `client` and checks its answer against the document; returns the answer. */
  const checked = async (client: AdminClient, method: string, path: string, payload?: unknown): Promise<AdminAnswer> => {
    const answer = await client(method, path, payload);
    const { template, operation } = operationOf(document, method, path);
    const where = `${method} ${template} -> ${answer.status}`;
    const response = operation.responses[String(answer.status)];
    if (response === undefined) {
      problems.push(
        `${where}: status not in the document (${Object.keys(operation.responses).join(', ')}): ${JSON.stringify(answer.body)}`,
      );
      return answer;
    }
    const schema = response.content?.['application/json']?.schema;
    if (schema === undefined) {
      if (answer.body !== null) problems.push(`${where}: a body the document does not describe`);
      return answer;
    }
    const validate = ajv.compile({ ...schema, components: document.components });
    if (!validate(answer.body)) problems.push(`${where}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(answer.body)}`);
    return answer;
  };

  before(async () => {
    sluice = await startTestSluice({ admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP }, ...OFFLINE_CATALOG });
    admin = adminClient(sluice, BOOTSTRAP);
    document = (await (await fetch(`${sluice.adminURL}/api/openapi.json`)).json()) as Document;
    // Schemas refer to each other as #/components/schemas/Name: each compiled schema carries the components beside it.
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  });

  after(async () => {
    await sluice.stop();
  });

  test('teams, consumers, keys, admin tokens, models, budgets, resources, apply and the audit log', async () => {
    await checked(admin, 'POST', '/api/teams', { name: 'platform', owner: 'pat@example.com' });
    await checked(admin, 'POST', '/api/teams', { name: 'platform', owner: 'pat@example.com' });
    await checked(admin, 'GET', '/api/teams');
    await checked(admin, 'GET', '/api/teams/platform');
    await checked(admin, 'PATCH', '/api/teams/platform', { owner: 'quinn@example.com' });
    await checked(admin, 'GET', '/api/teams/nobody');

    await checked(admin, 'POST', '/api/consumers', { name: 'ci', team: 'platform', labels: { env: 'prod' }, models: ['gpt-4o-mini'] });
    await checked(admin, 'POST', '/api/consumers', { name: 'ci-2', team: 'no-such-team' });
    await checked(admin, 'GET', '/api/consumers?team=platform&label=env=prod');
    await checked(admin, 'GET', '/api/consumers/ci');
    await checked(admin, 'PATCH', '/api/consumers/ci', { owner: 'ci@example.com' });
    await checked(admin, 'DELETE', '/api/teams/platform');
    const made = await checked(admin, 'POST', '/api/consumers/ci/keys', { name: 'prod', expiresAt: '2099-01-01T00:00:00Z' });
    await checked(admin, 'GET', '/api/consumers/ci/keys');
    const rotated = await checked(admin, 'POST', `/api/consumers/ci/keys/${made.body.key.id}/rotate`, { graceSeconds: 0 });
    await checked(admin, 'POST', `/api/consumers/ci/keys/${rotated.body.key.id}/revoke`);
    await checked(admin, 'POST', `/api/consumers/ci/keys/${rotated.body.key.id}/revoke`);
    await checked(admin, 'POST', '/api/consumers/ci/keys/no-such-key/revoke');

    const token = await checked(admin, 'POST', '/api/admin-tokens', { name: 'platform-lead', role: 'team-owner', team: 'platform' });
    await checked(admin, 'POST', '/api/admin-tokens', { name: 'bad', role: 'admin', team: 'platform' });
    await checked(admin, 'GET', '/api/admin-tokens');
    const owner = adminClient(sluice, token.body.plaintext as string);
    await checked(owner, 'GET', '/api/consumers');
    await checked(owner, 'GET', '/api/consumers/checkout-service');
    await checked(owner, 'GET', '/api/session');
    await checked(owner, 'POST', '/api/admin-tokens', { name: 'escalate', role: 'admin' });
    await checked(admin, 'POST', `/api/admin-tokens/${token.body.token.id}/revoke`);
    await checked(owner, 'GET', '/api/consumers');
    const viewer = await clientWithRole(sluice, admin, 'auditor', 'viewer');
    await checked(viewer, 'GET', '/api/session');

    await checked(admin, 'GET', '/api/models');
    await checked(admin, 'GET', '/api/models/gpt-4o-mini');
    await checked(admin, 'POST', '/api/models', { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o' }] });
    await checked(admin, 'PUT', '/api/models/gpt-4o', { name: 'gpt-4o', targets: [{ provider: 'openai', model: 'gpt-4o-2024-08-06' }] });
    await checked(admin, 'DELETE', '/api/models/gpt-4o-mini');
    await checked(admin, 'GET', '/api/providers');
    await checked(admin, 'GET', '/api/providers/openai');

    await checked(admin, 'POST', '/api/budgets', { name: 'ci-daily', measure: 'requests', limit: 10, window: 'day' });
    await checked(admin, 'GET', '/api/budgets');
    await checked(admin, 'GET', '/api/budgets/ci-daily');
    await checked(admin, 'GET', '/api/budgets/ci-daily/burn-down');
    await checked(admin, 'PUT', '/api/budgets/ci-daily', { name: 'ci-daily', measure: 'requests', limit: 20, window: 'day' });
    await checked(admin, 'PUT', '/api/budgets/ci-daily', { name: 'other', measure: 'requests', limit: 20, window: 'day' });
    await checked(admin, 'DELETE', '/api/budgets/ci-daily');
    await checked(admin, 'POST', '/api/rate-limits', { name: 'ci-rpm', requestsPerMinute: 60 });
    await checked(admin, 'GET', '/api/rate-limits');
    await checked(admin, 'PUT', '/api/resources/openai%2Fgpt-4o', { status: 'sanctioned' });
    await checked(admin, 'GET', '/api/resources');
    await checked(admin, 'POST', '/api/webhooks', { url: 'https://hooks.example.com/x', secret: 'whsec-0123456789abcdef' });
    await checked(admin, 'GET', '/api/webhooks');

    const apply = { teams: [{ name: 'research', owner: 'r@example.com' }], consumers: [{ name: 'notebook', team: 'research' }] };
    await checked(admin, 'POST', '/api/apply', { ...apply, dryRun: true });
    await checked(admin, 'POST', '/api/apply', apply);
    await checked(admin, 'POST', '/api/apply', { consumers: [{ name: 'lost', team: 'ghosts' }] });

    await checked(admin, 'GET', '/api/audit?limit=5');
    await checked(admin, 'GET', '/api/audit?entityType=admin-token');
    await checked(admin, 'GET', '/api/audit?entityType=nothing');
    await checked(admin, 'GET', '/api/gateway/snapshot');
    await checked(admin, 'DELETE', '/api/consumers/ci');
    await checked(admin, 'DELETE', '/api/consumers/ci');

    assert.deepEqual(problems, []);
  });

  test('providers, usage, reports, transactions, reconciliation, identity rules, templates and compliance', async () => {
    await checked(admin, 'POST', '/api/providers', {
      name: 'azure',
      type: 'openai',
      baseUrl: 'https://llm.example.com/v1',
      apiKey: 'sk-x',
    });
    await checked(admin, 'PATCH', '/api/providers/azure', { baseUrl: 'https://llm.example.com/v2' });
    await checked(admin, 'GET', '/api/providers/azure');
    await checked(admin, 'DELETE', '/api/providers/azure');
    await checked(admin, 'GET', '/api/usage?groupBy=team,model&bucket=day');
    await checked(admin, 'GET', '/api/usage/top-drivers');
    await checked(admin, 'GET', '/api/forecast');
    await checked(admin, 'GET', '/api/reports/chargeback');
    await checked(admin, 'GET', '/api/transactions');
    await checked(admin, 'GET', '/api/transactions/nothing');
    await checked(admin, 'POST', '/api/budget-templates', {
      name: 'per-consumer',
      selector: 'everyone',
      measure: 'requests',
      limit: 5,
      window: 'day',
    });
    await checked(admin, 'GET', '/api/budget-templates/per-consumer');
    await checked(admin, 'GET', '/api/budget-templates/per-consumer/instances');
    await checked(admin, 'POST', '/api/reconciliation/observations', {
      observations: [{ observer: 'probe', at: Date.now(), source: { ip: '10.0.0.1' }, provider: 'openai', model: 'gpt-4o' }],
    });
    const discovered = await checked(admin, 'GET', '/api/reconciliation/consumers');
    const first = discovered.body?.items?.[0]?.id;
    if (first !== undefined) await checked(admin, 'GET', `/api/reconciliation/consumers/${first}`);
    await checked(admin, 'GET', '/api/reconciliation/resources');
    const rule = await checked(admin, 'POST', '/api/reconciliation/rules', { match: { cidr: '10.0.0.0/8' }, consumer: 'checkout-service' });
    await checked(admin, 'GET', '/api/reconciliation/rules');
    await checked(admin, 'GET', `/api/reconciliation/rules/${rule.body?.rule?.id}`);
    await checked(admin, 'DELETE', `/api/reconciliation/rules/${rule.body?.rule?.id}`);
    const identity = await checked(admin, 'POST', '/api/identity-rules', {
      field: 'spiffe',
      match: 'prefix',
      value: 'spiffe://acme.example/',
      consumer: 'checkout-service',
    });
    await checked(admin, 'GET', '/api/identity-rules');
    await checked(admin, 'GET', `/api/identity-rules/${identity.body?.id}`);
    await checked(admin, 'DELETE', `/api/identity-rules/${identity.body?.id}`);
    await checked(admin, 'GET', '/api/identity-rules/99999');
    // A path or query the route's schema refuses, or one holding a NUL character, is a 400 on any route.
    await checked(admin, 'GET', '/api/identity-rules/first');
    await checked(admin, 'DELETE', '/api/reconciliation/rules/first');
    await checked(admin, 'GET', '/api/teams/pay%00ments');
    await checked(admin, 'GET', '/api/admin-tokens?name=a%00b');
    await checked(admin, 'POST', '/api/consumers/checkout%00service/keys/x/revoke');
    await checked(admin, 'GET', '/api/compliance/component-definition');
    await checked(admin, 'GET', '/api/compliance/anchors');
    await checked(admin, 'GET', '/api/compliance/chains');
    await checked(admin, 'GET', '/api/compliance/poam');
    await checked(admin, 'GET', '/api/compliance/assessments');
    assert.deepEqual(problems, []);
  });

  test("the nulls it answers: a team-owner's forecast (overall null) and a call with no price (cost null)", async () => {
    await withStoreOf(sluice, async (ledger) => {
      await ledger.insertTransactions([
        ledgerRow(0, { requestId: 'openapi-unpriced-1', startedAt: Date.now() - 60_000, consumer: 'checkout-service', costMicroUsd: null }),
      ]);
    });
    const listed = await checked(admin, 'GET', '/api/transactions?limit=500');
    const unpriced = listed.body.items.find((item: { requestId: string }) => item.requestId === 'openapi-unpriced-1');
    assert.equal(unpriced?.cost, null, JSON.stringify(unpriced));
    await checked(admin, 'GET', `/api/transactions/${unpriced.id}`);
    if ((await admin('GET', '/api/teams/payments')).status === 404)
      await checked(admin, 'POST', '/api/teams', { name: 'payments', owner: 'p@example.com' });
    const owner = await clientWithRole(sluice, admin, 'payments-lead', 'team-owner', 'payments');
    assert.equal((await checked(owner, 'GET', '/api/forecast')).body.overall, null);
    assert.deepEqual(problems, []);
  });
});
