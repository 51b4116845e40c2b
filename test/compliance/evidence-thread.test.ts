// An assessment's reads over the ledger (a day of it by default) run on the chains' thread, with its own connection,
// not on the thread that serves calls: SQLite's reads block the thread that makes them, some 2 µs a row.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Compliance } from '../../src/compliance/compliance.js';
import { parseConfig } from '../../src/config/load.js';
import type { Transaction } from '../../src/ledger/transaction.js';
import { ledgerRow } from '../support/ledger.js';
import { LEDGER_EVIDENCE, type ComplianceStore } from '../../src/store/compliance-store.js';
import type { DirectorStore } from '../../src/store/director-store.js';
import { openDirectorStore } from '../../src/store/open.js';

/** ledgerRow's first call. */
const START = 1_800_000_000_000;
const ROWS = 30;

/** Every tenth call failed upstream. */
function row(i: number): Transaction {
  return ledgerRow(i, i % 10 === 0 ? { status: 502, errorClass: 'upstream_error' } : {});
}

/** Compliance as app.ts assembles it for a director on `storage`, with no schedule and the clock an hour past the rows. */
function compliance(on: DirectorStore, storage: string): Compliance {
  const config = parseConfig(`storage: "${storage}"\n`, 'test');
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
  dir = mkdtempSync(join(tmpdir(), 'sluice-evidence-'));
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
