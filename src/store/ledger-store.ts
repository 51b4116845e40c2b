// The ledger part of the store, and the one module of the store the ledger imports: the writer's interface over the same
// SQL, dialects and migrations as the rest of the store, and how to open it alone.
import { isPostgresUrl, sqlitePath } from '../config/storage.js';
import { openPostgresDriver } from './postgres-driver.js';
import { SqlLedgerStore } from './sql/sql-ledger-store.js';
import { openSqliteDriver } from './sqlite-driver.js';
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

export interface LedgerStoreOptions {
  /** PostgreSQL: pool size (default 10). */
  maxConnections?: number;
  /** PostgreSQL: how long a statement may go unanswered before it fails (default: no limit). */
  queryTimeoutMs?: number;
  /** Told about failures no caller is waiting for (an idle PostgreSQL connection dropping). */
  onBackgroundError?: (error: Error) => void;
}

/**
 * Opens the ledger's own connection to `storage` (`sqlite:<path>` or a PostgreSQL URL), applying the migrations the database
 * lacks, so a fresh database is ready for the first batch. SQLite's calls block: open it only off the request path (the
 * ledger's writer thread).
 */
export async function openLedgerStore(storage: string, options: LedgerStoreOptions = {}): Promise<LedgerStore> {
  if (storage.startsWith('sqlite:')) return new SqlLedgerStore(await openSqliteDriver(sqlitePath(storage)), {});
  if (isPostgresUrl(storage)) return new SqlLedgerStore(await openPostgresDriver(storage, options), {});
  throw new Error('storage must be sqlite:<path> or postgres://...');
}
