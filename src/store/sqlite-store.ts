// The director's store on an embedded SQLite file: the statement driver (sqlite-driver.ts) under SqlDirectorStore.
import type { DirectorStoreOptions } from './director-store.js';
import { SqlDirectorStore } from './sql/sql-director-store.js';
import type { StatementDriver } from './sql/session.js';
import { openSqliteDriver } from './sqlite-driver.js';

export class SqliteDirectorStore extends SqlDirectorStore {
  /** Opens (creating if need be) the file and applies the migrations it lacks. */
  static async open(path: string, options: DirectorStoreOptions = {}): Promise<SqliteDirectorStore> {
    return new SqliteDirectorStore(await openSqliteDriver(path), options);
  }

  private constructor(driver: StatementDriver, options: DirectorStoreOptions) {
    super(driver, options);
  }
}
