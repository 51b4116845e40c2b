// Contract: the config version, the append-only audit log and its listing, migrations, and the ledger's batch insert.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { governanceFields } from '../../../src/config/governance-schema.js';
import type { Transaction } from '../../../src/ledger/transaction.js';
import type { AuditRecord, DirectorStore } from '../../../src/store/director-store.js';
import { StoreInvalid } from '../../../src/store/errors.js';
import { MIGRATIONS } from '../../../src/store/migrations/index.js';
import { allAudit, auditWritten, rejectsWith, versionsMoved, type ContractContext } from './context.js';

function transaction(i: number, overrides: Partial<Transaction> = {}): Transaction {
  return {
    requestId: `req-${i}`,
    startedAt: 1_750_000_000_000 + i,
    operation: 'chat',
    api: 'openai',
    consumer: 'ledgered',
    team: 'payments',
    requestedModel: 'gpt-4o-mini',
    provider: 'openai',
    providerModel: 'gpt-4o-mini-2024-07-18',
    stream: i % 2 === 0,
    inputTokens: 10 + i,
    outputTokens: 5,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: 3_000_000_000 + i,
    latencyMs: 12,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
    ...overrides,
  };
}

export function auditContract(context: ContractContext): void {
  describe('config version', () => {
    test('every change moves it by exactly one; reads, refusals and touchKeys do not', async () => {
      const { store } = context;
      const changes: Array<[string, () => Promise<unknown>, number]> = [
        ['create a team', () => store.createTeam('admin', { name: 'team-version', owner: 'o' }), 1],
        ['update a team', () => store.updateTeam('admin', 'team-version', { owner: 'p' }), 1],
        ['create a consumer', () => store.createConsumer('admin', { name: 'consumer-version', team: 'team-version' }), 1],
        ['update a consumer', () => store.updateConsumer('admin', 'consumer-version', { labels: { x: 'y' } }), 1],
        ['create a resource', () => store.createResource('admin', { id: 'v/one', status: 'sanctioned' }), 1],
        [
          'read everything',
          async () => {
            await store.getTeam('team-version');
            await store.listConsumers({});
            await store.listAudit({ limit: 10 });
            await store.configVersion();
          },
          0,
        ],
        ['a refused change', () => store.createTeam('admin', { name: 'team-version', owner: 'o' }).catch(() => undefined), 0],
        ['touch no keys', () => store.touchKeys(new Map([['no-such-key', 1]])), 0],
        ['delete a consumer', () => store.deleteConsumer('admin', 'consumer-version'), 1],
        ['delete a team', () => store.deleteTeam('admin', 'team-version'), 1],
      ];
      for (const [name, change, expected] of changes) assert.equal(await versionsMoved(store, change), expected, name);
    });

    test('an update that changes nothing writes nothing: no version, no audit record, the entity as it was', async () => {
      const { store } = context;
      await store.createTeam('admin', { name: 'team-idle', owner: 'o@example.com' });
      const consumer = await store.createConsumer('admin', {
        name: 'consumer-idle',
        team: 'team-idle',
        labels: { env: 'prod', tier: 'a' },
      });
      const resource = await store.createResource('admin', { id: 'idle/one', status: 'sanctioned', note: 'kept' });
      const budget = await store.createDefinition(
        'admin',
        'budget',
        governanceFields.budgets.parse([
          { name: 'budget-idle', consumers: { team: 'team-idle' }, measure: 'cost_usd', limit: 10, window: 'month' },
        ])[0]!,
      );
      const provider = await store.createProvider('admin', {
        name: 'provider-idle',
        settings: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', connections: 4 },
        credentials: null,
      });
      const idle: Array<[string, () => Promise<unknown>, unknown]> = [
        ['a team, its owner as it is', () => store.updateTeam('bob', 'team-idle', { owner: 'o@example.com' }), { owner: 'o@example.com' }],
        [
          'a consumer, its labels in another order',
          () => store.updateConsumer('bob', 'consumer-idle', { labels: { tier: 'a', env: 'prod' }, team: 'team-idle' }),
          { updatedAt: consumer.updatedAt },
        ],
        ['a resource, its status as it is', () => store.updateResource('bob', 'idle/one', { status: 'sanctioned' }), resource],
        [
          'a budget, the same definition',
          () => store.updateDefinition('bob', 'budget', 'budget-idle', budget.definition),
          { updatedAt: budget.updatedAt },
        ],
        ['a provider, an empty patch', () => store.updateProvider('bob', 'provider-idle', {}), { updatedAt: provider.updatedAt }],
      ];
      for (const [name, update, expected] of idle) {
        let answered: unknown;
        const audited = await auditWritten(store, async () => {
          assert.equal(
            await versionsMoved(store, async () => {
              answered = await update();
            }),
            0,
            `${name}: no version`,
          );
        });
        assert.equal(audited, 0, `${name}: no audit record`);
        for (const [key, value] of Object.entries(expected as object))
          assert.deepEqual((answered as Record<string, unknown>)[key], value, `${name}: ${key}`);
      }
      // A change of one field is still a change.
      assert.equal(await versionsMoved(store, () => store.updateResource('bob', 'idle/one', { note: 'moved' })), 1);
    });

    test('is shared by every store on the same database (what gateways poll)', async () => {
      const { store } = context;
      const other = await context.open();
      try {
        assert.equal(await other.configVersion(), await store.configVersion());
        await other.createResource('admin', { id: 'v/two', status: 'unreviewed' });
        assert.equal(await store.configVersion(), await other.configVersion());
        assert.deepEqual(await store.getResource('v/two'), { id: 'v/two', status: 'unreviewed', note: null });
      } finally {
        await other.close();
      }
    });
  });

  describe('audit log', () => {
    test('lists newest first, filtered by entity, actor and time, and pages through every record exactly once', async () => {
      const { store, clock } = context;
      clock.advance(60_000);
      const since = clock.now();
      await store.createTeam('auditor-1', { name: 'team-audited', owner: 'o' });
      for (let i = 0; i < 6; i++) await store.updateTeam(i % 2 === 0 ? 'auditor-1' : 'auditor-2', 'team-audited', { owner: `owner-${i}` });
      const trail = await allAudit(store, { entityType: 'team', entityId: 'team-audited' });
      assert.equal(trail.length, 7);
      assert.deepEqual(
        trail.map((record) => record.action),
        ['update', 'update', 'update', 'update', 'update', 'update', 'create'],
      );
      assert.deepEqual(
        trail.map((record) => (record.after as { owner: string }).owner),
        ['owner-5', 'owner-4', 'owner-3', 'owner-2', 'owner-1', 'owner-0', 'o'],
      );
      for (const [i, record] of trail.entries()) {
        if (i > 0) assert.ok(record.id < trail[i - 1]!.id, 'ids descend');
        const older = trail[i + 1];
        if (older !== undefined) assert.deepEqual(record.before, older.after, 'each before is the previous after');
      }
      assert.deepEqual(
        (await allAudit(store, { actor: 'auditor-2' })).map((record) => record.actor),
        ['auditor-2', 'auditor-2', 'auditor-2'],
      );
      assert.equal((await allAudit(store, { since })).length, 7);
      assert.equal((await allAudit(store, { since: since + 1 })).length, 0);
      assert.equal((await allAudit(store, { entityType: 'webhook', entityId: 'team-audited' })).length, 0);

      const everything = await allAudit(store, {});
      for (const limit of [1, 3, 50]) {
        const seen: AuditRecord[] = [];
        let cursor: string | null = null;
        do {
          const page: { items: AuditRecord[]; nextCursor: string | null } = await store.listAudit({ limit, cursor });
          seen.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor !== null);
        assert.deepEqual(
          seen.map((record) => record.id),
          everything.map((record) => record.id),
          `limit ${limit}`,
        );
      }
      assert.equal(new Set(everything.map((record) => record.id)).size, everything.length);
      await rejectsWith(store.listAudit({ limit: 10, cursor: 'bogus' }), StoreInvalid);
      await rejectsWith(store.listAudit({ limit: 0 }), StoreInvalid);
      // Numbers no listing hands out (a row id is a whole number a BIGINT holds): refused alike on both stores.
      for (const position of [1.5, 1e300, 2 ** 63]) {
        const cursor = Buffer.from(JSON.stringify([position])).toString('base64url');
        await rejectsWith(store.listAudit({ limit: 10, cursor }), StoreInvalid);
        await rejectsWith(store.listDiscoveredConsumers({ cursor }), StoreInvalid);
        await rejectsWith(store.compliance.listAssessments({ cursor }), StoreInvalid);
      }
    });

    test('offers no way to change or remove a record, and the database refuses UPDATE and DELETE on it', async () => {
      const { store } = context;
      const methods = new Set<string>();
      for (let proto: object | null = store; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const name of Object.getOwnPropertyNames(proto))
          if (typeof (store as unknown as Record<string, unknown>)[name] === 'function') methods.add(name);
      }
      assert.deepEqual(
        [...methods].filter((name) => /audit/i.test(name)),
        ['listAudit'],
      );
      const before = await allAudit(store, {});
      await assert.rejects(context.query("UPDATE audit_log SET actor = 'mallory'"), /append-only/);
      await assert.rejects(context.query('DELETE FROM audit_log'), /append-only/);
      if (store.dialect === 'postgres') await assert.rejects(context.query('TRUNCATE audit_log'), /append-only/);
      assert.deepEqual(await allAudit(store, {}), before);
    });

    test('refuses a change without an actor', async () => {
      const { store } = context;
      await rejectsWith(store.createTeam('', { name: 'team-anonymous', owner: 'o' }), StoreInvalid);
      assert.equal(await store.getTeam('team-anonymous'), null);
    });
  });

  describe('migrations', () => {
    test('are recorded in schema_migrations, each once, and reopening the database applies nothing again', async () => {
      const expected = MIGRATIONS.map((migration) => ({ version: migration.version, name: migration.name }));
      const recorded = async () =>
        (await context.query('SELECT version, name FROM schema_migrations ORDER BY version')).map((row) => ({
          version: Number(row.version),
          name: row.name,
        }));
      assert.deepEqual(await recorded(), expected);
      assert.deepEqual(expected.slice(0, 2), [
        { version: 1, name: 'ledger' },
        { version: 2, name: 'ledger governance columns' },
      ]);
      const versionBefore = await context.store.configVersion();
      const reopened: DirectorStore[] = await Promise.all([context.open(), context.open()]);
      try {
        assert.deepEqual(await recorded(), expected);
        assert.equal(await reopened[0]!.configVersion(), versionBefore, 'the data is still there');
      } finally {
        for (const store of reopened) await store.close();
      }
    });
  });

  describe('ledger', () => {
    test('inserts batches of any size, several statements per batch, and counts them, values as given', async () => {
      const { store } = context;
      const before = await store.countTransactions();
      // Latencies are fractional milliseconds (a high-resolution clock); both databases keep the fraction.
      await store.insertTransactions([
        transaction(0, {
          latencyMs: 12.375,
          timeToFirstTokenMs: 3.5,
          cacheWriteTokens: 3000,
          cacheWrite1hTokens: 2000,
          webSearches: 4,
          serviceTier: 'priority',
          fileSearches: 2,
          reasoningTokens: 4,
        }),
      ]);
      await store.insertTransactions(Array.from({ length: 123 }, (_, i) => transaction(i + 1, { consumer: 'batch' })));
      await store.insertTransactions([]);
      assert.equal(await store.countTransactions(), before + 124);
      const [row] = await context.query("SELECT * FROM transactions WHERE request_id = 'req-0'");
      assert.deepEqual(
        {
          ...row,
          id: undefined,
          started_at: Number(row?.started_at),
          cost_micro_usd: Number(row?.cost_micro_usd),
          saved_micro_usd: Number(row?.saved_micro_usd),
          cost_nano_usd: Number(row?.cost_nano_usd),
          saved_nano_usd: Number(row?.saved_nano_usd),
        },
        {
          id: undefined,
          request_id: 'req-0',
          started_at: 1_750_000_000_000,
          operation: 'chat',
          api: 'openai',
          consumer: 'ledgered',
          team: 'payments',
          requested_model: 'gpt-4o-mini',
          provider: 'openai',
          provider_model: 'gpt-4o-mini-2024-07-18',
          stream: 1,
          input_tokens: 10,
          output_tokens: 5,
          cached_input_tokens: 0,
          cache_write_tokens: 3000,
          tokens_estimated: 0,
          cost_micro_usd: 3_000_000_000,
          latency_ms: 12.375,
          time_to_first_token_ms: 3.5,
          status: 200,
          error_class: null,
          attempts: 1,
          served_model: null,
          violations: null,
          // Reconciliation's columns (migration 8): a gateway's row stands for one call and came from no discovered consumer.
          calls: null,
          discovered_consumer: null,
          // Migration 13: the credential the call was authenticated by; this record names none.
          identity: null,
          // Migration 14: a call answered from the response cache keeps its saving here; this one was not.
          saved_micro_usd: 0,
          // Migration 16: of the cache writes, those to the 1-hour cache.
          cache_write_1h_tokens: 2000,
          // Migration 18: what the call was billed for beside its tokens.
          web_searches: 4,
          service_tier: 'priority',
          file_searches: 2,
          // Migration 22: the cost to the nano-USD (this record has only costMicroUsd: x 1,000).
          cost_nano_usd: 3_000_000_000_000,
          // Migration 24: the saving to the nano-USD (none here).
          saved_nano_usd: 0,
          // Migration 25: of the output tokens, those spent reasoning.
          reasoning_tokens: 4,
        },
      );
    });

    test('writes a batch whole or not at all', async () => {
      const { store } = context;
      const before = await store.countTransactions();
      const broken = transaction(999, { requestId: null as unknown as string });
      const rows = [...Array.from({ length: 60 }, (_, i) => transaction(1_000 + i)), broken];
      await assert.rejects(store.insertTransactions(rows));
      assert.equal(await store.countTransactions(), before);
    });

    test('migration 25 adds reasoning_tokens to an earlier ledger: its rows state none, later rows keep theirs', async () => {
      // The ledger taken back to before version 25, with a row written as a release before it wrote one.
      await context.query('ALTER TABLE transactions DROP COLUMN reasoning_tokens');
      await context.query('DELETE FROM schema_migrations WHERE version = 25');
      await context.query(`INSERT INTO transactions (request_id, started_at, operation, api, consumer, team, requested_model, provider,
          provider_model, stream, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, tokens_estimated, cost_micro_usd,
          latency_ms, status, error_class, attempts)
        VALUES ('before-25', 1750000900000, 'chat', 'openai', 'ledgered', 'payments', 'o3', 'openai', 'o3', 0, 10, 90, 0, 0, 0, 700,
          5, 200, NULL, 1)`);
      const reopened = await context.open();
      try {
        assert.deepEqual(
          (await context.query('SELECT version FROM schema_migrations WHERE version = 25')).map((row) => Number(row.version)),
          [25],
        );
        await reopened.insertTransactions([
          transaction(2_000, { requestId: 'after-25', outputTokens: 90, reasoningTokens: 64 }),
          transaction(2_001, { requestId: 'after-25-no-split', outputTokens: 90, reasoningTokens: null }),
        ]);
        const rows = await context.query(
          "SELECT request_id, id, reasoning_tokens FROM transactions WHERE request_id IN ('before-25', 'after-25', 'after-25-no-split') ORDER BY request_id",
        );
        assert.deepEqual(
          rows.map((row) => [row.request_id, row.reasoning_tokens === null ? null : Number(row.reasoning_tokens)]),
          [
            ['after-25', 64],
            ['after-25-no-split', null],
            ['before-25', null],
          ],
        );
        // Read back through the store as the API reads them.
        const read = await Promise.all(rows.map((row) => context.store.getTransaction(Number(row.id))));
        assert.deepEqual(
          read.map((entry) => [entry?.requestId, entry?.outputTokens, entry?.reasoningTokens]),
          [
            ['after-25', 90, 64],
            ['after-25-no-split', 90, null],
            ['before-25', 90, null],
          ],
        );
      } finally {
        await reopened.close();
      }
    });
  });
}
