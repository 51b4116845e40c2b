// Contract: budgets, budget templates and rate limits (definitions kept whole), resource statuses and webhooks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { governanceFields } from '../../../src/config/governance-schema.js';
import type { DirectorStore, StoredDefinition } from '../../../src/store/director-store.js';
import { StoreConflict, StoreInvalid, StoreNotFound } from '../../../src/store/errors.js';
import { lastAudit, refusedWithoutTrace, rejectsWith, type ContractContext } from './context.js';

/** The store's methods for one kind of definition, so the three kinds run through one table of cases. */
interface DefinitionKind<T extends { name: string }> {
  kind: string;
  entityType: string;
  /** Two valid definitions of the given name, as the config schema parses them (the caller validates). */
  make(name: string, variant: 1 | 2): T;
  create(store: DirectorStore, actor: string, definition: T): Promise<StoredDefinition<T>>;
  get(store: DirectorStore, name: string): Promise<StoredDefinition<T> | null>;
  list(store: DirectorStore): Promise<StoredDefinition<T>[]>;
  update(store: DirectorStore, actor: string, name: string, definition: T): Promise<StoredDefinition<T>>;
  remove(store: DirectorStore, actor: string, name: string): Promise<void>;
}

const first = <T>(items: T[]): T => {
  assert.ok(items[0] !== undefined);
  return items[0];
};

const kinds = [
  {
    kind: 'budget',
    entityType: 'budget',
    make: (name, variant) =>
      first(
        governanceFields.budgets.parse([
          variant === 1
            ? {
                name,
                consumers: { team: 'payments' },
                resources: { model: 'gpt-4o-mini' },
                measure: 'cost_usd',
                limit: 12.5,
                window: 'month',
                alerts: [50, 90],
              }
            : { name, measure: 'requests', limit: 100, window: { rolling: '24h' }, mode: 'monitor', onExhausted: { downgrade: 'cheap' } },
        ]),
      ),
    create: (store, actor, definition) => store.createDefinition(actor, 'budget', definition),
    get: (store, name) => store.getDefinition('budget', name),
    list: (store) => store.listDefinitions('budget'),
    update: (store, actor, name, definition) => store.updateDefinition(actor, 'budget', name, definition),
    remove: (store, actor, name) => store.deleteDefinition(actor, 'budget', name),
  } satisfies DefinitionKind<ReturnType<typeof governanceFields.budgets.parse>[number]>,
  {
    kind: 'budget template',
    entityType: 'budget-template',
    make: (name, variant) =>
      first(
        governanceFields.budgetTemplates.parse([
          variant === 1
            ? { name, selector: { labels: { tier: 'critical' } }, measure: 'total_tokens', limit: 1_000_000, window: 'day' }
            : { name, selector: 'everyone', measure: 'output_tokens', limit: 5, window: 'hour' },
        ]),
      ),
    create: (store, actor, definition) => store.createDefinition(actor, 'budgetTemplate', definition),
    get: (store, name) => store.getDefinition('budgetTemplate', name),
    list: (store) => store.listDefinitions('budgetTemplate'),
    update: (store, actor, name, definition) => store.updateDefinition(actor, 'budgetTemplate', name, definition),
    remove: (store, actor, name) => store.deleteDefinition(actor, 'budgetTemplate', name),
  } satisfies DefinitionKind<ReturnType<typeof governanceFields.budgetTemplates.parse>[number]>,
  {
    kind: 'rate limit',
    entityType: 'rate-limit',
    make: (name, variant) =>
      first(
        governanceFields.rateLimits.parse([
          variant === 1
            ? { name, requestsPerMinute: 60 }
            : { name, consumers: { consumer: 'x' }, per: 'shared', tokensPerMinute: 10_000, mode: 'monitor' },
        ]),
      ),
    create: (store, actor, definition) => store.createDefinition(actor, 'rateLimit', definition),
    get: (store, name) => store.getDefinition('rateLimit', name),
    list: (store) => store.listDefinitions('rateLimit'),
    update: (store, actor, name, definition) => store.updateDefinition(actor, 'rateLimit', name, definition),
    remove: (store, actor, name) => store.deleteDefinition(actor, 'rateLimit', name),
  } satisfies DefinitionKind<ReturnType<typeof governanceFields.rateLimits.parse>[number]>,
];

function definitionContract<T extends { name: string }>(context: ContractContext, kind: DefinitionKind<T>): void {
  test(`${kind.kind}: creates, reads, lists by name, replaces and deletes a definition, auditing each change`, async () => {
    const { store, clock } = context;
    const v1 = kind.make('def-b', 1);
    const created = await kind.create(store, 'finops', v1);
    assert.deepEqual(created, { name: 'def-b', definition: v1, createdAt: clock.now(), updatedAt: clock.now() });
    assert.deepEqual(await kind.get(store, 'def-b'), created);
    await kind.create(store, 'finops', kind.make('def-a', 2));
    assert.deepEqual(
      (await kind.list(store)).map((stored) => stored.name),
      ['def-a', 'def-b'],
    );
    const createRecord = await lastAudit(store);
    assert.deepEqual([createRecord.entityType, createRecord.entityId, createRecord.action], [kind.entityType, 'def-a', 'create']);

    clock.advance(2_000);
    const v2 = kind.make('def-b', 2);
    const updated = await kind.update(store, 'finops-2', 'def-b', v2);
    assert.deepEqual(updated, { ...created, definition: v2, updatedAt: clock.now() });
    assert.deepEqual(await kind.get(store, 'def-b'), updated);
    const updateRecord = await lastAudit(store);
    assert.deepEqual(
      [updateRecord.action, updateRecord.actor, updateRecord.before, updateRecord.after],
      ['update', 'finops-2', created, updated],
    );

    await kind.remove(store, 'finops', 'def-b');
    assert.equal(await kind.get(store, 'def-b'), null);
    assert.deepEqual((await lastAudit(store)).before, updated);
    await kind.remove(store, 'finops', 'def-a');
  });

  test(`${kind.kind}: refuses a taken name (StoreConflict), a renaming update (StoreInvalid) and a missing one (StoreNotFound)`, async () => {
    const { store } = context;
    await kind.create(store, 'finops', kind.make('def-taken', 1));
    await refusedWithoutTrace(
      store,
      () => kind.create(store, 'finops', kind.make('def-taken', 2)),
      (promise) => rejectsWith(promise, StoreConflict, 'duplicate'),
    );
    await rejectsWith(kind.update(store, 'finops', 'def-taken', kind.make('def-other', 2)), StoreInvalid);
    await rejectsWith(kind.update(store, 'finops', 'def-missing', kind.make('def-missing', 2)), StoreNotFound);
    await rejectsWith(kind.remove(store, 'finops', 'def-missing'), StoreNotFound);
    assert.equal(await kind.get(store, 'def-missing'), null);
  });
}

export function governanceContract(context: ContractContext): void {
  describe('budgets, budget templates and rate limits', () => {
    for (const kind of kinds) definitionContract(context, kind as DefinitionKind<{ name: string }>);
  });

  describe('resources', () => {
    test('creates, reads, lists, updates and deletes a resource status, auditing each change', async () => {
      const { store } = context;
      const created = await store.createResource('security', { id: 'openai/gpt-4o-mini', status: 'sanctioned' });
      assert.deepEqual(created, { id: 'openai/gpt-4o-mini', status: 'sanctioned', note: null });
      await store.createResource('security', { id: 'anthropic/claude-3-5-haiku-20241022', status: 'unreviewed', note: 'pending DPA' });
      assert.deepEqual(
        (await store.listResources()).map((resource) => resource.id),
        ['anthropic/claude-3-5-haiku-20241022', 'openai/gpt-4o-mini'],
      );
      const updated = await store.updateResource('security', 'openai/gpt-4o-mini', { status: 'unsanctioned', note: 'data residency' });
      assert.deepEqual(updated, { id: 'openai/gpt-4o-mini', status: 'unsanctioned', note: 'data residency' });
      assert.deepEqual(await store.getResource('openai/gpt-4o-mini'), updated);
      const record = await lastAudit(store);
      assert.deepEqual([record.entityType, record.action, record.before, record.after], ['resource', 'update', created, updated]);
      assert.deepEqual(await store.updateResource('security', 'openai/gpt-4o-mini', { note: null }), { ...updated, note: null });
      await store.deleteResource('security', 'openai/gpt-4o-mini');
      assert.equal(await store.getResource('openai/gpt-4o-mini'), null);
      await rejectsWith(
        store.createResource('security', { id: 'anthropic/claude-3-5-haiku-20241022', status: 'sanctioned' }),
        StoreConflict,
        'duplicate',
      );
      await rejectsWith(store.updateResource('security', 'no/such', { status: 'sanctioned' }), StoreNotFound);
      await rejectsWith(store.deleteResource('security', 'no/such'), StoreNotFound);
    });

    test('the schema itself refuses a status that is not one of the three', async () => {
      const { store } = context;
      const bogus = { id: 'x/y', status: 'approved' } as unknown as Parameters<DirectorStore['createResource']>[1];
      await refusedWithoutTrace(
        store,
        () => store.createResource('security', bogus),
        (promise) => rejectsWith(promise, StoreInvalid),
      );
    });
  });

  describe('webhooks', () => {
    test('creates, reads, lists, updates and deletes a webhook; its secret is kept but never audited', async () => {
      const { store, clock } = context;
      const secret = 'whsec-contract-0123456789abcdef';
      const rotatedSecret = 'whsec-contract-rotated-fedcba9876543210';
      context.secrets.push(secret, rotatedSecret);
      const created = await store.createWebhook('ops', { url: 'https://hooks.example.com/sluice', secret });
      assert.deepEqual(created, { id: created.id, url: 'https://hooks.example.com/sluice', secret, createdAt: clock.now() });
      assert.deepEqual(await store.getWebhook(created.id), created);
      assert.ok((await store.listWebhooks()).some((webhook) => webhook.id === created.id));
      const createRecord = await lastAudit(store);
      assert.deepEqual(createRecord.after, { ...created, secret: '[redacted]' });

      const updated = await store.updateWebhook('ops', created.id, { secret: rotatedSecret });
      assert.deepEqual(updated, { ...created, secret: rotatedSecret });
      assert.deepEqual(await store.getWebhook(created.id), updated);
      const moved = await store.updateWebhook('ops', created.id, { url: 'https://hooks.example.com/v2' });
      assert.equal(moved.secret, rotatedSecret);
      await store.deleteWebhook('ops', created.id);
      assert.equal(await store.getWebhook(created.id), null);
      await rejectsWith(store.updateWebhook('ops', created.id, { url: 'https://x.example.com' }), StoreNotFound);
      await rejectsWith(store.deleteWebhook('ops', created.id), StoreNotFound);
    });
  });
}
