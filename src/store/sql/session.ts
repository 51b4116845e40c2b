// What the shared SQL code needs from a driver: raw statements for migrations, the prepared catalogue for everything else.
import type { Dialect } from '../dialect.js';
import type { StatementName } from './statements.js';

export type SqlValue = string | number | null;

/** A connection, or the one a transaction holds, running SQL written with `?` placeholders. Used by migrations. */
export interface SqlConnection {
  /** Several statements without parameters. */
  exec(sql: string): Promise<void>;
  /** One statement, prepared for this call only. */
  query<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
}

export interface MigrationTarget {
  readonly dialect: Dialect;
  transaction<T>(work: (connection: SqlConnection) => Promise<T>): Promise<T>;
}

/** The statement catalogue (statements.ts), prepared once per driver (SQLite) or per connection (PostgreSQL). */
/** A query's rows as arrays, in the order of its columns: no object per row (for reads of many rows). */
export interface SqlTable {
  columns: readonly string[];
  rows: unknown[][];
}

export interface SqlSession {
  all<Row>(statement: StatementName, params: readonly SqlValue[]): Promise<Row[]>;
  table(statement: StatementName, params: readonly SqlValue[]): Promise<SqlTable>;
  /** Resolves to the number of rows changed. */
  run(statement: StatementName, params: readonly SqlValue[]): Promise<number>;
}

export interface StatementDriver {
  readonly dialect: Dialect;
  /** Reads outside a transaction. */
  read<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  /** Commits when `work` resolves, rolls back when it rejects. `work` must use only the session it is given. */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
