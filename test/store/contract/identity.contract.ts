// The contract's identity part: identity rules (created, listed oldest first, deleted, audited, refused when unusable or
// naming no consumer) and the ledger's identity column, listed newest first by listTransactions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../../src/ledger/transaction.js';
import { StoreConflict, StoreInvalid, StoreNotFound } from '../../../src/store/errors.js';
import { allAudit, refusedWithoutTrace, rejectsWith, versionsMoved, type ContractContext } from './context.js';

function call(i: number, identity: string | null | undefined): Transaction {
  return {
    requestId: `identity-req-${i}`,
    startedAt: 1_760_000_000_000 + i,
    operation: 'chat',
    api: 'openai',
    consumer: 'identity-holder',
    team: 'identity-team',
    requestedModel: 'gpt-4o-mini',
    provider: 'openai',
    providerModel: 'gpt-4o-mini',
    stream: false,
    inputTokens: 3,
    outputTokens: 2,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: 7,
    latencyMs: 5,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
    ...(identity === undefined ? {} : { identity }),
  };
}

export function identityContract(context: ContractContext): void {
  describe('identity rules', () => {
    test('are created (audited, moving the config version), listed oldest first, read and deleted', async () => {
      const { store } = context;
      await store.createTeam('admin', { name: 'identity-team', owner: 'sec@example.com' });
      await store.createConsumer('admin', { name: 'identity-holder', team: 'identity-team' });
      let exact!: Awaited<ReturnType<typeof store.createIdentityRule>>;
      assert.equal(
        await versionsMoved(store, async () => {
          exact = await store.createIdentityRule('alice', {
            field: 'spiffe',
            match: 'exact',
            value: 'spiffe://acme.mil/ns/pay/sa/checkout',
            consumer: 'identity-holder',
          });
        }),
        1,
      );
      const jwt = await store.createIdentityRule('alice', {
        field: 'group',
        match: 'prefix',
        value: 'payments-',
        issuer: 'https://idp.example.test',
        consumer: 'identity-holder',
        note: 'the payments groups',
      });
      assert.deepEqual(
        [exact.field, exact.match, exact.value, exact.issuer, exact.consumer, exact.note, exact.createdAt],
        ['spiffe', 'exact', 'spiffe://acme.mil/ns/pay/sa/checkout', null, 'identity-holder', null, context.clock.now()],
      );
      assert.deepEqual(
        (await store.listIdentityRules()).map((rule) => rule.id),
        [exact.id, jwt.id],
      );
      assert.deepEqual(await store.getIdentityRule(jwt.id), jwt);
      assert.equal(await store.getIdentityRule(999_999), null);
      await store.deleteIdentityRule('bob', exact.id);
      assert.deepEqual(
        (await store.listIdentityRules()).map((rule) => rule.id),
        [jwt.id],
      );
      const records = await allAudit(store, { entityType: 'identity-rule', entityId: String(exact.id) });
      assert.deepEqual(
        records.map((record) => [record.action, record.actor]),
        [
          ['delete', 'bob'],
          ['create', 'alice'],
        ],
      );
      await rejectsWith(store.deleteIdentityRule('bob', exact.id), StoreNotFound);
    });

    test("never hand out a deleted rule's id again, not even the newest one's", async () => {
      const { store } = context;
      await store.createConsumer('admin', { name: 'identity-ids' });
      const rule = (value: string) => store.createIdentityRule('alice', { field: 'sub', match: 'exact', value, consumer: 'identity-ids' });
      const older = await rule('svc-older');
      const newest = await rule('svc-newest');
      await store.deleteIdentityRule('alice', newest.id);
      const made = await rule('svc-made-after');
      assert.ok(made.id > newest.id, `id ${made.id} was handed out again after rule ${newest.id} was deleted`);
      assert.equal(await store.getIdentityRule(newest.id), null, 'the deleted id names no rule');
      assert.deepEqual(
        (await allAudit(store, { entityType: 'identity-rule', entityId: String(made.id) })).map((record) => record.action),
        ['create'],
        'the audit log names the new rule only once',
      );
      await store.deleteIdentityRule('alice', made.id);
      await store.deleteIdentityRule('alice', older.id);
      await store.deleteConsumer('admin', 'identity-ids');
    });

    test('refuse a rule naming no consumer, an unusable value, or an issuer on a certificate field, leaving no trace', async () => {
      const { store } = context;
      await refusedWithoutTrace(
        store,
        () => store.createIdentityRule('alice', { field: 'sub', match: 'exact', value: 'svc', consumer: 'nobody-at-all' }),
        (promise) => rejectsWith(promise, StoreConflict, 'reference'),
      );
      await refusedWithoutTrace(
        store,
        () => store.createIdentityRule('alice', { field: 'spiffe', match: 'exact', value: 'checkout', consumer: 'identity-holder' }),
        (promise) => rejectsWith(promise, StoreInvalid),
      );
      await refusedWithoutTrace(
        store,
        () =>
          store.createIdentityRule('alice', {
            field: 'subject',
            match: 'exact',
            value: 'CN=checkout',
            issuer: 'https://idp.example.test',
            consumer: 'identity-holder',
          }),
        (promise) => rejectsWith(promise, StoreInvalid),
      );
    });
  });

  describe("the ledger's identity", () => {
    test('is stored with each row (null when a record has none) and listed newest first, filtered and paged', async () => {
      const { store } = context;
      await store.insertTransactions([
        call(1, 'key:k-1'),
        call(2, 'mtls:spiffe://acme.mil/ns/pay/sa/checkout'),
        call(3, undefined),
        call(4, 'jwt:https://idp#svc'),
      ]);
      const page = await store.listTransactions({ consumer: 'identity-holder', limit: 3 });
      assert.deepEqual(
        page.items.map((row) => [row.requestId, row.identity]),
        [
          ['identity-req-4', 'jwt:https://idp#svc'],
          ['identity-req-3', null],
          ['identity-req-2', 'mtls:spiffe://acme.mil/ns/pay/sa/checkout'],
        ],
      );
      const rest = await store.listTransactions({ consumer: 'identity-holder', cursor: page.nextCursor, limit: 3 });
      assert.deepEqual(
        rest.items.map((row) => [row.requestId, row.identity, row.costMicroUsd, row.status]),
        [['identity-req-1', 'key:k-1', 7, 200]],
      );
      assert.equal((await store.getTransaction(page.items[0]!.id))?.identity, 'jwt:https://idp#svc');
      assert.deepEqual((await store.listTransactions({ consumer: 'no-such-consumer', limit: 10 })).items, []);
    });
  });
}
