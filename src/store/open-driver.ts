// The statement driver for a part of the store that keeps its own connection (the ledger's writer, the compliance
// chains' thread): on the storage sluice.yaml names, `sqlite:<path>` or a PostgreSQL URL, the migrations applied.
import { isPostgresUrl, sqlitePath } from '../config/storage.js';
import { openPostgresDriver, type PostgresPoolOptions } from './postgres-driver.js';
import type { StatementDriver } from './sql/session.js';
import { openSqliteDriver } from './sqlite-driver.js';

/** `options` apply to PostgreSQL's pool. SQLite's calls block: open one only off the request path. */
export async function openStatementDriver(storage: string, options: PostgresPoolOptions = {}): Promise<StatementDriver> {
  if (storage.startsWith('sqlite:')) return openSqliteDriver(sqlitePath(storage));
  if (isPostgresUrl(storage)) return openPostgresDriver(storage, options);
  throw new Error('storage must be sqlite:<path> or postgres://...');
}
