// Every difference between SQLite and PostgreSQL the store knows of, in one place: column types, JSON, triggers, locks, dates, error codes.
// Migrations and statements are written once against this; the drivers (sqlite-store.ts, postgres-store.ts) hold no SQL of their own.

/** How a driver error reads to the store: a taken key, a broken reference, a broken CHECK / NOT NULL rule. */
export type ConstraintViolation = 'duplicate' | 'reference' | 'invalid';

export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Column types that differ. */
  readonly types: {
    /**
     * An auto-assigned 64-bit integer primary key. On SQLite (a rowid alias without AUTOINCREMENT) a deleted newest row's id
     * is handed out again: only for tables whose rows are never deleted (the ledger, logs), where it spares the ledger's
     * inserts the sqlite_sequence update AUTOINCREMENT makes on every row.
     */
    serialKey: string;
    /**
     * An auto-assigned 64-bit integer primary key never handed out twice, even after the row holding it is deleted: for
     * entities that can be deleted and are named by their id (in the audit log, in `/api/.../{id}`). PostgreSQL's identity
     * never reuses a value; SQLite needs AUTOINCREMENT, which keeps the highest id ever used in sqlite_sequence.
     */
    serialKeyNeverReused: string;
    /** Epoch milliseconds and sums that outgrow 32 bits (SQLite's INTEGER is always 64-bit). */
    int64: string;
    /** JSON documents: text in SQLite, JSONB in PostgreSQL (queried with @>). */
    json: string;
    /** Names and ids: compared byte by byte in both, so listings and cursors order alike whatever the database's locale. */
    key: string;
    /**
     * The ledger's latencies: fractional milliseconds. Declared INTEGER in SQLite since version 1, whose affinity keeps a
     * fraction as REAL anyway; PostgreSQL would refuse the fraction in an integer column.
     */
    duration: string;
  };
  /** True when the driver hands JSON columns back parsed (pg does for JSONB); false when they come back as text. */
  readonly parsesJson: boolean;
  /**
   * Ledger rows per INSERT statement. PostgreSQL: many, each statement being a round trip. SQLite, in process: one, the
   * prepared one-row statement stepped per row, measured at 6.5 us a row against 10.5 for 50-row statements.
   */
  readonly ledgerRowsPerInsert: number;
  /** SQL true when the JSON object in `column` holds every key/value pair of the JSON object bound to the next `?`. */
  jsonContains(column: string): string;
  /** Statements that make `table` refuse every UPDATE and DELETE (and TRUNCATE): an append-only log. */
  appendOnly(table: string): string;
  /**
   * What follows CREATE TABLE for a table read in primary-key order (the usage rollups): SQLite's WITHOUT ROWID stores the
   * rows in the key's b-tree, so a range of hours is one contiguous read; PostgreSQL has no such option (its heap is unordered).
   */
  readonly clusteredTable: string;
  /**
   * What follows `FROM transactions` in a read of observed rows (discovered_consumer IS NOT NULL) over a span of time:
   * SQLite is told to take the partial index that holds only those rows, as without statistics it would rather scan
   * every ledger row of the span by started_at; PostgreSQL's planner weighs the two itself.
   */
  readonly observedRowsIndex: string;
  /**
   * SQL for the start (epoch ms, UTC) of the calendar month holding the epoch-ms `epochMs`: the one date calculation the
   * dialects write differently.
   */
  monthStart(epochMs: string): string;
  /** Taken at the start of each migration's transaction, so two processes starting at once never both apply one. */
  readonly migrationLock: string | null;
  /** `?` placeholders as the driver takes them. */
  bind(sql: string): string;
  /** What a driver error is, when it is a constraint the store translates into StoreConflict or StoreInvalid. */
  violation(error: unknown): ConstraintViolation | null;
  /**
   * True when the database refused the data itself (a value it cannot store, a broken constraint): sending the same rows
   * again fails again. False for everything else (unreachable, locked, disk full, shutting down), which a retry may cure.
   */
  rejectsData(error: unknown): boolean;
}

function errorCode(error: unknown): string | null {
  if (typeof error !== 'object' || error === null || !('code' in error)) return null;
  return typeof error.code === 'string' ? error.code : null;
}

export const SQLITE: Dialect = {
  name: 'sqlite',
  types: {
    serialKey: 'INTEGER PRIMARY KEY',
    serialKeyNeverReused: 'INTEGER PRIMARY KEY AUTOINCREMENT',
    int64: 'INTEGER',
    json: 'TEXT',
    key: 'TEXT',
    duration: 'INTEGER',
  },
  parsesJson: false,
  ledgerRowsPerInsert: 1,
  // json_each on both sides rather than json_extract: a label key may hold any character, and none needs quoting here.
  jsonContains: (column) => `NOT EXISTS (SELECT 1 FROM json_each(?) AS wanted WHERE NOT EXISTS (
      SELECT 1 FROM json_each(${column}) AS held WHERE held.key = wanted.key AND held.value = wanted.value))`,
  appendOnly: (table) => `
    CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;
    CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only'); END;`,
  clusteredTable: ' WITHOUT ROWID',
  observedRowsIndex: ' INDEXED BY transactions_discovered_consumer',
  // Integer division first: strftime takes whole seconds; 'start of month' works in UTC unless 'localtime' is asked for.
  monthStart: (epochMs) => `(CAST(strftime('%s', ${epochMs} / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000)`,
  // BEGIN IMMEDIATE already holds the database's one write lock.
  migrationLock: null,
  bind: (sql) => sql,
  violation(error) {
    // better-sqlite3's SqliteError carries SQLite's extended result code as a name.
    switch (errorCode(error)) {
      case 'SQLITE_CONSTRAINT_PRIMARYKEY':
      case 'SQLITE_CONSTRAINT_UNIQUE':
        return 'duplicate';
      case 'SQLITE_CONSTRAINT_FOREIGNKEY':
        return 'reference';
      case 'SQLITE_CONSTRAINT_CHECK':
      case 'SQLITE_CONSTRAINT_NOTNULL':
        return 'invalid';
      default:
        return null;
    }
  },
  rejectsData(error) {
    const code = errorCode(error);
    if (code === null) return false;
    // SQLITE_BUSY, _LOCKED, _FULL, _IOERR*, _READONLY*, _CANTOPEN: the file, not the rows; a retry may succeed.
    return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG' || code === 'SQLITE_RANGE';
  },
};

/** Any constant: the key of the advisory lock migrations take. */
const MIGRATION_LOCK_KEY = 7_318_462_015;

export const POSTGRES: Dialect = {
  name: 'postgres',
  types: {
    serialKey: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    serialKeyNeverReused: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    int64: 'BIGINT',
    json: 'JSONB',
    key: 'TEXT COLLATE "C"',
    duration: 'DOUBLE PRECISION',
  },
  parsesJson: true,
  ledgerRowsPerInsert: 50,
  jsonContains: (column) => `${column} @> CAST(? AS JSONB)`,
  // A row trigger for UPDATE and DELETE, a statement trigger for TRUNCATE (which row triggers do not see).
  appendOnly: (table) => `
    CREATE FUNCTION ${table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION '${table} is append-only'; END $$;
    CREATE TRIGGER ${table}_no_change BEFORE UPDATE OR DELETE ON ${table}
      FOR EACH ROW EXECUTE FUNCTION ${table}_append_only();
    CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
      FOR EACH STATEMENT EXECUTE FUNCTION ${table}_append_only();`,
  clusteredTable: '',
  observedRowsIndex: '',
  // AT TIME ZONE 'UTC' turns the timestamptz into UTC wall time, so the month is UTC's whatever the session's TimeZone;
  // EXTRACT(EPOCH) of a timestamp without time zone reads it as UTC again.
  monthStart: (epochMs) =>
    `(CAST(EXTRACT(EPOCH FROM date_trunc('month', to_timestamp(${epochMs} / 1000) AT TIME ZONE 'UTC')) AS BIGINT) * 1000)`,
  migrationLock: `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`,
  // Every `?` is a placeholder: the statements hold no `?` in literals and use no JSONB `?` operator.
  bind(sql) {
    let index = 0;
    return sql.replace(/\?/g, () => `$${++index}`);
  },
  violation(error) {
    // SQLSTATE class 23, integrity constraint violation.
    switch (errorCode(error)) {
      case '23505':
        return 'duplicate';
      case '23503':
        return 'reference';
      case '23514':
      case '23502':
        return 'invalid';
      default:
        return null;
    }
  },
  rejectsData(error) {
    const code = errorCode(error);
    // SQLSTATE classes 22 (data exception: a NUL in text, a number out of range), 23 (integrity constraint) and 54
    // (program limit exceeded: an index row too large). Connection errors carry node's codes (ECONNRESET) or class 08,
    // 53 or 57 (server resources, shutdown): not the data's fault.
    return code !== null && code.length === 5 && (code.startsWith('22') || code.startsWith('23') || code.startsWith('54'));
  },
};
