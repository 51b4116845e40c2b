// Bad input to every operation of /api/openapi.json, on SQLite and on PostgreSQL: each query parameter, path parameter
// and body field given values of the wrong type, size, encoding or range, forged cursors, bodies nested without end or
// carrying unknown fields, duplicates. Every answer is below 500, within a bounded time, in the director's error shape
// (a 400 invalid_request naming the fields), and a refused request writes nothing (the audit log does not move).
// One test file per store (test/director/bad-input-battery-*.test.ts): each store's battery sends thousands of
// requests one after another, and a file of both came near the test runner's time limit on a busy machine.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminClient, observation, observe, OFFLINE_CATALOG, type AdminClient } from './admin-client.js';
import { BadInput, type OpenApiDocument } from './bad-input.js';
import { ledgerRow } from './ledger.js';
import { freshDatabase, type TestDatabase } from './postgres.js';
import { startTestSluice, type TestSluice } from './sluice.js';
import { openDirectorStore } from '../../src/store/open.js';

const BOOTSTRAP = 'sa-bootstrap-bad-input-token-000001';
/** Far longer than any answer takes: a request still unanswered by then hangs. */
const HANG_MS = 20_000;

/** Bodies that pass the schema and every reference check, for the battery to spoil one field at a time. */
const VALID_BODIES: Record<string, unknown> = {
  'POST /api/consumers': { name: 'fuzz-consumer', team: 'payments', labels: { tier: 'batch' }, models: ['gpt-4o-mini'] },
  'PATCH /api/consumers/{name}': { team: 'payments', owner: 'alice@example.com', labels: { tier: 'batch' }, models: ['gpt-4o-mini'] },
  'POST /api/budgets': { name: 'fuzz-budget-2', consumers: { team: 'payments' }, measure: 'requests', limit: 10, window: 'day' },
  'PUT /api/budgets/{name}': { name: 'fuzz-budget', consumers: { team: 'payments' }, measure: 'requests', limit: 10, window: 'day' },
  'POST /api/budget-templates': { name: 'fuzz-template-2', selector: { team: 'payments' }, measure: 'requests', limit: 5, window: 'day' },
  'PUT /api/budget-templates/{name}': { name: 'fuzz-template', selector: 'everyone', measure: 'requests', limit: 5, window: 'day' },
  'POST /api/rate-limits': { name: 'fuzz-limit-2', consumers: { consumer: 'checkout-service' }, requestsPerMinute: 60 },
  'PUT /api/rate-limits/{name}': { name: 'fuzz-limit', requestsPerMinute: 60 },
  'POST /api/providers': { name: 'fuzz-provider', type: 'openai', baseUrl: 'https://llm.example.com/v1', apiKey: 'sk-x' },
  'PATCH /api/providers/{name}': { baseUrl: 'http://127.0.0.1:9/v1' },
  'POST /api/models': {
    name: 'fuzz-model',
    targets: [{ provider: 'openai', model: 'gpt-4o', weight: 1 }],
    pricing: { input: 1, output: 2 },
  },
  'PUT /api/models/{name}': { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
  'POST /api/reconciliation/rules': { match: { cidr: '10.0.0.0/8', userAgent: 'python/' }, consumer: 'checkout-service' },
  'POST /api/identity-rules': { field: 'spiffe', match: 'prefix', value: 'spiffe://fuzz.example/', consumer: 'checkout-service' },
  'POST /api/reconciliation/observations': { observations: [observation('10.9.0.1', 'gpt-4o', 1, Date.now())] },
  'POST /api/apply': {
    teams: [{ name: 'fuzz-team', owner: 'f@example.com' }],
    consumers: [{ name: 'fuzz-applied', team: 'fuzz-team', labels: { tier: 'batch' } }],
    budgets: [{ name: 'fuzz-applied', consumers: { team: 'fuzz-team' }, measure: 'requests', limit: 3, window: 'day' }],
    dryRun: true,
  },
};

/** What went wrong with an answer, or null when it is what the battery expects. */
function problemWith(status: number, contentType: string, text: string): string | null {
  if (status >= 500) return `${status}: ${text.slice(0, 300)}`;
  if (status < 400) return null;
  if (!contentType.startsWith('application/json')) return `${status} with content-type ${contentType}`;
  let body: { error?: { code?: unknown; message?: unknown; issues?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    return `${status} with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  const error = body.error;
  const shaped =
    Object.keys(body).join() === 'error' &&
    typeof error?.code === 'string' &&
    typeof error.message === 'string' &&
    Object.keys(error).every((key) => ['code', 'message', 'issues'].includes(key));
  if (!shaped) return `${status} not in the error shape: ${text.slice(0, 300)}`;
  if (status === 400) {
    const issues = error.issues as Array<{ path?: unknown; message?: unknown }> | undefined;
    const named = Array.isArray(issues) && issues.length > 0;
    if (!named || !issues.every((issue) => typeof issue.path === 'string' && typeof issue.message === 'string'))
      return `400 without issues naming the field: ${text.slice(0, 300)}`;
  }
  return null;
}

/** The battery against a director on `storeKind`. */
export function badInputBattery(storeKind: 'sqlite' | 'postgres'): void {
  describe(`bad input to every director operation on ${storeKind}`, () => {
    let database: TestDatabase | null = null;
    let sluice: TestSluice;
    let admin: AdminClient;
    let battery: BadInput;
    const pathValues: Record<string, Record<string, string>> = {};

    before(async () => {
      if (storeKind === 'postgres') database = await freshDatabase();
      sluice = await startTestSluice({
        ...OFFLINE_CATALOG,
        ...(database === null ? {} : { storage: database.url }),
        admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      });
      admin = adminClient(sluice, BOOTSTRAP);
      battery = new BadInput((await (await fetch(`${sluice.adminURL}/api/openapi.json`)).json()) as OpenApiDocument);

      // An entity of every kind, for path parameters to name.
      const made = async (path: string, body?: unknown) => {
        const answer = await admin('POST', path, body);
        assert.ok(answer.status < 300, `${path}: ${JSON.stringify(answer.body)}`);
        return answer.body;
      };
      await made('/api/budgets', { name: 'fuzz-budget', measure: 'requests', limit: 10, window: 'day' });
      await made('/api/budget-templates', { name: 'fuzz-template', selector: 'everyone', measure: 'requests', limit: 5, window: 'day' });
      await made('/api/rate-limits', { name: 'fuzz-limit', requestsPerMinute: 60 });
      const webhook = await made('/api/webhooks', { url: 'https://hooks.example.com/x', secret: 'whsec-0123456789abcdef' });
      const key = await made('/api/consumers/checkout-service/keys', { name: 'fuzz-key' });
      const token = await made('/api/admin-tokens', { name: 'fuzz-token', role: 'viewer' });
      const rule = await made('/api/reconciliation/rules', { match: { cidr: '10.0.0.0/8' }, consumer: 'checkout-service' });
      const identity = await made('/api/identity-rules', VALID_BODIES['POST /api/identity-rules']);
      const assessment = await made('/api/compliance/assessments');
      await observe(admin, [observation('10.1.0.1', 'gpt-4o', 2, Date.now())]);
      const discovered = (await admin('GET', '/api/reconciliation/consumers')).body.items[0];
      const store = await openDirectorStore(database?.url ?? `sqlite:${sluice.dbPath}`);
      try {
        await store.insertTransactions([
          ledgerRow(0, { requestId: 'bad-input-1', startedAt: Date.now() - 60_000, consumer: 'checkout-service' }),
        ]);
      } finally {
        await store.close();
      }
      const transaction = (await admin('GET', '/api/transactions')).body.items[0];
      const values: Array<[string, Record<string, string>]> = [
        ['/api/teams', { name: 'payments' }],
        ['/api/consumers', { name: 'checkout-service', id: key.key.id }],
        ['/api/budgets', { name: 'fuzz-budget' }],
        ['/api/budget-templates', { name: 'fuzz-template' }],
        ['/api/rate-limits', { name: 'fuzz-limit' }],
        ['/api/providers', { name: 'openai' }],
        ['/api/models', { name: 'gpt-4o-mini' }],
        ['/api/resources', { id: 'openai/gpt-4o-mini' }],
        ['/api/webhooks', { id: String(webhook.id) }],
        ['/api/admin-tokens', { id: token.token.id }],
        ['/api/reconciliation/consumers', { id: String(discovered.id) }],
        ['/api/reconciliation/resources', { id: 'openai/gpt-4o' }],
        ['/api/reconciliation/rules', { id: String(rule.rule.id) }],
        ['/api/identity-rules', { id: String(identity.id) }],
        ['/api/transactions', { id: String(transaction.id) }],
        ['/api/compliance', { uuid: assessment.uuid }],
      ];
      for (const { template } of battery.operations())
        pathValues[template] = values.find(([prefix]) => template.startsWith(prefix))?.[1] ?? {};
    });

    after(async () => {
      await sluice?.stop();
      await database?.drop();
    });

    test('every operation answers every bad request below 500, in the error shape, writing nothing it refused', async () => {
      const problems: string[] = [];
      let sent = 0;
      const auditHead = async () => (await admin('GET', '/api/audit?limit=1')).body.items[0]?.id as number | undefined;
      let head = await auditHead();
      for (const { method, template, operation } of battery.operations()) {
        const valid = VALID_BODIES[`${method} ${template}`];
        for (const request of battery.requests(method, template, operation, pathValues[template]!, valid)) {
          const where = `${request.method} ${request.path.slice(0, 120)} [${request.field} = ${request.what}]`;
          let answer: Response;
          try {
            answer = await fetch(`${sluice.adminURL}${request.path}`, {
              method: request.method,
              headers: {
                authorization: `Bearer ${BOOTSTRAP}`,
                ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
              },
              body: request.body,
              signal: AbortSignal.timeout(HANG_MS),
            });
          } catch (error) {
            problems.push(`${where}: no answer (${(error as Error).message})`);
            continue;
          }
          sent++;
          const text = await answer.text();
          const problem = problemWith(answer.status, answer.headers.get('content-type') ?? '', text);
          if (problem !== null) problems.push(`${where}: ${problem}`);
          const now = await auditHead();
          if (answer.status >= 400 && now !== head) problems.push(`${where}: answered ${answer.status} but wrote to the audit log`);
          head = now;
        }
      }
      assert.ok(sent > 1000, `only ${sent} requests sent`);
      assert.equal(problems.length, 0, `${problems.length} problems:\n${problems.join('\n')}`);
    });
  });
}
