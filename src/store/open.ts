// Opens the director store sluice.yaml's `storage` names: `sqlite:<path>` (embedded default) or `postgres://...`.
import type { DirectorStore } from './director-store.js';
import { PostgresDirectorStore, type PostgresStoreOptions } from './postgres-store.js';
import { describePostgresUrl, isPostgresUrl } from './postgres-url.js';
import { SqliteDirectorStore } from './sqlite-store.js';
import { sqlitePath } from './sqlite.js';

/** Applies pending migrations before resolving. */
export async function openDirectorStore(storage: string, options: PostgresStoreOptions = {}): Promise<DirectorStore> {
  if (storage.startsWith('sqlite:')) return SqliteDirectorStore.open(sqlitePath(storage), options);
  if (isPostgresUrl(storage)) return PostgresDirectorStore.open(storage, options);
  throw new Error('storage must be sqlite:<path> or postgres://...');
}

/** The storage as logs may show it: the SQLite path, or PostgreSQL's host and database without the password. */
export function describeStorage(storage: string): string {
  return storage.startsWith('sqlite:') ? sqlitePath(storage) : describePostgresUrl(storage);
}
