// Where the ledger's batches go, chosen by the storage URL: SQLite through its writer thread, or PostgreSQL directly.
import type { Logger } from 'pino';
import { isPostgresUrl, sqlitePath } from '../config/storage.js';
import { PostgresLedgerSink } from './postgres-sink.js';
import { SqliteLedgerSink } from './sqlite-sink.js';
import type { PackedBatch } from './batch.js';

export interface LedgerSink {
  /** Batches worth sending at once (PostgreSQL writes them on several connections). */
  readonly concurrency: number;
  /**
   * Resolves true once every row is committed, false when a batch under this key was committed before (nothing is written
   * again); rejects with LedgerWriteFailed when none was (a batch is written whole or rolled back whole).
   */
  write(key: string, batch: PackedBatch): Promise<boolean>;
  /** Called once nothing is pending. */
  close(): Promise<void>;
}

/** A batch the store did not commit, and whether the rows themselves were refused (the same rows would fail again). */
export class LedgerWriteFailed extends Error {
  readonly rowsRefused: boolean;

  constructor(message: string, rowsRefused: boolean) {
    super(message);
    this.name = 'LedgerWriteFailed';
    this.rowsRefused = rowsRefused;
  }
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
