// Versioned schema migrations, written once for both databases, applied in order once each and recorded in schema_migrations.
// Types that differ come from the dialect (src/store/dialect.ts). Each area keeps its own history (ledger.ts,
// usage-rollups.ts, director.ts); the versions are one sequence across them, in the order they shipped.
import { DIRECTOR_MIGRATIONS } from './director.js';
import { LEDGER_MIGRATIONS } from './ledger.js';
import type { Migration } from './migration.js';
import { USAGE_ROLLUP_MIGRATIONS } from './usage-rollups.js';

export type { Migration } from './migration.js';

/** Created before any migration, the same in both databases. */
export const SCHEMA_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`;

export const MIGRATIONS: readonly Migration[] = [...LEDGER_MIGRATIONS, ...USAGE_ROLLUP_MIGRATIONS, ...DIRECTOR_MIGRATIONS].sort(
  (a, b) => a.version - b.version,
);

// Every version from 1 up, once: a version given twice, or skipped, in the areas' lists would otherwise ship unnoticed.
MIGRATIONS.forEach((migration, index) => {
  if (migration.version !== index + 1) throw new Error(`schema migrations: expected version ${index + 1}, found ${migration.version}`);
});
