// The ledger's rows over HTTP, against both stores: newest first with keyset paging, each filter, one transaction's
// detail, a team-owner held to its own team, validation, and /api/session naming the caller's role.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../src/ledger/transaction.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { adminClient, OFFLINE_CATALOG, type AdminAnswer, type AdminClient } from '../support/admin-client.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import type { TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-transactions';
const HOUR = 3_600_000;

let sequence = 0;
function call(startedAt: number, overrides: Partial<Transaction>): Transaction {
  return {
    requestId: `tx-api-${sequence++}`,
    startedAt,
    operation: 'chat',
    api: 'openai',
    consumer: 'checkout',
    team: 'payments',
    requestedModel: 'gpt-4o-mini',
    provider: 'openai',
    providerModel: 'gpt-4o-mini',
    stream: false,
    inputTokens: 1_000,
    outputTokens: 100,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: 1_000,
    latencyMs: 120,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
    ...overrides,
  };
}

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `transactions API on ${storeKind}`, (db) => {
    let sluice: TestSluice;
    let ledger: DirectorStore;
    let admin: AdminClient;
    const start = Date.UTC(2026, 10, 2, 8);

    before(async () => {
      sluice = await db.startSluice(BOOTSTRAP, {
        // Never called: the rows are written straight into the ledger.
        ...OFFLINE_CATALOG,
      });
      admin = adminClient(sluice, BOOTSTRAP);
      ledger = await db.openBesides(sluice);
      await ledger.insertTransactions([
        call(start, { requestId: 'first', costMicroUsd: 1_500_000 }),
        call(start + HOUR, {
          requestId: 'stream',
          stream: true,
          timeToFirstTokenMs: 240,
          attempts: 2,
          violations: 'payments-monthly,resource:openai/gpt-4o',
          requestedModel: 'gpt-4o',
          providerModel: 'gpt-4o',
        }),
        call(start + 2 * HOUR, {
          requestId: 'refused',
          status: 429,
          errorClass: 'budget_exhausted',
          provider: null,
          providerModel: null,
          costMicroUsd: null,
        }),
        call(start + 3 * HOUR, {
          requestId: 'search',
          consumer: 'search',
          team: 'discovery',
          requestedModel: 'claude-haiku',
          provider: 'anthropic',
        }),
        call(start + 4 * HOUR, { requestId: 'failed', status: 502, errorClass: 'upstream_unavailable', costMicroUsd: null }),
      ]);
    });

    after(async () => {
      await sluice.stop();
    });

    test('lists newest first and pages with the cursor until it is null', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: AdminAnswer = await admin('GET', `/api/transactions?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        assert.ok(page.body.items.length <= 2);
        seen.push(...page.body.items.map((item: any) => item.requestId));
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      assert.deepEqual(seen, ['failed', 'search', 'refused', 'stream', 'first']);
    });

    test('filters by consumer, team, model, provider, outcome and time', async () => {
      const ids = async (query: string) => {
        const answer = await admin('GET', `/api/transactions?${query}`);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        return answer.body.items.map((item: any) => item.requestId);
      };
      assert.deepEqual(await ids('consumer=search'), ['search']);
      assert.deepEqual(await ids('team=discovery'), ['search']);
      assert.deepEqual(await ids('model=gpt-4o'), ['stream']);
      assert.deepEqual(await ids('provider=anthropic'), ['search']);
      assert.deepEqual(await ids('outcome=refused'), ['refused']);
      assert.deepEqual(await ids('outcome=failed'), ['failed']);
      const from = new Date(start + HOUR).toISOString();
      const to = new Date(start + 3 * HOUR).toISOString();
      assert.deepEqual(await ids(`from=${from}&to=${to}`), ['refused', 'stream']);
      // A period that ends before it begins is a mistake in the query, answered as /api/usage answers it: not an empty page.
      const backwards = await admin('GET', `/api/transactions?from=${to}&to=${from}`);
      assert.equal(backwards.status, 400, JSON.stringify(backwards.body));
      assert.deepEqual(backwards.body.error.issues, [{ path: 'from', message: 'must be before to' }]);
    });

    test("a transaction's detail: tokens, cost, latency, time to first token, attempts, violations", async () => {
      const list = await admin('GET', '/api/transactions?model=gpt-4o');
      const detail = await admin('GET', `/api/transactions/${list.body.items[0].id}`);
      assert.equal(detail.status, 200, JSON.stringify(detail.body));
      assert.equal(detail.body.requestId, 'stream');
      assert.equal(detail.body.stream, true);
      assert.equal(detail.body.timeToFirstTokenMs, 240);
      assert.equal(detail.body.attempts, 2);
      assert.deepEqual(detail.body.violations, ['payments-monthly', 'resource:openai/gpt-4o']);
      assert.deepEqual(detail.body.cost, { microUsd: 1_000, nanoUsd: 1_000_000, usd: '0.001000' });
      assert.equal(detail.body.outcome, 'served');
      assert.equal(detail.body.startedAt, new Date(start + HOUR).toISOString());
      assert.equal((await admin('GET', '/api/transactions/999999')).status, 404);
      const invalid = await admin('GET', '/api/transactions/abc');
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.error.code, 'invalid_request');
      assert.equal((await admin('GET', '/api/transactions?outcome=lost')).status, 400);
      assert.equal((await admin('GET', '/api/transactions?cursor=not-a-cursor')).status, 400);
    });

    test("a team-owner sees its own team's rows only, and /api/session names each role", async () => {
      await admin('POST', '/api/teams', { name: 'payments', owner: 'pat@example.com' });
      await admin('POST', '/api/teams', { name: 'discovery', owner: 'dee@example.com' });
      const made = await admin('POST', '/api/admin-tokens', { name: 'payments-owner', role: 'team-owner', team: 'payments' });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const owner = adminClient(sluice, made.body.plaintext);
      const mine = await owner('GET', '/api/transactions');
      assert.equal(mine.status, 200);
      assert.deepEqual(new Set(mine.body.items.map((item: any) => item.team)), new Set(['payments']));
      assert.equal((await owner('GET', '/api/transactions?team=discovery')).status, 403);
      const searchRow = (await admin('GET', '/api/transactions?consumer=search')).body.items[0];
      assert.equal((await owner('GET', `/api/transactions/${searchRow.id}`)).status, 404);
      const { operations: ownerMay, ...ownerSession } = (await owner('GET', '/api/session')).body;
      assert.deepEqual(ownerSession, {
        actor: `admin-token:payments-owner#${made.body.token.id}`,
        role: 'team-owner',
        team: 'payments',
      });
      // What the role may call, as the API decides it: a team-owner its team's usage and consumers, not budgets.
      assert.ok(ownerMay.includes('GET /api/usage') && ownerMay.includes('POST /api/consumers'), ownerMay.join(', '));
      assert.ok(!ownerMay.includes('GET /api/budgets') && !ownerMay.includes('GET /api/audit'), ownerMay.join(', '));
      assert.equal((await owner('GET', '/api/budgets')).status, 403);
      const { operations: adminMay, ...adminSession } = (await admin('GET', '/api/session')).body;
      assert.deepEqual(adminSession, { actor: 'bootstrap-token', role: 'admin', team: null });
      assert.ok(adminMay.includes('POST /api/admin-tokens'), adminMay.join(', '));
      const viewer = await admin('POST', '/api/admin-tokens', { name: 'reader', role: 'viewer' });
      assert.equal((await adminClient(sluice, viewer.body.plaintext)('GET', '/api/session')).body.role, 'viewer');
      assert.equal((await adminClient(sluice, 'sa-sluice-wrong')('GET', '/api/session')).status, 401);
    });
  });
}
