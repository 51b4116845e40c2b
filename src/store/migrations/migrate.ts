// Applies the migrations a database lacks, each in its own transaction with its schema_migrations row, on either dialect.
import type { MigrationTarget } from '../sql/session.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from './index.js';

/** Resolves to the versions this call applied (none when the schema was current). */
export async function migrate(target: MigrationTarget): Promise<number[]> {
  const { dialect } = target;
  const appliedBefore = await target.transaction(async (connection) => {
    if (dialect.migrationLock !== null) await connection.exec(dialect.migrationLock);
    await connection.exec(SCHEMA_MIGRATIONS_TABLE);
    return new Set((await connection.query<{ version: number }>('SELECT version FROM schema_migrations')).map((row) => row.version));
  });
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (appliedBefore.has(migration.version)) continue;
    await target.transaction(async (connection) => {
      if (dialect.migrationLock !== null) await connection.exec(dialect.migrationLock);
      // Another process may have applied it since the first look: checked again under the lock.
      const done = await connection.query('SELECT version FROM schema_migrations WHERE version = ?', [migration.version]);
      if (done.length > 0) return;
      await connection.exec(migration.sql(dialect));
      await connection.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        new Date().toISOString(),
      ]);
      applied.push(migration.version);
    });
  }
  return applied;
}
