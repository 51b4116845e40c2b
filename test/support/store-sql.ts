// Raw SQL against a test's store, as an operator (or an attacker) with the database's own tools would run it: the rows
// a statement reads, or none. `storage` is the store's setting: `sqlite:<path>` or a PostgreSQL URL. `params` fill `$1`,
// `$2`... in order (on SQLite each as one `?`); without them, `sql` may hold several statements.
import Database from 'better-sqlite3';
import pg from 'pg';

export async function storeSql(storage: string, sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  if (storage.startsWith('sqlite:')) {
    const db = new Database(storage.slice('sqlite:'.length));
    try {
      if (params.length === 0 && !sql.trimStart().toUpperCase().startsWith('SELECT')) return (db.exec(sql), []);
      const statement = db.prepare(sql.replace(/\$\d+/g, '?'));
      return statement.reader ? (statement.all(...params) as Array<Record<string, unknown>>) : (statement.run(...params), []);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: storage });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}
