// Opens the director store sluice.yaml's `storage` names: `sqlite:<path>` (embedded default) or `postgres://...`.
import type { DirectorStore } from './director-store.js';
import { PostgresDirectorStore, type PostgresStoreOptions } from './postgres-store.js';
import { isPostgresUrl, sqlitePath } from '../config/storage.js';
import { SqliteDirectorStore } from './sqlite-store.js';

/** Applies pending migrations before resolving. */
export async function openDirectorStore(storage: string, options: PostgresStoreOptions = {}): Promise<DirectorStore> {
  if (storage.startsWith('sqlite:')) return SqliteDirectorStore.open(sqlitePath(storage), options);
  if (isPostgresUrl(storage)) return PostgresDirectorStore.open(storage, options);
  throw new Error('storage must be sqlite:<path> or postgres://...');
}
