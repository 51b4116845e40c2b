// The assessor on a director's database file: its reads over the ledger (a day of it by default) run on the chains'
// thread, with its own connection, not on the thread that serves calls (SQLite's reads block the thread that makes them,
// some 2 µs a row); and each assessment rehashes the rows sealed since the previous one and a rotation of the older
// ones, where the previous one left it, rather than every row every time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { BLOCK_ROWS } from '../../src/compliance/chain/sealer.js';
import { Compliance } from '../../src/compliance/compliance.js';
import { parseConfig } from '../../src/config/load.js';
import type { Transaction } from '../../src/ledger/transaction.js';
import { ledgerRow } from '../support/ledger.js';
import { LEDGER_EVIDENCE, type ComplianceStore } from '../../src/store/compliance-store.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { openDirectorStore } from '../../src/store/open.js';
import { scratchDir } from '../support/scratch.js';

/** ledgerRow's first call. */
const START = 1_800_000_000_000;
const ROWS = 30;

/** Every tenth call failed upstream. */
function row(i: number): Transaction {
  return ledgerRow(i, i % 10 === 0 ? { status: 502, errorClass: 'upstream_error' } : {});
}

/** Compliance as app.ts assembles it for a director on `storage`, with no schedule and the clock an hour past the rows. */
function compliance(on: DirectorStore, storage: string, settings = ''): Compliance {
  const config = parseConfig(`storage: "${storage}"\n${settings}`, 'test');
  return new Compliance({
    store: on,
    storage: config.storage,
    config: () => config,
    ledger: null,
    takeExpiredKeyPresentations: null,
    registry: null,
    logger: pino({ level: 'silent' }),
    clock: () => START + 3_600_000,
    schedule: false,
  });
}

let dir: string;
let store: DirectorStore;

before(async () => {
  dir = scratchDir('sluice-evidence-');
  store = await openDirectorStore(`sqlite:${join(dir, 'sluice.db')}`);
  await store.insertTransactions(Array.from({ length: ROWS }, (_, i) => row(i)));
});

after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The store as the serving thread holds it, refusing every read over the ledger's rows. */
function servingThreadStore(): { store: DirectorStore; refused: string[] } {
  const refused: string[] = [];
  const compliance = new Proxy(store.compliance, {
    get(target, name, receiver) {
      if ((LEDGER_EVIDENCE as readonly PropertyKey[]).includes(name)) {
        return () => {
          refused.push(String(name));
          return Promise.reject(new Error(`${String(name)} read the ledger on the serving thread`));
        };
      }
      const value = Reflect.get(target, name, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as ComplianceStore;
  const guarded = new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'compliance') return compliance;
      const value = Reflect.get(target, name, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: guarded, refused };
}

test("an assessment's ledger evidence is read on the chains' thread, from the database file", async () => {
  const { store: guarded, refused } = servingThreadStore();
  const assessing = compliance(guarded, `sqlite:${join(dir, 'sluice.db')}`);
  try {
    const { record } = await assessing.assessor.assess('on-demand', 'test');
    assert.deepEqual(refused, [], 'no evidence read on the serving thread');
    const unread = record.observations.filter((observation) => observation.summary.startsWith('The check could not read'));
    assert.deepEqual(
      unread.map((observation) => `${observation.check}: ${observation.summary}`),
      [],
    );
    const content = record.observations.find((observation) => observation.check === 'record-content');
    assert.equal(content?.counts.ledgerRows, ROWS, 'the thread read every row of the period');
    const access = record.observations.find((observation) => observation.counts.servedCalls !== undefined);
    assert.equal(access?.counts.servedCalls, ROWS - ROWS / 10, 'a check counted the served calls');
  } finally {
    await assessing.stop();
  }
});

test('an in-memory database, which only its own connection sees, is read where it is', async () => {
  const memory = await openDirectorStore('sqlite::memory:');
  try {
    await memory.insertTransactions(Array.from({ length: ROWS }, (_, i) => row(i)));
    const assessing = compliance(memory, 'sqlite::memory:');
    try {
      const { record } = await assessing.assessor.assess('on-demand', 'test');
      assert.equal(record.observations.find((observation) => observation.check === 'record-content')?.counts.ledgerRows, ROWS);
    } finally {
      await assessing.stop();
    }
  } finally {
    await memory.close();
  }
});

test('each assessment rehashes the new blocks and the next rotation of older ones, where the previous one left off', async () => {
  const file = join(dir, 'rotation.db');
  const rotating = await openDirectorStore(`sqlite:${file}`);
  try {
    // Three blocks: BLOCK_ROWS, BLOCK_ROWS and 5 rows.
    await rotating.insertTransactions(Array.from({ length: 2 * BLOCK_ROWS + 5 }, (_, i) => row(i)));
    const assessing = compliance(rotating, `sqlite:${file}`, 'compliance: { verifyRowsPerAssessment: 1 }\n');
    try {
      const rehashed = async (): Promise<number | undefined> => {
        const { record } = await assessing.assessor.assess('on-demand', 'test');
        const integrity = record.observations.find((observation) => observation.check === 'chain-integrity');
        assert.equal(integrity?.satisfied, true, integrity?.summary);
        assert.equal(integrity?.counts.ledgerUnsealedRows, 0, 'sealed up to now first');
        return integrity?.counts.ledgerRowsRehashed;
      };
      // No assessment before: every row. Then nothing new, a block at a time: 1, 2, 3, and 1 again.
      assert.equal(await rehashed(), 2 * BLOCK_ROWS + 5);
      assert.deepEqual([await rehashed(), await rehashed(), await rehashed(), await rehashed()], [BLOCK_ROWS, BLOCK_ROWS, 5, BLOCK_ROWS]);
      // New rows: their block, and the rotation's next (block 2).
      await rotating.insertTransactions([row(90_000), row(90_001)]);
      assert.equal(await rehashed(), 2 + BLOCK_ROWS);
    } finally {
      await assessing.stop();
    }
  } finally {
    await rotating.close();
  }
});
