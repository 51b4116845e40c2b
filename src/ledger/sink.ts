// Where the ledger's batches go, chosen by the storage URL: SQLite through its writer thread, or PostgreSQL directly.
import type { Logger } from 'pino';
import { isPostgresUrl } from '../store/postgres-url.js';
import { sqlitePath } from '../store/sqlite.js';
import { PostgresLedgerSink } from './postgres-sink.js';
import { SqliteLedgerSink } from './sqlite-sink.js';
import type { PackedBatch } from './batch.js';

export interface LedgerSink {
  /** Resolves once every row is committed; rejects when none was (a batch is written whole or rolled back whole). */
  write(batch: PackedBatch): Promise<void>;
  /** Called once nothing is pending. */
  close(): Promise<void>;
}

export async function openLedgerSink(storage: string, logger: Logger): Promise<LedgerSink> {
  try {
    if (storage.startsWith('sqlite:')) return await SqliteLedgerSink.open(sqlitePath(storage), logger);
    if (isPostgresUrl(storage)) return await PostgresLedgerSink.open(storage, logger);
  } catch (error) {
    throw new Error(`cannot open the ledger: ${(error as Error).message}`, { cause: error });
  }
  throw new Error('cannot open the ledger: storage must be sqlite:<path> or postgres://...');
}
