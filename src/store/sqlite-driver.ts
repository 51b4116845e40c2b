// The statement driver on an embedded SQLite file (better-sqlite3): the default, for the director/admin side, the ledger's
// writer thread and tests. better-sqlite3 blocks while it works, so it is never used on the gateway's request path.
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { SQLITE } from './dialect.js';
import { StoreOpenFailed } from './errors.js';
import { migrate } from './migrations/migrate.js';
import type { MigrationTarget, SqlConnection, SqlSession, SqlValue, StatementDriver } from './sql/session.js';
import { isAnalyticsRead, statementCatalogue, type StatementName } from './sql/statements.js';
import { openSqliteDatabase } from './sqlite.js';

/** The statement driver every store part on this file runs on: the file opened (created if need be) and migrated. */
export async function openSqliteDriver(path: string): Promise<StatementDriver> {
  let db: Database.Database | null = null;
  try {
    db = openSqliteDatabase(path);
    const queue = queueFor(path);
    await migrate(new SqliteMigrations(db, queue));
    return new SqliteDriver(db, queue);
  } catch (error) {
    db?.close();
    throw new StoreOpenFailed(`cannot open the SQLite store at ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Runs work one piece at a time. A transaction's awaits would otherwise let other work in: on the same connection into
 * the transaction itself; on another connection to the same file in this thread, into a wait for SQLite's write lock
 * that blocks the thread holding it (busy_timeout sleeps synchronously). So stores on one file in one thread share one.
 */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const queues = new Map<string, SerialQueue>();

function queueFor(path: string): SerialQueue {
  // Every :memory: database is its own.
  if (path === ':memory:') return new SerialQueue();
  const key = resolve(path);
  let queue = queues.get(key);
  if (queue === undefined) {
    queue = new SerialQueue();
    queues.set(key, queue);
  }
  return queue;
}

function connection(db: Database.Database): SqlConnection {
  return {
    exec: async (sql) => {
      db.exec(sql);
    },
    query: async <Row>(sql: string, params: readonly SqlValue[] = []) => {
      const statement = db.prepare(sql);
      if (statement.reader) return statement.all(params) as Row[];
      statement.run(params);
      return [];
    },
  };
}

class SqliteMigrations implements MigrationTarget {
  readonly dialect = SQLITE;
  private readonly db: Database.Database;
  private readonly queue: SerialQueue;

  constructor(db: Database.Database, queue: SerialQueue) {
    this.db = db;
    this.queue = queue;
  }

  transaction<T>(work: (connection: SqlConnection) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(connection(this.db));
        this.db.exec('COMMIT');
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    });
  }
}

/**
 * Prepares the catalogue once, at construction (the analytics' grouped reads once, at first use: see isAnalyticsRead);
 * runs every caller's work through the file's queue.
 */
class SqliteDriver implements StatementDriver {
  readonly dialect = SQLITE;
  private readonly db: Database.Database;
  private readonly statements: Map<StatementName, Database.Statement>;
  /** SQL of the statements not prepared yet. */
  private readonly deferred: Map<StatementName, string>;
  /** Each read statement's column names, for table(). */
  private readonly columns: Map<StatementName, readonly string[]>;
  private readonly session: SqlSession;
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;
  private readonly queue: SerialQueue;

  constructor(db: Database.Database, queue: SerialQueue) {
    this.db = db;
    this.queue = queue;
    this.statements = new Map();
    this.deferred = new Map();
    this.columns = new Map();
    for (const [name, sql] of statementCatalogue(SQLITE)) {
      if (isAnalyticsRead(name)) this.deferred.set(name, SQLITE.bind(sql));
      else this.statements.set(name, db.prepare(SQLITE.bind(sql)));
    }
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    // Parameters go to better-sqlite3 as arguments, not as one array: it reads an array's elements back through V8's
    // API one by one, which made binding a ledger row's 25 values a third slower (the writer thread's largest cost).
    this.session = {
      all: async <Row>(name: StatementName, params: readonly SqlValue[]) => this.statement(name).all(...params) as Row[],
      table: async (name, params) => {
        const statement = this.statement(name);
        // Raw mode is a flag on the statement, shared with all(): set for this read only (the session runs one at a time).
        statement.raw(true);
        try {
          return { columns: this.columnNames(name, statement), rows: statement.all(...params) as unknown[][] };
        } finally {
          statement.raw(false);
        }
      },
      run: async (name, params) => this.statement(name).run(...params).changes,
    };
  }

  read<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.queue.run(() => work(this.session));
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.begin.run();
      try {
        const result = await work(this.session);
        this.commit.run();
        return result;
      } catch (error) {
        if (this.db.inTransaction) this.rollback.run();
        throw error;
      }
    });
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      if (this.db.open) this.db.close();
    });
  }

  private columnNames(name: StatementName, statement: Database.Statement): readonly string[] {
    let names = this.columns.get(name);
    if (names === undefined) {
      names = statement.columns().map((column) => column.name);
      this.columns.set(name, names);
    }
    return names;
  }

  private statement(name: StatementName): Database.Statement {
    let statement = this.statements.get(name);
    if (statement === undefined) {
      const sql = this.deferred.get(name);
      if (sql === undefined) throw new Error(`no statement named ${name}`);
      statement = this.db.prepare(sql);
      this.statements.set(name, statement);
      this.deferred.delete(name);
    }
    return statement;
  }
}
