// ledger.retention's cut on PostgreSQL, from a director whose clock runs ahead: it is taken from the earlier of the
// director's clock and the database's (now()), so a clock ten days ahead does not delete rows ten days early.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Compliance } from '../../src/compliance/compliance.js';
import { parseConfig } from '../../src/config/load.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { DISCOVERY_POLICY } from '../../src/policy/discovery.js';
import { ledgerRow } from '../support/ledger.js';
import { describeOnStore } from '../support/director-stores.js';

const DAY = 86_400_000;
const RETENTION_DAYS = 30;

describeOnStore('postgres', 'ledger retention on PostgreSQL: a director whose clock runs ahead', (db) => {
  let store: DirectorStore;
  let compliance: Compliance;
  const real = Date.now();
  let now = real;

  before(async () => {
    store = await db.open({ discovery: DISCOVERY_POLICY });
    const config = parseConfig(`storage: "${db.storage}"\nledger:\n  retention: { transactionsDays: ${RETENTION_DAYS} }\n`, 'test');
    compliance = new Compliance({
      store,
      storage: config.storage,
      config: () => config,
      ledger: null,
      takeExpiredKeyPresentations: null,
      registry: null,
      logger: pino({ level: 'silent' }),
      clock: () => now,
      schedule: false,
    });
    // Calls of 41 days ago, sealed 40 days ago: older than the retention by any clock.
    await store.insertTransactions(Array.from({ length: 10 }, (_, i) => ledgerRow(i, { startedAt: real - 41 * DAY + i })));
    now = real - 40 * DAY;
    await compliance.chains.seal();
    // Calls of 25 days ago, sealed 24 days ago: younger than the retention.
    await store.insertTransactions(Array.from({ length: 10 }, (_, i) => ledgerRow(10 + i, { startedAt: real - 25 * DAY + i })));
    now = real - 24 * DAY;
    await compliance.chains.seal();
    // A call of today, so that no block sealed holds the ledger's newest row.
    await store.insertTransactions([ledgerRow(20, { startedAt: real - 1_000 })]);
  });

  after(async () => {
    await compliance.stop();
  });

  test('the cut follows the database clock: only the rows sealed more than the retention ago go', async () => {
    now = real + 10 * DAY;
    const outcome = await compliance.pruneLedger();
    assert.deepEqual([outcome?.blocks, outcome?.deletedRows, outcome?.pruning?.throughBlock], [1, 10, 1]);
    assert.ok(
      outcome!.pruning!.sealedBefore <= Date.now() - RETENTION_DAYS * DAY,
      'the cut recorded is the database clock less the retention',
    );
    assert.equal((await store.listTransactions({ limit: 100 })).items.length, 11, 'the rows of 25 days ago stay');
  });
});
