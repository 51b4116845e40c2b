// Contract: providers (settings in clear, credentials only as the sealed value given) and models with their routes,
// with the references between them and to them held inside each change's transaction.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { governanceFields } from '../../../src/config/governance-schema.js';
import { modelSchema } from '../../../src/config/schema.js';
import { StoreConflict, StoreNotFound } from '../../../src/store/errors.js';
import { MasterKey } from '../../../src/store/master-key.js';
import { lastAudit, refusedWithoutTrace, rejectsWith, versionsMoved, type ContractContext } from './context.js';

export function providersContract(context: ContractContext): void {
  describe('providers and models', () => {
    const { key } = MasterKey.generate();
    const sealed = (name: string, secret: string) => ({
      fields: ['apiKey' as const],
      sealed: key.seal(JSON.stringify({ apiKey: secret }), name),
    });
    const model = (name: string, provider: string) => modelSchema.parse({ name, targets: [{ provider, model: `${name}-upstream` }] });

    test("stores a provider's settings and its sealed credentials as given, and audits neither the credentials nor the ciphertext", async () => {
      const { store } = context;
      const credentials = sealed('acme', 'sk-contract-secret');
      assert.equal(
        await versionsMoved(store, () =>
          store.createProvider('alice', {
            name: 'acme',
            settings: { type: 'openai', baseUrl: 'https://acme.example/v1', connections: 16 },
            credentials,
          }),
        ),
        1,
      );
      const got = await store.getProvider('acme');
      assert.deepEqual(got?.settings, { type: 'openai', baseUrl: 'https://acme.example/v1', connections: 16 });
      assert.deepEqual(got?.credentials, credentials);
      assert.equal(key.open(got!.credentials!.sealed, 'acme'), JSON.stringify({ apiKey: 'sk-contract-secret' }));
      const [row] = await context.query("SELECT credentials FROM providers WHERE name = 'acme'");
      assert.equal(row?.credentials, credentials.sealed, 'the column holds the ciphertext, nothing else');
      const record = await lastAudit(store);
      assert.equal(record.entityType, 'provider');
      assert.deepEqual((record.after as { credentials: unknown }).credentials, { fields: ['apiKey'], sealedWith: key.id });
      assert.ok(!JSON.stringify(record).includes(credentials.sealed.split('.')[2]!), 'no ciphertext in the audit log');
      await rejectsWith(
        store.createProvider('alice', { name: 'acme', settings: { type: 'openai', connections: 1 }, credentials: null }),
        StoreConflict,
        'duplicate',
      );
    });

    test('updates settings and credentials apart, and removes credentials with null', async () => {
      const { store } = context;
      const settingsOnly = await store.updateProvider('bob', 'acme', {
        settings: { type: 'openai', baseUrl: 'https://moved.example/v1', connections: 16 },
      });
      assert.equal(settingsOnly.credentials?.fields[0], 'apiKey', 'credentials not named stay');
      const cleared = await store.updateProvider('bob', 'acme', { credentials: null });
      assert.equal(cleared.credentials, null);
      assert.equal((await store.getProvider('acme'))?.credentials, null);
      assert.deepEqual(
        (await store.listProviders()).map((p) => p.name),
        ['acme'],
      );
      await rejectsWith(store.updateProvider('bob', 'nobody', { credentials: null }), StoreNotFound);
    });

    test('a model routes only to providers that exist, and a provider routed to cannot be deleted', async () => {
      const { store } = context;
      await refusedWithoutTrace(
        store,
        () => store.createModel('alice', model('ghostly', 'ghost')),
        (p) => rejectsWith(p, StoreConflict, 'reference'),
      );
      const created = await store.createModel('alice', model('acme-chat', 'acme'));
      assert.equal(created.definition.targets[0]?.provider, 'acme');
      assert.equal((await lastAudit(store)).entityType, 'model');
      await refusedWithoutTrace(
        store,
        () => store.updateModel('alice', 'acme-chat', model('acme-chat', 'ghost')),
        (p) => rejectsWith(p, StoreConflict, 'reference'),
      );
      await refusedWithoutTrace(
        store,
        () => store.deleteProvider('alice', 'acme'),
        (p) => rejectsWith(p, StoreConflict, 'reference'),
      );
      assert.deepEqual(
        (await store.listModels()).map((m) => m.name),
        ['acme-chat'],
      );
    });

    test('a model named by a consumer or a budget cannot be deleted; once free, it and then its provider go', async () => {
      const { store } = context;
      await store.createConsumer('alice', { name: 'acme-user', models: ['acme-chat'] });
      await refusedWithoutTrace(
        store,
        () => store.deleteModel('alice', 'acme-chat'),
        (p) => rejectsWith(p, StoreConflict, 'reference'),
      );
      await store.updateConsumer('alice', 'acme-user', { models: null });
      const [budget] = governanceFields.budgets.parse([
        { name: 'acme-cap', resources: { model: 'acme-chat' }, measure: 'requests', limit: 5, window: 'day' },
      ]);
      await store.createDefinition('alice', 'budget', budget!);
      await refusedWithoutTrace(
        store,
        () => store.deleteModel('alice', 'acme-chat'),
        (p) => rejectsWith(p, StoreConflict, 'reference'),
      );
      await store.deleteDefinition('alice', 'budget', 'acme-cap');
      await store.deleteConsumer('alice', 'acme-user');
      await store.deleteModel('alice', 'acme-chat');
      await store.deleteProvider('alice', 'acme');
      assert.equal(await store.getProvider('acme'), null);
      assert.equal(await store.getModel('acme-chat'), null);
      await rejectsWith(store.deleteModel('alice', 'acme-chat'), StoreNotFound);
    });
  });
}
