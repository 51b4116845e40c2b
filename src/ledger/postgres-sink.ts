// Ledger batches into PostgreSQL from the main thread: pg's I/O is asynchronous, so no writer thread is needed.
import type { Logger } from 'pino';
import { openLedgerStore, type LedgerStore } from '../store/ledger-store.js';
import { LedgerWriteFailed, type LedgerSink } from './sink.js';
import { unpack, type PackedBatch } from './batch.js';

/** A few connections: batches are large and few (one per flush interval), and the director's pool is separate. */
const LEDGER_CONNECTIONS = 4;
/** A batch unanswered this long counts as failed and is sent again (its key keeps it from being written twice). */
const QUERY_TIMEOUT_MS = 30_000;

export class PostgresLedgerSink implements LedgerSink {
  readonly concurrency = LEDGER_CONNECTIONS;
  private readonly store: LedgerStore;

  private constructor(store: LedgerStore) {
    this.store = store;
  }

  /** Applies pending migrations, as the SQLite writer thread does, so a fresh database is ready for the first batch. */
  static async open(url: string, logger: Logger): Promise<PostgresLedgerSink> {
    const store = await openLedgerStore(url, {
      maxConnections: LEDGER_CONNECTIONS,
      queryTimeoutMs: QUERY_TIMEOUT_MS,
      onBackgroundError: (error) => logger.warn({ err: error.message }, 'ledger PostgreSQL connection failed'),
    });
    return new PostgresLedgerSink(store);
  }

  write(key: string, batch: PackedBatch): Promise<boolean> {
    return this.store.insertLedgerBatch(key, unpack(batch)).catch((error: unknown) => {
      throw new LedgerWriteFailed((error as Error).message, this.store.rejectsData(error));
    });
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
