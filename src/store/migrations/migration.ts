import type { Dialect } from '../dialect.js';

/** One schema version: its SQL, rendered for the database's dialect, applied once in its own transaction. */
export interface Migration {
  version: number;
  name: string;
  sql(dialect: Dialect): string;
}
