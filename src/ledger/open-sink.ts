// Where the ledger's batches go, chosen by the storage URL: SQLite through its writer thread, or PostgreSQL directly.
import type { Logger } from 'pino';
import { isPostgresUrl, sqlitePath } from '../config/storage.js';
import { PostgresLedgerSink } from './postgres-sink.js';
import type { LedgerSink } from './sink.js';
import { SqliteLedgerSink } from './sqlite-sink.js';

/** The ledger's store cannot be opened: a start stops on it with its message alone (naming the store, never a password). */
export class LedgerOpenFailed extends Error {}

export async function openLedgerSink(storage: string, logger: Logger): Promise<LedgerSink> {
  try {
    if (storage.startsWith('sqlite:')) return await SqliteLedgerSink.open(sqlitePath(storage), logger);
    if (isPostgresUrl(storage)) return await PostgresLedgerSink.open(storage, logger);
  } catch (error) {
    throw new LedgerOpenFailed(`cannot open the ledger: ${(error as Error).message}`, { cause: error });
  }
  throw new Error('cannot open the ledger: storage must be sqlite:<path> or postgres://...');
}
