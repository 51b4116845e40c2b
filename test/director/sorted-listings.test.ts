// The ledger's transactions and the audit log sorted by the API, over HTTP on both stores: every order paged through with
// its cursor returns every row once, in order, ties broken by id, rows of no value last; filters hold; a cursor of
// another order is a 400.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectorStore } from '../../src/store/director-store.js';
import { adminClient, type AdminClient, clientWithRole, observation, observe, OFFLINE_CATALOG } from '../support/admin-client.js';
import { ledgerRow } from '../support/ledger.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import type { TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-sorted-listings';
const MINUTE = 60_000;

/** Every page of a listing, following nextCursor: the items in the order they came. */
async function everyPage(admin: AdminClient, path: string, limit: number): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const page = await admin('GET', `${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.ok(page.body.items.length <= limit);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor !== null);
  return items;
}

/** The order the API promises: by the value (none last, either way), then by id the same way. */
function expectedOrder<T>(rows: T[], value: (row: T) => number | string | null, id: (row: T) => number, descending: boolean): T[] {
  const direction = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const left = value(a);
    const right = value(b);
    if (left === null || right === null) {
      if (left !== right) return left === null ? 1 : -1;
    } else if (left !== right) return (left < right ? -1 : 1) * direction;
    return (id(a) - id(b)) * direction;
  });
}

const TRANSACTION_VALUES: Record<string, (row: any) => number | null> = {
  time: (row) => Date.parse(row.startedAt),
  cost: (row) => (row.cost === null ? null : row.cost.nanoUsd),
  latency: (row) => (row.operation === 'observed' ? null : row.latencyMs),
  total_tokens: (row) => row.inputTokens + row.outputTokens,
};

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `sorted listings on ${storeKind}`, (db) => {
    let sluice: TestSluice;
    let ledger: DirectorStore;
    let admin: AdminClient;
    const start = Date.UTC(2026, 10, 2, 8);

    before(async () => {
      sluice = await db.startSluice(BOOTSTRAP, OFFLINE_CATALOG);
      admin = adminClient(sluice, BOOTSTRAP);
      ledger = await db.openBesides(sluice);
      // Values repeat (costs, latencies, token sums, start times) so ties must be broken by id; some calls have no cost
      // (unpriced, refused); latencies have fractions; one team's calls sit apart from the other's.
      const calls = Array.from({ length: 23 }, (_, index) =>
        ledgerRow(index, {
          startedAt: start + Math.floor(index / 3) * MINUTE,
          consumer: index % 4 === 0 ? 'search' : 'checkout',
          team: index % 4 === 0 ? 'discovery' : 'payments',
          costMicroUsd: index % 5 === 0 ? null : [2_500, 40, 2_500, 900_000, 17][index % 5]!,
          status: index % 10 === 0 ? 429 : 200,
          errorClass: index % 10 === 0 ? 'budget_exhausted' : null,
          latencyMs: [120.5, 3_000, 120.5, 45.25, 800][index % 5]!,
          inputTokens: [1_000, 250, 1_000, 10_000, 1][(index % 7) % 5]!,
          outputTokens: [100, 850, 100, 0, 99][index % 3]!,
        }),
      );
      await ledger.insertTransactions(calls);
      // An observer's report: its calls' latency is not Sluice's to measure (none), so it sorts last by latency.
      await observe(admin, [observation('10.0.0.7', 'gpt-4o-mini', 3, start + 4 * MINUTE, 5_000)]);
    });

    after(async () => {
      await sluice.stop();
    });

    test('each order of the transactions, paged through, lists every call once, in order, ties by id', async () => {
      const all = (await admin('GET', '/api/transactions?limit=1000')).body.items;
      assert.equal(all.length, 24);
      for (const sort of Object.keys(TRANSACTION_VALUES))
        for (const order of ['desc', 'asc'] as const) {
          const listed = await everyPage(admin, `/api/transactions?sort=${sort}&order=${order}`, 4);
          const expected = expectedOrder(all, TRANSACTION_VALUES[sort]!, (row: any) => Number(row.id), order === 'desc');
          assert.deepEqual(
            listed.map((row) => row.id),
            expected.map((row: any) => row.id),
            `sort=${sort}&order=${order}`,
          );
        }
      // The default is the time, newest first; `order` alone turns it around.
      const newestFirst = await everyPage(admin, '/api/transactions', 5);
      assert.deepEqual(
        newestFirst.map((row) => row.id),
        expectedOrder(all, TRANSACTION_VALUES.time!, (row: any) => Number(row.id), true).map((row: any) => row.id),
      );
      const oldestFirst = await everyPage(admin, '/api/transactions?order=asc', 5);
      assert.deepEqual(
        oldestFirst.map((row) => row.id),
        newestFirst.map((row) => row.id).reverse(),
      );
    });

    test('the most expensive calls of a period and a team: the filters hold in every order', async () => {
      const from = new Date(start + 2 * MINUTE).toISOString();
      const to = new Date(start + 6 * MINUTE).toISOString();
      const filter = `team=payments&from=${from}&to=${to}`;
      const inPeriod = (await admin('GET', `/api/transactions?${filter}&limit=1000`)).body.items;
      assert.ok(inPeriod.length > 5, String(inPeriod.length));
      const listed = await everyPage(admin, `/api/transactions?${filter}&sort=cost&order=desc`, 2);
      assert.deepEqual(
        listed.map((row) => row.id),
        expectedOrder(inPeriod, TRANSACTION_VALUES.cost!, (row: any) => Number(row.id), true).map((row: any) => row.id),
      );
      assert.ok(listed.every((row) => row.team === 'payments' && row.startedAt >= from && row.startedAt < to));
      assert.equal(listed[0].cost.microUsd, 900_000);
      assert.equal(listed[listed.length - 1].cost, null);
    });

    test('a cursor is refused with a 400 in another order than its own, and an unknown order is a 400', async () => {
      const page = await admin('GET', '/api/transactions?sort=cost&order=desc&limit=2');
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const cursor = page.body.nextCursor;
      for (const other of ['sort=cost&order=asc', 'sort=latency&order=desc', 'order=desc', '']) {
        const answer = await admin('GET', `/api/transactions?${other}&limit=2&cursor=${cursor}`);
        assert.equal(answer.status, 400, `${other}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.issues[0].path, 'cursor');
        assert.match(answer.body.error.issues[0].message, /another order \(sort=cost&order=desc\)/);
      }
      assert.equal((await admin('GET', `/api/transactions?sort=cost&order=desc&limit=2&cursor=${cursor}`)).status, 200);
      for (const wrong of ['sort=price', 'order=up', 'sort=COST']) {
        const answer = await admin('GET', `/api/transactions?${wrong}`);
        assert.equal(answer.status, 400, `${wrong}: ${JSON.stringify(answer.body)}`);
      }
      // A cursor naming this order but a key no row holds (tampered with) is refused, not passed to the database.
      const forged = Buffer.from(JSON.stringify(['cost:desc', 'a lot', 5])).toString('base64url');
      assert.equal((await admin('GET', `/api/transactions?sort=cost&cursor=${forged}`)).status, 400);
    });

    test('the audit log by time, actor or action, either way, filtered by action, every record once', async () => {
      const auditor = await clientWithRole(sluice, admin, 'auditor', 'admin');
      for (const team of ['alpha', 'bravo', 'charlie']) {
        assert.equal((await admin('POST', '/api/teams', { name: team, owner: 'ops@example.com' })).status, 201);
        assert.equal((await auditor('PATCH', `/api/teams/${team}`, { owner: 'finops@example.com' })).status, 200);
      }
      assert.equal((await auditor('DELETE', '/api/teams/charlie')).status, 204);
      const all = (await admin('GET', '/api/audit?limit=1000')).body.items;
      const values: Record<string, (record: any) => number | string> = {
        time: (record) => Date.parse(record.at),
        actor: (record) => record.actor,
        action: (record) => record.action,
      };
      for (const sort of Object.keys(values))
        for (const order of ['desc', 'asc'] as const) {
          const listed = await everyPage(admin, `/api/audit?sort=${sort}&order=${order}`, 2);
          assert.deepEqual(
            listed.map((record) => record.id),
            expectedOrder(all, values[sort]!, (record: any) => record.id, order === 'desc').map((record: any) => record.id),
            `sort=${sort}&order=${order}`,
          );
        }
      const updates = await everyPage(admin, '/api/audit?action=update&order=asc', 2);
      assert.deepEqual(
        updates.map((record) => [record.action, record.entityId]),
        [
          ['update', 'alpha'],
          ['update', 'bravo'],
          ['update', 'charlie'],
        ],
      );
      assert.ok(updates.every((record) => record.actor.startsWith('admin-token:auditor#')));
      assert.equal((await admin('GET', '/api/audit?action=rename')).status, 400);
      const first = await admin('GET', '/api/audit?sort=actor&limit=1');
      const mixed = await admin('GET', `/api/audit?sort=action&limit=1&cursor=${first.body.nextCursor}`);
      assert.equal(mixed.status, 400, JSON.stringify(mixed.body));
      assert.equal(mixed.body.error.issues[0].path, 'cursor');
    });
  });
}
