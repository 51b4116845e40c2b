// Ledger writer options for tests: sluice.yaml's defaults, a spool folder of the test's own, a silent log; a ledger
// row to insert (a writer test's too); and the rows a running sluice wrote to its SQLite file.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { validateConfig } from '../../src/config/load.js';
import type { Transaction } from '../../src/ledger/transaction.js';
import type { LedgerOptions } from '../../src/ledger/writer.js';
import { scratchDir } from './scratch.js';

export function ledgerOptions(storage: string, overrides: Partial<LedgerOptions> = {}): LedgerOptions {
  const defaults = validateConfig({}, 'defaults').ledger;
  return {
    ...defaults,
    storage,
    spoolDir: join(scratchDir('sluice-spool-'), 'ledger-spool'),
    logger: pino({ level: 'silent' }),
    ...overrides,
  };
}

/** The `i`th call of a run of served chat calls, one millisecond apart from 1_800_000_000_000 (2027-01-15). */
export function ledgerRow(i: number, overrides: Partial<Transaction> = {}): Transaction {
  return {
    requestId: `req-${i}`,
    startedAt: 1_800_000_000_000 + i,
    operation: 'chat',
    api: 'openai',
    consumer: 'checkout',
    team: 'payments',
    requestedModel: 'gpt-4o-mini',
    provider: 'openai',
    providerModel: 'gpt-4o-mini-2024-07-18',
    stream: false,
    inputTokens: 10,
    outputTokens: 5,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    tokensEstimated: false,
    costMicroUsd: 42,
    latencyMs: 12.5,
    timeToFirstTokenMs: null,
    status: 200,
    errorClass: null,
    attempts: 1,
    servedModel: null,
    violations: null,
    ...overrides,
  };
}

/** A call by `consumer` started now, as the ledger writer tests write it: one token each way, ten micro-USD. */
export function writerRecord(requestId: string, consumer: string): Transaction {
  return ledgerRow(0, {
    requestId,
    startedAt: Date.now(),
    consumer,
    team: 't',
    requestedModel: 'm',
    provider: 'p',
    providerModel: 'pm',
    inputTokens: 1,
    outputTokens: 1,
    costMicroUsd: 10,
    latencyMs: 1,
  });
}

/** The ledger rows of `model` in the SQLite file a running sluice writes, in id order; none while the file is not there. */
export function sqliteLedgerRows<Row>(dbPath: string, model: string): Row[] {
  let db: Database.Database;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
  } catch {
    return []; // not created yet
  }
  try {
    return db.prepare('SELECT * FROM transactions WHERE requested_model = ? ORDER BY id').all(model) as Row[];
  } finally {
    db.close();
  }
}
