// Raw SQL against a test's store, as an operator (or an attacker) with the database's own tools would run it: a SELECT
// answers its rows, anything else nothing. `storage` is the store's setting: `sqlite:<path>` or a PostgreSQL URL.
import Database from 'better-sqlite3';
import pg from 'pg';

export async function storeSql(storage: string, sql: string): Promise<Array<Record<string, unknown>>> {
  if (storage.startsWith('sqlite:')) {
    const db = new Database(storage.slice('sqlite:'.length));
    try {
      return sql.trimStart().toUpperCase().startsWith('SELECT')
        ? (db.prepare(sql).all() as Array<Record<string, unknown>>)
        : (db.exec(sql), []);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: storage });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}
