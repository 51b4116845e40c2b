// The director's store on PostgreSQL: the statement driver (postgres-driver.ts) under SqlDirectorStore.
import type { DirectorStoreOptions } from './director-store.js';
import { openPostgresDriver, type PostgresPoolOptions } from './postgres-driver.js';
import { SqlDirectorStore } from './sql/sql-director-store.js';
import type { StatementDriver } from './sql/session.js';

export type PostgresStoreOptions = DirectorStoreOptions & PostgresPoolOptions;

export class PostgresDirectorStore extends SqlDirectorStore {
  /** Connects, applies the migrations the database lacks, and fails naming the host and database (never the password). */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresDirectorStore> {
    return new PostgresDirectorStore(await openPostgresDriver(url, options), options);
  }

  private constructor(driver: StatementDriver, options: DirectorStoreOptions) {
    super(driver, options);
  }
}
