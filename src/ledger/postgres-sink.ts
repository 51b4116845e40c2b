// Ledger batches into PostgreSQL from the main thread: pg's I/O is asynchronous, so no writer thread is needed.
import type { Logger } from 'pino';
import { PostgresDirectorStore } from '../store/postgres-store.js';
import type { LedgerSink } from './sink.js';
import { unpack, type PackedBatch } from './batch.js';

/** A few connections: batches are large and few (one per flush interval), and the director's pool is separate. */
const LEDGER_CONNECTIONS = 4;

export class PostgresLedgerSink implements LedgerSink {
  private readonly store: PostgresDirectorStore;

  private constructor(store: PostgresDirectorStore) {
    this.store = store;
  }

  /** Applies pending migrations, as the SQLite writer thread does, so a fresh database is ready for the first batch. */
  static async open(url: string, logger: Logger): Promise<PostgresLedgerSink> {
    const store = await PostgresDirectorStore.open(url, {
      maxConnections: LEDGER_CONNECTIONS,
      onBackgroundError: (error) => logger.warn({ err: error.message }, 'ledger PostgreSQL connection failed'),
    });
    return new PostgresLedgerSink(store);
  }

  write(batch: PackedBatch): Promise<void> {
    return this.store.insertTransactions(unpack(batch));
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
