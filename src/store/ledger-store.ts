// The ledger part of the store, and the one module of the store the ledger imports: the writer's interface over the same
// SQL, dialects and migrations as the rest of the store, and how to open it alone.
import { openStatementDriver } from './open-driver.js';
import type { PostgresPoolOptions } from './postgres-driver.js';
import { SqlLedgerStore } from './sql/sql-ledger-store.js';
import type { Transaction } from '../ir/transaction.js';

/** What the ledger writer needs of the store: batch inserts (rollups included in the same transaction), nothing else. */
export interface LedgerStore {
  /**
   * All rows in one transaction, one multi-row INSERT per up to 50 rows: all are written or none. The same transaction adds
   * them to the hourly usage rollups, so the analytics below never disagree with the ledger.
   */
  insertTransactions(rows: readonly Transaction[]): Promise<void>;
  /**
   * The ledger writer's insert: like insertTransactions, under the batch's key (its idempotency key). Resolves false, and
   * writes nothing, when a batch with this key was committed before.
   */
  insertLedgerBatch(key: string, rows: readonly Transaction[]): Promise<boolean>;
  countTransactions(): Promise<number>;
  /**
   * True when the database refused the rows themselves (sending them again fails again); false for everything else
   * (unreachable, locked, disk full, shutting down), which a retry may cure.
   */
  rejectsData(error: unknown): boolean;
  close(): Promise<void>;
}

/** PostgreSQL's pool: its size, a statement's time limit, and who hears of an idle connection dropping. */
export type LedgerStoreOptions = PostgresPoolOptions;

/**
 * Opens the ledger's own connection to `storage` (`sqlite:<path>` or a PostgreSQL URL), applying the migrations the database
 * lacks, so a fresh database is ready for the first batch. SQLite's calls block: open it only off the request path (the
 * ledger's writer thread).
 */
export async function openLedgerStore(storage: string, options: LedgerStoreOptions = {}): Promise<LedgerStore> {
  return new SqlLedgerStore(await openStatementDriver(storage, options), {});
}
