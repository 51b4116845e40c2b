// GET /api/transactions?unattributed=: the ledger's calls of no consumer (an undeclared caller's traffic, reported by
// an observer, until reconciliation attributes it) or only those of a consumer, against both stores: paged like every
// listing, with the other filters, documented in the OpenAPI document, and a consumer named with `true` refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectorStore } from '../../src/store/director-store.js';
import { type AdminAnswer, adminClient, type AdminClient, observation, OFFLINE_CATALOG } from '../support/admin-client.js';
import { ledgerRow } from '../support/ledger.js';
import { describeOnStore, STORE_KINDS } from '../support/director-stores.js';
import type { TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-test-token-unattributed';
const MINUTE = 60_000;

/** A gateway's served call of `consumer`, at `startedAt`. */
const gatewayCall = (requestId: string, startedAt: number, consumer: string, team: string) =>
  ledgerRow(0, { requestId, startedAt, consumer, team });

for (const storeKind of STORE_KINDS) {
  describeOnStore(storeKind, `transactions of no consumer on ${storeKind}`, (db) => {
    let sluice: TestSluice;
    let ledger: DirectorStore;
    const start = Date.now() - 30 * MINUTE;

    let admin: AdminClient;
    /** The listing's rows as `consumer|model` (an unattributed one as `-|model`), every page followed. */
    const rows = async (query: string, client = admin): Promise<string[]> => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: AdminAnswer = await client('GET', `/api/transactions?limit=2&${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        seen.push(...page.body.items.map((item: any) => `${item.consumer ?? '-'}|${item.requestedModel}`));
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      return seen;
    };

    before(async () => {
      sluice = await db.startSluice(BOOTSTRAP, {
        // Never called: the gateway's rows are written straight into the ledger.
        ...OFFLINE_CATALOG,
      });
      admin = adminClient(sluice, BOOTSTRAP);
      ledger = await db.openBesides(sluice);
      await ledger.insertTransactions([
        gatewayCall('checkout-1', start, 'checkout-service', 'payments'),
        gatewayCall('search-1', start + 2 * MINUTE, 'search-service', 'discovery'),
        gatewayCall('checkout-2', start + 4 * MINUTE, 'checkout-service', 'payments'),
      ]);
      // Two undeclared callers seen by an observer: ledger rows of no consumer, each with its discovery.
      const intake = await admin('POST', '/api/reconciliation/observations', {
        observations: [
          observation('10.7.0.1', 'gpt-4o', 3, start + MINUTE),
          observation('10.7.0.2', 'o3-mini', 5, start + 3 * MINUTE),
          observation('10.7.0.1', 'gpt-4o', 1, start + 5 * MINUTE),
        ],
      });
      assert.equal(intake.status, 200, JSON.stringify(intake.body));
    });

    after(async () => {
      await sluice?.stop();
    });

    test('unattributed=true lists only the calls of no consumer, newest first, paged; false only those of a consumer', async () => {
      assert.deepEqual(await rows('unattributed=true'), ['-|gpt-4o', '-|o3-mini', '-|gpt-4o']);
      const attributed = await rows('unattributed=false');
      assert.deepEqual(attributed, ['checkout-service|gpt-4o-mini', 'search-service|gpt-4o-mini', 'checkout-service|gpt-4o-mini']);
      assert.equal((await rows('')).length, 6, 'without the filter: every call');
      // With the other filters: a model, and a period.
      assert.deepEqual(await rows('unattributed=true&model=o3-mini'), ['-|o3-mini']);
      const from = new Date(start + 2 * MINUTE).toISOString();
      const to = new Date(start + 5 * MINUTE).toISOString();
      assert.deepEqual(await rows(`unattributed=true&from=${from}&to=${to}`), ['-|o3-mini']);
      // The rows say which discovery they came from.
      const page = await admin('GET', '/api/transactions?unattributed=true');
      assert.ok(
        page.body.items.every((item: any) => item.operation === 'observed' && typeof item.discoveredConsumer === 'number'),
        JSON.stringify(page.body.items),
      );
    });

    test('a resolved discovery leaves the unattributed calls; a consumer named with unattributed=true is refused', async () => {
      const pending = await admin('GET', '/api/reconciliation/consumers?status=pending');
      const second = pending.body.items.find((one: any) => one.identity.value === '10.7.0.2');
      const resolved = await admin('POST', `/api/reconciliation/consumers/${second.id}/resolve`, { consumer: 'search-service' });
      assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
      assert.deepEqual(await rows('unattributed=true'), ['-|gpt-4o', '-|gpt-4o']);
      assert.deepEqual(await rows('unattributed=false&consumer=search-service'), ['search-service|o3-mini', 'search-service|gpt-4o-mini']);
      // A consumer's calls that have no consumer: a mistake in the query, not an empty page.
      const both = await admin('GET', '/api/transactions?unattributed=true&consumer=checkout-service');
      assert.equal(both.status, 400, JSON.stringify(both.body));
      assert.deepEqual(both.body.error.issues, [{ path: 'consumer', message: 'names a consumer: unattributed=true lists calls of none' }]);
      const other = await admin('GET', '/api/transactions?unattributed=yes');
      assert.equal(other.status, 400, JSON.stringify(other.body));
      assert.equal(other.body.error.issues[0].path, 'unattributed');
    });

    test('a team-owner finds none of its team unattributed', async () => {
      await admin('POST', '/api/teams', { name: 'payments', owner: 'pat@example.com' });
      const made = await admin('POST', '/api/admin-tokens', { name: 'payments-owner', role: 'team-owner', team: 'payments' });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const owner = adminClient(sluice, made.body.plaintext);
      assert.deepEqual(await rows('unattributed=true', owner), []);
      assert.deepEqual(await rows('unattributed=false', owner), ['checkout-service|gpt-4o-mini', 'checkout-service|gpt-4o-mini']);
    });

    test('the OpenAPI document describes the parameter', async () => {
      const document = (await admin('GET', '/api/openapi.json')).body;
      const parameters = document.paths['/api/transactions'].get.parameters as Array<{ name: string; description?: string }>;
      const unattributed = parameters.find((parameter) => parameter.name === 'unattributed');
      assert.ok(unattributed !== undefined, parameters.map((parameter) => parameter.name).join(', '));
      assert.match(unattributed.description ?? '', /no consumer/);
    });
  });
}
