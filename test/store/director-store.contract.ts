// The behaviour every DirectorStore must share, run against SQLite and PostgreSQL by their own test files.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DirectorStore } from '../../src/store/director-store.js';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { openDirectorStore } from '../../src/store/open.js';
import { allAudit, type ContractContext, type StoreHarness } from './contract/context.js';
import { admittedUsageContract } from './contract/admitted-usage.contract.js';
import { analyticsContract } from './contract/analytics.contract.js';
import { auditContract } from './contract/audit.contract.js';
import { batchContract } from './contract/batch.contract.js';
import { credentialsContract } from './contract/credentials.contract.js';
import { directoryContract } from './contract/directory.contract.js';
import { governanceContract } from './contract/governance.contract.js';
import { identityContract } from './contract/identity.contract.js';
import { providersContract } from './contract/providers.contract.js';
import { reconciliationContract } from './contract/reconciliation.contract.js';

export type { StoreHarness } from './contract/context.js';

/** `open` gives a fresh, empty database for this suite; its `close` removes it. */
export function directorStoreContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`${name} director store contract`, () => {
    let harness: StoreHarness;
    let now = 1_750_000_000_000;
    const context: ContractContext = {
      get store(): DirectorStore {
        return store;
      },
      clock: {
        now: () => now,
        advance: (ms) => {
          now += ms;
        },
      },
      query: (sql) => harness.query(sql),
      open: () => openDirectorStore(harness.storage, { clock: () => now, discovery: DISCOVERY_POLICY }),
      secrets: [],
    };
    let store: DirectorStore;

    before(async () => {
      harness = await open();
      store = await context.open();
    });

    after(async () => {
      await store?.close();
      await harness?.close();
    });

    test(`reports its dialect as ${name}`, () => {
      assert.equal(store.dialect, name);
    });

    directoryContract(context);
    credentialsContract(context);
    governanceContract(context);
    providersContract(context);
    auditContract(context);
    batchContract(context);
    analyticsContract(context);
    admittedUsageContract(context);
    reconciliationContract(context);
    identityContract(context);

    // Last, once every other test has made its changes and handed out its secrets.
    test('no key, token or webhook secret handed out by any test appears in any audit record', async () => {
      const records = JSON.stringify(await allAudit(store, {}));
      assert.ok(context.secrets.length >= 10, `the suite handed out ${context.secrets.length} secrets`);
      for (const secret of context.secrets) assert.ok(!records.includes(secret), 'a secret is in the audit log');
    });
  });
}
