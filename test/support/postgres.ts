// PostgreSQL for tests: SLUICE_TEST_POSTGRES_URL (default the local server, trust auth), and a database made for one run
// and dropped after it. Only databases this module created are ever dropped.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const SERVER_URL = process.env.SLUICE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** The URL of database `name` on the test server: its user, password, host and query kept, its database replaced. */
export function postgresUrl(name: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestDatabase {
  /** e.g. `postgres://postgres@127.0.0.1:5432/sluice_test_<random>` */
  url: string;
  name: string;
  /** Drops it, closing whatever connections are still open to it. */
  drop(): Promise<void>;
}

async function onServer(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function freshDatabase(): Promise<TestDatabase> {
  const name = `sluice_test_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`);
  return { url: postgresUrl(name), name, drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
