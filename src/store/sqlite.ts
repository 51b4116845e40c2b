// Opens the embedded SQLite database file with the settings every connection to it uses.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** Called at start, by the director and in the ledger's writer thread, never on the request path (its calls block). */
export function openSqliteDatabase(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The ledger's thread and the director write the same file: wait for the other's lock rather than fail.
  db.pragma('busy_timeout = 5000');
  // Off by default in SQLite, per connection: the director's references rely on it.
  db.pragma('foreign_keys = ON');
  return db;
}
